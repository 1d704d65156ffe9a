// The assembler on single instructions, small programs and every kind of error it reports.
// Expected opcodes are written out here (from RFC 9669 / SOURCE.md) to check the table, not read from it.
import { describe, expect, test } from 'vitest';
import { AsmError, assemble, type Instruction } from '../../isa/index.js';

type Fields = Partial<Pick<Instruction, 'opcode' | 'dst' | 'src' | 'off' | 'imm' | 'immHi'>>;

describe('single instructions', () => {
  test.for<[string, Fields]>([
    ['mov %r0, 1', { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }],
    ['mov %r1, 2147483647', { opcode: 0xb7, dst: 1, imm: 2147483647 }],
    ['mov32 %r0, 0xffffffff', { opcode: 0xb4, imm: -1 }],
    ['mov32 %r0, 0x80000000', { opcode: 0xb4, imm: -2147483648 }],
    ['mov32 %r0, -2147483648', { opcode: 0xb4, imm: -2147483648 }],
    ['mov %r0, +5', { opcode: 0xb7, imm: 5 }],
    ['mov %r0, 0xFF', { opcode: 0xb7, imm: 255 }],
    ['mov %r0, %r10', { opcode: 0xbf, src: 10 }],
    ['add %r1, %r2', { opcode: 0x0f, dst: 1, src: 2 }],
    ['add32 %r1, %r2,', { opcode: 0x0c, dst: 1, src: 2 }],
    ['  \tsub   %r1,\t%r2  ', { opcode: 0x1f, dst: 1, src: 2 }],
    ['div %r1, 3', { opcode: 0x37, off: 0, imm: 3 }],
    ['sdiv %r1, 3', { opcode: 0x37, off: 1, imm: 3 }],
    ['smod32 %r1, %r2', { opcode: 0x9c, off: 1, src: 2 }],
    ['arsh32 %r1, 3', { opcode: 0xc4, imm: 3 }],
    ['neg %r3', { opcode: 0x87, dst: 3 }],
    ['neg32 %r3', { opcode: 0x84, dst: 3 }],
    ['movsx832 %r1, %r2', { opcode: 0xbc, off: 8, src: 2 }],
    ['movsx1632 %r1, %r2', { opcode: 0xbc, off: 16, src: 2 }],
    ['movsx864 %r1, %r2', { opcode: 0xbf, off: 8 }],
    ['movsx1664 %r1, %r2', { opcode: 0xbf, off: 16 }],
    ['movsx3264 %r1, %r2', { opcode: 0xbf, off: 32 }],
    ['le16 %r1', { opcode: 0xd4, dst: 1, imm: 16 }],
    ['le64 %r1', { opcode: 0xd4, imm: 64 }],
    ['be32 %r1', { opcode: 0xdc, imm: 32 }],
    ['swap16 %r1', { opcode: 0xd7, imm: 16 }],
    ['bswap32 %r1', { opcode: 0xd7, imm: 32 }],
    ['swap64 %r1', { opcode: 0xd7, imm: 64 }],
    ['lddw %r0, 0x1122334455667788', { opcode: 0x18, src: 0, imm: 0x55667788, immHi: 0x11223344 }],
    ['lddw %r0, 0xFFFFFFFF80000000', { opcode: 0x18, imm: -2147483648, immHi: -1 }],
    ['lddw %r0, 1', { opcode: 0x18, imm: 1, immHi: 0 }],
    ['lddw %r0, -1', { opcode: 0x18, imm: -1, immHi: -1 }],
    ['lddw %r0, 18446744073709551615', { opcode: 0x18, imm: -1, immHi: -1 }],
    ['lddw %r0, -9223372036854775808', { opcode: 0x18, imm: 0, immHi: -2147483648 }],
    ['lddw %r1, map_fd 5', { opcode: 0x18, src: 1, imm: 5, immHi: 0 }],
    ['lddw %r1, map_value 0x800000005', { opcode: 0x18, src: 2, imm: 5, immHi: 8 }],
    ['lddw %r1, btf_id 9', { opcode: 0x18, src: 3, imm: 9 }],
    ['lddw %r1, func +3', { opcode: 0x18, src: 4, imm: 3, immHi: 0 }],
    ['lddw %r1, func -3', { opcode: 0x18, src: 4, imm: -3, immHi: 0 }],
    ['lddw %r1, map_idx 2', { opcode: 0x18, src: 5, imm: 2 }],
    ['lddw %r1, map_idx_value, 0x100000002', { opcode: 0x18, src: 6, imm: 2, immHi: 1 }],
    ['ldxb %r0, [%r1]', { opcode: 0x71, dst: 0, src: 1, off: 0 }],
    ['ldxh %r0, [%r1+2]', { opcode: 0x69, src: 1, off: 2 }],
    ['ldxw %r0, [%r1+0xffff]', { opcode: 0x61, off: -1 }],
    ['ldxw %r0, [%r1+0x10]', { opcode: 0x61, off: 16 }],
    ['ldxdw %r0, [%r10-8]', { opcode: 0x79, src: 10, off: -8 }],
    ['ldxdw %r0, [%r1+32767]', { opcode: 0x79, off: 32767 }],
    ['ldxdw %r0, [%r1-32768]', { opcode: 0x79, off: -32768 }],
    ['ldxsb %r1, [%r2-1]', { opcode: 0x91, dst: 1, src: 2, off: -1 }],
    ['ldxsh %r1, [%r2]', { opcode: 0x89 }],
    ['ldxsw %r1, [%r2]', { opcode: 0x81 }],
    ['stb [%r1+1], 0x7f', { opcode: 0x72, dst: 1, off: 1, imm: 0x7f }],
    ['sth [%r1], -1', { opcode: 0x6a, imm: -1 }],
    ['stw [%r10-8], 0x7fffffff', { opcode: 0x62, dst: 10, off: -8, imm: 0x7fffffff }],
    ['stdw [%r1+4], -1', { opcode: 0x7a, imm: -1 }],
    ['stxb [%r1+1], %r2', { opcode: 0x73, dst: 1, src: 2, off: 1 }],
    ['stxdw [%r10-8], %r3', { opcode: 0x7b, dst: 10, src: 3, off: -8 }],
    ['lock add [%r10-8], %r1', { opcode: 0xdb, dst: 10, src: 1, off: -8, imm: 0x00 }],
    ['lock add32 [%r10-8], %r1', { opcode: 0xc3, imm: 0x00 }],
    ['lock fetch add32 [%r10-4], %r3', { opcode: 0xc3, src: 3, imm: 0x01 }],
    ['lock or32 [%r1], %r2', { opcode: 0xc3, imm: 0x40 }],
    ['lock fetch and [%r1], %r2', { opcode: 0xdb, imm: 0x51 }],
    ['lock xor [%r1], %r2', { opcode: 0xdb, imm: 0xa0 }],
    ['lock fetch xor [%r1], %r2', { opcode: 0xdb, imm: 0xa1 }],
    ['lock xchg [%r1], %r2', { opcode: 0xdb, imm: 0xe1 }],
    ['lock fetch xchg32 [%r1], %r2', { opcode: 0xc3, imm: 0xe1 }],
    ['lock cmpxchg32 [%r1], %r2', { opcode: 0xc3, imm: 0xf1 }],
    ['lock fetch cmpxchg [%r1], %r2', { opcode: 0xdb, imm: 0xf1 }],
    ['ja +0', { opcode: 0x05, off: 0 }],
    ['ja -1', { opcode: 0x05, off: -1 }],
    ['ja +32767', { opcode: 0x05, off: 32767 }],
    ['ja32 +70000', { opcode: 0x06, imm: 70000, off: 0 }],
    ['jeq %r1, 5, +2', { opcode: 0x15, dst: 1, imm: 5, off: 2 }],
    ['jne32 %r1, %r2, -3', { opcode: 0x5e, src: 2, off: -3 }],
    ['jsle %r1, -1, +1', { opcode: 0xd5, imm: -1, off: 1 }],
    ['jlt32 %r1, 0xffffffff, +1', { opcode: 0xa6, imm: -1 }],
    ['call 5', { opcode: 0x85, src: 0, imm: 5 }],
    ['call helper 5', { opcode: 0x85, src: 0, imm: 5 }],
    ['call %r2', { opcode: 0x8d, dst: 2, src: 0, imm: 0 }],
    ['call helper %r2', { opcode: 0x8d, dst: 2 }],
    ['call runtime 7', { opcode: 0x85, src: 2, imm: 7 }],
    ['call local +3', { opcode: 0x85, src: 1, imm: 3 }],
    ['exit', { opcode: 0x95 }],
    ['ldabsw 12', { opcode: 0x20, imm: 12 }],
    ['ldabsh 12', { opcode: 0x28 }],
    ['ldabsb 12', { opcode: 0x30 }],
    ['ldindw %r2, 4', { opcode: 0x40, src: 2, imm: 4 }],
    ['ldindh %r2, 4', { opcode: 0x48 }],
    ['ldindb %r2, 4', { opcode: 0x50 }],
    // %r11-%r15 are syntax only, for validate() to reject.
    ['mov %r15, %r11', { opcode: 0xbf, dst: 15, src: 11 }],
  ])('%s', ([text, fields]) => {
    const insns = assemble(text);
    expect(insns).toHaveLength(1);
    expect(insns[0]).toMatchObject({ pc: 0, ...fields });
  });
});

