// The checked interpreter: the executable specification of BPF (RFC 9669) over the shared guest
// memory. Every access is checked against the region table; registers are read only after they
// are written (as Linux's verifier demands); runs stop at an instruction budget.
// Registers are kept as signed 32-bit halves (lo, hi) so the hot path needs no BigInt.
import { Op } from '../isa/opcodes.js';
import type { Instruction } from '../isa/instruction.js';
import { FRAME_POINTER } from '../isa/fields.js';
import { FRAME_BYTES, frameViolation, FUNCTION_POINTER_TAG, legacyLoadAddress, MAX_FRAMES, MAY_GOTO_LOOPS } from '../isa/abi.js';
import { HelperCall, NO_PACKET, runStateless, type HelperSpec, type HelperTable } from '../helpers/table.js';
import { BPF_MAX_LOOPS, loopHelper } from '../helpers/callbacks.js';
import type { GuestMemory, Region } from '../runtime/memory.js';
import {
  BudgetExhaustedError, CallbackTargetError, CallDepthError, ExecutionError, FellOffEndError, HelperFailedError, MemoryFaultError,
  TailCallInCallbackError, UninitializedRegisterError, UnsupportedInstructionError,
} from './errors.js';
import {
  add64, arsh64, bswap16, bswap32, gtS64, gtU64, lsh64, mul64, rsh64, sdivmod32, sdivmod64, sub64, udivmod32, udivmod64,
} from './int64.js';
import { Fused, fusedOp } from './fusion.js';
import { ARG_REGS_MASK, prepare, straightRuns, type PreparedProgram } from './prepare.js';
import { analyzeRegisterInit } from './register-init.js';
import { DEFAULT_BUDGET, RunOutcome, type RunArgs } from '../runtime/run.js';

export { DEFAULT_BUDGET, type RunArgs, type RunResult } from '../runtime/run.js';


/** Words saved per caller frame: return pc, register mask, r6..r9 as (lo, hi). */
const FRAME_WORDS = 10;

/** Bits r0..r10: every register written. */
const EVERY_REGISTER = (1 << (FRAME_POINTER + 1)) - 1;

/** Slot value past the last instruction: reaching it is falling off the end. */
const END_OF_PROGRAM = 255;
/** Slot value of an access through r10 that leaves the current frame: running it faults. */
const OUTSIDE_FRAME = 254;

/**
 * Thrown from a callback to end the whole program (a helper asked to stop, or a legacy packet load
 * ran out of the packet), with r0 already in the register file; the main program's helper call
 * that led to the callback catches it and stops.
 */
const PROGRAM_EXIT = Symbol('program exit');

/** run()'s input when a callback runs the loop: the entry state is in the fields. */
const CALLBACK_RUN: RunArgs = {};
/** run()'s arguments when the input gives none. */
const NO_ARGS: readonly number[] = [];
/** What run() returns when a callback's frame exits, and in repeatContext's runs (nothing reads it). */
const CALLBACK_DONE = new RunOutcome(0, 0, 0, undefined);

/** One traced step, reported before the instruction at `pc` runs. */
export interface TraceEvent {
  readonly pc: number;
  readonly depth: number;
  readonly insn: Instruction;
  /** r0..r10 before the instruction, as unsigned 64-bit values. */
  readonly registers: readonly bigint[];
  /** Bit n set when rn holds a value. */
  readonly initialized: number;
}

/** How the interpreter runs. */
export interface InterpreterOptions {
  readonly memory: GuestMemory;
  readonly helpers: HelperTable;
  /** Instructions one run may execute before it stops with BudgetExhaustedError. */
  readonly budget?: number;
  /** Called before every instruction; slows the run down. */
  readonly trace?: (event: TraceEvent) => void;
}


/** Runs one prepared program on a guest memory. */
export class Interpreter {
  readonly program: PreparedProgram;
  private readonly memory: GuestMemory;
  private readonly budget: number;
  private readonly trace: ((event: TraceEvent) => void) | undefined;
  private readonly rl = new Int32Array(11);
  private readonly rh = new Int32Array(11);
  private readonly frames = new Int32Array(MAX_FRAMES * FRAME_WORDS);
  /** What is left of each frame's may_goto budget; a frame's call starts it afresh. */
  private readonly mayGoto = new Int32Array(MAX_FRAMES);
  private stack: Region | undefined;
  private registerFile: Region | undefined;
  private call: HelperCall | undefined;
  /** Instructions left in the current run, kept here while a helper runs (callbacks spend them too). */
  private remaining = 0;
  /** Slot and frame depth of the helper call running now: where a callback it makes starts from. */
  private helperPc = 0;
  private helperDepth = 0;
  /** Whether the current run tracks register initialisation (callbacks follow their run). */
  private track = false;
  /**
   * Where the loop starts: the first slot, the registers written there, and the depth of the frame
   * whose exit ends it (0 for the program, deeper for a callback). Fields rather than parameters:
   * the loop is run() itself, which V8 runs a few percent faster than a loop in a method of its own.
   */
  private entry = 0;
  private entryInit = 0;
  private base = 0;
  /**
   * bpf_loop run by the interpreter itself (see startLoop): per frame that called it, the callback's
   * slot + 1 (0: no loop), and the index, count and context (lo, hi) of the loop.
   */
  private readonly loopCallback = new Int32Array(MAX_FRAMES);
  private readonly loopState = new Int32Array(MAX_FRAMES * 4);
  /** The registers of each frame that called a helper which called back, restored when the callback returns. */
  private readonly savedRegisters = new Int32Array(MAX_FRAMES * 22);
  /** Per slot: op | dst << 8 | src << 12 | off << 16, and END_OF_PROGRAM past the last slot. */
  private readonly code: Int32Array;
  /**
   * `code` with the first slot of each fusable run of instructions (fusion.ts) holding the fused op.
   * Runs that track registers use `code`: they check each instruction on its own.
   */
  private readonly fusedCode: Int32Array;
  /** Whether runs entered with a given register mask need run-time register tracking. */
  private readonly tracking = new Map<number, boolean>();
  /** The mask the last run entered with (its tracking is in `track`): runs mostly repeat it. */
  private trackedInit = -1;
  // The last two regions the region table gave for a read and for a write: programs mostly
  // alternate between two (packet and context, packet and stack, map value and stack).
  private readStart = 0;
  private readEnd = 0;
  private writeStart = 0;
  private writeEnd = 0;
  private readStart2 = 0;
  private readEnd2 = 0;
  private writeStart2 = 0;
  private writeEnd2 = 0;

  constructor(program: PreparedProgram | readonly Instruction[], options: InterpreterOptions) {
    this.program = 'ops' in program ? program : prepare(program, options.helpers);
    this.memory = options.memory;
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.trace = options.trace;
    const p = this.program;
    this.code = new Int32Array(p.slots + 1);
    for (let pc = 0; pc < p.slots; pc++) this.code[pc] = p.ops[pc]! | (p.dst[pc]! << 8) | (p.src[pc]! << 12) | (p.off[pc]! << 16);
    for (const insn of p.insns) if (frameViolation(insn)) this.code[insn.pc] = (this.code[insn.pc]! & ~0xff) | OUTSIDE_FRAME;
    this.code[p.slots] = END_OF_PROGRAM;
    this.fusedCode = this.code.slice();
    for (let i = 0; i < p.insns.length; i++) {
      const fused = fusedOp(p.insns, i);
      const at = p.insns[i]!.pc;
      if (fused !== undefined) this.fusedCode[at] = (this.code[at]! & ~0xff) | fused;
    }
    // callx may reach any helper at run time.
    const helperIds = p.helpers.flatMap((h) => (h ? [h.id] : []));
    this.repeatable = !p.insns.some((i) => i.op === Op.Callx) && runStateless(helperIds, options.helpers);
    this.usesMayGoto = p.insns.some((i) => i.op === Op.MayGoto);
    this.runs = straightRuns(p);
  }

