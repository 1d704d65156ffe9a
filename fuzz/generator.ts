// The differential fuzzer's program generator: random BPF programs that are valid and terminate,
// deterministic from a seed. Instructions come from the opcode table's rows (fuzz/rows.ts); the
// structure is what Linux's verifier would accept: structured control flow, loops bounded by a
// dedicated counter, every register written before it is read, memory accessed only through a
// buffer or stack pointer at offsets inside the region (aligned for atomics), a call graph without
// cycles. Programs follow the conformance runner's convention: r1 = the buffer, r2 = its length.
import { AtomicOp } from '../isa/fields.js';
import { splitImm64 } from '../isa/instruction.js';
import type { OpcodeSpec } from '../isa/opcodes.js';
import { Prng } from './prng.js';
import { AtomCounter, type Fields, type FuzzProgram, type Item, type Label, link } from './program.js';
import {
  COUNTER_DECREMENTS, COUNTER_NONZERO, COUNTER_ZERO, FIXED, ROWS, isDivision, isMove, isShift, isSignedDivision, isX,
} from './rows.js';
import { divisor, imm32, imm64, intMin, shiftCount } from './values.js';

/** The helper generated programs call: conformance/helpers.ts's helper 5 returns its argument (and stops on 0). */
export const ECHO_HELPER = 5;
/** The register main keeps the buffer pointer in (a callee-saved copy of r1). */
export const MAIN_BUFFER_REGISTER = 9;
/** Bytes of one stack frame: accesses through r10 stay in [r10 - 512, r10). */
const FRAME_BYTES = 512;
/** Where a callee keeps a pointer into its caller's frame (caller's r10 - 256). */
const FOREIGN_STACK_REGISTER = 8;
const FOREIGN_STACK_OFFSET = 256;
const FRAME_POINTER = 10;
const ARG_REGS = 0b111110;
const R0 = 1;
const COUNTER_REGISTERS = [6, 7, 8] as const;
/** Dynamic instruction estimates: main (with its callees) and each callee stay below these. */
const MAIN_COST_LIMIT = 40_000;
const CALLEE_COST_LIMIT = 3_000;
/** Loops nest only while the iteration product stays at or below this. */
const MAX_LOOP_PRODUCT = 16;
const MAX_NESTING = 3;

export type { Atom, FuzzProgram } from './program.js';

/** Generator knobs. */
export interface GeneratorOptions {
  /** Rough bounds on the program's instruction count (defaults 20 and 280). */
  readonly minInsns?: number;
  readonly maxInsns?: number;
  /**
   * Only programs Linux's verifier could accept (for the verifier's soundness fuzzing): no code
   * that never runs, no callx, no division by a zero immediate, shift immediates in range, aligned
   * accesses. Default false: the engines are tested on everything they must run.
   */
  readonly verifiable?: boolean;
}

type ArgKind = 'scalar' | 'buffer' | 'stack';

interface FunctionPlan {
  readonly label: Label;
  readonly args: readonly ArgKind[];
  /** Estimated instructions one call executes, the callee's own calls included. */
  cost: number;
}

interface LoopContext {
  readonly exit: Label;
  /** Registers written on every path that leaves the loop so far. */
  exitInit: number;
}

/**
 * A label forward jumps go to, not placed yet. It may be placed anywhere later that is not inside
 * a loop some jump to it is outside of (that would enter the loop past its counter).
 */
interface PendingLabel {
  readonly label: Label;
  /** Registers written on every jump to it. */
  incoming: number;
  /** The loops enclosing every jump to it: the longest common prefix of their loop stacks. */
  loops: readonly LoopContext[];
}

const bit = (r: number) => 1 << r;

function registersIn(mask: number): number[] {
  const out: number[] = [];
  for (let r = 0; r <= 9; r++) if ((mask & bit(r)) !== 0) out.push(r);
  return out;
}

/** Generates one function: its entry, a body of random statements, its exit. */
class FunctionBuilder {
  readonly items: Item[] = [];
  /** Instructions emitted so far. */
  size = 0;
  /** Estimated instructions executed by one call. */
  cost = 0;
  /** Registers holding a value on every path to the current point (bit n for rn). */
  private init = 0;
  /** Registers random statements must not write: pointer copies and live loop counters. */
  private reserved = 0;
  /** Product of the iteration counts of the enclosing loops. */
  private multiplier = 1;
  private nesting = 0;
  private readonly loops: LoopContext[] = [];
  private bufferRegister: number | undefined;
  private foreignStackRegister: number | undefined;
  private readonly pending: PendingLabel[] = [];
  /** Depth of code that never runs (after deadSkip's jump), where no pending label is placed. */
  private dead = 0;
  /** Functions this one calls, for dropping those nothing calls from verifiable programs. */
  readonly called = new Set<FunctionPlan>();

