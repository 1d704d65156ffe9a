// The control-flow graph of a program, checked before any state is walked (Linux check_subprogs and
// check_cfg): subprograms, jumps inside their function, no fall-through off a function's end, no
// unreachable instruction. It also gives the walk its prune points and each instruction's live
// registers (a static backward analysis, used to ignore dead registers when comparing states).
import { FRAME_POINTER } from '../isa/fields.js';
import { type Instruction, width } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { branchTarget } from '../isa/validate.js';
import type { HelperTable } from '../helpers/table.js';
import { reject, rejectAt } from './reject.js';

/** One function of the program: the main program (index 0) or a subprogram. */
export interface Subprogram {
  readonly index: number;
  readonly start: number;
  /** First slot after it. */
  readonly end: number;
  /** Some `lddw rX, func` takes its address (a callback, or a callx target). */
  readonly addressTaken: boolean;
}

/** What the walk needs to know about the program's shape. */
export interface ControlFlow {
  /** Instructions by slot (undefined for an lddw's second slot). */
  readonly byPc: readonly (Instruction | undefined)[];
  readonly slots: number;
  readonly subprograms: readonly Subprogram[];
  /** Subprogram index of every slot. */
  readonly subprogOf: Int32Array;
  /** Slots where a state is compared with earlier ones (jump targets, jumps, calls). */
  readonly prunePoint: Uint8Array;
  /** Slots where a new state is always stored (may_goto, calls that run callbacks). */
  readonly forceCheckpoint: Uint8Array;
  /** Registers read before written on some path from each slot (bit n for rn). */
  readonly liveIn: Uint16Array;
}

const R0 = 1;
const ARGS = 0b111110;
const bit = (r: number): number => 1 << r;

/** Registers an instruction reads and writes, for liveness. Calls clobber r1..r5. */
function useDef(insn: Instruction, helpers: HelperTable): { use: number; def: number } {
  const row = specOf(insn.op);
  const x = (row.opcode & 0x08) !== 0;
  switch (row.form) {
    case 'alu': {
      const move = (row.opcode & 0xf0) === 0xb0;
      return { use: (move ? 0 : bit(insn.dst)) | (x ? bit(insn.src) : 0), def: bit(insn.dst) };
    }
    case 'unary': return { use: bit(insn.dst), def: bit(insn.dst) };
    case 'ldx': return { use: bit(insn.src), def: bit(insn.dst) };
    case 'st': return { use: bit(insn.dst), def: 0 };
    case 'stx': return { use: bit(insn.dst) | bit(insn.src), def: 0 };
    case 'atomic': {
      const cmpxchg = insn.op === Op.AtomicCmpxchg32 || insn.op === Op.AtomicCmpxchg64;
      return { use: bit(insn.dst) | bit(insn.src) | (cmpxchg ? R0 : 0), def: cmpxchg ? R0 : (insn.imm & 1) !== 0 ? bit(insn.src) : 0 };
    }
    case 'lddw': return { use: 0, def: bit(insn.dst) };
    case 'jcc': return { use: bit(insn.dst) | (x ? bit(insn.src) : 0), def: 0 };
    case 'call': {
      const n = helpers.get(insn.imm)?.proto.args.length ?? 5;
      return { use: ((1 << (n + 1)) - 1) & ARGS, def: R0 | ARGS };
    }
    case 'calllocal': return { use: ARGS, def: R0 | ARGS };
    case 'callx': return { use: bit(insn.dst) | ARGS, def: R0 | ARGS };
    case 'callbtf': return { use: ARGS, def: R0 | ARGS };
    case 'exit': return { use: R0, def: 0 };
    case 'ldabs': return { use: bit(6), def: R0 | ARGS };
    case 'ldind': return { use: bit(6) | bit(insn.src), def: R0 | ARGS };
    case 'ja': case 'ja32': case 'maygoto': return { use: 0, def: 0 };
  }
}

/** Successor slots of an instruction inside its function. */
function successors(insn: Instruction): number[] {
  const row = specOf(insn.op);
  const next = insn.pc + row.width;
  switch (row.form) {
    case 'exit': return [];
    case 'ja': case 'ja32': return [branchTarget(insn)!];
    case 'jcc': case 'maygoto': return [next, branchTarget(insn)!];
    default: return [next];
  }
}