  /** Per slot: the instructions of the straight run from it to the next jump, call or exit (straightRuns). */
  private readonly runs: Int32Array;

  /** Whether the program has may_goto, whose budget each frame entered starts afresh. */
  private readonly usesMayGoto: boolean;

  /** Whether runs may repeat inside the loop (repeatContext): the program's helpers keep nothing of a run's own on the host. */
  private readonly repeatable: boolean;
  /** Instructions executed by the runs of the last repeatContext series. */
  repeatedInstructions = 0;
  private readonly repeatArgs: number[] = [0];
  private readonly repeatInput: RunArgs = { args: this.repeatArgs };

  /**
   * `times` runs with r1 = `ctx` (a test run's repeats), one after another with nothing between
   * them, as Linux's test-run loop runs the program again in the kernel; the last one's r0 returned
   * as a u32. Undefined, with nothing run, for programs whose helpers keep state of a run of their
   * own on the host (the caller then runs them one at a time). Each run is a call of run(): one
   * call looping over every run ran the compute programs 20-30% slower (V8's on-stack-replaced
   * code for the loop is worse than the code of the function it optimises as a whole).
   */
  repeatContext(ctx: number, times: number): number | undefined {
    if (!this.repeatable) return undefined;
    this.repeatArgs[0] = ctx;
    let instructions = 0;
    // The runs end in result(), which leaves r0 in the registers and the count in `remaining`
    // rather than making an outcome for each.
    for (let i = 0; i < times; i++) {
      this.run(this.repeatInput);
      instructions += this.budget - this.remaining;
    }
    this.repeatedInstructions = instructions;
    return times > 0 ? this.rl[0]! >>> 0 : undefined;
  }

  /** Whether the run going on is one of repeatContext's: result() makes no outcome then. */
  private repeating = false;

  /** Frees the stack and register file this interpreter took from guest memory. */
  dispose(): void {
    if (this.stack) this.memory.free(this.stack);
    if (this.registerFile) this.memory.free(this.registerFile);
    this.stack = this.registerFile = this.call = undefined;
  }

  /** The stack region runs use (allocated on first use). */
  stackRegion(): Region {
    this.ensureRegions();
    return this.stack!;
  }

  /** Guest address of the register file helpers read their arguments from. */
  registerFileAddress(): number {
    this.ensureRegions();
    return this.registerFile!.start;
  }

  private ensureRegions(): void {
    if (!this.stack) {
      this.stack = this.memory.allocate(FRAME_BYTES * MAX_FRAMES, 'stack');
      // Programs may not write the register file; only the helper ABI does, from outside.
      this.registerFile = this.memory.allocate(8 * 11, 'register file', { writable: false });
      this.call = new HelperCall(this.memory, this.registerFile.start);
      this.call.invokeFunction = (slot, tag) => this.runCallback(slot, tag);
    }
  }

  private forgetRegions(): void {
    this.readStart = this.readEnd = this.writeStart = this.writeEnd = 0;
    this.readStart2 = this.readEnd2 = this.writeStart2 = this.writeEnd2 = 0;
  }

  /**
   * Exposes the frame at `depth` (0 = main) and returns its frame pointer. Frames are not
   * cleared, as in Linux: the stack is zeroed once when allocated, and reading stack bytes
   * before writing them is the verifier's to reject.
   */
  private enterFrame(depth: number): number {
    const top = this.stack!.end;
    const start = top - FRAME_BYTES * (depth + 1);
    // Each run enters the main frame where the last one left it: nothing moves then.
    if (this.stack!.start !== start) {
      this.memory.setStart(this.stack!, start);
      this.stackMoved();
    }
    if (this.usesMayGoto) this.mayGoto[depth] = MAY_GOTO_LOOPS;
    return top - FRAME_BYTES * depth;
  }

  private saveFrame(depth: number, pc: number, init: number): void {
    const f = this.frames;
    const at = depth * FRAME_WORDS;
    f[at] = pc;
    f[at + 1] = init;
    for (let r = 6, i = at + 2; r <= 9; r++, i += 2) {
      f[i] = this.rl[r]!;
      f[i + 1] = this.rh[r]!;
    }
  }

  private leaveFrame(depth: number): void {
    this.memory.setStart(this.stack!, this.stack!.end - FRAME_BYTES * (depth + 1));
    this.stackMoved();
  }

  /**
   * The stack region's start moved (a frame entered or left): cached ranges of the stack follow it,
   * rather than being forgotten, so calls and callbacks do not send the next accesses to the slow path.
   * Only the stack region ends where the stack ends.
   */
  private stackMoved(): void {
    const { start, end } = this.stack!;
    if (this.readEnd === end) this.readStart = start;
    if (this.readEnd2 === end) this.readStart2 = start;
    if (this.writeEnd === end) this.writeStart = start;
    if (this.writeEnd2 === end) this.writeStart2 = start;
  }

  /**
   * Checks [reg + off, +size) for a read or write and returns the address: against the last two
   * regions accesses of that kind found, the one hit last first, then (slowAddress) the region table.
   */
  private address(pc: number, reg: number, off: number, size: number, write: boolean): number {
    const a = (this.rl[reg]! >>> 0) + off;
    if (this.rh[reg] === 0) {
      const end = a + size;
      if (write) {
        if (a >= this.writeStart && end <= this.writeEnd) return a;
        if (a >= this.writeStart2 && end <= this.writeEnd2) {
          this.swapWriteRegions();
          return a;
        }
      } else {
        if (a >= this.readStart && end <= this.readEnd) return a;
        if (a >= this.readStart2 && end <= this.readEnd2) {
          this.swapReadRegions();
          return a;
        }
      }
    }
    return this.slowAddress(pc, reg, off, size, write);
  }

  private swapReadRegions(): void {
    const start = this.readStart;
    const end = this.readEnd;
    this.readStart = this.readStart2;
    this.readEnd = this.readEnd2;
    this.readStart2 = start;
    this.readEnd2 = end;
  }

  private swapWriteRegions(): void {
    const start = this.writeStart;
    const end = this.writeEnd;
    this.writeStart = this.writeStart2;
    this.writeEnd = this.writeEnd2;
    this.writeStart2 = start;
    this.writeEnd2 = end;
  }

