// Which registers are written before they are read, on every path: a forward must/may dataflow
// over the program's control flow, with Linux's call conventions (a call clobbers r1..r5 and sets
// r0; a callee starts with r1..r5 from its caller and its own r6..r9 unset). The interpreter uses
// it to skip run-time register tracking for programs where no read can see an unwritten register.
import type { Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { branchTarget } from '../isa/validate.js';
import { FRAME_POINTER } from '../isa/fields.js';
import { ARG_REGS_MASK, type PreparedProgram } from './prepare.js';

const R0 = 1;
const R10 = 1 << FRAME_POINTER;

/** Result of the analysis for one entry state. */
export interface RegisterInitAnalysis {
  /** Slots whose reads may see an unwritten register on some path. */
  readonly uncertainReads: readonly number[];
}

/**
 * Analyses a program entered with the registers in `entryMask` written (bit n for rn).
 * Unreachable slots are ignored.
 */
export function analyzeRegisterInit(p: PreparedProgram, entryMask: number): RegisterInitAnalysis {
  // Whether each function called with `call` sets r0 on every path to its exits (a void function
  // does not, and its caller may not read r0 after the call): assumed, then withdrawn until stable.
  const setsR0 = new Map<number, boolean>();
  for (;;) {
    const result = analyze(p, entryMask, setsR0);
    if (!result.withdrawn) return { uncertainReads: result.uncertainReads };
  }
}

function analyze(p: PreparedProgram, entryMask: number, setsR0: Map<number, boolean>): { uncertainReads: number[]; withdrawn: boolean } {
  const slots = p.slots;
  const must = new Int32Array(slots).fill(-1);
  const seen = new Uint8Array(slots);
  const byPc: (Instruction | undefined)[] = new Array(slots);
  for (const insn of p.insns) byPc[insn.pc] = insn;

  const work: number[] = [];
  const join = (pc: number, state: number) => {
    if (pc < 0 || pc >= slots) return;
    const next = seen[pc] ? must[pc]! & state : state;
    if (!seen[pc] || next !== must[pc]) {
      seen[pc] = 1;
      must[pc] = next;
      work.push(pc);
    }
  };
  join(0, entryMask | R10);
  // Address-taken functions are entries too: helpers call them back with r1..r5 set, and callx
  // may reach them with only r10 known.
  const hasCallx = p.insns.some((i) => i.op === Op.Callx);
  for (const i of p.insns) if (i.op === Op.LddwFunc) join(branchTarget(i)!, hasCallx ? R10 : ARG_REGS_MASK | R10);

  while (work.length) {
    const pc = work.pop()!;
    const insn = byPc[pc]!;
    const state = must[pc]! | p.writes[pc]!;
    const row = specOf(insn.op);
    switch (insn.op) {
      case Op.Exit:
        break;
      case Op.CallLocal: {
        const callee = branchTarget(insn)!;
        join(callee, (must[pc]! & ARG_REGS_MASK) | R10);
        join(pc + 1, (must[pc]! & ~ARG_REGS_MASK & ~R0) | (setsR0.get(callee) === false ? 0 : R0));
        break;
      }
      case Op.CallHelper:
      case Op.Callx:
      case Op.CallBtf:
      case Op.LdAbsW: case Op.LdAbsH: case Op.LdAbsB: case Op.LdIndW: case Op.LdIndH: case Op.LdIndB:
        join(pc + 1, (must[pc]! & ~ARG_REGS_MASK) | R0);
        break;
      default:
        if (row.form === 'ja' || row.form === 'ja32') {
          join(branchTarget(insn)!, state);
        } else {
          if (row.form === 'jcc' || row.form === 'maygoto') join(branchTarget(insn)!, state);
          join(pc + row.width, state);
        }
    }
  }

  let withdrawn = false;
  for (const insn of p.insns) {
    const entry = p.functionOf[insn.pc]!;
    if (insn.op !== Op.Exit || !seen[insn.pc] || entry === 0 || (must[insn.pc]! & R0) !== 0 || setsR0.get(entry) === false) continue;
    setsR0.set(entry, false);
    withdrawn = true;
  }
  const uncertainReads: number[] = [];
  for (let pc = 0; pc < slots; pc++) {
    if (seen[pc] && (p.reads[pc]! & ~must[pc]!) !== 0) uncertainReads.push(pc);
  }
  return { uncertainReads, withdrawn };
}
