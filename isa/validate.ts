// Instruction validity (RFC 9669 sections 3-5): reserved fields, registers, jump and call targets.
// These are the checks every engine needs before running anything; the verifier goes further.
import { BadProgramError, BadRegisterError, JumpOutOfRangeError, ReservedFieldError } from './errors.js';
import { FRAME_POINTER, REGISTER_COUNT } from './fields.js';
import { type Instruction, width } from './instruction.js';
import { Op, specOf, type FieldRule } from './opcodes.js';

/** Linux's BPF_COMPLEXITY_LIMIT_INSNS: the longest program the kernel accepts. */
export const MAX_PROGRAM_SLOTS = 1_000_000;

/** The slot an instruction transfers control to, for jumps, local calls and lddw of a function; undefined otherwise. */
export function branchTarget(insn: Instruction): number | undefined {
  switch (insn.op) {
    case Op.Ja32:
    case Op.CallLocal:
    case Op.LddwFunc:
      return insn.pc + 1 + insn.imm;
    case Op.Callx:
    case Op.CallHelper:
    case Op.CallBtf:
    case Op.Exit:
      return undefined;
    default: {
      const form = specOf(insn.op).form;
      return form === 'ja' || form === 'jcc' || form === 'maygoto' ? insn.pc + 1 + insn.off : undefined;
    }
  }
}

function checkField(insn: Instruction, field: 'dst' | 'src' | 'off' | 'imm', rule: FieldRule, mnemonic: string): void {
  const value = insn[field];
  if (typeof rule === 'number') {
    if (value !== rule) throw new ReservedFieldError(insn.pc, field, value, mnemonic);
  } else if (rule === 'reg' || rule === 'wreg') {
    const limit = rule === 'wreg' ? FRAME_POINTER : REGISTER_COUNT;
    if (value >= limit) throw new BadRegisterError(insn.pc, field as 'dst' | 'src', value, mnemonic);
  }
}

/**
 * Checks every instruction of a decoded program: fields the table fixes, register numbers,
 * r10 never written, jump and call targets inside the program and not inside an lddw.
 */
export function validate(insns: readonly Instruction[]): void {
  if (insns.length === 0) throw new BadProgramError('program is empty');
  const last = insns[insns.length - 1]!;
  const slots = last.pc + width(last);
  if (slots > MAX_PROGRAM_SLOTS) throw new BadProgramError(`program has ${slots} slots, more than ${MAX_PROGRAM_SLOTS}`);

  const starts = new Uint8Array(slots);
  for (const insn of insns) starts[insn.pc] = 1;

  for (const insn of insns) {
    const row = specOf(insn.op);
    checkField(insn, 'dst', row.dst, row.mnemonic);
    checkField(insn, 'src', row.src, row.mnemonic);
    checkField(insn, 'off', row.off, row.mnemonic);
    checkField(insn, 'imm', row.imm, row.mnemonic);
    const target = branchTarget(insn);
    if (target !== undefined) {
      if (target < 0 || target >= slots) throw new JumpOutOfRangeError(insn.pc, target);
      if (!starts[target]) throw new JumpOutOfRangeError(insn.pc, target, 'is the second slot of an lddw');
    }
  }
}