  constructor(
    private readonly rng: Prng,
    private readonly atoms: AtomCounter,
    private readonly plan: FunctionPlan,
    private readonly isMain: boolean,
    /** Functions this one may call: later in the layout, so the call graph has no cycles. */
    private readonly callees: readonly FunctionPlan[],
    private readonly bufferSize: number,
    private readonly costLimit: number,
    private readonly verifiable = false,
  ) {
    // Verifiable programs keep each frame small: the frames of a call chain share 512 bytes.
    this.frameBytes = verifiable ? 64 : FRAME_BYTES;
    this.foreignOffset = verifiable ? 32 : FOREIGN_STACK_OFFSET;
  }

  /** Stack bytes of each frame the program uses, and where a callee's pointer into its caller's frame points. */
  private readonly frameBytes: number;
  private readonly foreignOffset: number;

  build(bodySize: number): void {
    this.place(this.plan.label);
    this.entry();
    // Calls are what engines get wrong most easily: most functions that can call start with one.
    const callable = this.callable();
    if (callable.length > 0 && (this.verifiable || this.rng.chance(0.6))) {
      // Often the next function, which makes long call chains (deep frames) likely; verifiable
      // programs always call it, so that no function is left unreachable.
      const callee = this.verifiable || this.rng.chance(0.5) ? callable[0]! : this.rng.pick(callable);
      if (this.verifiable || this.rng.chance(0.6)) this.localCall(callee);
      else this.indirectCall(callee);
    }
    this.block(bodySize);
    for (const p of [...this.pending]) this.land(p);
    // Fold a few registers into r0 so that more of the computation reaches the result.
    for (let i = this.rng.int(0, 3); i > 0; i--) {
      this.emit(this.rng.pick([FIXED.xor64X, FIXED.add64X]), { dst: 0, src: this.pickRead(R0) });
    }
    this.atoms.within(true, () => this.emit(FIXED.exit));
  }

  // --- Emission and register bookkeeping --------------------------------------------------------

  private emit(row: OpcodeSpec, fields: Fields = {}, target?: Label): void {
    const { atom, fixed, unit } = this.atoms.current();
    this.items.push({ row, fields, target, atom, fixed, unit });
    this.size++;
    this.cost += this.multiplier;
  }

  private place(label: Label): void {
    this.items.push(label);
  }

  private written(r: number): void {
    this.init |= bit(r);
  }

  private isData(r: number): boolean {
    return r <= 9 && (this.reserved & bit(r)) === 0;
  }

  /** A register random statements may write, not in `exclude`. */
  private pickWrite(exclude = 0): number {
    return this.rng.pick(registersIn(~this.reserved & ~exclude & 0x3ff));
  }

  /** A data register holding a value, not in `exclude`; writes a constant into one if none does. */
  private pickRead(exclude = 0): number {
    const regs = registersIn(this.init & ~this.reserved & ~exclude & 0x3ff);
    if (regs.length > 0) return this.rng.pick(regs);
    const r = this.pickWrite(exclude);
    this.setConstant(r, BigInt(this.rng.int(-8, 8)));
    return r;
  }

  /** Writes a 64-bit constant with the cheapest fitting move (sometimes lddw anyway). */
  private setConstant(r: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    const signed = BigInt.asIntN(64, v);
    if (signed >= -(1n << 31n) && signed < 1n << 31n && this.rng.chance(0.8)) {
      this.emit(FIXED.mov64K, { dst: r, imm: Number(signed) });
    } else if (v < 1n << 32n && this.rng.chance(0.7)) {
      this.emit(FIXED.mov32K, { dst: r, imm: Number(BigInt.asIntN(32, v)) });
    } else {
      this.emit(FIXED.lddw, { dst: r, ...splitImm64(v) });
    }
    this.written(r);
  }

