// Runs of adjacent instructions the interpreter runs as one dispatch: the idioms clang emits in
// every loop and parser (a register copy and an add forming an address, a packet bounds check, a
// u32 cast as a shift pair or after a copy, a counter stepped and tested, a masked test, a return
// value set before a test that may return it, a loop's test jumping over the jump going round).
// Only instructions that cannot trap are fused, so a fused op behaves as its instructions run in
// order. Each still counts against the budget: the straight run charged before it covers all of
// them (prepare.ts, straightRuns), and a run the budget does not cover goes an instruction at a
// time, unfused.
import { Op } from '../isa/opcodes.js';
import type { Instruction } from '../isa/instruction.js';

/**
 * The fused operations, numbered after the opcode table's (and below the interpreter's own slot
 * markers at 254 and 255). A fused op sits in the first instruction's slot; the other slots keep
 * their own ops, for jumps that land there.
 */
export const enum Fused {
  /** mov64 rd, rs; add64 rd, rt */
  MovAdd64X = 240,
  /** mov64 rd, rs; add64 rd, imm */
  MovAdd64K,
  /** lsh64 rd, 32; rsh64 rd, 32: the high half cleared */
  ZeroExtend32,
  /** add64 rd, imm; jne64 rd, imm, +off */
  AddJne64K,
  /** and64 rd, imm; jne64 rd, imm, +off */
  AndJne64K,
  /** mov64 rd, rs; add64 rd, imm; jgt64 rd, rt, +off: the packet bounds check */
  BoundsCheck,
  /** mov64 rd, imm; jne64 re, imm, +off */
  MovJne64K,
  /** mov64 rd, imm; jeq64 re, imm, +off */
  MovJeq64K,
  /** mov64 rd, imm; jgt64 re, rt, +off */
  MovJgt64X,
  /** mov64 rd, rs; lsh64 rd, 32; rsh64 rd, 32: a copy of the low half */
  MovZeroExtend32,
  /** jeq64 rd, imm, +1; ja +off */
  JeqJa64K,
  /** jeq32 rd, imm, +1; ja +off */
  JeqJa32K,
}

/** Whether `next` follows `insn` in the next slot and works on the same destination register. */
function chained(insn: Instruction, next: Instruction | undefined): next is Instruction {
  return next !== undefined && next.pc === insn.pc + 1 && next.dst === insn.dst;
}

/** Whether `lsh` and the instruction after it shift the same register left then right by 32. */
function zeroExtends(lsh: Instruction, next: Instruction | undefined): boolean {
  return lsh.op === Op.Lsh64K && lsh.imm === 32 && chained(lsh, next) && next.op === Op.Rsh64K && next.imm === 32;
}

/** The fused op that runs `insns[i]` and the one or two after it, if they form one of the idioms. */
export function fusedOp(insns: readonly Instruction[], i: number): Fused | undefined {
  const first = insns[i]!;
  const second = insns[i + 1];
  if (first.op === Op.Mov64K && second !== undefined && second.pc === first.pc + 1) {
    // The test reads its registers after the move, whichever they are.
    if (second.op === Op.Jne64K) return Fused.MovJne64K;
    if (second.op === Op.Jeq64K) return Fused.MovJeq64K;
    if (second.op === Op.Jgt64X) return Fused.MovJgt64X;
    return undefined;
  }
  if ((first.op === Op.Jeq64K || first.op === Op.Jeq32K) && first.off === 1 && second?.op === Op.Ja && second.pc === first.pc + 1) {
    return first.op === Op.Jeq64K ? Fused.JeqJa64K : Fused.JeqJa32K;
  }
  if (!chained(first, second)) return undefined;
  switch (first.op) {
    case Op.Mov64X:
      if (second.op === Op.Add64X) return Fused.MovAdd64X;
      if (second.op === Op.Lsh64K) return zeroExtends(second, insns[i + 2]) ? Fused.MovZeroExtend32 : undefined;
      if (second.op !== Op.Add64K) return undefined;
      return chained(second, insns[i + 2]) && insns[i + 2]!.op === Op.Jgt64X ? Fused.BoundsCheck : Fused.MovAdd64K;
    case Op.Lsh64K:
      return zeroExtends(first, second) ? Fused.ZeroExtend32 : undefined;
    case Op.Add64K:
      return second.op === Op.Jne64K ? Fused.AddJne64K : undefined;
    case Op.And64K:
      return second.op === Op.Jne64K ? Fused.AndJne64K : undefined;
    default:
      return undefined;
  }
}