  private slowAddress(pc: number, reg: number, off: number, size: number, write: boolean): number {
    const access = write ? 'write' : 'read';
    if (this.rh[reg] !== 0 || (this.rl[reg]! >>> 0) + off < 0) {
      const full = ((BigInt(this.rh[reg]!) << 32n) | BigInt(this.rl[reg]! >>> 0)) + BigInt(off);
      throw new MemoryFaultError(pc, BigInt.asUintN(64, full), size, access, 'is outside guest memory');
    }
    const a = (this.rl[reg]! >>> 0) + off;
    const full = BigInt(a);
    const region = this.memory.find(a, size);
    if (!region) {
      const near = this.memory.near(a);
      throw new MemoryFaultError(pc, full, size, access, near ? `is outside region '${near.name}' [0x${near.start.toString(16)}, 0x${near.end.toString(16)})` : 'is in no region');
    }
    if (write) {
      if (!region.writable) throw new MemoryFaultError(pc, full, size, access, `is in read-only region '${region.name}'`);
      this.writeStart2 = this.writeStart;
      this.writeEnd2 = this.writeEnd;
      this.writeStart = region.start;
      this.writeEnd = region.end;
    } else {
      this.readStart2 = this.readStart;
      this.readEnd2 = this.readEnd;
      this.readStart = region.start;
      this.readEnd = region.end;
    }
    return a;
  }

  /** Atomics must be naturally aligned, as in Linux. */
  private atomicAddress(pc: number, reg: number, off: number, size: number): number {
    const a = this.address(pc, reg, off, size, true);
    if ((a & (size - 1)) !== 0) throw MemoryFaultError.misaligned(pc, a, size);
    this.address(pc, reg, off, size, false);
    return a;
  }

  /** Runs a helper with r1..r5 spilled to the register file; returns true when it asked to stop. */
  private callHelper(pc: number, helper: HelperSpec): boolean {
    const v = this.memory.view;
    const base = this.registerFile!.start;
    for (let i = 1; i <= 5; i++) {
      v.setInt32(base + i * 8, this.rl[i]!, true);
      v.setInt32(base + i * 8 + 4, this.rh[i]!, true);
    }
    const call = this.call!;
    call.stopRequested = false;
    this.helperPc = pc;
    const generation = this.memory.generation;
    try {
      helper.impl(call);
    } catch (err) {
      // A callback ended the program (its r0 is in the register file): in the main program that is a stop.
      if (err === PROGRAM_EXIT && call.callbackDepth === 0) call.stopRequested = true;
      // A trap inside a callback the helper ran is the callback's own, at its pc.
      else if (err === PROGRAM_EXIT || err instanceof ExecutionError) throw err;
      else throw new HelperFailedError(pc, helper.name, err);
    }
    this.memory.refresh();
    // The cached regions stay valid unless the helper changed the region table (allocation, frames).
    if (this.memory.generation !== generation) this.forgetRegions();
    const after = this.memory.view;
    this.rl[0] = after.getInt32(base, true);
    this.rh[0] = after.getInt32(base + 4, true);
    return call.stopRequested;
  }

  private traceStep(pc: number, depth: number, init: number): void {
    const registers: bigint[] = [];
    for (let r = 0; r <= FRAME_POINTER; r++) registers.push((BigInt(this.rh[r]! >>> 0) << 32n) | BigInt(this.rl[r]! >>> 0));
    this.trace!({ pc, depth, insn: this.insnAt(pc)!, registers, initialized: init });
  }

  private bySlot: (Instruction | undefined)[] | undefined;
  private functionPointers: Set<number> | undefined;

  /** Slots of the functions the program takes the address of (lddw src 4): the only callx targets. */
  private addressTaken(): Set<number> {
    this.functionPointers ??= new Set(this.program.insns.filter((i) => i.op === Op.LddwFunc).map((i) => i.pc + 1 + i.imm));
    return this.functionPointers;
  }

  /** The instruction starting at a slot, if one does. */
  private insnAt(pc: number): Instruction | undefined {
    if (!this.bySlot) {
      this.bySlot = new Array(this.program.slots);
      for (const insn of this.program.insns) this.bySlot[insn.pc] = insn;
    }
    return this.bySlot[pc];
  }

  /** Sets up a run: registers from the input, the main frame, the loop's entry state. */
  private start(input: RunArgs): void {
    this.ensureRegions();
    // No memory.refresh(): the memory grows only when it allocates, which refreshes its views.
    const call = this.call!;
    this.repeating = input === this.repeatInput;
    call.tailCallCount = input.tailCalls ?? 0;
    call.pendingTailCall = undefined;
    // Every bpf_loop the interpreter runs counts in callbackDepth while it is open: only a run that
    // trapped or ended inside one leaves loop state to clear.
    if (call.callbackDepth !== 0) this.loopCallback.fill(0);
    call.callbackDepth = 0;
    const { rl, rh } = this;
    // Registers keep what the last run left: no read can see it (a run that might read a register
    // before writing it tracks them, and stops there), except a trace, which shows every register.
    if (this.trace !== undefined) for (let r = 0; r <= FRAME_POINTER; r++) rl[r] = rh[r] = 0;
    const args = input.args ?? NO_ARGS;
    let init = 1 << FRAME_POINTER;
    for (let i = 0; i < args.length; i++) {
      const value = args[i]!;
      if (typeof value === 'number' && (value >>> 0) === value) {
        // The common case, an address: a u32 needs no division for its high half.
        rl[i + 1] = value | 0;
        rh[i + 1] = 0;
      } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
        rl[i + 1] = value | 0;
        rh[i + 1] = Math.floor(value / 4294967296) | 0;
      } else {
        const v = BigInt.asUintN(64, BigInt(value));
        rl[i + 1] = Number(BigInt.asIntN(32, v));
        rh[i + 1] = Number(BigInt.asIntN(32, v >> 32n));
      }
      init |= 1 << (i + 1);
    }
    call.packet = input.packet ?? NO_PACKET;
    rl[FRAME_POINTER] = this.enterFrame(0);

