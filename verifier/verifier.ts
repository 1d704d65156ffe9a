// The verifier's driver (Linux do_check and is_state_visited): walks every path of the program
// from its entry, one instruction at a time, dispatching each to the transfer function of its
// concern, forking at branches, pruning at prune points, and stopping at the first rejection or
// at the complexity limit. The concerns live in their own files; this one only sequences them.
import { MAX_FRAMES } from '../isa/abi.js';
import type { Instruction } from '../isa/instruction.js';
import { formatObjdump } from '../isa/objdump.js';
import { Op, specOf } from '../isa/opcodes.js';
import { lddwValue } from '../isa/instruction.js';
import { checkAlu, checkWritable, readReg } from './alu.js';
import { checkConditionalJump } from './branches.js';
import { analyzeControlFlow, type ControlFlow } from './cfg.js';
import { CATALOGUE, causalPath, formatState, renderReport, VerifierError, type RejectionReport } from './diagnostics.js';
import type { Env, VerifierInput, VerifierOptions } from './env.js';
import { checkExit, checkFunctionReturnTypes, checkLocalCall } from './functions.js';
import { checkHelperCall, leakMessage } from './helper-calls.js';
import { memAccess, regAt, setReg } from './memory.js';
import { programRules } from './program-rules.js';
import { ExploredStates, finishPath, infiniteLoop, statesEqual, widenScalars } from './pruning.js';
import { reject, Rejection } from './reject.js';
import { constScalar, isPacketPointerAny, NOT_INIT, pointer, RegType, unknownScalar, type Reg } from './registers.js';
import { copyState, curFrame, newFrame, recordStep, type State } from './state.js';
import { tnumIsConst } from './tnum.js';

/** Linux BPF_COMPLEXITY_LIMIT_INSNS. */
export const MAX_PROCESSED = 1_000_000;
/** Linux BPF_COMPLEXITY_LIMIT_JMP_SEQ: paths waiting to be walked. */
const MAX_PENDING = 8192;
/** Loop iterations (may_goto, callbacks) walked exactly before changing scalars are widened. */
const WIDEN_AFTER = 8;
/** Helpers that run callbacks (bpf_for_each_map_elem, bpf_loop): their call sites may prune against themselves. */
const CALLBACK_HELPERS = new Set([164, 181]);

/** The outcome of verifying one program. */
export interface VerificationResult {
  readonly accepted: boolean;
  /** Why it was rejected. */
  readonly error?: VerifierError;
  /** Instructions processed across all paths (Linux's "processed N insns"). */
  readonly insnsProcessed: number;
  /** States stored for pruning, and the most stored at once. */
  readonly states: number;
  readonly peakStates: number;
  /** Milliseconds the verification took. */
  readonly ms: number;
  /** Stack bytes each function uses. */
  readonly stackDepths: readonly number[];
  /** The full log, when options.fullLog asked for it. */
  readonly log: readonly string[];
  /**
   * Instructions (first slots) no path reached: code behind branches the verifier proved never
   * taken. As Linux does (sanitize_dead_code), the loader replaces them before the engines see them.
   */
  readonly deadCode?: readonly number[];
}

interface Pending {
  readonly state: State;
  readonly pc: number;
}

class Verification implements Env {
  readonly rules;
  readonly cfg: ControlFlow;
  readonly options: VerifierOptions;
  state!: State;
  insn!: Instruction;
  private idCounter = 0;
  private readonly pending: Pending[] = [];
  readonly explored = new ExploredStates();
  processed = 0;
  /** Per slot: whether a path reached it. */
  seen: Uint8Array = new Uint8Array(0);
  private jumps = 0;
  private lastCheckpointJumps = 0;
  private lastCheckpointInsns = 0;
  readonly lines: string[] = [];
  /** The pointer type each load and store was first checked with (Linux insn_aux_data ptr_type). */
  private readonly accessTypes = new Map<number, RegType>();
  readonly stackDepths: number[];
  private readonly helpers;

  constructor(readonly input: VerifierInput) {
    this.options = input.options ?? {};
    const rules = programRules(input.type, input.attach, this.options.rawMemorySize);
    if (!rules) reject('program-type', `program type ${input.type} is not supported by the verifier`);
    this.rules = rules;
    this.helpers = input.helpers;
    this.cfg = analyzeControlFlow(input.insns, input.helpers);
    this.seen = new Uint8Array(this.cfg.byPc.length);
    checkFunctionReturnTypes(this.cfg, input.functions);
    this.stackDepths = this.cfg.subprograms.map(() => 0);
  }

