// Decoding and validity rules: each rejected program names the pc and the rule it breaks.
import { describe, expect, test } from 'vitest';
import {
  BadProgramError,
  BadRegisterError,
  BpfError,
  InvalidInstructionError,
  JumpOutOfRangeError,
  MAX_PROGRAM_SLOTS,
  OPCODES,
  ReservedFieldError,
  TruncatedLddwError,
  UnknownOpcodeError,
  assemble,
  decode,
  encode,
  validate,
  type Instruction,
} from '../../isa/index.js';

type Patch = Partial<Pick<Instruction, 'opcode' | 'dst' | 'src' | 'off' | 'imm' | 'immHi'>>;

/** Assembles `text` and overwrites fields of the instruction at `index`: the builder for encodings the syntax cannot write. */
function patched(text: string, index: number, patch: Patch): Instruction[] {
  return assemble(text).map((insn, i) => (i === index ? { ...insn, ...patch } : insn));
}

/** Program bytes with one byte overwritten. */
function withByte(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}

function thrown(fn: () => unknown): BpfError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BpfError);
    return error as BpfError;
  }
  throw new Error('expected an error');
}

describe('decode', () => {
  test('is the inverse of encode', () => {
    const insns = assemble('lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nja32 +0\ncall local +0\nexit');
    expect(decode(encode(insns))).toEqual(insns);
  });

  test('rejects a length that is not a whole number of slots', () => {
    const error = thrown(() => decode(encode(assemble('exit')).slice(0, 7)));
    expect(error).toBeInstanceOf(BadProgramError);
    expect(error.message).toBe('program length 7 is not a multiple of 8 bytes');
  });

  const known = new Set(OPCODES.map((row) => row.opcode));
  const unknown = Array.from({ length: 256 }, (_, opcode) => opcode).filter((opcode) => !known.has(opcode));

  test('the table leaves these opcode bytes unassigned', () => {
    // 0x86/0x96 (call and exit in JMP32), 0x8e (callx in JMP32), 0xe4 (ALU code 0xe) and LD/ST byte 0x00 are not instructions.
    for (const opcode of [0x00, 0x86, 0x8e, 0x96, 0xe4, 0xef, 0x0e, 0xf5]) expect(unknown).toContain(opcode);
    for (const opcode of [0x18, 0x85, 0x8d, 0x95, 0xd7, 0xc3, 0xdb, 0x06]) expect(unknown).not.toContain(opcode);
  });

  test.for(unknown.map((opcode) => [`0x${opcode.toString(16).padStart(2, '0')}`, opcode] as const))(
    'unknown opcode %s names the pc',
    ([hex, opcode]) => {
      const error = thrown(() => decode(encode(patched('mov %r0, 0\nexit', 1, { opcode }))));
      expect(error).toBeInstanceOf(UnknownOpcodeError);
      expect(error).toMatchObject({ pc: 1, opcode, code: 'unknown-opcode', message: `pc 1: unknown opcode ${hex}` });
    },
  );

  test.for<[string, string, Patch, string]>([
    ['byte swap width', 'le16 %r1', { imm: 8 }, 'opcode 0xd4: imm 0x8 selects no instruction (valid: 0x10 le16, 0x20 le32, 0x40 le64)'],
    ['sdiv offset', 'sdiv %r1, 3', { off: 2 }, 'opcode 0x37: off 2 selects no instruction (valid: 0 div, 1 sdiv)'],
    ['movsx width', 'movsx864 %r1, %r2', { off: 64 }, 'opcode 0xbf: off 64 selects no instruction (valid: 0 mov, 8 movsx864, 16 movsx1664, 32 movsx3264)'],
    ['atomic operation', 'lock add [%r1], %r2', { imm: 0x02 }, 'opcode 0xdb: imm 0x2 selects no instruction (valid: 0x0 lock add, 0x40 lock or, 0x50 lock and, 0xa0 lock xor, 0x1 lock fetch add, 0x41 lock fetch or, 0x51 lock fetch and, 0xa1 lock fetch xor, 0xe1 lock xchg, 0xf1 lock cmpxchg)'],
    ['call kind', 'call 1', { src: 3 }, 'opcode 0x85: src 3 selects no instruction (valid: 0 call, 1 call, 2 call)'],
    ['lddw pseudo source', 'lddw %r1, 1', { src: 7 }, 'opcode 0x18: src 7 selects no instruction (valid: 0 lddw, 1 lddw, 2 lddw, 3 lddw, 4 lddw, 5 lddw, 6 lddw)'],
  ])('a discriminator matching no row: %s', ([, text, patch, detail]) => {
    const error = thrown(() => decode(encode(patched(`mov %r0, 0\n${text}`, 1, patch))));
    expect(error).toBeInstanceOf(InvalidInstructionError);
    expect(error).toMatchObject({ pc: 1, code: 'reserved-field', message: `pc 1: ${detail}` });
  });

  test('lddw without its second slot', () => {
    const bytes = encode(assemble('exit\nlddw %r0, 1'));
    const error = thrown(() => decode(bytes.slice(0, 16)));
    expect(error).toBeInstanceOf(TruncatedLddwError);
    expect(error).toMatchObject({ pc: 1, code: 'truncated-lddw', message: 'pc 1: lddw is missing its second slot' });
  });

  test.for<[string, number, number]>([
    ['opcode', 16, 0x95],
    ['dst register', 17, 0x01],
    ['src register', 17, 0x10],
    ['offset', 18, 0x01],
  ])('lddw whose second slot has a non-zero %s', ([, at, value]) => {
    const bytes = withByte(encode(assemble('exit\nlddw %r0, 1\nexit')), at, value);
    const error = thrown(() => decode(bytes));
    expect(error).toBeInstanceOf(TruncatedLddwError);
    expect(error.message).toBe('pc 1: lddw second slot must have opcode, registers and offset zero');
  });
});