describe('programs', () => {
  test.for<[string, string, Fields[]]>([
    ['forward label', 'ja end\nmov %r0, 1\nend:\nexit', [{ off: 1 }, {}, {}]],
    ['backward label', 'top:\nmov %r0, 1\nja top', [{}, { off: -2 }]],
    ['lddw counts two slots', 'ja end\nlddw %r0, 1\nend:\nexit', [{ off: 2 }, {}, {}]],
    ['implicit exit label at the first exit', 'jeq %r1, 0, exit\nmov %r0, 1\nexit\nmov %r0, 2\nexit', [{ off: 1 }, {}, {}, {}, {}]],
    ['an explicit exit label wins', 'ja exit\nexit\nexit:\nexit', [{ off: 1 }, {}, {}]],
    ['call local label', 'call local f\nexit\nf:\nmov %r0, 1\nexit', [{ src: 1, imm: 1 }, {}, {}, {}]],
    ['ja32 label', 'ja32 end\nmov %r0, 0\nend:\nexit', [{ imm: 1 }, {}, {}]],
    ['lddw func label', 'lddw %r1, func f\nexit\nf:\nexit', [{ src: 4, imm: 2, immHi: 0 }, {}, {}]],
    ['label at the end', 'ja end\nexit\nend:', [{ off: 1 }, {}]],
    ['two labels on one pc', 'a:\nb:\nja a\nja b', [{ off: -1 }, { off: -2 }]],
    ['CRLF and blank lines', 'mov %r0, 1\r\n\r\n   \r\nexit\r\n', [{ imm: 1 }, {}]],
    ['pcs count slots', 'lddw %r0, 1\nexit', [{ pc: 0 } as Fields, { pc: 2 } as Fields]],
    ['labels named like properties', '__proto__:\nconstructor:\nja __proto__\nja constructor', [{ off: -1 }, { off: -2 }]],
  ])('%s', ([, text, expected]) => {
    const insns = assemble(text);
    expect(insns).toHaveLength(expected.length);
    expected.forEach((fields, i) => expect(insns[i]).toMatchObject(fields));
  });
});

