// The opcode table: the single source of truth for every BPF instruction this project knows
// (RFC 9669, ISA v1-v4, plus the lddw pseudo sources of linux/bpf.h). The decoder, validator,
// assembler, disassemblers, interpreter and JIT all derive from it.
import { AluCode, AtomicOp, CallSrc, Class, JmpCode, LddwSrc, Mode, Size, Source } from './fields.js';

/**
 * Semantic operations. Each table row maps one encoding to one of these; the engines switch on
 * them. Declared `const enum` so that engines compile to a dense literal switch.
 */
export const enum Op {
  // ALU64 / ALU (32-bit), immediate (K) and register (X) operands.
  Add64K, Add64X, Sub64K, Sub64X, Mul64K, Mul64X, Div64K, Div64X, Sdiv64K, Sdiv64X,
  Or64K, Or64X, And64K, And64X, Lsh64K, Lsh64X, Rsh64K, Rsh64X, Neg64, Mod64K, Mod64X,
  Smod64K, Smod64X, Xor64K, Xor64X, Mov64K, Mov64X, Movsx64_8, Movsx64_16, Movsx64_32,
  Arsh64K, Arsh64X,
  Add32K, Add32X, Sub32K, Sub32X, Mul32K, Mul32X, Div32K, Div32X, Sdiv32K, Sdiv32X,
  Or32K, Or32X, And32K, And32X, Lsh32K, Lsh32X, Rsh32K, Rsh32X, Neg32, Mod32K, Mod32X,
  Smod32K, Smod32X, Xor32K, Xor32X, Mov32K, Mov32X, Movsx32_8, Movsx32_16,
  Arsh32K, Arsh32X,
  // Byte order.
  Le16, Le32, Le64, Be16, Be32, Be64, Bswap16, Bswap32, Bswap64,
  // Jumps: JMP (64-bit compare) and JMP32.
  Ja, Ja32,
  Jeq64K, Jeq64X, Jgt64K, Jgt64X, Jge64K, Jge64X, Jset64K, Jset64X, Jne64K, Jne64X,
  Jsgt64K, Jsgt64X, Jsge64K, Jsge64X, Jlt64K, Jlt64X, Jle64K, Jle64X, Jslt64K, Jslt64X,
  Jsle64K, Jsle64X,
  Jeq32K, Jeq32X, Jgt32K, Jgt32X, Jge32K, Jge32X, Jset32K, Jset32X, Jne32K, Jne32X,
  Jsgt32K, Jsgt32X, Jsge32K, Jsge32X, Jlt32K, Jlt32X, Jle32K, Jle32X, Jslt32K, Jslt32X,
  Jsle32K, Jsle32X,
  // Calls.
  CallHelper, CallLocal, CallBtf, Callx, Exit,
  // may_goto: a jump taken once the current function's loop counter runs out (Linux BPF_JCOND).
  MayGoto,
  // 64-bit immediate loads, one per pseudo source.
  Lddw, LddwMapFd, LddwMapValue, LddwBtfId, LddwFunc, LddwMapIdx, LddwMapIdxValue,
  // Loads and stores.
  Ldxw, Ldxh, Ldxb, Ldxdw, Ldxsw, Ldxsh, Ldxsb,
  Stw, Sth, Stb, Stdw, Stxw, Stxh, Stxb, Stxdw,
  // Atomics, 32 and 64-bit.
  AtomicAdd32, AtomicOr32, AtomicAnd32, AtomicXor32,
  AtomicFetchAdd32, AtomicFetchOr32, AtomicFetchAnd32, AtomicFetchXor32, AtomicXchg32, AtomicCmpxchg32,
  AtomicAdd64, AtomicOr64, AtomicAnd64, AtomicXor64,
  AtomicFetchAdd64, AtomicFetchOr64, AtomicFetchAnd64, AtomicFetchXor64, AtomicXchg64, AtomicCmpxchg64,
  // Legacy packet access.
  LdAbsW, LdAbsH, LdAbsB, LdIndW, LdIndH, LdIndB,
}

/** RFC 9669 section 2.4 conformance groups. */
export type Group = 'base32' | 'base64' | 'atomic32' | 'atomic64' | 'divmul32' | 'divmul64' | 'packet' | 'callx';
export const GROUPS: readonly Group[] = ['base32', 'base64', 'atomic32', 'atomic64', 'divmul32', 'divmul64', 'packet', 'callx'];

