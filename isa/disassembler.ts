// Disassembler to the bpf_conformance assembler syntax: the inverse of assembler.ts, printing the
// operands the opcode table's form lists. Jump and call targets are relative (`+N`/`-N`), so the
// text assembles back to the same bytes without labels.
import { CALL_MODES, DEFAULT_CALL_MODE, LDDW_KINDS, OPERANDS, lddwTakesTarget, takesRegister } from './assembler.js';
import { type Instruction, lddwValue, spec } from './instruction.js';

const reg = (n: number) => `%r${n}`;
const relative = (n: number) => (n < 0 ? `${n}` : `+${n}`);
const memory = (r: number, off: number) => `[${reg(r)}${off === 0 ? '' : relative(off)}]`;

const KIND_OF_SRC = new Map<number, string>([...LDDW_KINDS].map(([kind, src]) => [src, kind]));

/**
 * One instruction as assembler text. Fields the syntax has no place for (reserved fields, which
 * validate() rejects) are not shown.
 */
export function formatInstruction(insn: Instruction): string {
  const row = spec(insn);
  const operands = OPERANDS[row.form].map((kind) => {
    switch (kind) {
      case 'dst':
        return reg(insn.dst);
      case 'src':
        return reg(insn.src);
      case 'value':
        return takesRegister(row) ? reg(insn.src) : `${insn.imm}`;
      case 'imm':
        return `${insn.imm}`;
      case 'imm64': {
        const kind = KIND_OF_SRC.get(insn.src);
        const value = lddwTakesTarget(row) && insn.immHi === 0 ? relative(insn.imm) : `0x${lddwValue(insn).toString(16)}`;
        return kind === undefined ? value : `${kind} ${value}`;
      }
      case 'dstMem':
        return memory(insn.dst, insn.off);
      case 'srcMem':
        return memory(insn.src, insn.off);
      case 'offTarget':
        return relative(insn.off);
      case 'immTarget':
        return relative(insn.imm);
    }
  });
  const mode = CALL_MODES.get(row.form);
  const head = mode !== undefined && mode !== DEFAULT_CALL_MODE ? `${row.mnemonic} ${mode}` : row.mnemonic;
  return operands.length === 0 ? head : `${head} ${operands.join(', ')}`;
}

/** A program as assembler text, one instruction per line. */
export function disassemble(insns: readonly Instruction[]): string {
  return insns.map((insn) => `${formatInstruction(insn)}\n`).join('');
}