  nextId(): number {
    return ++this.idCounter;
  }

  helper(id: number) {
    return this.helpers.get(id);
  }

  log(line: string): void {
    if (this.options.fullLog) this.lines.push(line);
  }

  noteStackDepth(subprog: number, bytes: number): void {
    if (bytes > this.stackDepths[subprog]!) this.stackDepths[subprog] = bytes;
  }

  fork(pc: number, adjust?: (s: State) => void): State {
    const s = copyState(this.state);
    adjust?.(s);
    if (s.parent) s.parent.branches++;
    this.pending.push({ state: s, pc });
    if (this.pending.length > MAX_PENDING) reject('complexity', `The sequence of ${this.pending.length} jumps is too complex.`);
    return s;
  }

  /** In-progress checkpoints at `pc` with the same call sites: earlier iterations of a loop on this path. */
  private loopVisits(pc: number) {
    return this.explored.at(pc).filter((c) => c.branches > 0 && c.state.frames.length === this.state.frames.length
      && c.state.frames.every((f, i) => f.callsite === this.state.frames[i]!.callsite));
  }

  afterCallback(pc: number): void {
    const visits = this.loopVisits(pc);
    if (visits.length >= WIDEN_AFTER) widenScalars(visits[visits.length - 1]!.state, this.state);
  }

  /** Registers live in frame `f` of the current state at `pc` (outer frames: where their callee returns to). */
  private liveMask(pc: number): (f: number) => number {
    const frames = this.state.frames;
    return (f) => {
      if (f === frames.length - 1) return this.cfg.liveIn[pc]!;
      const callee = frames[f + 1]!;
      // A callback returns to its helper call, which reads the arguments again; a call returns after it.
      return callee.inCallback ? this.cfg.liveIn[callee.callsite]! : this.cfg.liveIn[callee.callsite + 1]! & ~1;
    };
  }

  /** Linux is_state_visited: true when an explored state covers this one (the path stops here). */
  private visit(pc: number): boolean {
    const cur = this.state;
    const live = this.liveMask(pc);
    const force = this.cfg.forceCheckpoint[pc] === 1;
    let add = force || (this.jumps - this.lastCheckpointJumps >= 2 && this.processed - this.lastCheckpointInsns >= 8);
    const insn = this.cfg.byPc[pc]!;
    const mayGoto = insn.op === Op.MayGoto;
    const callsCallback = insn.op === Op.CallHelper && CALLBACK_HELPERS.has(insn.imm);
    for (const c of this.explored.at(pc)) {
      if (c.branches > 0) {
        // A loop on this path: only loops bounded by may_goto or a callback helper may prune against themselves.
        if (mayGoto && c.state.mayGotoDepth !== cur.mayGotoDepth && statesEqual(c.state, cur, 'within', live)) return this.hit(c);
        if (callsCallback && statesEqual(c.state, cur, 'within', live)) return this.hit(c);
        if (!callsCallback && c.state.mayGotoDepth === cur.mayGotoDepth && c.state.callbackDepth === cur.callbackDepth
          && statesEqual(c.state, cur, 'exact', live)) {
          infiniteLoop(pc);
        }
        if (!force && this.jumps - this.lastCheckpointJumps < 20 && this.processed - this.lastCheckpointInsns < 100) add = false;
        c.misses++;
        continue;
      }
      if (statesEqual(c.state, cur, 'within', live)) return this.hit(c);
      c.misses++;
    }
    this.explored.evict(pc, force);
    if (add) {
      this.explored.add(pc, cur);
      this.lastCheckpointJumps = this.jumps;
      this.lastCheckpointInsns = this.processed;
    }
    return false;
  }

  private hit(c: { hits: number }): boolean {
    c.hits++;
    return true;
  }

  /** Walks every path. Throws the first Rejection. */
  run(): void {
    const entry = newFrame(0, -1, 0);
    this.rules.entryArgs.forEach((reg, i) => { entry.regs[i + 1] = reg; });
    this.state = { frames: [entry], refs: [], lock: undefined, mayGotoDepth: 0, callbackDepth: 0, path: undefined, pathLength: 0, parent: undefined };
    let pc: number | undefined = 0;
    for (;;) {
      if (pc === undefined) {
        finishPath(this.state);
        const next = this.pending.pop();
        if (!next) return;
        this.state = next.state;
        pc = next.pc;
        this.log(`from ${next.state.path?.pc ?? 0} to ${pc}:`);
        continue;
      }
      if (++this.processed > (this.options.maxInstructions ?? MAX_PROCESSED)) {
        reject('complexity', `BPF program is too large. Processed ${this.processed} insn`);
      }
      this.seen[pc] = 1;
      if (this.cfg.prunePoint[pc] && this.visit(pc)) {
        this.log(`${pc}: safe`);
        pc = undefined;
        continue;
      }
      pc = this.step(pc);
    }
  }