/** ISA version that introduced an instruction (the `-mcpu=vN` of clang). */
export type IsaVersion = 1 | 2 | 3 | 4;

/**
 * How the operands are written, shared by the assembler and the disassemblers:
 * - alu: `dst, src` or `dst, imm` (by source bit); unary: `dst`
 * - ldx: `dst, [src+off]`; st: `[dst+off], imm`; stx and atomic: `[dst+off], src`
 * - lddw: `dst, imm64`; ja: `target` (off); ja32: `target` (imm)
 * - jcc: `dst, src|imm, target`; call: `imm`; calllocal: `local target` (imm); callx: `%rN` (dst)
 * - maygoto: `target` (off)
 * - ldabs: `imm`; ldind: `src, imm`; none: no operand
 */
export type Form =
  | 'alu' | 'unary' | 'ldx' | 'st' | 'stx' | 'atomic' | 'lddw' | 'ja' | 'ja32' | 'jcc'
  | 'call' | 'calllocal' | 'callbtf' | 'callx' | 'exit' | 'ldabs' | 'ldind' | 'maygoto';

/**
 * What a field may hold. 'reg' is any of r0..r10, 'wreg' a writable register (r0..r9),
 * 'any' any value; a number means the field must hold exactly that value (a reserved field
 * when 0, or the discriminator between rows sharing an opcode byte).
 */
export type FieldRule = 'reg' | 'wreg' | 'any' | number;

/** One row of the table: one encoding of one semantic operation. */
export interface OpcodeSpec {
  readonly op: Op;
  /** The opcode byte. */
  readonly opcode: number;
  /** The mnemonic in the bpf_conformance assembler syntax. */
  readonly mnemonic: string;
  readonly form: Form;
  readonly dst: FieldRule;
  readonly src: FieldRule;
  readonly off: FieldRule;
  readonly imm: FieldRule;
  /** Which field tells apart rows that share an opcode byte, if any. */
  readonly discriminator?: 'src' | 'off' | 'imm';
  /** Slots the instruction occupies: 2 for lddw. */
  readonly width: 1 | 2;
  /** Bytes accessed by loads, stores and atomics; operand width in bits for byte swaps. */
  readonly size?: 1 | 2 | 4 | 8;
  /** True when the operation works on the low 32 bits (ALU, JMP32, 32-bit atomics). */
  readonly is32: boolean;
  readonly version: IsaVersion;
  readonly groups: readonly Group[];
}

const rows: OpcodeSpec[] = [];

function row(spec: Omit<OpcodeSpec, 'width' | 'is32'> & { width?: 1 | 2; is32?: boolean }): void {
  rows.push({ width: 1, is32: false, ...spec });
}

// --- ALU and ALU64 ---------------------------------------------------------------------------

interface AluOp {
  name: string;
  code: number;
  k64: Op; x64: Op; k32: Op; x32: Op;
  divmul?: boolean;
  /** Non-zero off selects this row (sdiv/smod use off = 1). */
  off?: number;
}

const ALU_OPS: AluOp[] = [
  { name: 'add', code: AluCode.ADD, k64: Op.Add64K, x64: Op.Add64X, k32: Op.Add32K, x32: Op.Add32X },
  { name: 'sub', code: AluCode.SUB, k64: Op.Sub64K, x64: Op.Sub64X, k32: Op.Sub32K, x32: Op.Sub32X },
  { name: 'mul', code: AluCode.MUL, k64: Op.Mul64K, x64: Op.Mul64X, k32: Op.Mul32K, x32: Op.Mul32X, divmul: true },
  { name: 'div', code: AluCode.DIV, k64: Op.Div64K, x64: Op.Div64X, k32: Op.Div32K, x32: Op.Div32X, divmul: true, off: 0 },
  { name: 'sdiv', code: AluCode.DIV, k64: Op.Sdiv64K, x64: Op.Sdiv64X, k32: Op.Sdiv32K, x32: Op.Sdiv32X, divmul: true, off: 1 },
  { name: 'or', code: AluCode.OR, k64: Op.Or64K, x64: Op.Or64X, k32: Op.Or32K, x32: Op.Or32X },
  { name: 'and', code: AluCode.AND, k64: Op.And64K, x64: Op.And64X, k32: Op.And32K, x32: Op.And32X },
  { name: 'lsh', code: AluCode.LSH, k64: Op.Lsh64K, x64: Op.Lsh64X, k32: Op.Lsh32K, x32: Op.Lsh32X },
  { name: 'rsh', code: AluCode.RSH, k64: Op.Rsh64K, x64: Op.Rsh64X, k32: Op.Rsh32K, x32: Op.Rsh32X },
  { name: 'mod', code: AluCode.MOD, k64: Op.Mod64K, x64: Op.Mod64X, k32: Op.Mod32K, x32: Op.Mod32X, divmul: true, off: 0 },
  { name: 'smod', code: AluCode.MOD, k64: Op.Smod64K, x64: Op.Smod64X, k32: Op.Smod32K, x32: Op.Smod32X, divmul: true, off: 1 },
  { name: 'xor', code: AluCode.XOR, k64: Op.Xor64K, x64: Op.Xor64X, k32: Op.Xor32K, x32: Op.Xor32X },
  { name: 'mov', code: AluCode.MOV, k64: Op.Mov64K, x64: Op.Mov64X, k32: Op.Mov32K, x32: Op.Mov32X, off: 0 },
  { name: 'arsh', code: AluCode.ARSH, k64: Op.Arsh64K, x64: Op.Arsh64X, k32: Op.Arsh32K, x32: Op.Arsh32X },
];