  /** A first value for a register: a constant, or bytes of the buffer or the stack. */
  private initialValue(r: number): void {
    const load = (base: number, off: number) => {
      const row = this.rng.pick(ROWS.ldx);
      this.emit(row, { dst: r, src: base, off: off - (off % row.size!) });
      this.written(r);
    };
    this.rng.weighted<() => void>([
      [() => this.setConstant(r, imm64(this.rng)), 6],
      [() => this.setConstant(r, BigInt(this.rng.int(-4, 16))), 2],
      ...(this.bufferRegister !== undefined
        ? [[() => load(this.bufferRegister!, this.rng.int(0, this.bufferSize - 8)), 3] as const]
        : []),
      [() => load(FRAME_POINTER, -this.rng.int(8, this.frameBytes)), 1],
    ])();
  }

  /** Copies a pointer argument into a callee-saved register and scrubs the argument register. */
  private keepPointer(arg: number, into: number): void {
    this.atoms.within(true, () => {
      this.emit(FIXED.mov64X, { dst: into, src: arg });
      this.reserved |= bit(into);
      this.setConstant(arg, imm64(this.rng));
    });
  }

  /** Main: r1 is the buffer, r2 its length. A callee: its arguments. Everything else gets a value. */
  private entry(): void {
    if (this.isMain) {
      this.init = bit(1) | bit(2);
      this.keepPointer(1, MAIN_BUFFER_REGISTER);
      this.bufferRegister = MAIN_BUFFER_REGISTER;
    } else {
      this.plan.args.forEach((_, i) => this.written(i + 1));
      this.plan.args.forEach((kind, i) => {
        if (kind === 'buffer') {
          this.keepPointer(i + 1, MAIN_BUFFER_REGISTER);
          this.bufferRegister = MAIN_BUFFER_REGISTER;
        } else if (kind === 'stack') {
          this.keepPointer(i + 1, FOREIGN_STACK_REGISTER);
          this.foreignStackRegister = FOREIGN_STACK_REGISTER;
        }
      });
    }
    for (let r = 0; r <= 9; r++) {
      const keep = (this.init & bit(r)) !== 0 && this.rng.chance(0.7);
      if (this.isData(r) && !keep) this.initialValue(r);
    }
  }

  // --- Statements ---------------------------------------------------------------------------------

  private block(size: number): void {
    const stop = this.size + size;
    while (this.size < stop) this.statement(stop - this.size);
  }

  private statement(room: number): void {
    const rng = this.rng;
    const nest = this.nesting < MAX_NESTING && room >= 4;
    const counters = COUNTER_REGISTERS.filter((r) => this.isData(r));
    const canLoop = nest && counters.length > 0 && this.multiplier * 4 <= MAX_LOOP_PRODUCT;
    const callable = this.callable();
    const choices: [() => void, number][] = [
      [() => this.alu(), 30],
      [() => this.unary(), 5],
      [() => this.lddw(), 4],
      [() => this.memory(), 26],
      [() => this.helperCall(), 2],
    ];
    if (nest) {
      choices.push([() => this.ifThen(room), 5], [() => this.ifElse(room), 5]);
      if (!this.verifiable) choices.push([() => this.deadSkip(room), 1]);
    }
    if (canLoop) choices.push([() => this.loop(room, counters), 6]);
    if (this.loops.length > 0) choices.push([() => this.breakOut(), 1.5]);
    choices.push([() => this.goto(), 2]);
    const landable = this.landable();
    if (landable.length > 0) choices.push([() => this.land(rng.pick(landable)), 3]);
    if (callable.length > 0) choices.push([() => this.localCall(rng.pick(callable)), 4]);
    if (callable.length > 0 && !this.verifiable) choices.push([() => this.indirectCall(rng.pick(callable)), 3]);
    // An early exit from main ends the whole run: keep those rare so that most code runs.
    if (room >= 3) choices.push([() => this.earlyExit(), this.isMain ? 0.15 : 0.5]);
    rng.weighted(choices)();
  }

  /** Callees whose arguments this function can pass and whose cost still fits the limit. */
  private callable(): FunctionPlan[] {
    return this.callees.filter((c) =>
      (this.bufferRegister !== undefined || !c.args.includes('buffer'))
      && this.cost + this.multiplier * (c.cost + 8) <= this.costLimit);
  }