  /** What the causal path needs to know about an instruction: the stack slot it touches, the check it makes. */
  private pathInfo(insn: Instruction): { stackOff?: number; stackFrame?: number; check?: 'packet' | 'null' } | undefined {
    const form = specOf(insn.op).form;
    // Runs before the instruction's checks: a register number past r10 is rejected by them.
    if (insn.dst > 10 || insn.src > 10) return undefined;
    if (form === 'jcc') {
      const dst = regAt(this, insn.dst);
      const src = (insn.opcode & 0x08) !== 0 ? regAt(this, insn.src) : undefined;
      if (isPacketPointerAny(dst) || (src && isPacketPointerAny(src))) return { check: 'packet' };
      if (dst.nullable || src?.nullable) return { check: 'null' };
      return undefined;
    }
    const base = form === 'ldx' ? insn.src : form === 'st' || form === 'stx' || form === 'atomic' ? insn.dst : -1;
    if (base < 0 || base > 10) return undefined;
    const reg = regAt(this, base);
    if (reg.type !== RegType.Stack || !tnumIsConst(reg.var)) return undefined;
    const off = reg.off + Number(BigInt.asIntN(64, reg.var.value)) + insn.off;
    return { stackOff: Math.floor(off / 8) * 8, stackFrame: reg.frameNo };
  }

  /** Checks one instruction; returns the next pc, or undefined when the path ends. */
  private step(pc: number): number | undefined {
    const insn = this.cfg.byPc[pc]!;
    this.insn = insn;
    recordStep(this.state, pc, this.pathInfo(insn));
    const row = specOf(insn.op);
    let next: number | undefined = pc + row.width;
    switch (row.form) {
      case 'alu': case 'unary':
        checkAlu(this, insn);
        break;
      case 'ldx': {
        readReg(this, insn.src);
        this.samePointerKind(insn, insn.src);
        checkWritable(insn.dst);
        const ldsx = insn.op === Op.Ldxsb || insn.op === Op.Ldxsh || insn.op === Op.Ldxsw;
        const value = memAccess(this, insn.src, insn.off, row.size!, false, { regno: insn.dst }, ldsx);
        setReg(this, insn.dst, value ?? unknownScalar());
        break;
      }
      case 'st':
        readReg(this, insn.dst);
        this.samePointerKind(insn, insn.dst);
        memAccess(this, insn.dst, insn.off, row.size!, true, { imm: insn.imm }, false);
        break;
      case 'stx':
        readReg(this, insn.src);
        readReg(this, insn.dst);
        this.samePointerKind(insn, insn.dst);
        memAccess(this, insn.dst, insn.off, row.size!, true, { regno: insn.src }, false);
        break;
      case 'atomic':
        this.atomic(insn, row.size!);
        break;
      case 'lddw':
        checkWritable(insn.dst);
        setReg(this, insn.dst, this.lddw(insn));
        break;
      case 'ja':
        this.jumps++;
        next = pc + 1 + insn.off;
        break;
      case 'ja32':
        this.jumps++;
        next = pc + 1 + insn.imm;
        break;
      case 'jcc':
        this.jumps++;
        next = checkConditionalJump(this, insn);
        break;
      case 'maygoto':
        this.jumps++;
        next = this.mayGoto(insn);
        break;
      case 'call':
        this.jumps++;
        next = checkHelperCall(this, insn);
        break;
      case 'calllocal':
        this.jumps++;
        if (this.state.lock) reject('lock', 'function calls are not allowed while holding a lock');
        next = checkLocalCall(this, insn);
        break;
      case 'callbtf':
        reject('kfunc', `calling kernel functions is not supported: call by BTF id ${insn.imm} (kfunc)`);
        break;
      case 'callx':
        reject('bad-insn', 'BPF_CALL uses reserved fields');
        break;
      case 'exit':
        this.jumps++;
        next = checkExit(this);
        break;
      case 'ldabs': case 'ldind':
        next = this.legacyPacketLoad(insn);
        break;
    }
    if (this.options.fullLog) this.log(`${pc}: ${formatObjdump(insn)}    ; ${formatState(this.state)}`);
    return next;
  }