for (const a of ALU_OPS) {
  const signed = a.off === 1;
  for (const wide of [true, false]) {
    const cls = wide ? Class.ALU64 : Class.ALU;
    const groups: Group[] = a.divmul ? [wide ? 'divmul64' : 'divmul32'] : [wide ? 'base64' : 'base32'];
    const version: IsaVersion = signed ? 4 : 1;
    const mnemonic = wide ? a.name : `${a.name}32`;
    const discriminated = a.off !== undefined && a.code !== AluCode.MOV;
    const common = { mnemonic, form: 'alu' as const, dst: 'wreg' as const, off: a.off ?? 0, version, groups, is32: !wide };
    const disc = discriminated ? { discriminator: 'off' as const } : {};
    row({ ...common, ...disc, op: wide ? a.k64 : a.k32, opcode: cls | a.code | Source.K, src: 0, imm: 'any' });
    row({ ...common, ...disc, op: wide ? a.x64 : a.x32, opcode: cls | a.code | Source.X, src: 'reg', imm: 0,
      ...(a.code === AluCode.MOV ? { discriminator: 'off' as const } : {}) });
  }
}

row({ op: Op.Neg64, opcode: Class.ALU64 | AluCode.NEG, mnemonic: 'neg', form: 'unary', dst: 'wreg', src: 0, off: 0, imm: 0, version: 1, groups: ['base64'] });
row({ op: Op.Neg32, opcode: Class.ALU | AluCode.NEG, mnemonic: 'neg32', form: 'unary', dst: 'wreg', src: 0, off: 0, imm: 0, version: 1, groups: ['base32'], is32: true });

// Sign-extending moves: MOV X with off = 8, 16 or 32 (RFC 9669 4.1, v4).
for (const [op, cls, bits, mnemonic] of [
  [Op.Movsx64_8, Class.ALU64, 8, 'movsx864'], [Op.Movsx64_16, Class.ALU64, 16, 'movsx1664'],
  [Op.Movsx64_32, Class.ALU64, 32, 'movsx3264'],
  [Op.Movsx32_8, Class.ALU, 8, 'movsx832'], [Op.Movsx32_16, Class.ALU, 16, 'movsx1632'],
] as const) {
  row({ op, opcode: cls | AluCode.MOV | Source.X, mnemonic, form: 'alu', dst: 'wreg', src: 'reg', off: bits, imm: 0,
    discriminator: 'off', version: 4, groups: [cls === Class.ALU64 ? 'base64' : 'base32'], is32: cls === Class.ALU });
}