  /** A binary ALU operation or move, with deliberate edge operands for divisions and shifts. */
  private alu(): void {
    const rng = this.rng;
    const row = rng.pick(ROWS.alu);
    const width = row.is32 ? 32 : 64;
    const dst = isMove(row) ? this.pickWrite() : this.pickRead();
    if (isSignedDivision(row) && rng.chance(0.3)) this.setConstant(dst, intMin(row.is32));
    if (isX(row)) {
      let src: number;
      if (isDivision(row) && rng.chance(0.5)) {
        src = this.pickWrite(bit(dst));
        this.setConstant(src, BigInt(divisor(rng)));
      } else if (isShift(row) && rng.chance(0.4)) {
        src = this.pickWrite(bit(dst));
        const high = rng.chance(0.3) ? BigInt(rng.int32()) << 32n : 0n;
        this.setConstant(src, high | BigInt.asUintN(32, BigInt(shiftCount(rng, width))));
      } else {
        src = this.pickRead();
      }
      this.emit(row, { dst, src });
    } else {
      let imm = isShift(row) ? shiftCount(rng, width) : isDivision(row) ? divisor(rng) : imm32(rng);
      if (this.verifiable && isShift(row)) imm = ((imm % width) + width) % width;
      if (this.verifiable && isDivision(row) && imm === 0) imm = 1;
      this.emit(row, { dst, imm });
    }
    this.written(dst);
  }

  /** neg or a byte-order operation. */
  private unary(): void {
    const dst = this.pickRead();
    this.emit(this.rng.pick(ROWS.unary), { dst });
  }

  private lddw(): void {
    const dst = this.pickWrite();
    this.emit(FIXED.lddw, { dst, ...splitImm64(imm64(this.rng)) });
    this.written(dst);
  }

  /** A load, store or atomic on the buffer, the current frame or the caller's frame. */
  private memory(): void {
    const rng = this.rng;
    const kind = rng.weighted<'ldx' | 'st' | 'stx' | 'atomic'>([['ldx', 34], ['st', 12], ['stx', 24], ['atomic', 30]]);
    const row = rng.pick(ROWS[kind]);
    const size = row.size!;
    const aligned = kind === 'atomic' || rng.chance(0.75) || this.verifiable;
    const cmpxchg = kind === 'atomic' && row.imm === AtomicOp.CMPXCHG;
    // An offset in [lo, hi], a multiple of the size when aligned, often in a small hot area so
    // that stores and loads meet.
    const offset = (lo: number, hi: number) => {
      const top = rng.chance(0.6) ? Math.min(hi, lo + 63) : hi;
      const raw = rng.int(lo, top);
      if (!aligned) return raw;
      // lo and hi are multiples of the size, so rounding up stays in range.
      return Math.ceil(raw / size) * size;
    };
    const buffer = this.bufferRegister;
    const foreign = this.foreignStackRegister;
    type Base = 'buffer' | 'stack' | 'foreign' | 'bufferIndexed' | 'stackIndexed';
    const where = rng.weighted<Base>([
      ...(buffer !== undefined ? [['buffer', 4] as const, ['bufferIndexed', 2] as const] : []),
      ['stack', 4],
      ['stackIndexed', 1.5],
      ...(foreign !== undefined ? [['foreign', 2] as const] : []),
    ]);
    this.atoms.within(false, () => {
      // A temporary pointer (base + masked index) for indexed accesses; never the cmpxchg comparand.
      const indexed = (base: number, mask: number) => {
        const t = this.pickWrite(cmpxchg ? R0 : 0);
        const index = this.pickRead();
        this.emit(FIXED.mov64X, { dst: t, src: index });
        this.emit(FIXED.and64K, { dst: t, imm: mask });
        this.emit(FIXED.add64X, { dst: t, src: base });
        return t;
      };
      let temp: number | undefined;
      let base: number;
      let off: number;
      const half = this.bufferSize / 2;
      switch (where) {
        case 'buffer':
          base = buffer!;
          off = offset(0, this.bufferSize - size);
          break;
        case 'bufferIndexed':
          base = temp = indexed(buffer!, (half - 1) & ~7);
          off = offset(0, half - size);
          break;
        case 'stack':
          base = FRAME_POINTER;
          off = -offset(size, this.frameBytes);
          break;
        case 'stackIndexed':
          base = temp = indexed(FRAME_POINTER, (this.frameBytes / 2 - 1) & ~7);
          off = -offset(this.frameBytes / 2 + size, this.frameBytes);
          break;
        case 'foreign':
          base = foreign!;
          off = offset(-this.foreignOffset, this.frameBytes - this.foreignOffset - size);
          break;
      }
      const notTemp = temp === undefined ? 0 : bit(temp);
      let scrub = temp !== undefined;
      switch (row.form) {
        case 'ldx': {
          const dst = this.pickWrite();
          this.emit(row, { dst, src: base, off });
          this.written(dst);
          if (dst === temp) scrub = false;
          break;
        }
        case 'st':
          this.emit(row, { dst: base, off, imm: imm32(rng) });
          break;
        default: {
          // stx and atomics: the value is a data register, never the temporary pointer.
          const src = this.pickRead(notTemp);
          if (cmpxchg && (this.init & R0) === 0) this.setConstant(0, imm64(rng));
          this.emit(row, { dst: base, src, off });
          break;
        }
      }
      if (scrub) this.setConstant(temp!, BigInt(imm32(rng)));
    });
  }