  /**
   * Linux save_aux_ptr_type: one load or store instruction may not be used with a context or socket
   * pointer on one path and another kind of pointer on another (Linux rewrites such accesses).
   */
  private samePointerKind(insn: Instruction, regno: number): void {
    const type = regAt(this, regno).type;
    const before = this.accessTypes.get(insn.pc);
    if (before === undefined) {
      this.accessTypes.set(insn.pc, type);
      return;
    }
    const special = (t: RegType) => t === RegType.Ctx || t === RegType.Sock || t === RegType.SockCommon || t === RegType.TcpSock
      || t === RegType.XdpSock || t === RegType.BtfId;
    if (before !== type && (special(before) || special(type))) reject('bad-pointer-type', 'same insn cannot be used with different pointers', [regno]);
  }

  /** A 64-bit immediate: a map pointer, an address in global data, a function, or a number. */
  private lddw(insn: Instruction): Reg {
    if (insn.op === Op.LddwFunc) {
      const target = insn.pc + 1 + insn.imm;
      const sub = this.cfg.subprograms.find((s) => s.start === target)!;
      return pointer(RegType.Func, { subprog: sub.index });
    }
    if (insn.op !== Op.Lddw) reject('bad-insn', `lddw with src ${insn.src} refers to something the loader did not resolve`);
    const ref = this.input.maps?.get(insn.pc);
    if (!ref) return constScalar(lddwValue(insn));
    if (ref.map.spinLockOffset !== undefined && this.input.type === 'socket_filter') {
      reject('lock', 'socket filter progs cannot use bpf_spin_lock yet');
    }
    if (ref.kind === 'map') return pointer(RegType.ConstMap, { map: ref.map });
    return pointer(RegType.MapValue, { map: ref.map, off: ref.offset });
  }

  /** Linux check_atomic: read, maybe load the old value, then write the same memory. */
  private atomic(insn: Instruction, size: number): void {
    readReg(this, insn.src);
    readReg(this, insn.dst);
    const cmpxchg = insn.op === Op.AtomicCmpxchg32 || insn.op === Op.AtomicCmpxchg64;
    if (cmpxchg) readReg(this, 0);
    const dst = regAt(this, insn.dst);
    if (dst.type === RegType.Ctx || dst.type === RegType.Packet || dst.type === RegType.PacketMeta || dst.type === RegType.FlowKeys
      || dst.type === RegType.Sock || dst.type === RegType.SockCommon || dst.type === RegType.TcpSock || dst.type === RegType.XdpSock) {
      reject('bad-pointer-type', `BPF_ATOMIC stores into R${insn.dst} ${dst.type === RegType.Ctx ? 'ctx' : dst.type === RegType.Packet ? 'pkt' : dst.type === RegType.PacketMeta ? 'pkt_meta' : 'sock'} is not allowed`);
    }
    const fetch = (insn.imm & 1) !== 0;
    const load = cmpxchg ? 0 : fetch ? insn.src : -1;
    if (load >= 0) checkWritable(load);
    memAccess(this, insn.dst, insn.off, size, false, undefined, false, true);
    const old = load >= 0 ? memAccess(this, insn.dst, insn.off, size, false, { regno: load }, false, true) : undefined;
    memAccess(this, insn.dst, insn.off, size, true, undefined, false, true);
    if (load >= 0) setReg(this, load, old ?? unknownScalar());
  }

  /**
   * may_goto: the jump is taken once the function's budget runs out, which this path follows now;
   * the loop body (the fall-through) is queued with one more may_goto taken.
   */
  private mayGoto(insn: Instruction): number {
    const visits = this.loopVisits(insn.pc);
    this.fork(insn.pc + 1, (s) => {
      s.mayGotoDepth++;
      if (visits.length >= WIDEN_AFTER + 1) widenScalars(visits[visits.length - 2]!.state, s);
    });
    return insn.pc + 1 + insn.off;
  }