// Byte order: to-little and to-big in the ALU class, unconditional swap in ALU64 (v4).
for (const [op, opcode, bits, mnemonic, version, group] of [
  [Op.Le16, Class.ALU | AluCode.END | Source.K, 16, 'le16', 1, 'base32'],
  [Op.Le32, Class.ALU | AluCode.END | Source.K, 32, 'le32', 1, 'base32'],
  [Op.Le64, Class.ALU | AluCode.END | Source.K, 64, 'le64', 1, 'base64'],
  [Op.Be16, Class.ALU | AluCode.END | Source.X, 16, 'be16', 1, 'base32'],
  [Op.Be32, Class.ALU | AluCode.END | Source.X, 32, 'be32', 1, 'base32'],
  [Op.Be64, Class.ALU | AluCode.END | Source.X, 64, 'be64', 1, 'base64'],
  [Op.Bswap16, Class.ALU64 | AluCode.END | Source.K, 16, 'bswap16', 4, 'base32'],
  [Op.Bswap32, Class.ALU64 | AluCode.END | Source.K, 32, 'bswap32', 4, 'base32'],
  [Op.Bswap64, Class.ALU64 | AluCode.END | Source.K, 64, 'bswap64', 4, 'base64'],
] as const) {
  row({ op, opcode, mnemonic, form: 'unary', dst: 'wreg', src: 0, off: 0, imm: bits, discriminator: 'imm',
    size: (bits / 8) as 2 | 4 | 8, version, groups: [group] });
}

// --- JMP and JMP32 ---------------------------------------------------------------------------

row({ op: Op.Ja, opcode: Class.JMP | JmpCode.JA, mnemonic: 'ja', form: 'ja', dst: 0, src: 0, off: 'any', imm: 0, version: 1, groups: ['base32'] });
row({ op: Op.Ja32, opcode: Class.JMP32 | JmpCode.JA, mnemonic: 'ja32', form: 'ja32', dst: 0, src: 0, off: 0, imm: 'any', version: 4, groups: ['base32'] });

const CONDITIONS: [string, number, IsaVersion, Op, Op, Op, Op][] = [
  ['jeq', JmpCode.JEQ, 1, Op.Jeq64K, Op.Jeq64X, Op.Jeq32K, Op.Jeq32X],
  ['jgt', JmpCode.JGT, 1, Op.Jgt64K, Op.Jgt64X, Op.Jgt32K, Op.Jgt32X],
  ['jge', JmpCode.JGE, 1, Op.Jge64K, Op.Jge64X, Op.Jge32K, Op.Jge32X],
  ['jset', JmpCode.JSET, 1, Op.Jset64K, Op.Jset64X, Op.Jset32K, Op.Jset32X],
  ['jne', JmpCode.JNE, 1, Op.Jne64K, Op.Jne64X, Op.Jne32K, Op.Jne32X],
  ['jsgt', JmpCode.JSGT, 1, Op.Jsgt64K, Op.Jsgt64X, Op.Jsgt32K, Op.Jsgt32X],
  ['jsge', JmpCode.JSGE, 1, Op.Jsge64K, Op.Jsge64X, Op.Jsge32K, Op.Jsge32X],
  ['jlt', JmpCode.JLT, 2, Op.Jlt64K, Op.Jlt64X, Op.Jlt32K, Op.Jlt32X],
  ['jle', JmpCode.JLE, 2, Op.Jle64K, Op.Jle64X, Op.Jle32K, Op.Jle32X],
  ['jslt', JmpCode.JSLT, 2, Op.Jslt64K, Op.Jslt64X, Op.Jslt32K, Op.Jslt32X],
  ['jsle', JmpCode.JSLE, 2, Op.Jsle64K, Op.Jsle64X, Op.Jsle32K, Op.Jsle32X],
];

for (const [name, code, version, k64, x64, k32, x32] of CONDITIONS) {
  // Conditional jumps comparing 64 bits are base64; JMP32 compares are base32.
  const common = { form: 'jcc' as const, dst: 'reg' as const, off: 'any' as const };
  const g64: Group[] = ['base64'];
  const g32: Group[] = ['base32'];
  row({ ...common, op: k64, opcode: Class.JMP | code | Source.K, mnemonic: name, src: 0, imm: 'any', version, groups: g64 });
  row({ ...common, op: x64, opcode: Class.JMP | code | Source.X, mnemonic: name, src: 'reg', imm: 0, version, groups: g64 });
  row({ ...common, op: k32, opcode: Class.JMP32 | code | Source.K, mnemonic: `${name}32`, src: 0, imm: 'any', version: 3, is32: true, groups: g32 });
  row({ ...common, op: x32, opcode: Class.JMP32 | code | Source.X, mnemonic: `${name}32`, src: 'reg', imm: 0, version: 3, is32: true, groups: g32 });
}