describe('validate', () => {
  test('accepts reads of r10 and stores through it', () => {
    expect(() => validate(assemble('mov %r0, %r10\nstxdw [%r10-8], %r0\nstdw [%r10-16], 1\njeq %r10, 0, +0\ncall %r10\nexit'))).not.toThrow();
  });

  test('accepts jumps to the first and last instruction and onto an lddw', () => {
    expect(() => validate(assemble('ja +1\nja -2\nlddw %r0, 1\njeq %r0, 0, -3\ncall local -5\nja32 -1\nexit'))).not.toThrow();
  });

  test('rejects an empty program', () => {
    const error = thrown(() => validate([]));
    expect(error).toBeInstanceOf(BadProgramError);
    expect(error.message).toBe('program is empty');
  });

  test('rejects a program longer than the kernel limit', () => {
    const [exit] = assemble('exit');
    const error = thrown(() => validate([{ ...exit!, pc: MAX_PROGRAM_SLOTS }]));
    expect(error).toBeInstanceOf(BadProgramError);
    expect(error.message).toBe(`program has ${MAX_PROGRAM_SLOTS + 1} slots, more than ${MAX_PROGRAM_SLOTS}`);
  });

  test.for<[string, Patch, string]>([
    ['add %r1, 5', { src: 3 }, 'add: src field must not be 3'],
    ['add %r1, 5', { off: 1 }, 'add: off field must not be 1'],
    ['add %r1, %r2', { imm: 7 }, 'add: imm field must not be 7'],
    ['mov %r1, 5', { off: 8 }, 'mov: off field must not be 8'],
    ['neg %r1', { imm: 1 }, 'neg: imm field must not be 1'],
    ['neg %r1', { src: 1 }, 'neg: src field must not be 1'],
    ['be16 %r1', { off: -1 }, 'be16: off field must not be -1'],
    ['ja +0', { dst: 1 }, 'ja: dst field must not be 1'],
    ['ja +0', { imm: 1 }, 'ja: imm field must not be 1'],
    ['ja32 +0', { off: 1 }, 'ja32: off field must not be 1'],
    ['jeq %r1, 0, +0', { src: 1 }, 'jeq: src field must not be 1'],
    ['jeq32 %r1, %r2, +0', { imm: 1 }, 'jeq32: imm field must not be 1'],
    ['call 1', { off: 2 }, 'call: off field must not be 2'],
    ['call 1', { dst: 2 }, 'call: dst field must not be 2'],
    ['call local +0', { dst: 1 }, 'call: dst field must not be 1'],
    ['call %r1', { imm: 1 }, 'call: imm field must not be 1'],
    ['call %r1', { src: 1 }, 'call: src field must not be 1'],
    ['exit', { imm: 1 }, 'exit: imm field must not be 1'],
    ['exit', { dst: 1 }, 'exit: dst field must not be 1'],
    ['lddw %r1, 1', { off: 1 }, 'lddw: off field must not be 1'],
    ['ldxw %r1, [%r2]', { imm: 1 }, 'ldxw: imm field must not be 1'],
    ['stw [%r1], 1', { src: 1 }, 'stw: src field must not be 1'],
    ['stxw [%r1], %r2', { imm: 1 }, 'stxw: imm field must not be 1'],
    ['ldabsw 1', { dst: 1 }, 'ldabsw: dst field must not be 1'],
    ['ldindw %r1, 1', { off: 1 }, 'ldindw: off field must not be 1'],
  ])('reserved field: %s with %o', ([text, patch, detail]) => {
    const error = thrown(() => validate(patched(`mov %r0, 0\n${text}\nexit`, 1, patch)));
    expect(error).toBeInstanceOf(ReservedFieldError);
    expect(error).toMatchObject({ pc: 1, code: 'reserved-field', message: `pc 1: ${detail}` });
  });

  test.for<[string, string, number, string]>([
    ['mov %r11, 1', 'dst', 11, 'mov: dst register r11 does not exist'],
    ['mov %r0, %r12', 'src', 12, 'mov: src register r12 does not exist'],
    ['jeq %r15, 0, +0', 'dst', 15, 'jeq: dst register r15 does not exist'],
    ['stxw [%r1], %r13', 'src', 13, 'stxw: src register r13 does not exist'],
    ['call %r11', 'dst', 11, 'call: dst register r11 does not exist'],
    ['ldindw %r14, 4', 'src', 14, 'ldindw: src register r14 does not exist'],
    ['mov %r10, 1', 'dst', 10, 'mov: r10 is the read-only frame pointer and cannot be written'],
    ['ldxw %r10, [%r1]', 'dst', 10, 'ldxw: r10 is the read-only frame pointer and cannot be written'],
    ['lddw %r10, 1', 'dst', 10, 'lddw: r10 is the read-only frame pointer and cannot be written'],
    ['be64 %r10', 'dst', 10, 'be64: r10 is the read-only frame pointer and cannot be written'],
  ])('bad register: %s', ([text, field, register, detail]) => {
    const error = thrown(() => validate(assemble(`mov %r0, 0\n${text}\nexit`)));
    expect(error).toBeInstanceOf(BadRegisterError);
    expect(error).toMatchObject({ pc: 1, field, register, code: 'bad-register', message: `pc 1: ${detail}` });
  });

  test.for<[string, string, number, number, string]>([
    ['ja past the end', 'ja +1\nexit', 0, 2, 'is out of range'],
    ['ja before the start', 'exit\nja -3', 1, -1, 'is out of range'],
    ['jcc past the end', 'mov %r0, 0\njeq32 %r1, 0, +5\nexit', 1, 7, 'is out of range'],
    ['ja32 before the start', 'ja32 -2\nexit', 0, -1, 'is out of range'],
    ['local call past the end', 'call local +7\nexit', 0, 8, 'is out of range'],
    ['lddw func past the end', 'lddw %r1, func +4\nexit', 0, 5, 'is out of range'],
    ['ja into an lddw', 'ja +1\nlddw %r0, 1\nexit', 0, 2, 'is the second slot of an lddw'],
    ['jcc back into an lddw', 'lddw %r0, 1\njne %r0, 0, -2\nexit', 2, 1, 'is the second slot of an lddw'],
    ['local call into an lddw', 'call local +1\nlddw %r0, 1\nexit', 0, 2, 'is the second slot of an lddw'],
  ])('jump target: %s', ([, text, pc, target, detail]) => {
    const error = thrown(() => validate(assemble(text)));
    expect(error).toBeInstanceOf(JumpOutOfRangeError);
    expect(error).toMatchObject({ pc, target, code: 'jump-out-of-range', message: `pc ${pc}: jump target ${target} ${detail}` });
  });
});