describe('errors', () => {
  const far = `ja far\n${'mov %r0, 0\n'.repeat(32768)}far:\nexit`;
  test.for<[string, string, number, string]>([
    ['unknown mnemonic', 'ldxq %r0, %r1', 1, 'Invalid mnemonic: ldxq'],
    ['mnemonic on a later line', 'exit\n\nadd64 %r0, 1', 3, 'Invalid mnemonic: add64'],
    ['mnemonic named like a property', 'constructor %r0', 1, 'Invalid mnemonic: constructor'],
    ['too few operands', 'mov %r0', 1, 'Invalid number of operands for mov: expected 2, got 1'],
    ['too many operands', 'neg %r1, 5', 1, 'Invalid number of operands for neg: expected 1, got 2'],
    ['lddw without value', 'lddw %r0', 1, 'Invalid number of operands for lddw: expected 2, got 1'],
    ['exit with operand', 'exit %r0', 1, 'Invalid number of operands for exit: expected 0, got 1'],
    ['lock without source', 'lock or [%r10-8]', 1, 'Invalid number of operands for lock or: expected 2, got 1'],
    ['lock alone', 'lock', 1, 'Invalid number of operands for lock: expected lock [fetch] op [%rD+off], %rS'],
    ['lock fetch alone', 'lock fetch', 1, 'Invalid number of operands for lock: expected lock [fetch] op [%rD+off], %rS'],
    ['lock with memory first', 'lock [%r1], %r2', 1, 'Invalid number of operands for lock: expected lock [fetch] op [%rD+off], %rS'],
    ['lock unknown op', 'lock nand [%r1], %r2', 1, 'Invalid mnemonic: lock nand'],
    ['lock fetch without fetch form', 'lock fetch mov [%r1], %r2', 1, 'Invalid mnemonic: lock fetch mov'],
    ['bad register', 'or %r0, %r50', 1, 'Invalid register: %r50'],
    ['register 16', 'mov %r16, 1', 1, 'Invalid register: %r16'],
    ['register without %', 'mov r1, 1', 1, 'Invalid register: r1'],
    ['register with comma inside', 'mov %r0,%r1', 1, 'Invalid number of operands for mov: expected 2, got 1'],
    ['register inside memory', 'ldxb %r0, [%r16+1]', 1, 'Invalid register: %r16'],
    ['register for immediate row', 'movsx864 %r1, 5', 1, 'movsx864 takes a register, not 5, as operand 2'],
    ['imm32 decimal too big', 'mov32 %r0, 2147483648', 1, 'Immediate out of 32-bit range: 2147483648'],
    ['imm32 decimal too small', 'mov32 %r0, -2147483649', 1, 'Immediate out of 32-bit range: -2147483649'],
    ['imm32 hex too big', 'mov32 %r0, 0x100000000', 1, 'Immediate out of 32-bit range: 0x100000000'],
    ['imm not a number', 'mov %r0, abc', 1, 'Invalid immediate: abc'],
    ['hex prefix is lower case', 'mov %r0, 0X10', 1, 'Invalid immediate: 0X10'],
    ['bare 0x', 'mov %r0, 0x', 1, 'Invalid immediate: 0x'],
    ['imm64 too big', 'lddw %r0, 0x10000000000000000', 1, 'Immediate out of 64-bit range: 0x10000000000000000'],
    ['imm64 too small', 'lddw %r0, -9223372036854775809', 1, 'Immediate out of 64-bit range: -9223372036854775809'],
    ['lddw kind unknown', 'lddw %r1, map_xx 5', 1, 'Invalid lddw kind: map_xx (expected one of map_fd, map_value, btf_id, func, map_idx, map_idx_value)'],
    ['offset hex too big', 'ldxb %r0, [%r1+0x10000]', 1, 'Offset out of 16-bit range: +0x10000'],
    ['offset decimal too small', 'ldxb %r0, [%r1-32769]', 1, 'Offset out of 16-bit range: -32769'],
    ['offset not a number', 'ldxb %r0, [%r1+x]', 1, 'Invalid offset: +x'],
    ['memory operand without brackets', 'ldxb %r0, %r1', 1, 'Invalid memory operand: %r1 (expected [%rN], [%rN+off] or [%rN-off])'],
    ['memory operand unclosed', 'stxb [%r1+1, %r2', 1, 'Invalid memory operand: [%r1+1 (expected [%rN], [%rN+off] or [%rN-off])'],
    ['undefined label', 'ja NOT_A_LABEL\nexit', 1, 'Invalid label: NOT_A_LABEL is not defined'],
    ['number as label', 'exit\nja 5', 2, 'Invalid label: 5 is not defined (relative targets are written +N or -N)'],
    ['exit label without exit', 'ja exit', 1, 'Invalid label: exit is not defined'],
    ['undefined call target', 'call local nowhere\nexit', 1, 'Invalid label: nowhere is not defined'],
    ['relative jump too far', 'ja +32768', 1, 'Jump offset out of 16-bit range: +32768'],
    ['relative ja32 too far', 'ja32 +2147483648', 1, 'Jump offset out of 32-bit range: +2147483648'],
    ['relative target not a number', 'jeq %r1, 0, +x', 1, 'Invalid jump target: +x (expected a label, +N or -N)'],
    ['label too far for off', far, 1, 'Jump offset out of 16-bit range: label far is 32768 slots away'],
    ['duplicate label', 'a:\nexit\na:', 3, 'Duplicate label: a (first defined on line 1)'],
    ['label with instruction', 'a: exit', 1, 'Label a must be on its own line'],
    ['empty label', ':', 1, "Invalid label name: ''"],
    ['label like an offset', '+1:', 1, "Invalid label name: '+1'"],
    ['call mode unknown', 'call remote 5', 1, 'Invalid call mode: remote (expected helper, local or runtime)'],
    ['call without target', 'call', 1, 'Invalid number of operands for call: expected [helper|local|runtime] target, got 0'],
    ['call with too many operands', 'call helper local 5', 1, 'Invalid number of operands for call: expected [helper|local|runtime] target, got 3'],
    ['call local without target', 'call local', 1, 'Invalid immediate: local'],
    ['call runtime register', 'call runtime %r1', 1, 'Invalid immediate: %r1'],
  ])('%s', ([, text, line, detail]) => {
    const error = catchError(() => assemble(text));
    expect(error).toBeInstanceOf(AsmError);
    expect((error as AsmError).line).toBe(line);
    expect((error as AsmError).message).toBe(`line ${line}: ${detail}`);
  });

  test('names the source file and counts lines from firstLine', () => {
    const error = catchError(() => assemble('exit\nbogus %r0', { source: 'x.data', firstLine: 10 }));
    expect(error).toBeInstanceOf(AsmError);
    expect(error).toMatchObject({ line: 11, code: 'bad-asm', message: 'x.data:11: Invalid mnemonic: bogus' });
  });

  test('upstream expected-error texts start the detail', () => {
    // tests/negative/invalid_lock*.data and invalid_register.data expect these prefixes.
    for (const [text, prefix] of [
      ['lock or [%r10-8]', 'Invalid number of operands for lock'],
      ['lock', 'Invalid number of operands for lock'],
      ['or %r0, %r50', 'Invalid register'],
    ]) {
      const detail = (catchError(() => assemble(text!)) as AsmError).message.replace(/^line \d+: /, '');
      expect(detail.startsWith(prefix!)).toBe(true);
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