// may_goto (Linux 6.9, clang's can_loop and bpf_for): src 0 is BPF_MAY_GOTO, the only JCOND.
// Each call of a function starts its own counter at BPF_MAX_LOOPS; every may_goto in it
// decrements it and jumps once it is zero.
row({ op: Op.MayGoto, opcode: Class.JMP | JmpCode.JCOND, mnemonic: 'may_goto', form: 'maygoto', dst: 0, src: 0, off: 'any', imm: 0, version: 4, groups: ['base32'] });

const CALL = Class.JMP | JmpCode.CALL;
row({ op: Op.CallHelper, opcode: CALL, mnemonic: 'call', form: 'call', dst: 0, src: CallSrc.HELPER, off: 0, imm: 'any', discriminator: 'src', version: 1, groups: ['base32'] });
row({ op: Op.CallLocal, opcode: CALL, mnemonic: 'call', form: 'calllocal', dst: 0, src: CallSrc.LOCAL, off: 0, imm: 'any', discriminator: 'src', version: 3, groups: ['base32'] });
row({ op: Op.CallBtf, opcode: CALL, mnemonic: 'call', form: 'callbtf', dst: 0, src: CallSrc.BTF_ID, off: 0, imm: 'any', discriminator: 'src', version: 1, groups: ['base32'] });
row({ op: Op.Callx, opcode: CALL | Source.X, mnemonic: 'call', form: 'callx', dst: 'reg', src: 0, off: 0, imm: 0, version: 1, groups: ['callx'] });
row({ op: Op.Exit, opcode: Class.JMP | JmpCode.EXIT, mnemonic: 'exit', form: 'exit', dst: 0, src: 0, off: 0, imm: 0, version: 1, groups: ['base32'] });

// --- Loads and stores --------------------------------------------------------------------------

const LDDW = Class.LD | Mode.IMM | Size.DW;
for (const [op, src] of [
  [Op.Lddw, LddwSrc.IMM64], [Op.LddwMapFd, LddwSrc.MAP_FD], [Op.LddwMapValue, LddwSrc.MAP_VALUE],
  [Op.LddwBtfId, LddwSrc.BTF_ID], [Op.LddwFunc, LddwSrc.FUNC], [Op.LddwMapIdx, LddwSrc.MAP_IDX],
  [Op.LddwMapIdxValue, LddwSrc.MAP_IDX_VALUE],
] as const) {
  row({ op, opcode: LDDW, mnemonic: 'lddw', form: 'lddw', dst: 'wreg', src, off: 0, imm: 'any', discriminator: 'src', width: 2, version: 1, groups: ['base64'] });
}

const SIZES = [
  ['w', Size.W, 4, 'base32'], ['h', Size.H, 2, 'base32'], ['b', Size.B, 1, 'base32'], ['dw', Size.DW, 8, 'base64'],
] as const;
const LOADS = { w: Op.Ldxw, h: Op.Ldxh, b: Op.Ldxb, dw: Op.Ldxdw } as const;
const SIGNED_LOADS = { w: Op.Ldxsw, h: Op.Ldxsh, b: Op.Ldxsb } as const;
const STORES = { w: Op.Stw, h: Op.Sth, b: Op.Stb, dw: Op.Stdw } as const;
const REG_STORES = { w: Op.Stxw, h: Op.Stxh, b: Op.Stxb, dw: Op.Stxdw } as const;

for (const [suffix, size, bytes, group] of SIZES) {
  const mem = { off: 'any' as const, size: bytes, version: 1 as const, groups: [group] };
  row({ ...mem, op: LOADS[suffix], opcode: Class.LDX | Mode.MEM | size, mnemonic: `ldx${suffix}`, form: 'ldx', dst: 'wreg', src: 'reg', imm: 0 });
  if (suffix !== 'dw') {
    row({ ...mem, op: SIGNED_LOADS[suffix], opcode: Class.LDX | Mode.MEMSX | size, mnemonic: `ldxs${suffix}`, form: 'ldx', dst: 'wreg', src: 'reg', imm: 0, version: 4 });
  }
  row({ ...mem, op: STORES[suffix], opcode: Class.ST | Mode.MEM | size, mnemonic: `st${suffix}`, form: 'st', dst: 'reg', src: 0, imm: 'any' });
  row({ ...mem, op: REG_STORES[suffix], opcode: Class.STX | Mode.MEM | size, mnemonic: `stx${suffix}`, form: 'stx', dst: 'reg', src: 'reg', imm: 0 });
}