  /** A conditional jump on data registers to `target`. */
  private conditionalJump(target: Label): void {
    // may_goto forward: taken only once the function's budget is spent, so both ways stay possible.
    if (this.rng.chance(0.03)) {
      this.emit(FIXED.mayGoto, {}, target);
      return;
    }
    const row = this.rng.pick(ROWS.jcc);
    const dst = this.pickRead();
    if (isX(row)) this.emit(row, { dst, src: this.pickRead() }, target);
    else this.emit(row, { dst, imm: this.rng.chance(0.5) ? imm32(this.rng) : this.rng.int(-4, 8) }, target);
  }

  /** ja or ja32 to `target`. */
  private jump(target: Label): void {
    this.emit(this.rng.pick(ROWS.ja), {}, target);
  }

  private nested(body: () => void): void {
    this.nesting++;
    body();
    this.nesting--;
  }

  private childSize(room: number): number {
    return this.rng.int(1, Math.max(1, Math.min(room - 2, 24)));
  }

  /** if (cond) { block }: a forward conditional jump over a block. */
  private ifThen(room: number): void {
    const skip: Label = { pc: -1 };
    this.conditionalJump(skip);
    const before = this.init;
    this.nested(() => this.block(this.childSize(room)));
    this.place(skip);
    this.init &= before;
  }

  /** if (cond) { block } else { block }. */
  private ifElse(room: number): void {
    const otherwise: Label = { pc: -1 };
    const end: Label = { pc: -1 };
    this.conditionalJump(otherwise);
    const before = this.init;
    this.nested(() => this.block(this.childSize(room)));
    const afterThen = this.init;
    this.jump(end);
    this.place(otherwise);
    this.init = before;
    this.nested(() => this.block(this.childSize(room)));
    this.place(end);
    this.init &= afterThen;
  }

  /** An unconditional forward jump over code that never runs (but must still be valid). */
  private deadSkip(room: number): void {
    const skip: Label = { pc: -1 };
    this.jump(skip);
    const [before, multiplier, cost] = [this.init, this.multiplier, this.cost];
    this.dead++;
    this.nested(() => this.block(this.rng.int(1, 4)));
    this.dead--;
    this.place(skip);
    [this.init, this.multiplier, this.cost] = [before, multiplier, cost];
  }

  /**
   * A loop of 0-4 iterations on a counter register nothing else writes: do { } while (--c) or
   * while (c != 0) { --c }, with the exit test drawn from the table's conditions that mean
   * "zero" or "not zero" for a small counter.
   */
  private loop(room: number, counters: readonly number[]): void {
    const rng = this.rng;
    const c = rng.pick(counters);
    const whileShape = rng.chance(0.4);
    const n = rng.int(whileShape ? 0 : 1, 4);
    const head: Label = { pc: -1 };
    const exit: Label = { pc: -1 };
    const unit = this.atoms.unit();
    this.atoms.within(false, () => this.emit(rng.chance(0.5) ? FIXED.mov64K : FIXED.mov32K, { dst: c, imm: n }), unit);
    this.written(c);
    this.reserved |= bit(c);
    this.place(head);
    const headInit = this.init;
    if (whileShape) {
      const test = rng.pick(COUNTER_ZERO);
      this.atoms.within(false, () => this.emit(test.row, { dst: c, imm: test.imm }, exit), unit);
    }
    const context: LoopContext = { exit, exitInit: whileShape ? headInit : 0x7ff };
    this.loops.push(context);
    const outer = this.multiplier;
    this.multiplier *= Math.max(1, n);
    this.nested(() => this.block(this.childSize(room)));
    // Calls in the body clobber r1-r5: write them again so that the next iteration may read them.
    for (const r of registersIn(headInit & ~this.init)) this.setConstant(r, BigInt(imm32(rng)));
    this.atoms.within(false, () => {
      const step = rng.pick(COUNTER_DECREMENTS);
      this.emit(step.row, { dst: c, imm: step.imm });
      if (whileShape) {
        this.jump(head);
      } else {
        const test = rng.pick(COUNTER_NONZERO);
        this.emit(test.row, { dst: c, imm: test.imm }, head);
      }
    }, unit);
    this.multiplier = outer;
    this.loops.pop();
    this.place(exit);
    this.init = whileShape ? context.exitInit : this.init & context.exitInit;
    this.reserved &= ~bit(c);
    this.written(c);
  }