/** Checks the program's control flow and works out its functions, prune points and liveness. */
export function analyzeControlFlow(insns: readonly Instruction[], helpers: HelperTable): ControlFlow {
  if (insns.length === 0) reject('bad-insn', 'BPF program is empty');
  const last = insns[insns.length - 1]!;
  const slots = last.pc + width(last);
  const byPc: (Instruction | undefined)[] = new Array(slots);
  for (const insn of insns) byPc[insn.pc] = insn;

  // Subprograms start at every local call target and every function whose address is taken.
  const starts = new Set<number>([0]);
  const taken = new Set<number>();
  for (const insn of insns) {
    if (insn.op !== Op.CallLocal && insn.op !== Op.LddwFunc) continue;
    const target = branchTarget(insn)!;
    if (target < 0 || target >= slots) rejectAt(insn.pc, 'cfg-range', `call to invalid destination (insn ${insn.pc} to ${target})`);
    if (!byPc[target]) rejectAt(insn.pc, 'cfg-range', `jump into the middle of ldimm64 insn ${target - 1}`);
    starts.add(target);
    if (insn.op === Op.LddwFunc) taken.add(target);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  const subprograms: Subprogram[] = sorted.map((start, index) => ({
    index, start, end: sorted[index + 1] ?? slots, addressTaken: taken.has(start),
  }));
  const subprogOf = new Int32Array(slots);
  for (const s of subprograms) subprogOf.fill(s.index, s.start, s.end);

  // Jumps stay inside their function; each function ends with exit or an unconditional jump.
  for (const s of subprograms) {
    for (let pc = s.start; pc < s.end; pc++) {
      const insn = byPc[pc];
      if (!insn) continue;
      const form = specOf(insn.op).form;
      if (form === 'ja' || form === 'ja32' || form === 'jcc' || form === 'maygoto') {
        const target = branchTarget(insn)!;
        if (target < s.start || target >= s.end) rejectAt(pc, 'cfg-range', `jump out of range from insn ${pc} to ${target}`);
        if (!byPc[target]) rejectAt(pc, 'cfg-range', `jump into the middle of ldimm64 insn ${target - 1}`);
      }
    }
    let lastPc = s.end - 1;
    while (lastPc > s.start && !byPc[lastPc]) lastPc--;
    const form = specOf(byPc[lastPc]!.op).form;
    if (form !== 'exit' && form !== 'ja' && form !== 'ja32') rejectAt(lastPc, 'cfg-fallthrough', 'last insn is not an exit or jmp');
  }

  // Depth-first walk from the entry, through calls and taken addresses, as check_cfg does.
  const seen = new Uint8Array(slots);
  const prunePoint = new Uint8Array(slots + 1);
  const forceCheckpoint = new Uint8Array(slots + 1);
  const work = [0];
  seen[0] = 1;
  const visit = (pc: number) => {
    if (!seen[pc]) {
      seen[pc] = 1;
      work.push(pc);
    }
  };
  while (work.length > 0) {
    const pc = work.pop()!;
    const insn = byPc[pc]!;
    const form = specOf(insn.op).form;
    for (const next of successors(insn)) {
      if (next >= slots) rejectAt(pc, 'cfg-range', `jump out of range from insn ${pc} to ${next}`);
      visit(next);
    }
    if (form === 'jcc') prunePoint[pc] = 1;
    if (form === 'ja' || form === 'ja32') prunePoint[branchTarget(insn)!] = 1;
    if (form === 'maygoto') prunePoint[pc] = forceCheckpoint[pc] = 1;
    if (form === 'calllocal' || form === 'call' || form === 'callx' || form === 'callbtf') {
      prunePoint[pc] = 1;
      prunePoint[pc + 1] = 1;
    }
    if (insn.op === Op.CallLocal || insn.op === Op.LddwFunc) visit(branchTarget(insn)!);
  }
  for (let pc = 0; pc < slots; pc++) {
    if (byPc[pc] && !seen[pc]) rejectAt(pc, 'cfg-unreachable', `unreachable insn ${pc}`);
  }

  return { byPc, slots, subprograms, subprogOf, prunePoint, forceCheckpoint, liveIn: liveness(insns, slots, helpers) };
}

/** Live-in registers per slot: a backward fixpoint over each function's instructions. */
function liveness(insns: readonly Instruction[], slots: number, helpers: HelperTable): Uint16Array {
  const liveIn = new Uint16Array(slots);
  const info = insns.map((insn) => ({ insn, ...useDef(insn, helpers), succ: successors(insn).filter((s) => s < slots) }));
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = info.length - 1; i >= 0; i--) {
      const { insn, use, def, succ } = info[i]!;
      let out = 0;
      for (const s of succ) out |= liveIn[s]!;
      const live = (use | (out & ~def)) & ~bit(FRAME_POINTER);
      if (live !== liveIn[insn.pc]) {
        liveIn[insn.pc] = live;
        changed = true;
      }
    }
  }
  return liveIn;
}