const ATOMICS: [string, number, Op, Op][] = [
  ['add', AtomicOp.ADD, Op.AtomicAdd32, Op.AtomicAdd64],
  ['or', AtomicOp.OR, Op.AtomicOr32, Op.AtomicOr64],
  ['and', AtomicOp.AND, Op.AtomicAnd32, Op.AtomicAnd64],
  ['xor', AtomicOp.XOR, Op.AtomicXor32, Op.AtomicXor64],
  ['fetch add', AtomicOp.ADD | AtomicOp.FETCH, Op.AtomicFetchAdd32, Op.AtomicFetchAdd64],
  ['fetch or', AtomicOp.OR | AtomicOp.FETCH, Op.AtomicFetchOr32, Op.AtomicFetchOr64],
  ['fetch and', AtomicOp.AND | AtomicOp.FETCH, Op.AtomicFetchAnd32, Op.AtomicFetchAnd64],
  ['fetch xor', AtomicOp.XOR | AtomicOp.FETCH, Op.AtomicFetchXor32, Op.AtomicFetchXor64],
  ['xchg', AtomicOp.XCHG, Op.AtomicXchg32, Op.AtomicXchg64],
  ['cmpxchg', AtomicOp.CMPXCHG, Op.AtomicCmpxchg32, Op.AtomicCmpxchg64],
];
for (const [name, imm, op32, op64] of ATOMICS) {
  // The fetch forms and xchg load the old value into src, so src must be writable (not r10).
  const writesSrc = (imm & AtomicOp.FETCH) !== 0 && imm !== AtomicOp.CMPXCHG;
  const common = { form: 'atomic' as const, dst: 'reg' as const, src: writesSrc ? 'wreg' as const : 'reg' as const, off: 'any' as const, imm, discriminator: 'imm' as const, version: 3 as const };
  row({ ...common, op: op32, opcode: Class.STX | Mode.ATOMIC | Size.W, mnemonic: `lock ${name}32`, size: 4, is32: true, groups: ['atomic32'] });
  row({ ...common, op: op64, opcode: Class.STX | Mode.ATOMIC | Size.DW, mnemonic: `lock ${name}`, size: 8, groups: ['atomic64'] });
}

// Legacy packet access (RFC 9669 5.5): r0 = ntoh(packet[imm]) or packet[src + imm].
for (const [suffix, size, bytes, abs, ind] of [
  ['w', Size.W, 4, Op.LdAbsW, Op.LdIndW], ['h', Size.H, 2, Op.LdAbsH, Op.LdIndH], ['b', Size.B, 1, Op.LdAbsB, Op.LdIndB],
] as const) {
  row({ op: abs, opcode: Class.LD | Mode.ABS | size, mnemonic: `ldabs${suffix}`, form: 'ldabs', dst: 0, src: 0, off: 0, imm: 'any', size: bytes, version: 1, groups: ['packet'] });
  row({ op: ind, opcode: Class.LD | Mode.IND | size, mnemonic: `ldind${suffix}`, form: 'ldind', dst: 0, src: 'reg', off: 0, imm: 'any', size: bytes, version: 1, groups: ['packet'] });
}

/** Every known encoding, in table order. */
export const OPCODES: readonly OpcodeSpec[] = rows;

const byOpcode: OpcodeSpec[][] = Array.from({ length: 256 }, () => []);
const byOp: OpcodeSpec[] = [];
for (const spec of rows) {
  byOpcode[spec.opcode]!.push(spec);
  byOp[spec.op] = spec;
}

/** The rows sharing an opcode byte (empty for an unknown opcode). */
export function specsForOpcode(opcode: number): readonly OpcodeSpec[] {
  return byOpcode[opcode & 0xff]!;
}

/** The row of a semantic operation. */
export function specOf(op: Op): OpcodeSpec {
  return byOp[op]!;
}

/** The row for an encoding, choosing among rows that share the opcode byte by their discriminator; undefined if none fits. */
export function findSpec(opcode: number, fields: { src: number; off: number; imm: number }): OpcodeSpec | undefined {
  const candidates = byOpcode[opcode & 0xff]!;
  if (candidates.length === 1) return candidates[0];
  return candidates.find((s) => s.discriminator === undefined || s[s.discriminator] === fields[s.discriminator]);
}
