// Pairs of adjacent instructions the interpreter runs as one dispatch: the idioms clang emits in
// every loop (a register copy and an add forming an address, a u32 cast as a shift pair, a counter
// stepped and tested). Only instructions that cannot trap are paired, so a pair behaves as its two
// instructions run in order; the interpreter still counts both against the budget.
import { Op } from '../isa/opcodes.js';
import type { Instruction } from '../isa/instruction.js';

/**
 * The fused operations, numbered after the opcode table's (and below the interpreter's own slot
 * markers at 254 and 255). A fused op sits in the first instruction's slot; the second slot keeps
 * its own op, for jumps that land there.
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
}

/** The fused op that runs `first` then `second` (the next instruction), if they form a pair. */
export function fusedOp(first: Instruction, second: Instruction): Fused | undefined {
  if (second.pc !== first.pc + 1 || second.dst !== first.dst) return undefined;
  switch (first.op) {
    case Op.Mov64X:
      if (second.op === Op.Add64X) return Fused.MovAdd64X;
      if (second.op === Op.Add64K) return Fused.MovAdd64K;
      return undefined;
    case Op.Lsh64K:
      return first.imm === 32 && second.op === Op.Rsh64K && second.imm === 32 ? Fused.ZeroExtend32 : undefined;
    case Op.Add64K:
      return second.op === Op.Jne64K ? Fused.AddJne64K : undefined;
    default:
      return undefined;
  }
}