  /**
   * A forward jump, conditional or not, to a label placed later, maybe across block boundaries:
   * out of loops, into the middle of a later if or else block (control flow that does not nest).
   */
  private goto(): void {
    const reuse = this.pending.length > 0 && this.rng.chance(0.5);
    const target: PendingLabel = reuse ? this.rng.pick(this.pending) : { label: { pc: -1 }, incoming: 0x7ff, loops: this.loops.slice() };
    if (!reuse) this.pending.push(target);
    let common = 0;
    while (common < target.loops.length && common < this.loops.length && target.loops[common] === this.loops[common]) common++;
    target.loops = target.loops.slice(0, common);
    target.incoming &= this.init;
    // An unconditional jump would leave the code it skips unreachable, which Linux refuses.
    if (this.verifiable || this.rng.chance(0.75)) this.conditionalJump(target.label);
    else this.jump(target.label);
  }

  /** Pending labels that may be placed here: not in dead code, not inside a loop a jump to them is outside of. */
  private landable(): PendingLabel[] {
    if (this.dead > 0) return [];
    return this.pending.filter((p) => this.loops.length <= p.loops.length && this.loops.every((loop, i) => p.loops[i] === loop));
  }

  /** Places a pending label: registers hold values here only if they do on every way in. */
  private land(target: PendingLabel): void {
    this.pending.splice(this.pending.indexOf(target), 1);
    this.place(target.label);
    this.init &= target.incoming;
  }

  /** A conditional jump out of the innermost loop. */
  private breakOut(): void {
    const loop = this.loops[this.loops.length - 1]!;
    this.conditionalJump(loop.exit);
    loop.exitInit &= this.init;
  }

  /** if (cond) { a little work; exit }. */
  private earlyExit(): void {
    const skip: Label = { pc: -1 };
    this.conditionalJump(skip);
    const before = this.init;
    for (let i = this.rng.int(0, 2); i > 0; i--) this.alu();
    this.emit(FIXED.exit);
    this.place(skip);
    this.init = before;
  }

  /** Writes the callee's arguments into r1..rN: scalars, the buffer, or a pointer into this frame. */
  private passArguments(args: readonly ArgKind[]): void {
    args.forEach((kind, i) => {
      const r = i + 1;
      if (kind === 'buffer') {
        this.emit(FIXED.mov64X, { dst: r, src: this.bufferRegister! });
      } else if (kind === 'stack') {
        this.emit(FIXED.mov64X, { dst: r, src: FRAME_POINTER });
        this.emit(FIXED.add64K, { dst: r, imm: -this.foreignOffset });
      } else {
        // Scalars come from registers outside r1-r5, which may already hold pointer arguments.
        const sources = registersIn(this.init & ~this.reserved & ~ARG_REGS & 0x3ff);
        if (sources.length > 0 && this.rng.chance(0.6)) this.emit(FIXED.mov64X, { dst: r, src: this.rng.pick(sources) });
        else this.setConstant(r, imm64(this.rng));
      }
    });
  }

  private afterCall(cost: number): void {
    this.cost += this.multiplier * cost;
    this.init = (this.init & ~ARG_REGS) | R0;
  }

  /** call local: a bpf-to-bpf call. */
  private localCall(callee: FunctionPlan): void {
    this.atoms.within(false, () => {
      this.passArguments(callee.args);
      this.emit(FIXED.callLocal, {}, callee.label);
    });
    this.called.add(callee);
    this.afterCall(callee.cost);
  }

