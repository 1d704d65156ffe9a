// Every row of the opcode table has a written form that assembles back to that row.
import { describe, expect, test } from 'vitest';
import { OPCODES, assemble, formatInstruction, make, validate, type Instruction } from '../../isa/index.js';

// Fields that every rule accepts: writable registers, and jump targets that land on the exits below.
const FIELDS = { dst: 1, src: 2, off: 3, imm: 4, immHi: 0 };

describe('every opcode table row', () => {
  test.for(OPCODES.map((row) => [`${row.mnemonic} (0x${row.opcode.toString(16).padStart(2, '0')}, ${row.form})`, row] as const))(
    '%s assembles from its disassembly',
    ([, row]) => {
      const insn = make(row, FIELDS);
      const text = formatInstruction(insn);
      expect(assemble(text)).toEqual([insn]);

      const exits = Array.from({ length: 6 }, (_, i): Instruction => make(OPCODES.find((r) => r.form === 'exit')!, { pc: row.width + i }));
      expect(() => validate([insn, ...exits])).not.toThrow();
    },
  );

  test('no two rows share a written form', () => {
    const texts = OPCODES.map((row) => formatInstruction(make(row, FIELDS)));
    expect(new Set(texts).size).toBe(OPCODES.length);
  });
});
