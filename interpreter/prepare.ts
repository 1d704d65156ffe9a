// Turns validated instruction records into flat per-slot arrays for the interpreter's loop, with
// the registers each instruction reads and writes (derived from the opcode table's forms) and
// helper calls resolved against the helper table.
import { type Instruction, width } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { branchTarget, validate } from '../isa/validate.js';
import { type HelperSpec, type HelperTable, resolveHelperCalls } from '../helpers/table.js';

/** r1..r5: the argument registers, clobbered by every call. */
export const ARG_REGS_MASK = 0b111110;

/** A program laid out for the interpreter: one entry per slot (the second slot of lddw is unused). */
export interface PreparedProgram {
  readonly insns: readonly Instruction[];
  readonly slots: number;
  readonly ops: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  /** lddw: the high 32 bits of the immediate. */
  readonly immHi: Int32Array;
  /** Registers each instruction reads, as a bit mask (bit n for rn). */
  readonly reads: Uint16Array;
  /** Registers each instruction writes. */
  readonly writes: Uint16Array;
  /** Helpers called at each slot (CallHelper only). */
  readonly helpers: readonly (HelperSpec | undefined)[];
  /** The helper table, for callx to a helper id. */
  readonly helperTable: HelperTable;
  /** Per slot: the first slot of the function it is in (0 for the main program). */
  readonly functionOf: Int32Array;
}

function bit(r: number): number {
  return 1 << r;
}

/** Registers read and written by one instruction, as the verifier's liveness rules see them. */
export function registerUse(insn: Instruction, helper?: HelperSpec): { reads: number; writes: number } {
  const row = specOf(insn.op);
  const x = (row.opcode & 0x08) !== 0;
  switch (row.form) {
    case 'alu': {
      const isMov = insn.op === Op.Mov64K || insn.op === Op.Mov32K || insn.op === Op.Mov64X || insn.op === Op.Mov32X
        || insn.op === Op.Movsx64_8 || insn.op === Op.Movsx64_16 || insn.op === Op.Movsx64_32
        || insn.op === Op.Movsx32_8 || insn.op === Op.Movsx32_16;
      return { reads: (isMov ? 0 : bit(insn.dst)) | (x ? bit(insn.src) : 0), writes: bit(insn.dst) };
    }
    case 'unary':
      return { reads: bit(insn.dst), writes: bit(insn.dst) };
    case 'ldx':
      return { reads: bit(insn.src), writes: bit(insn.dst) };
    case 'st':
      return { reads: bit(insn.dst), writes: 0 };
    case 'stx':
      return { reads: bit(insn.dst) | bit(insn.src), writes: 0 };
    case 'atomic': {
      const cmpxchg = insn.op === Op.AtomicCmpxchg32 || insn.op === Op.AtomicCmpxchg64;
      const fetch = (insn.imm & 1) !== 0;
      return {
        reads: bit(insn.dst) | bit(insn.src) | (cmpxchg ? bit(0) : 0),
        writes: cmpxchg ? bit(0) : fetch ? bit(insn.src) : 0,
      };
    }
    case 'lddw':
      return { reads: 0, writes: bit(insn.dst) };
    case 'jcc':
      return { reads: bit(insn.dst) | (x ? bit(insn.src) : 0), writes: 0 };
    case 'call': {
      const args = helper ? helper.proto.args.length : 0;
      return { reads: ((1 << (args + 1)) - 1) & ARG_REGS_MASK, writes: bit(0) };
    }
    case 'calllocal':
    case 'callbtf':
      return { reads: 0, writes: bit(0) };
    case 'callx':
      return { reads: bit(insn.dst), writes: bit(0) };
    case 'exit':
      return { reads: bit(0), writes: 0 };
    case 'ldabs':
      return { reads: 0, writes: bit(0) };
    case 'ldind':
      return { reads: bit(insn.src), writes: bit(0) };
    case 'ja':
    case 'ja32':
    case 'maygoto':
      return { reads: 0, writes: 0 };
  }
}

/** Validates a program and lays it out for the interpreter. Unknown helpers are a load error. */
export function prepare(insns: readonly Instruction[], helperTable: HelperTable): PreparedProgram {
  validate(insns);
  const used = resolveHelperCalls(insns, helperTable);
  const last = insns[insns.length - 1]!;
  const slots = last.pc + width(last);
  const p = {
    insns,
    slots,
    ops: new Uint8Array(slots),
    dst: new Uint8Array(slots),
    src: new Uint8Array(slots),
    off: new Int16Array(slots),
    imm: new Int32Array(slots),
    immHi: new Int32Array(slots),
    reads: new Uint16Array(slots),
    writes: new Uint16Array(slots),
    helpers: new Array<HelperSpec | undefined>(slots),
    helperTable,
    functionOf: new Int32Array(slots),
  };
  // Functions start at slot 0, at local call targets and at address-taken slots (callbacks).
  const callbacks = new Set(insns.filter((i) => i.op === Op.LddwFunc).map((i) => branchTarget(i)!));
  const entries = new Set([0, ...callbacks, ...insns.filter((i) => i.op === Op.CallLocal).map((i) => branchTarget(i)!)]);
  for (let pc = 0, entry = 0; pc < slots; pc++) {
    if (entries.has(pc)) entry = pc;
    p.functionOf[pc] = entry;
  }
  for (const insn of insns) {
    const at = insn.pc;
    const helper = insn.op === Op.CallHelper ? used.get(insn.imm) : undefined;
    p.helpers[at] = helper;
    p.ops[at] = insn.op;
    p.dst[at] = insn.dst;
    p.src[at] = insn.src;
    p.off[at] = insn.off;
    p.imm[at] = insn.imm;
    p.immHi[at] = insn.immHi ?? 0;
    const use = registerUse(insn, helper);
    p.reads[at] = use.reads;
    p.writes[at] = use.writes;
    // As in Linux, only the program's exit and a callback's hand r0 on to be checked; a function
    // called with `call` passes it back as it is (a void function leaves it unset), and its caller
    // may not read it then.
    const entry = p.functionOf[at]!;
    if (insn.op === Op.Exit && entry !== 0 && !callbacks.has(entry)) p.reads[at] = 0;
  }
  return p;
}

/**
 * Per slot, the instructions of the straight run starting there: up to and including the next
 * instruction that need not go on to the next slot, save conditional jumps (a jump, a call, an
 * exit, a may_goto, a legacy packet load, which may end the program). A run goes on through a
 * conditional jump not taken; one taken leaves the rest of the run unrun. Runs overlap where jumps
 * land inside one. The slot past the last instruction counts one (running it is falling off the
 * end); lddw's second slot, none.
 */
export function straightRuns(p: PreparedProgram): Int32Array {
  const runs = new Int32Array(p.slots + 1);
  runs[p.slots] = 1;
  for (let i = p.insns.length - 1; i >= 0; i--) {
    const insn = p.insns[i]!;
    const form = specOf(insn.op).form;
    const ends = form === 'ja' || form === 'ja32' || form === 'maygoto' || form === 'exit' || form === 'call'
      || form === 'calllocal' || form === 'callbtf' || form === 'callx' || form === 'ldabs' || form === 'ldind';
    runs[insn.pc] = ends ? 1 : 1 + runs[insn.pc + width(insn)]!;
  }
  return runs;
}