  /** callx through `lddw rX, func`, rX being r0 or an argument register the callee does not take. */
  private indirectCall(callee: FunctionPlan): void {
    this.atoms.within(false, () => {
      this.passArguments(callee.args);
      const pointer = this.rng.pick([0, ...[1, 2, 3, 4, 5].filter((r) => r > callee.args.length)]);
      this.emit(FIXED.lddwFunc, { dst: pointer }, callee.label);
      this.emit(FIXED.callx, { dst: pointer });
    });
    this.called.add(callee);
    this.afterCall(callee.cost);
  }

  /** The echo helper, with an argument that is never zero (zero would stop the program). */
  private helperCall(): void {
    this.atoms.within(false, () => {
      if (this.rng.chance(0.5)) {
        this.emit(FIXED.mov64X, { dst: 1, src: this.pickRead() });
        this.emit(FIXED.or64K, { dst: 1, imm: this.rng.pick([1, 0x100, -0x80000000, imm32(this.rng) | 1]) });
      } else {
        this.setConstant(1, imm64(this.rng) || 1n);
      }
      this.emit(FIXED.callHelper, { imm: ECHO_HELPER });
    });
    this.afterCall(1);
  }
}

/** Generates the program of a seed: the same seed always gives the same program and input. */
export function generateProgram(seed: number, options: GeneratorOptions = {}): FuzzProgram {
  const rng = new Prng(seed);
  const min = options.minInsns ?? 20;
  const max = options.maxInsns ?? 280;
  const span = max - min;
  const total = rng.weighted<() => number>([
    [() => rng.int(min, min + Math.floor(span / 4)), 4],
    [() => rng.int(min + Math.floor(span / 4), min + Math.floor((span * 3) / 5)), 4],
    [() => rng.int(min + Math.floor((span * 3) / 5), max), 2],
  ])();
  const bufferSize = rng.pick([64, 128, 256]);
  // Up to six callees: a chain main -> f1 -> ... -> f6 uses seven of the eight frames.
  const calleeCount = rng.weighted([[0, 2], [1, 3], [2, 3], [3, 2], [4, 0.5], [6, 0.5]] as const);

  const plans: FunctionPlan[] = [{ label: { pc: -1 }, args: [], cost: 0 }];
  for (let i = 0; i < calleeCount; i++) {
    const args: ArgKind[] = [];
    for (let n = rng.int(0, 5); n > 0; n--) {
      const kinds: [ArgKind, number][] = [['scalar', 6]];
      if (!args.includes('buffer')) kinds.push(['buffer', 2]);
      if (!args.includes('stack')) kinds.push(['stack', 1]);
      args.push(rng.weighted(kinds));
    }
    plans.push({ label: { pc: -1 }, args, cost: 0 });
  }

  const mainShare = calleeCount === 0 ? 1 : rng.int(40, 70) / 100;
  const mainBody = Math.max(4, Math.round(total * mainShare) - 12);
  const calleeBody = calleeCount === 0 ? 0 : Math.max(3, Math.round((total * (1 - mainShare)) / calleeCount) - 8);

  const atoms = new AtomCounter();
  const builders: FunctionBuilder[] = new Array(plans.length);
  // Callees first, the last one first: each may only call those after it, whose cost is known.
  for (let i = plans.length - 1; i >= 0; i--) {
    const isMain = i === 0;
    const builder = new FunctionBuilder(rng, atoms, plans[i]!, isMain, plans.slice(i + 1), bufferSize,
      isMain ? MAIN_COST_LIMIT : CALLEE_COST_LIMIT, options.verifiable ?? false);
    builder.build(isMain ? mainBody : calleeBody);
    plans[i]!.cost = builder.cost;
    builders[i] = builder;
  }
  // A verifier rejects code no path reaches: verifiable programs leave out functions nothing calls.
  const reached = new Set<FunctionPlan>([plans[0]!]);
  for (let i = 0; i < plans.length; i++) if (reached.has(plans[i]!)) for (const c of builders[i]!.called) reached.add(c);
  const kept = options.verifiable ? builders.filter((_, i) => reached.has(plans[i]!)) : builders;
  return { seed, ...link(kept), input: rng.bytes(bufferSize) };
}