  /** Linux check_ld_abs: the skb in r6, no references or lock held; r1-r5 clobbered, r0 unknown. */
  private legacyPacketLoad(insn: Instruction): number | undefined {
    if (!this.rules.ldAbs) reject('bad-insn', 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
    readReg(this, 6);
    if (leakMessage(this.state)) reject('ref-leak', 'BPF_LD_[ABS|IND] cannot be mixed with socket references');
    if (this.state.lock) reject('lock', 'BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region');
    if (regAt(this, 6).type !== RegType.Ctx) reject('ctx-field', 'at the time of BPF_LD_ABS|IND R6 != pointer to skb', [6]);
    if (specOf(insn.op).form === 'ldind') readReg(this, insn.src);
    const regs = curFrame(this.state).regs;
    for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
    const r0 = unknownScalar();
    setReg(this, 0, r0);
    if (this.state.frames.length > 1) {
      // A failed load returns 0 from the function it is in.
      this.fork(insn.pc + 1);
      setReg(this, 0, constScalar(0n));
      return checkExit(this);
    }
    return insn.pc + 1;
  }

  /** Linux check_max_stack_depth: the deepest chain of calls must fit in 512 bytes of stack. */
  checkCombinedStack(): void {
    const round = (n: number) => Math.ceil(n / 16) * 16;
    const calls = this.cfg.subprograms.map((s) => {
      const out: number[] = [];
      for (let pc = s.start; pc < s.end; pc++) {
        const insn = this.cfg.byPc[pc];
        if (insn && (insn.op === Op.CallLocal || insn.op === Op.LddwFunc)) {
          const target = pc + 1 + insn.imm;
          out.push(this.cfg.subprograms.findIndex((p) => p.start === target));
        }
      }
      return out;
    });
    const walk = (idx: number, depth: number, frames: number, seen: number[]): void => {
      const total = depth + round(this.stackDepths[idx]!);
      if (total > 512) reject('stack-size', `combined stack size of ${frames} calls is ${total}. Too large`);
      if (frames >= MAX_FRAMES) reject('call-depth', `the call stack of ${frames + 1} frames is too deep !`);
      for (const callee of calls[idx]!) {
        if (seen.includes(callee)) continue;
        walk(callee, total, frames + 1, [...seen, callee]);
      }
    };
    walk(0, 0, 1, [0]);
  }
}

/** Formats where an instruction is: its function and offset in it. */
function locate(input: VerifierInput, pc: number): string | undefined {
  const fns = [...(input.functions ?? [])].sort((a, b) => a.pc - b.pc);
  let found: { name: string; pc: number } | undefined;
  for (const f of fns) if (f.pc <= pc) found = f;
  return found ? `${found.name}+${pc - found.pc}` : undefined;
}

/** Verifies one program. Never throws for a bad program: a rejection is in the result. */
export function verify(input: VerifierInput): VerificationResult {
  const start = performance.now();
  let v: Verification | undefined;
  try {
    v = new Verification(input);
    v.run();
    v.checkCombinedStack();
    const deadCode = input.insns.filter((i) => !v!.seen[i.pc]).map((i) => i.pc);
    return {
      accepted: true, insnsProcessed: v.processed, states: v.explored.count, peakStates: v.explored.peak,
      ms: performance.now() - start, stackDepths: v.stackDepths, log: v.lines,
      ...(deadCode.length ? { deadCode } : {}),
    };
  } catch (err) {
    if (!(err instanceof Rejection)) throw err;
    const insn = v?.insn;
    const pc = err.pc ?? insn?.pc ?? 0;
    const byPc = v?.cfg.byPc ?? [];
    const state = v?.state;
    const sourceOf = (p: number) => input.source?.(p);
    const failing = byPc[pc] ?? insn;
    const report: RejectionReport = {
      kind: err.kind,
      category: CATALOGUE[err.kind].category,
      message: err.message,
      suggestion: CATALOGUE[err.kind].suggestion,
      pc,
      ...(failing ? { insn: failing } : {}),
      ...(sourceOf(pc) ? { source: sourceOf(pc)! } : {}),
      ...(locate(input, pc) ? { where: locate(input, pc)! } : {}),
      ...(state && err.pc === undefined ? { state: formatState(state) } : {}),
      causalPath: state && failing && err.pc === undefined
        ? causalPath(state.path, byPc, failing, err.registers, state.frames.length - 1, err.kind, state.refs.map((r) => r.pc)) : [],
    };
    const text = renderReport(report, byPc, sourceOf);
    const lines = v ? [...v.lines, text] : [text];
    const stats = { insnsProcessed: v?.processed ?? 0, states: v?.explored.count ?? 0, ms: performance.now() - start };
    return {
      accepted: false, error: new VerifierError(input.name, report, lines.join('\n'), stats), insnsProcessed: stats.insnsProcessed,
      states: stats.states, peakStates: v?.explored.peak ?? 0, ms: stats.ms, stackDepths: v?.stackDepths ?? [], log: lines,
    };
  }
}