    if (init !== this.trackedInit) {
      let track = this.tracking.get(init);
      if (track === undefined) {
        // Tracing shows which registers hold values, so it needs the tracking too.
        track = this.trace !== undefined || analyzeRegisterInit(this.program, init).uncertainReads.length > 0;
        this.tracking.set(init, track);
      }
      this.trackedInit = init;
      this.track = track;
    }
    this.remaining = this.budget;
    this.base = 0;
    this.entry = 0;
    this.entryInit = init;
  }

  /**
   * Runs the program from its first instruction. A callback runs this same loop from the entry
   * state it leaves in the fields (CALLBACK_RUN), and it returns when the callback's frame exits.
   */
  run(input: RunArgs = {}): RunOutcome<number> {
    if (input !== CALLBACK_RUN) this.start(input);
    const { rl, rh } = this;
    let init = this.entryInit;
    let track = this.track;
    const p = this.program;
    const plain = this.code;
    let code = track ? plain : this.fusedCode;
    const runs = this.runs;
    const { imm, immHi, reads, writes, helpers } = p;
    const trace = this.trace;
    let dv = this.memory.view;
    let remaining = this.remaining;
    let depth = this.base;
    // Per caller frame: return pc, register-written mask, r6..r9 (lo, hi).
    const frames = this.frames;
    let pc = this.entry;
    // The instruction's immediate, loaded by the cases that use it: loaded for every instruction
    // before the switch, it cost 4-8% on the compute rows.
    let k = 0;

    for (;;) {
      // The budget is charged a straight run at a time (straightRuns): here, where one starts (the
      // entry, a jump's target, after a call or an exit). When what is left does not cover it, the
      // rest of the run goes an instruction at a time (`plain`, counted and checked as tracked runs
      // are), so the budget runs out at the very instruction it would on its own. Registers are
      // taken as all written then, here and in the callers' frames the run will return to: it was
      // not tracked, so no read can see an unwritten one.
      if (!track) {
        const n = runs[pc]!;
        if ((remaining -= n) < 0) {
          remaining += n;
          track = true;
          code = plain;
          init = EVERY_REGISTER;
          for (let f = 0; f < depth; f++) frames[f * FRAME_WORDS + 1] = EVERY_REGISTER;
        }
      }
      straight: for (;;) {
        if (track) {
          // Only programs where some read may see an unwritten register pay for this, traced runs
          // (start() makes them track), and the end of a run the budget does not cover.
          if (--remaining < 0) throw new BudgetExhaustedError(pc, this.budget);
          if (trace !== undefined) this.traceStep(pc, depth, init);
          const needs = reads[pc]!;
          if ((needs & init) !== needs) throw new UninitializedRegisterError(pc, 31 - Math.clz32(needs & ~init & -(needs & ~init)));
          init |= writes[pc]!;
        }
        const w = code[pc]!;
        const d = (w >> 8) & 15;
        const s = (w >> 12) & 15;
        taken: {
          switch (w & 255) {
            // ALU64 --------------------------------------------------------------------------------
            case Op.Add64K: k = imm[pc]!; add64(rl, rh, d, k, k >> 31); break;
            case Op.Add64X: add64(rl, rh, d, rl[s]!, rh[s]!); break;
            case Op.Sub64K: k = imm[pc]!; sub64(rl, rh, d, k, k >> 31); break;
            case Op.Sub64X: sub64(rl, rh, d, rl[s]!, rh[s]!); break;
            case Op.Mul64K: k = imm[pc]!; mul64(rl, rh, d, rl[d]!, rh[d]!, k, k >> 31); break;
            case Op.Mul64X: mul64(rl, rh, d, rl[d]!, rh[d]!, rl[s]!, rh[s]!); break;
            case Op.Div64K: k = imm[pc]!; udivmod64(rl, rh, d, rl[d]!, rh[d]!, k, k >> 31, false); break;
            case Op.Div64X: udivmod64(rl, rh, d, rl[d]!, rh[d]!, rl[s]!, rh[s]!, false); break;
            case Op.Sdiv64K: k = imm[pc]!; sdivmod64(rl, rh, d, rl[d]!, rh[d]!, k, k >> 31, false); break;
            case Op.Sdiv64X: sdivmod64(rl, rh, d, rl[d]!, rh[d]!, rl[s]!, rh[s]!, false); break;
            case Op.Mod64K: k = imm[pc]!; udivmod64(rl, rh, d, rl[d]!, rh[d]!, k, k >> 31, true); break;
            case Op.Mod64X: udivmod64(rl, rh, d, rl[d]!, rh[d]!, rl[s]!, rh[s]!, true); break;
            case Op.Smod64K: k = imm[pc]!; sdivmod64(rl, rh, d, rl[d]!, rh[d]!, k, k >> 31, true); break;
            case Op.Smod64X: sdivmod64(rl, rh, d, rl[d]!, rh[d]!, rl[s]!, rh[s]!, true); break;
            case Op.Or64K: k = imm[pc]!; rl[d] = rl[d]! | k; rh[d] = rh[d]! | (k >> 31); break;
            case Op.Or64X: rl[d] = rl[d]! | rl[s]!; rh[d] = rh[d]! | rh[s]!; break;
            case Op.And64K: k = imm[pc]!; rl[d] = rl[d]! & k; rh[d] = rh[d]! & (k >> 31); break;
            case Op.And64X: rl[d] = rl[d]! & rl[s]!; rh[d] = rh[d]! & rh[s]!; break;
            case Op.Xor64K: k = imm[pc]!; rl[d] = rl[d]! ^ k; rh[d] = rh[d]! ^ (k >> 31); break;
            case Op.Xor64X: rl[d] = rl[d]! ^ rl[s]!; rh[d] = rh[d]! ^ rh[s]!; break;
            case Op.Lsh64K: k = imm[pc]!; lsh64(rl, rh, d, k & 63); break;
            case Op.Lsh64X: lsh64(rl, rh, d, rl[s]! & 63); break;
            case Op.Rsh64K: k = imm[pc]!; rsh64(rl, rh, d, k & 63); break;
            case Op.Rsh64X: rsh64(rl, rh, d, rl[s]! & 63); break;
            case Op.Arsh64K: k = imm[pc]!; arsh64(rl, rh, d, k & 63); break;
            case Op.Arsh64X: arsh64(rl, rh, d, rl[s]! & 63); break;
            case Op.Neg64: { const l = rl[d]!; rl[d] = -l; rh[d] = ~rh[d]! + (l === 0 ? 1 : 0); break; }
            case Op.Mov64K: k = imm[pc]!; rl[d] = k; rh[d] = k >> 31; break;
            case Op.Mov64X: rl[d] = rl[s]!; rh[d] = rh[s]!; break;
            case Op.Movsx64_8: { const v = (rl[s]! << 24) >> 24; rl[d] = v; rh[d] = v >> 31; break; }
            case Op.Movsx64_16: { const v = (rl[s]! << 16) >> 16; rl[d] = v; rh[d] = v >> 31; break; }
            case Op.Movsx64_32: { const v = rl[s]!; rl[d] = v; rh[d] = v >> 31; break; }

            // ALU (32-bit): results are zero-extended --------------------------------------------
            case Op.Add32K: k = imm[pc]!; rl[d] = rl[d]! + k; rh[d] = 0; break;
            case Op.Add32X: rl[d] = rl[d]! + rl[s]!; rh[d] = 0; break;
            case Op.Sub32K: k = imm[pc]!; rl[d] = rl[d]! - k; rh[d] = 0; break;
            case Op.Sub32X: rl[d] = rl[d]! - rl[s]!; rh[d] = 0; break;
            case Op.Mul32K: k = imm[pc]!; rl[d] = Math.imul(rl[d]!, k); rh[d] = 0; break;
            case Op.Mul32X: rl[d] = Math.imul(rl[d]!, rl[s]!); rh[d] = 0; break;
            case Op.Div32K: k = imm[pc]!; udivmod32(rl, rh, d, rl[d]!, k, false); break;
            case Op.Div32X: udivmod32(rl, rh, d, rl[d]!, rl[s]!, false); break;
            case Op.Sdiv32K: k = imm[pc]!; sdivmod32(rl, rh, d, rl[d]!, k, false); break;
            case Op.Sdiv32X: sdivmod32(rl, rh, d, rl[d]!, rl[s]!, false); break;
            case Op.Mod32K: k = imm[pc]!; udivmod32(rl, rh, d, rl[d]!, k, true); break;
            case Op.Mod32X: udivmod32(rl, rh, d, rl[d]!, rl[s]!, true); break;
            case Op.Smod32K: k = imm[pc]!; sdivmod32(rl, rh, d, rl[d]!, k, true); break;
            case Op.Smod32X: sdivmod32(rl, rh, d, rl[d]!, rl[s]!, true); break;
            case Op.Or32K: k = imm[pc]!; rl[d] = rl[d]! | k; rh[d] = 0; break;
            case Op.Or32X: rl[d] = rl[d]! | rl[s]!; rh[d] = 0; break;
            case Op.And32K: k = imm[pc]!; rl[d] = rl[d]! & k; rh[d] = 0; break;
            case Op.And32X: rl[d] = rl[d]! & rl[s]!; rh[d] = 0; break;
            case Op.Xor32K: k = imm[pc]!; rl[d] = rl[d]! ^ k; rh[d] = 0; break;
            case Op.Xor32X: rl[d] = rl[d]! ^ rl[s]!; rh[d] = 0; break;
            case Op.Lsh32K: k = imm[pc]!; rl[d] = rl[d]! << (k & 31); rh[d] = 0; break;
            case Op.Lsh32X: rl[d] = rl[d]! << (rl[s]! & 31); rh[d] = 0; break;
            case Op.Rsh32K: k = imm[pc]!; rl[d] = rl[d]! >>> (k & 31); rh[d] = 0; break;
            case Op.Rsh32X: rl[d] = rl[d]! >>> (rl[s]! & 31); rh[d] = 0; break;
            case Op.Arsh32K: k = imm[pc]!; rl[d] = rl[d]! >> (k & 31); rh[d] = 0; break;
            case Op.Arsh32X: rl[d] = rl[d]! >> (rl[s]! & 31); rh[d] = 0; break;
            case Op.Neg32: rl[d] = -rl[d]!; rh[d] = 0; break;
            case Op.Mov32K: k = imm[pc]!; rl[d] = k; rh[d] = 0; break;
            case Op.Mov32X: rl[d] = rl[s]!; rh[d] = 0; break;
            case Op.Movsx32_8: rl[d] = (rl[s]! << 24) >> 24; rh[d] = 0; break;
            case Op.Movsx32_16: rl[d] = (rl[s]! << 16) >> 16; rh[d] = 0; break;

            // Byte order: to-little is a truncation on this little-endian machine ------------------
            case Op.Le16: rl[d] = rl[d]! & 0xffff; rh[d] = 0; break;
            case Op.Le32: rh[d] = 0; break;
            case Op.Le64: break;
            case Op.Be16: case Op.Bswap16: rl[d] = bswap16(rl[d]!); rh[d] = 0; break;
            case Op.Be32: case Op.Bswap32: rl[d] = bswap32(rl[d]!); rh[d] = 0; break;
            case Op.Be64: case Op.Bswap64: { const l = rl[d]!; rl[d] = bswap32(rh[d]!); rh[d] = bswap32(l); break; }

            // Jumps --------------------------------------------------------------------------------
            case Op.Ja: pc += (w >> 16); break straight;
            case Op.Ja32: k = imm[pc]!; pc += k; break straight;
            case Op.MayGoto: if (this.mayGoto[depth] === 0) pc += (w >> 16); else this.mayGoto[depth]--; break straight;
            case Op.Jeq64K: k = imm[pc]!; if (rl[d] === k && rh[d] === k >> 31) break taken; break;
            case Op.Jeq64X: if (rl[d] === rl[s] && rh[d] === rh[s]) break taken; break;
            case Op.Jne64K: k = imm[pc]!; if (rl[d] !== k || rh[d] !== k >> 31) break taken; break;
            case Op.Jne64X: if (rl[d] !== rl[s] || rh[d] !== rh[s]) break taken; break;
            case Op.Jset64K: k = imm[pc]!; if ((rl[d]! & k) !== 0 || (rh[d]! & (k >> 31)) !== 0) break taken; break;
            case Op.Jset64X: if ((rl[d]! & rl[s]!) !== 0 || (rh[d]! & rh[s]!) !== 0) break taken; break;
            case Op.Jgt64K: k = imm[pc]!; if (gtU64(rl[d]!, rh[d]!, k, k >> 31)) break taken; break;
            case Op.Jgt64X: if (gtU64(rl[d]!, rh[d]!, rl[s]!, rh[s]!)) break taken; break;
            case Op.Jge64K: k = imm[pc]!; if (!gtU64(k, k >> 31, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jge64X: if (!gtU64(rl[s]!, rh[s]!, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jlt64K: k = imm[pc]!; if (gtU64(k, k >> 31, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jlt64X: if (gtU64(rl[s]!, rh[s]!, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jle64K: k = imm[pc]!; if (!gtU64(rl[d]!, rh[d]!, k, k >> 31)) break taken; break;
            case Op.Jle64X: if (!gtU64(rl[d]!, rh[d]!, rl[s]!, rh[s]!)) break taken; break;
            case Op.Jsgt64K: k = imm[pc]!; if (gtS64(rl[d]!, rh[d]!, k, k >> 31)) break taken; break;
            case Op.Jsgt64X: if (gtS64(rl[d]!, rh[d]!, rl[s]!, rh[s]!)) break taken; break;
            case Op.Jsge64K: k = imm[pc]!; if (!gtS64(k, k >> 31, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jsge64X: if (!gtS64(rl[s]!, rh[s]!, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jslt64K: k = imm[pc]!; if (gtS64(k, k >> 31, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jslt64X: if (gtS64(rl[s]!, rh[s]!, rl[d]!, rh[d]!)) break taken; break;
            case Op.Jsle64K: k = imm[pc]!; if (!gtS64(rl[d]!, rh[d]!, k, k >> 31)) break taken; break;
            case Op.Jsle64X: if (!gtS64(rl[d]!, rh[d]!, rl[s]!, rh[s]!)) break taken; break;
            case Op.Jeq32K: k = imm[pc]!; if (rl[d] === k) break taken; break;
            case Op.Jeq32X: if (rl[d] === rl[s]) break taken; break;
            case Op.Jne32K: k = imm[pc]!; if (rl[d] !== k) break taken; break;
            case Op.Jne32X: if (rl[d] !== rl[s]) break taken; break;
            case Op.Jset32K: k = imm[pc]!; if ((rl[d]! & k) !== 0) break taken; break;
            case Op.Jset32X: if ((rl[d]! & rl[s]!) !== 0) break taken; break;
            case Op.Jgt32K: k = imm[pc]!; if (rl[d]! >>> 0 > k >>> 0) break taken; break;
            case Op.Jgt32X: if (rl[d]! >>> 0 > rl[s]! >>> 0) break taken; break;
            case Op.Jge32K: k = imm[pc]!; if (rl[d]! >>> 0 >= k >>> 0) break taken; break;
            case Op.Jge32X: if (rl[d]! >>> 0 >= rl[s]! >>> 0) break taken; break;
            case Op.Jlt32K: k = imm[pc]!; if (rl[d]! >>> 0 < k >>> 0) break taken; break;
            case Op.Jlt32X: if (rl[d]! >>> 0 < rl[s]! >>> 0) break taken; break;
            case Op.Jle32K: k = imm[pc]!; if (rl[d]! >>> 0 <= k >>> 0) break taken; break;
            case Op.Jle32X: if (rl[d]! >>> 0 <= rl[s]! >>> 0) break taken; break;
            case Op.Jsgt32K: k = imm[pc]!; if (rl[d]! > k) break taken; break;
            case Op.Jsgt32X: if (rl[d]! > rl[s]!) break taken; break;
            case Op.Jsge32K: k = imm[pc]!; if (rl[d]! >= k) break taken; break;
            case Op.Jsge32X: if (rl[d]! >= rl[s]!) break taken; break;
            case Op.Jslt32K: k = imm[pc]!; if (rl[d]! < k) break taken; break;
            case Op.Jslt32X: if (rl[d]! < rl[s]!) break taken; break;
            case Op.Jsle32K: k = imm[pc]!; if (rl[d]! <= k) break taken; break;
            case Op.Jsle32X: if (rl[d]! <= rl[s]!) break taken; break;

            // Calls and exit -------------------------------------------------------------------------
            case Op.CallHelper:
              if (helpers[pc] === loopHelper && this.startLoop(depth)) {
                // The first callback, as a bpf-to-bpf call from the bpf_loop call.
                this.saveFrame(depth, pc, init);
                pc = this.loopCallback[depth]! - 2;
                depth++;
                rl[FRAME_POINTER] = this.enterFrame(depth);
                init = ARG_REGS_MASK | (1 << FRAME_POINTER);
                break straight;
              }
              this.remaining = remaining;
              this.helperDepth = depth;
              if (this.callHelper(pc, helpers[pc]!)) return this.endProgram(pc, this.base);
              remaining = this.remaining;
              dv = this.memory.view;
              init = (init & ~ARG_REGS_MASK) | 1;
              break straight;
            case Op.Callx: {
              const target = rl[d]! >>> 0;
              if (rh[d] === FUNCTION_POINTER_TAG) {
                if (!this.addressTaken().has(target)) throw new UnsupportedInstructionError(pc, `callx target slot ${target} is not a function whose address the program takes with lddw`);
                if (depth + 1 >= MAX_FRAMES) throw new CallDepthError(pc, MAX_FRAMES);
                this.saveFrame(depth, pc, init);
                depth++;
                rl[FRAME_POINTER] = this.enterFrame(depth);
                init = (init & ARG_REGS_MASK) | (1 << FRAME_POINTER);
                pc = target - 1;
                break straight;
              }
              const helper = rh[d] === 0 ? p.helperTable.get(target) : undefined;
              if (!helper) throw new UnsupportedInstructionError(pc, `callx target 0x${(BigInt(rh[d]! >>> 0) << 32n | BigInt(target)).toString(16)} is neither a function nor a known helper`);
              this.remaining = remaining;
              this.helperDepth = depth;
              if (this.callHelper(pc, helper)) return this.endProgram(pc, this.base);
              remaining = this.remaining;
              dv = this.memory.view;
              init = (init & ~ARG_REGS_MASK) | 1;
              break straight;
            }
            case Op.CallLocal:
              k = imm[pc]!;
              if (depth + 1 >= MAX_FRAMES) throw new CallDepthError(pc, MAX_FRAMES);
              this.saveFrame(depth, pc, init);
              depth++;
              rl[FRAME_POINTER] = this.enterFrame(depth);
              // The callee sees r1..r5 and its frame pointer; r0 and r6..r9 are its own to set.
              init = (init & ARG_REGS_MASK) | (1 << FRAME_POINTER);
              pc += k;
              break straight;
            case Op.CallBtf:
              k = imm[pc]!;
              throw new UnsupportedInstructionError(pc, `call by BTF id ${k} (kfunc) is not supported`);
            case Op.Exit:
              if (depth === this.base) {
                this.remaining = remaining;
                return this.result();
              }
              depth--;
              if (this.loopCallback[depth] !== 0) {
                if (this.nextIteration(depth)) {
                  pc = this.loopCallback[depth]! - 2;
                  depth++;
                  rl[FRAME_POINTER] = this.enterFrame(depth);
                  init = ARG_REGS_MASK | (1 << FRAME_POINTER);
                  break straight;
                }
                init |= 1; // bpf_loop's result
              }
              pc = frames[depth * FRAME_WORDS]!;
              // r0 comes back as the callee left it: set, or (from a void function) not.
              init = (frames[depth * FRAME_WORDS + 1]! & ~ARG_REGS_MASK & ~1) | (init & 1);
              for (let r = 6, at = depth * FRAME_WORDS + 2; r <= 9; r++, at += 2) { rl[r] = frames[at]!; rh[r] = frames[at + 1]!; }
              this.leaveFrame(depth);
              rl[FRAME_POINTER] = this.stack!.end - FRAME_BYTES * depth;
              break straight;

            // 64-bit immediates ------------------------------------------------------------------------
            case Op.Lddw: k = imm[pc]!; rl[d] = k; rh[d] = immHi[pc]!; pc++; break;
            case Op.LddwFunc: k = imm[pc]!; rl[d] = pc + 1 + k; rh[d] = FUNCTION_POINTER_TAG; pc++; break;
            case Op.LddwMapFd: case Op.LddwMapValue: case Op.LddwBtfId: case Op.LddwMapIdx: case Op.LddwMapIdxValue:
              throw new UnsupportedInstructionError(pc, `lddw with src ${s} (an unresolved map or BTF reference) needs the loader to resolve it`);

            // Loads and stores ------------------------------------------------------------------------
            case Op.Ldxb: rl[d] = dv.getUint8(this.address(pc, s, (w >> 16), 1, false)); rh[d] = 0; break;
            case Op.Ldxh: rl[d] = dv.getUint16(this.address(pc, s, (w >> 16), 2, false), true); rh[d] = 0; break;
            case Op.Ldxw: rl[d] = dv.getInt32(this.address(pc, s, (w >> 16), 4, false), true); rh[d] = 0; break;
            case Op.Ldxdw: { const a = this.address(pc, s, (w >> 16), 8, false); rl[d] = dv.getInt32(a, true); rh[d] = dv.getInt32(a + 4, true); break; }
            case Op.Ldxsb: { const v = dv.getInt8(this.address(pc, s, (w >> 16), 1, false)); rl[d] = v; rh[d] = v >> 31; break; }
            case Op.Ldxsh: { const v = dv.getInt16(this.address(pc, s, (w >> 16), 2, false), true); rl[d] = v; rh[d] = v >> 31; break; }
            case Op.Ldxsw: { const v = dv.getInt32(this.address(pc, s, (w >> 16), 4, false), true); rl[d] = v; rh[d] = v >> 31; break; }
            case Op.Stb: k = imm[pc]!; dv.setInt8(this.address(pc, d, (w >> 16), 1, true), k); break;
            case Op.Sth: k = imm[pc]!; dv.setInt16(this.address(pc, d, (w >> 16), 2, true), k, true); break;
            case Op.Stw: k = imm[pc]!; dv.setInt32(this.address(pc, d, (w >> 16), 4, true), k, true); break;
            case Op.Stdw: { k = imm[pc]!; const a = this.address(pc, d, (w >> 16), 8, true); dv.setInt32(a, k, true); dv.setInt32(a + 4, k >> 31, true); break; }
            case Op.Stxb: dv.setInt8(this.address(pc, d, (w >> 16), 1, true), rl[s]!); break;
            case Op.Stxh: dv.setInt16(this.address(pc, d, (w >> 16), 2, true), rl[s]!, true); break;
            case Op.Stxw: dv.setInt32(this.address(pc, d, (w >> 16), 4, true), rl[s]!, true); break;
            case Op.Stxdw: { const a = this.address(pc, d, (w >> 16), 8, true); dv.setInt32(a, rl[s]!, true); dv.setInt32(a + 4, rh[s]!, true); break; }

            // Atomics: read-modify-write; the fetch forms load the old value into src --------------------
            case Op.AtomicAdd32: case Op.AtomicOr32: case Op.AtomicAnd32: case Op.AtomicXor32:
            case Op.AtomicFetchAdd32: case Op.AtomicFetchOr32: case Op.AtomicFetchAnd32: case Op.AtomicFetchXor32:
            case Op.AtomicXchg32: case Op.AtomicCmpxchg32: {
              k = imm[pc]!;
              const a = this.atomicAddress(pc, d, (w >> 16), 4);
              const old = dv.getInt32(a, true);
              const v = rl[s]!;
              switch (w & 255) {
                case Op.AtomicAdd32: case Op.AtomicFetchAdd32: dv.setInt32(a, old + v, true); break;
                case Op.AtomicOr32: case Op.AtomicFetchOr32: dv.setInt32(a, old | v, true); break;
                case Op.AtomicAnd32: case Op.AtomicFetchAnd32: dv.setInt32(a, old & v, true); break;
                case Op.AtomicXor32: case Op.AtomicFetchXor32: dv.setInt32(a, old ^ v, true); break;
                case Op.AtomicXchg32: dv.setInt32(a, v, true); break;
                case Op.AtomicCmpxchg32: if (old === rl[0]) dv.setInt32(a, v, true); rl[0] = old; rh[0] = 0; break;
              }
              if ((k & 1) !== 0 && (w & 255) !== Op.AtomicCmpxchg32) { rl[s] = old; rh[s] = 0; }
              break;
            }
            case Op.AtomicAdd64: case Op.AtomicOr64: case Op.AtomicAnd64: case Op.AtomicXor64:
            case Op.AtomicFetchAdd64: case Op.AtomicFetchOr64: case Op.AtomicFetchAnd64: case Op.AtomicFetchXor64:
            case Op.AtomicXchg64: case Op.AtomicCmpxchg64: {
              k = imm[pc]!;
              const a = this.atomicAddress(pc, d, (w >> 16), 8);
              const ol = dv.getInt32(a, true);
              const oh = dv.getInt32(a + 4, true);
              const vl = rl[s]!;
              const vh = rh[s]!;
              let nl = vl;
              let nh = vh;
              switch (w & 255) {
                case Op.AtomicAdd64: case Op.AtomicFetchAdd64: { const t = (ol >>> 0) + (vl >>> 0); nl = t | 0; nh = (oh + vh + (t > 0xffffffff ? 1 : 0)) | 0; break; }
                case Op.AtomicOr64: case Op.AtomicFetchOr64: nl = ol | vl; nh = oh | vh; break;
                case Op.AtomicAnd64: case Op.AtomicFetchAnd64: nl = ol & vl; nh = oh & vh; break;
                case Op.AtomicXor64: case Op.AtomicFetchXor64: nl = ol ^ vl; nh = oh ^ vh; break;
                case Op.AtomicCmpxchg64: if (ol !== rl[0] || oh !== rh[0]) { nl = ol; nh = oh; } break;
              }
              dv.setInt32(a, nl, true);
              dv.setInt32(a + 4, nh, true);
              if ((w & 255) === Op.AtomicCmpxchg64) { rl[0] = ol; rh[0] = oh; } else if ((k & 1) !== 0) { rl[s] = ol; rh[s] = oh; }
              break;
            }

            // Legacy packet loads: big-endian, from skb->data or (negative offsets) the network or MAC header;
            // a load outside the packet ends the program with r0 = 0 --
            case Op.LdAbsW: case Op.LdAbsH: case Op.LdAbsB: case Op.LdIndW: case Op.LdIndH: case Op.LdIndB: {
              k = imm[pc]!;
              const op = w & 255;
              const size = op === Op.LdAbsW || op === Op.LdIndW ? 4 : op === Op.LdAbsH || op === Op.LdIndH ? 2 : 1;
              const offset = op >= Op.LdIndW ? (rl[s]! + k) | 0 : k;
              init &= ~ARG_REGS_MASK;
              const bounds = this.call!.packet;
              const a = legacyLoadAddress(bounds.start, bounds.end, bounds.macHeader ?? 0, bounds.networkHeader ?? 0, offset, size);
              if (a < 0) {
                rl[0] = 0; rh[0] = 0;
                this.remaining = remaining;
                return this.endProgram(pc, this.base);
              }
              if (!this.memory.find(a, size)) throw new MemoryFaultError(pc, BigInt(a), size, 'read', 'is outside the packet region');
              rl[0] = size === 4 ? dv.getInt32(a, false) : size === 2 ? dv.getUint16(a, false) : dv.getUint8(a);
              rh[0] = 0;
              break straight;
            }

            // Fused runs (fusion.ts): the first instruction, then the next ones (their operands in
            // `plain`). They run only in runs charged by straight runs (tracked runs use `plain`), and a
            // fused run ends at its jump if it has one, so the charge covers each of its instructions.
            case Fused.MovAdd64X: {
              rl[d] = rl[s]!; rh[d] = rh[s]!;
              const t = (plain[++pc]! >> 12) & 15;
              add64(rl, rh, d, rl[t]!, rh[t]!);
              break;
            }
            case Fused.MovAdd64K: {
              rl[d] = rl[s]!; rh[d] = rh[s]!;
              const k2 = imm[++pc]!;
              add64(rl, rh, d, k2, k2 >> 31);
              break;
            }
            case Fused.ZeroExtend32:
              rh[d] = 0;
              pc++;
              break;
            case Fused.MovZeroExtend32:
              rl[d] = rl[s]!; rh[d] = 0;
              pc += 2;
              break;
            case Fused.JeqJa64K:
              k = imm[pc]!;
              // Equal: over the jump. Not: the jump, charged with the run the test is in.
              if (rl[d] === k && rh[d] === k >> 31) break taken;
              pc += 1 + (plain[pc + 1]! >> 16);
              break straight;
            case Fused.JeqJa32K:
              k = imm[pc]!;
              if (rl[d] === k) break taken;
              pc += 1 + (plain[pc + 1]! >> 16);
              break straight;
            case Fused.AddJne64K: {
              k = imm[pc]!;
              add64(rl, rh, d, k, k >> 31);
              const k2 = imm[++pc]!;
              if (rl[d] !== k2 || rh[d] !== k2 >> 31) break taken;
              break;
            }
            case Fused.AndJne64K: {
              k = imm[pc]!;
              rl[d] = rl[d]! & k; rh[d] = rh[d]! & (k >> 31);
              const k2 = imm[++pc]!;
              if (rl[d] !== k2 || rh[d] !== k2 >> 31) break taken;
              break;
            }
            case Fused.MovJne64K: {
              k = imm[pc]!;
              rl[d] = k; rh[d] = k >> 31;
              const w2 = plain[++pc]!;
              const d2 = (w2 >> 8) & 15;
              const k2 = imm[pc]!;
              if (rl[d2] !== k2 || rh[d2] !== k2 >> 31) break taken;
              break;
            }
            case Fused.MovJeq64K: {
              k = imm[pc]!;
              rl[d] = k; rh[d] = k >> 31;
              const w2 = plain[++pc]!;
              const d2 = (w2 >> 8) & 15;
              const k2 = imm[pc]!;
              if (rl[d2] === k2 && rh[d2] === k2 >> 31) break taken;
              break;
            }
            case Fused.MovJgt64X: {
              k = imm[pc]!;
              rl[d] = k; rh[d] = k >> 31;
              const w2 = plain[++pc]!;
              const d2 = (w2 >> 8) & 15;
              const s2 = (w2 >> 12) & 15;
              if (gtU64(rl[d2]!, rh[d2]!, rl[s2]!, rh[s2]!)) break taken;
              break;
            }
            case Fused.BoundsCheck: {
              rl[d] = rl[s]!; rh[d] = rh[s]!;
              const k2 = imm[++pc]!;
              add64(rl, rh, d, k2, k2 >> 31);
              const w3 = plain[++pc]!;
              const t = (w3 >> 12) & 15;
              if (gtU64(rl[d]!, rh[d]!, rl[t]!, rh[t]!)) break taken;
              break;
            }

            case END_OF_PROGRAM:
              throw new FellOffEndError(pc);
            case OUTSIDE_FRAME: {
              const { access, size } = frameViolation(this.insnAt(pc)!)!;
              throw MemoryFaultError.outsideFrame(pc, rl[FRAME_POINTER]! + (w >> 16), size, access);
            }
            default:
              throw new UnsupportedInstructionError(pc, `no semantics for op ${w & 255}`);
          }
          pc++;
          continue;
        }
        // The conditional jump at `pc` is taken: the run charged went on past it, and the rest of
        // that run does not run.
        if (!track) remaining += runs[pc + 1]!;
        pc += plain[pc]! >> 16;
        break;
      }
      // A jump, call or exit went to `pc` + 1: a straight run starts there.
      pc++;
    }
  }

  /**
   * The program ends early (a helper asked to stop, or a legacy packet load left the packet) with
   * r0 set. In the main program's frames that is a return; inside a callback it unwinds to the
   * main program's helper call, except a tail call, which Linux's verifier refuses in callbacks.
   */
  private endProgram(pc: number, base: number): RunOutcome<number> {
    if (this.call!.pendingTailCall && this.call!.callbackDepth > 0) throw new TailCallInCallbackError(pc);
    if (base === 0) return this.result();
    const v = this.memory.view;
    v.setInt32(this.registerFile!.start, this.rl[0]!, true);
    v.setInt32(this.registerFile!.start + 4, this.rh[0]!, true);
    throw PROGRAM_EXIT;
  }

  /**
   * Runs the address-taken function at `slot` for the helper running now, as Linux runs a callback:
   * in a new frame below the helper's caller, with r1..r5 from the register file; its r0 goes back
   * there. The caller's registers, frames and stack view are restored afterwards.
   */
  private runCallback(slot: number, tag: number): void {
    const pc = this.helperPc;
    const outer = this.helperDepth;
    if (tag !== FUNCTION_POINTER_TAG || !this.addressTaken().has(slot)) {
      throw new CallbackTargetError(pc, (BigInt(tag >>> 0) << 32n) | BigInt(slot >>> 0));
    }
    const depth = outer + 1;
    if (depth >= MAX_FRAMES) throw new CallDepthError(pc, MAX_FRAMES);
    const outerBase = this.base;
    const { rl, rh } = this;
    const saved = this.savedRegisters;
    const at = depth * 22;
    for (let r = 0; r <= FRAME_POINTER; r++) {
      saved[at + 2 * r] = rl[r]!;
      saved[at + 2 * r + 1] = rh[r]!;
    }
    const file = this.registerFile!.start;
    const v = this.memory.view;
    for (let r = 1; r <= 5; r++) {
      rl[r] = v.getInt32(file + r * 8, true);
      rh[r] = v.getInt32(file + r * 8 + 4, true);
    }
    rl[FRAME_POINTER] = this.enterFrame(depth);
    try {
      this.base = depth;
      this.entry = slot;
      this.entryInit = ARG_REGS_MASK | (1 << FRAME_POINTER);
      this.run(CALLBACK_RUN);
      const after = this.memory.view;
      after.setInt32(file, rl[0]!, true);
      after.setInt32(file + 4, rh[0]!, true);
    } finally {
      for (let r = 0; r <= FRAME_POINTER; r++) {
        rl[r] = saved[at + 2 * r]!;
        rh[r] = saved[at + 2 * r + 1]!;
      }
      this.leaveFrame(outer);
      this.base = outerBase;
      this.helperPc = pc;
      this.helperDepth = outer;
    }
  }

  /**
   * bpf_loop(nr_loops, callback_fn, callback_ctx, flags) called at `depth`: when its arguments are
   * good, the interpreter runs the loop itself, each callback a bpf-to-bpf call from the bpf_loop
   * call, without the helper's trip through the register file and a nested run per callback.
   * Returns false (the helper runs instead, and reports the errors) for flags, a count over
   * BPF_MAX_LOOPS or of 0, a callback that is not an address-taken function, or no frame left.
   */
  private startLoop(depth: number): boolean {
    const { rl, rh } = this;
    const count = rl[1]! >>> 0;
    const slot = rl[2]! >>> 0;
    if ((rl[4]! | rh[4]!) !== 0 || count === 0 || count > BPF_MAX_LOOPS) return false;
    if (rh[2] !== FUNCTION_POINTER_TAG || !this.addressTaken().has(slot) || depth + 1 >= MAX_FRAMES) return false;
    const at = depth * 4;
    this.loopCallback[depth] = slot + 1;
    this.loopState[at] = 0;
    this.loopState[at + 1] = count;
    this.loopState[at + 2] = rl[3]!;
    this.loopState[at + 3] = rh[3]!;
    // Callbacks may not tail-call (HelperCall.callbackDepth tells the tail-call helper).
    this.call!.callbackDepth++;
    this.loopArguments(0, at);
    return true;
  }

  /**
   * A callback of the loop started at `depth` returned (r0): true to run the next one, or false
   * when the loop ends (a callback returned non-zero, or the count is reached), with r0 the number
   * of callbacks made, as bpf_loop returns.
   */
  private nextIteration(depth: number): boolean {
    const { rl, rh } = this;
    const at = depth * 4;
    const index = this.loopState[at]! + 1;
    if ((rl[0]! | rh[0]!) === 0 && index < this.loopState[at + 1]!) {
      this.loopState[at] = index;
      this.loopArguments(index, at);
      return true;
    }
    this.loopCallback[depth] = 0;
    this.call!.callbackDepth--;
    rl[0] = index;
    rh[0] = 0;
    return false;
  }

  /** A callback's r1..r5: the index, the context, and zeros, as the helper passes them. */
  private loopArguments(index: number, at: number): void {
    const { rl, rh } = this;
    rl[1] = index;
    rh[1] = 0;
    rl[2] = this.loopState[at + 2]!;
    rh[2] = this.loopState[at + 3]!;
    for (let r = 3; r <= 5; r++) rl[r] = rh[r] = 0;
  }

  private result(): RunOutcome<number> {
    // A callback's run returns nothing anyone reads: its r0 goes back through the register file.
    if (this.base !== 0 || this.repeating) return CALLBACK_DONE;
    return new RunOutcome(this.rl[0]!, this.rh[0]!, this.budget - this.remaining, this.call!.pendingTailCall);
  }
}
