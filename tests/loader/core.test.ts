// loader/core.ts against libbpf's relo_core.c semantics: table-driven relocations of one local BTF
// (built with loader/btf-builder.ts) against targets with moved, flavoured, anonymous, missing,
// resized and bit-packed members, arrays, enums and ambiguous candidates; instruction patching
// and its checks; and the core_read.o fixture resolved against the runtime's kernel BTF, its own
// BTF and hand-built kernels, compared with llvm-objdump's listing of the unrelocated object.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { formatObjdump } from '../../isa/objdump.js';
import { type Instruction, lddwValue, width } from '../../isa/instruction.js';
import {
  applyCoreRelocations,
  type Btf,
  BtfBuilder,
  type BtfExt,
  CORE_POISON_HELPER_ID,
  CoreReloKind as K,
  CoreRelocationError,
  essentialName,
  loadObjectSpec,
  type ObjectSpec,
  type ProgramSpec,
} from '../../loader/index.js';
import { kernelBtf } from '../../runtime/kernel-btf.js';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const SECTION = 'kprobe/test';

interface Ints {
  readonly int: number;
  readonly uint: number;
  readonly long: number;
  readonly ulong: number;
  readonly char: number;
}

function builderWithInts(): { b: BtfBuilder; t: Ints } {
  const b = new BtfBuilder();
  const t = {
    int: b.int('int', 4, { signed: true }),
    uint: b.int('unsigned int', 4),
    long: b.int('long', 8, { signed: true }),
    ulong: b.int('unsigned long', 8),
    char: b.int('char', 1, { signed: true }),
  };
  return { b, t };
}

/**
 * The object's BTF. struct s: a@0 b@4 u@8 arr[4]@12 p@32 bits1:3@bit 320 bits2:5@bit 323 c@44, size 48.
 * Member indices: a 0, b 1, u 2, arr 3, p 4, bits1 5, bits2 6, c 7.
 */
const LOCAL: Btf = (() => {
  const { b, t } = builderWithInts();
  const colour = b.enum('colour', [['RED', 0], ['GREEN', 1], ['BLUE___old', 2]]);
  const s = b.struct('s', [
    { name: 'a', type: t.int },
    { name: 'b', type: t.int },
    { name: 'u', type: t.uint },
    { name: 'arr', type: b.array(t.int, 4) },
    { name: 'p', type: b.ptr(t.int) },
    { name: 'bits1', type: t.uint, bitfieldSize: 3 },
    { name: 'bits2', type: t.uint, bitfieldSize: 5 },
    { name: 'c', type: colour },
  ]);
  b.struct('s___v1', [{ name: 'b', type: t.int }]);
  b.typedef('s_t', s);
  b.struct('pair', [{ name: 'x', type: t.int }, { name: 'y', type: t.long }]);
  b.struct('', [{ name: 'anon', type: t.int }]);
  return b.build({ file: 'local.o' });
})();

function localId(name: string): number {
  if (name === '') return LOCAL.types.find((t) => t?.name === '' && t.kind === 4)!.id;
  return LOCAL.byName(name)[0]!.id;
}

function target(build: (b: BtfBuilder, t: Ints) => void): Btf {
  const { b, t } = builderWithInts();
  build(b, t);
  return b.build({ file: 'target' });
}

interface Relo {
  readonly type: string;
  readonly access: string;
  readonly kind: number;
  /** The relocated instruction's slot. */
  readonly pc: number;
}

function relocate(asm: string, relos: readonly Relo[], targetBtf: Btf, options: { poison?: boolean } = {}) {
  const insns = assemble(asm);
  const slots = insns.reduce((n, i) => n + width(i), 0);
  const program: ProgramSpec = {
    name: 'test', section: SECTION, type: 'kprobe', attach: undefined, insns, references: [],
    functions: [{ name: 'test', section: SECTION, pc: 0, sectionPc: 0, slots }],
  };
  const btfExt = {
    header: {} as BtfExt['header'],
    funcInfo: [],
    lineInfo: [],
    coreRelos: [{
      section: SECTION,
      records: relos.map((r) => ({
        insnOff: r.pc * 8, pc: r.pc, typeId: localId(r.type), accessString: r.access, access: r.access.split(':').map(Number), kind: r.kind,
      })),
    }],
  } satisfies BtfExt;
  return applyCoreRelocations(program, { file: 'local.o', btf: LOCAL, btfExt }, targetBtf, options);
}

/** What a relocated instruction now holds: imm for ALU, off for loads and stores, the 64-bit value for lddw. */
function held(insn: Instruction): bigint {
  if (insn.immHi !== undefined) return lddwValue(insn);
  const cls = insn.opcode & 7;
  return cls === 1 || cls === 2 || cls === 3 ? BigInt(insn.off) : BigInt(insn.imm);
}

// Targets used by several rows.
const SAME = target((b, t) => {
  b.struct('s', [{ name: 'a', type: t.int }, { name: 'b', type: t.int }]);
});
const MOVED = target((b, t) => {
  b.struct('s', [{ name: 'x', type: t.long }, { name: 'b', type: t.int }, { name: 'a', type: t.int }]);
});
const EMPTY = target(() => {});

interface Row {
  readonly what: string;
  readonly asm: string;
  readonly relo: Omit<Relo, 'pc'>;
  readonly target: Btf;
  /** The value now in the instruction, or an error message pattern. */
  readonly want: bigint | RegExp;
}

const fieldRows: Row[] = [
  { what: 'a member at the same offset', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET }, target: SAME, want: 4n },
  { what: 'a member that moved', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET }, target: MOVED, want: 8n },
  { what: 'the root itself (offset 0)', asm: 'mov %r1, 0', relo: { type: 's', access: '0', kind: K.FIELD_BYTE_OFFSET }, target: MOVED, want: 0n },
  {
    what: 'a flavoured target struct', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => { b.struct('s___2', [{ name: 'x', type: t.char }, { name: 'b', type: t.long }]); }), want: 8n,
  },
  {
    what: 'a flavoured local struct', asm: 'mov %r1, 0', relo: { type: 's___v1', access: '0:0', kind: K.FIELD_BYTE_OFFSET },
    target: MOVED, want: 8n,
  },
  {
    what: 'a member inside anonymous target members', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => {
      b.struct('s', [
        { name: 'x', type: t.int },
        { name: '', type: b.union('', [{ name: 'y', type: t.long }, { name: '', type: b.struct('', [{ name: 'pad', type: t.int }, { name: 'b', type: t.int }]) }]) },
      ]);
    }),
    want: 12n,
  },
  { what: 'a missing member', asm: 'mov %r1, 4', relo: { type: 's', access: '0:2', kind: K.FIELD_BYTE_OFFSET }, target: SAME, want: /no type in the target BTF has this field/ },
  { what: 'a missing struct', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET }, target: EMPTY, want: /no type in the target BTF has this field/ },
  { what: 'exists: present', asm: 'mov %r1, 1', relo: { type: 's', access: '0:1', kind: K.FIELD_EXISTS }, target: MOVED, want: 1n },
  { what: 'exists: missing member', asm: 'mov %r1, 1', relo: { type: 's', access: '0:2', kind: K.FIELD_EXISTS }, target: SAME, want: 0n },
  { what: 'exists: missing struct', asm: 'lddw %r1, 1', relo: { type: 's', access: '0:1', kind: K.FIELD_EXISTS }, target: EMPTY, want: 0n },
  {
    what: 'exists: a member of an incompatible kind', asm: 'mov %r1, 1', relo: { type: 's', access: '0:1', kind: K.FIELD_EXISTS },
    target: target((b, t) => { b.struct('s', [{ name: 'b', type: b.struct('inner', [{ name: 'i', type: t.int }]) }]); }), want: 0n,
  },
  {
    what: 'exists: pointers are compatible whatever they point to', asm: 'mov %r1, 1', relo: { type: 's', access: '0:4', kind: K.FIELD_EXISTS },
    target: target((b, t) => { b.struct('s', [{ name: 'p', type: b.ptr(b.struct('other', [{ name: 'z', type: t.char }])) }]); }), want: 1n,
  },
  {
    what: 'size: an int that grew', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_SIZE },
    target: target((b, t) => { b.struct('s', [{ name: 'b', type: t.long }]); }), want: 8n,
  },
  {
    what: 'an array element', asm: 'mov %r1, 20', relo: { type: 's', access: '0:3:2', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => { b.struct('s', [{ name: 'x', type: t.long }, { name: 'arr', type: b.array(t.int, 8) }]); }), want: 16n,
  },
  {
    what: "an array element's size", asm: 'mov %r1, 4', relo: { type: 's', access: '0:3:2', kind: K.FIELD_BYTE_SIZE },
    target: target((b, t) => { b.struct('s', [{ name: 'arr', type: b.array(t.long, 4) }]); }), want: 8n,
  },
  {
    what: 'an index past the target array', asm: 'mov %r1, 20', relo: { type: 's', access: '0:3:2', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => { b.struct('s', [{ name: 'arr', type: b.array(t.int, 2) }]); }), want: /no type in the target BTF has this field/,
  },
  {
    what: 'a flexible array at the end of the target', asm: 'mov %r1, 20', relo: { type: 's', access: '0:3:2', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => { b.struct('s', [{ name: 'x', type: t.int }, { name: 'arr', type: b.array(t.int, 0) }]); }), want: 12n,
  },
  {
    what: 'an index on the root pointer', asm: 'mov %r1, 52', relo: { type: 's', access: '1:1', kind: K.FIELD_BYTE_OFFSET },
    target: SAME, want: 12n,
  },
  {
    what: 'a signed int that became unsigned', asm: 'mov %r1, 1', relo: { type: 's', access: '0:1', kind: K.FIELD_SIGNED },
    target: target((b, t) => { b.struct('s', [{ name: 'b', type: t.uint }]); }), want: 0n,
  },
  {
    what: 'an unsigned enum that became signed', asm: 'mov %r1, 0', relo: { type: 's', access: '0:7', kind: K.FIELD_SIGNED },
    target: target((b) => { b.struct('s', [{ name: 'c', type: b.enum('colour', [['RED', -1]]) }]); }), want: 1n,
  },
  {
    what: 'signedness is checked against the instruction', asm: 'mov %r1, 0', relo: { type: 's', access: '0:1', kind: K.FIELD_SIGNED },
    target: SAME, want: /instruction's immediate is 0, but the object's BTF gives 1/,
  },
];

// bits2 moves from bit 323 (5 wide) to the target's layout.
const bitfield = (bitOffset: number, bits: number) =>
  target((b, t) => { b.struct('s', [{ name: 'x', type: t.int }, { name: 'bits2', type: t.uint, bitOffset, bitfieldSize: bits }]); });
const bitfieldRows: Row[] = [
  { what: 'bitfield offset (not checked against the instruction)', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_BYTE_OFFSET }, target: bitfield(60, 4), want: 4n },
  { what: 'bitfield size', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_BYTE_SIZE }, target: bitfield(60, 4), want: 4n },
  { what: 'bitfield left shift', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_LSHIFT_U64 }, target: bitfield(60, 4), want: 32n },
  { what: 'bitfield right shift', asm: 'mov %r1, 59', relo: { type: 's', access: '0:6', kind: K.FIELD_RSHIFT_U64 }, target: bitfield(60, 4), want: 60n },
  { what: 'a straddling bitfield needs an 8-byte load: offset', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_BYTE_OFFSET }, target: bitfield(30, 4), want: 0n },
  { what: 'a straddling bitfield needs an 8-byte load: size', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_BYTE_SIZE }, target: bitfield(30, 4), want: 8n },
  { what: 'a straddling bitfield needs an 8-byte load: left shift', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_LSHIFT_U64 }, target: bitfield(30, 4), want: 30n },
  { what: 'right shift is checked against the instruction', asm: 'mov %r1, 58', relo: { type: 's', access: '0:6', kind: K.FIELD_RSHIFT_U64 }, target: bitfield(60, 4), want: /but the object's BTF gives 59/ },
  { what: 'a bitfield no 64-bit load holds', asm: 'mov %r1, 99', relo: { type: 's', access: '0:6', kind: K.FIELD_BYTE_OFFSET }, target: bitfield(62, 4), want: /one 64-bit load/ },
];

const typeRows: Row[] = [
  { what: 'type exists', asm: 'lddw %r1, 1', relo: { type: 's', access: '0', kind: K.TYPE_EXISTS }, target: SAME, want: 1n },
  { what: 'type exists under a flavour', asm: 'lddw %r1, 1', relo: { type: 's', access: '0', kind: K.TYPE_EXISTS }, target: target((b) => { b.struct('s___x', []); }), want: 1n },
  { what: 'type missing', asm: 'lddw %r1, 1', relo: { type: 's', access: '0', kind: K.TYPE_EXISTS }, target: EMPTY, want: 0n },
  {
    what: 'a typedef of another kind is not the type', asm: 'lddw %r1, 1', relo: { type: 's_t', access: '0', kind: K.TYPE_EXISTS },
    target: target((b, t) => { b.typedef('s_t', t.int); }), want: 0n,
  },
  {
    what: 'a typedef of a struct is', asm: 'lddw %r1, 1', relo: { type: 's_t', access: '0', kind: K.TYPE_EXISTS },
    target: target((b, t) => { b.typedef('s_t', b.struct('whatever', [{ name: 'q', type: t.int }])); }), want: 1n,
  },
  { what: 'type size', asm: 'mov %r1, 48', relo: { type: 's', access: '0', kind: K.TYPE_SIZE }, target: MOVED, want: 16n },
  { what: 'type size of a missing type', asm: 'mov %r1, 48', relo: { type: 's', access: '0', kind: K.TYPE_SIZE }, target: EMPTY, want: 0n },
  { what: 'target type id (not checked)', asm: 'lddw %r1, 77', relo: { type: 's', access: '0', kind: K.TYPE_ID_TARGET }, target: MOVED, want: BigInt(MOVED.byName('s')[0]!.id) },
  { what: 'target type id of a missing type', asm: 'lddw %r1, 77', relo: { type: 's', access: '0', kind: K.TYPE_ID_TARGET }, target: EMPTY, want: 0n },
  { what: 'local type id', asm: 'lddw %r1, 77', relo: { type: 'pair', access: '0', kind: K.TYPE_ID_LOCAL }, target: EMPTY, want: BigInt(localId('pair')) },
  {
    what: 'matches: members by name, in any order', asm: 'lddw %r1, 1', relo: { type: 'pair', access: '0', kind: K.TYPE_MATCHES },
    target: target((b, t) => { b.struct('pair', [{ name: 'y', type: t.long }, { name: 'z', type: t.int }, { name: 'x', type: t.int }]); }), want: 1n,
  },
  {
    what: 'matches: an int of another size does not', asm: 'lddw %r1, 1', relo: { type: 'pair', access: '0', kind: K.TYPE_MATCHES },
    target: target((b, t) => { b.struct('pair', [{ name: 'x', type: t.int }, { name: 'y', type: t.int }]); }), want: 0n,
  },
  {
    what: 'matches: an int of another sign does not', asm: 'lddw %r1, 1', relo: { type: 'pair', access: '0', kind: K.TYPE_MATCHES },
    target: target((b, t) => { b.struct('pair', [{ name: 'x', type: t.int }, { name: 'y', type: t.ulong }]); }), want: 0n,
  },
  {
    what: 'matches: a missing member does not', asm: 'lddw %r1, 1', relo: { type: 'pair', access: '0', kind: K.TYPE_MATCHES },
    target: target((b, t) => { b.struct('pair', [{ name: 'x', type: t.int }]); }), want: 0n,
  },
  {
    what: 'matches: enumerators by name, values may differ', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '0', kind: K.TYPE_MATCHES },
    target: target((b) => { b.enum('colour', [['BLUE', 9], ['GREEN', 8], ['RED', 7], ['PINK', 6]]); }), want: 1n,
  },
  {
    what: 'matches: an enum missing an enumerator does not', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '0', kind: K.TYPE_MATCHES },
    target: target((b) => { b.enum('colour', [['RED', 0], ['BLUE', 2]]); }), want: 0n,
  },
  {
    what: 'matches: an enum of another size does not', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '0', kind: K.TYPE_MATCHES },
    target: target((b) => { b.enum64('colour', [['RED', 0n], ['GREEN', 1n], ['BLUE', 2n]]); }), want: 0n,
  },
  {
    what: 'exists: an enum64 is an enum', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '0', kind: K.TYPE_EXISTS },
    target: target((b) => { b.enum64('colour', [['RED', 0n]]); }), want: 1n,
  },
];

const enumRows: Row[] = [
  { what: 'enumerator exists', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_EXISTS }, target: target((b) => { b.enum('colour', [['GREEN', 5]]); }), want: 1n },
  { what: 'enumerator missing', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_EXISTS }, target: target((b) => { b.enum('colour', [['RED', 5]]); }), want: 0n },
  { what: 'enum missing', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_EXISTS }, target: EMPTY, want: 0n },
  { what: 'enumerator value', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_VALUE }, target: target((b) => { b.enum('colour', [['RED', 0], ['GREEN', 7]]); }), want: 7n },
  {
    what: 'a flavoured enumerator matches by essential name', asm: 'mov %r1, 2', relo: { type: 'colour', access: '2', kind: K.ENUMVAL_VALUE },
    target: target((b) => { b.enum('colour___new', [['BLUE___new', 9]]); }), want: 9n,
  },
  {
    what: 'a 64-bit enumerator', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_VALUE },
    target: target((b) => { b.enum64('colour', [['GREEN', 1n << 40n]]); }), want: 1n << 40n,
  },
  {
    what: 'a negative 32-bit enumerator is sign-extended', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_VALUE },
    target: target((b) => { b.enum('colour', [['GREEN', -3]]); }), want: 0xffff_ffff_ffff_fffdn,
  },
  {
    what: 'the value of a missing enumerator', asm: 'lddw %r1, 1', relo: { type: 'colour', access: '1', kind: K.ENUMVAL_VALUE },
    target: target((b) => { b.enum('colour', [['RED', 0]]); }), want: /the target has no matching enumerator/,
  },
];

const ambiguityRows: Row[] = [
  {
    what: 'flavours that agree', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => {
      b.struct('s___a', [{ name: 'x', type: t.long }, { name: 'b', type: t.int }]);
      b.struct('s___b', [{ name: 'y', type: t.long }, { name: 'b', type: t.uint }]);
    }),
    want: 8n,
  },
  {
    what: 'flavours at different offsets', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => {
      b.struct('s___a', [{ name: 'b', type: t.int }]);
      b.struct('s___b', [{ name: 'x', type: t.long }, { name: 'b', type: t.int }]);
    }),
    want: /ambiguous target: candidates \[\d+\] struct s___a and \[\d+\] struct s___b place the field at different offsets \(bit 0 and 64\)/,
  },
  {
    what: 'flavours with different sizes', asm: 'mov %r1, 48', relo: { type: 's', access: '0', kind: K.TYPE_SIZE },
    target: target((b, t) => {
      b.struct('s___a', [{ name: 'b', type: t.int }]);
      b.struct('s___b', [{ name: 'b', type: t.long }]);
    }),
    want: /ambiguous target: .* give different values \(4 and 8\)/,
  },
  {
    what: 'a flavour where the field is missing is no candidate', asm: 'mov %r1, 4', relo: { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET },
    target: target((b, t) => {
      b.struct('s___a', [{ name: 'a', type: t.int }]);
      b.struct('s___b', [{ name: 'x', type: t.long }, { name: 'b', type: t.int }]);
    }),
    want: 8n,
  },
];

describe.each([
  ['field relocations', fieldRows],
  ['bitfield relocations', bitfieldRows],
  ['type relocations', typeRows],
  ['enum relocations', enumRows],
  ['several candidates', ambiguityRows],
] as const)('%s', (_, rows) => {
  test.for(rows)('$what', (row) => {
    const run = () => relocate(`${row.asm}\nexit`, [{ ...row.relo, pc: 0 }], row.target);
    if (row.want instanceof RegExp) {
      expect(run).toThrow(CoreRelocationError);
      expect(run).toThrow(row.want);
      return;
    }
    const { insns, relocations } = run();
    expect(held(insns[0]!)).toBe(row.want);
    expect(relocations).toHaveLength(1);
    expect(relocations[0]!.value).toBe(row.want);
  });
});

describe('patching loads and stores', () => {
  const widened = target((b, t) => {
    b.struct('s', [{ name: 'x', type: t.long }, { name: 'u', type: t.ulong }, { name: 'b', type: t.long }, { name: 'p', type: b.ptr(t.char) }]);
  });

  test.for([
    { asm: 'ldxw %r1, [%r2+8]', want: 'r1 = *(u64 *)(r2 + 0x8)', access: '0:2' },
    { asm: 'stxw [%r2+8], %r1', want: '*(u64 *)(r2 + 0x8) = r1', access: '0:2' },
    { asm: 'stw [%r2+8], 3', want: '*(u64 *)(r2 + 0x8) = 0x3', access: '0:2' },
    { asm: 'ldxdw %r1, [%r2+32]', want: 'r1 = *(u64 *)(r2 + 0x18)', access: '0:4' },
  ])('$asm: an unsigned field that grew is read whole at its new offset', ({ asm, want, access }) => {
    const { insns } = relocate(`${asm}\nexit`, [{ type: 's', access, kind: K.FIELD_BYTE_OFFSET, pc: 0 }], widened);
    expect(formatObjdump(insns[0]!)).toBe(want);
  });

  test('an unsigned field that shrank is read with a smaller load', () => {
    const narrowed = target((b, t) => { b.struct('s', [{ name: 'u', type: b.int('unsigned short', 2) }]); });
    const { insns } = relocate('ldxw %r1, [%r2+8]\nexit', [{ type: 's', access: '0:2', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], narrowed);
    expect(formatObjdump(insns[0]!)).toBe('r1 = *(u16 *)(r2 + 0x0)');
  });

  test('a signed field that changed size cannot be resized', () => {
    expect(() => relocate('ldxw %r1, [%r2+4]\nexit', [{ type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], widened))
      .toThrow(/neither a pointer nor an unsigned integer/);
  });

  test('a load of another size than the field', () => {
    expect(() => relocate('ldxb %r1, [%r2+8]\nexit', [{ type: 's', access: '0:2', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], widened))
      .toThrow(/accesses 1 bytes, but the field is 4 bytes/);
  });

  test('an offset past 16 bits', () => {
    const far = target((b, t) => { b.struct('s', [{ name: 'u', type: t.uint, bitOffset: 40000 * 8 }]); });
    expect(() => relocate('ldxw %r1, [%r2+8]\nexit', [{ type: 's', access: '0:2', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], far))
      .toThrow(/offset 40000 does not fit/);
  });

  test('an offset of another value than the object BTF gives', () => {
    expect(() => relocate('ldxw %r1, [%r2+12]\nexit', [{ type: 's', access: '0:2', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], widened))
      .toThrow(/offset is 12, but the object's BTF gives 8/);
  });

  test.for([
    { asm: 'add %r1, %r2', error: /takes a register/ },
    { asm: 'ja +0', error: /cannot relocate an instruction of opcode 0x5/ },
    { asm: 'lddw %r1, map_fd 4', error: /not a plain 64-bit immediate load/ },
  ])('$asm cannot be relocated', ({ asm, error }) => {
    expect(() => relocate(`${asm}\nexit`, [{ type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], SAME)).toThrow(error);
  });

  test('a relocation inside an lddw', () => {
    expect(() => relocate('lddw %r1, 4\nexit', [{ type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET, pc: 1 }], SAME))
      .toThrow(/does not point at the start of an instruction/);
  });
});

describe('the spec', () => {
  test.for([
    { access: '0:9', error: /step 1 \(9\): struct s has 8 members/ },
    { access: '0:3:4', error: /index 4 is outside int \[4\]/ },
    { access: '0:1:0', error: /reaches type \[1\] of kind INT, which has no members/ },
  ])('a bad access string $access', ({ access, error }) => {
    expect(() => relocate('mov %r1, 0\nexit', [{ type: 's', access, kind: K.FIELD_BYTE_OFFSET, pc: 0 }], SAME)).toThrow(error);
  });

  test('a type relocation with an access string other than 0', () => {
    expect(() => relocate('mov %r1, 0\nexit', [{ type: 's', access: '0:1', kind: K.TYPE_SIZE, pc: 0 }], SAME)).toThrow(/must be '0'/);
  });

  test('an anonymous root type', () => {
    expect(() => relocate('mov %r1, 0\nexit', [{ type: '', access: '0:0', kind: K.FIELD_BYTE_OFFSET, pc: 0 }], SAME))
      .toThrow(/does not relocate anonymous types/);
  });

  test('essential names drop the last ___flavour', () => {
    expect(['task_struct___v2', 'a___b___c', 's____x', '___x', 'plain', 'x___'].map(essentialName))
      .toEqual(['task_struct', 'a___b', 's____x', '___x', 'plain', 'x___']);
  });

  test('the error names the file, section, offset, kind and access', () => {
    let error: CoreRelocationError | undefined;
    try {
      relocate('mov %r0, 0\nmov %r1, 20\nexit', [{ type: 's', access: '0:3:2', kind: K.FIELD_BYTE_OFFSET, pc: 1 }], EMPTY);
    } catch (err) {
      error = err as CoreRelocationError;
    }
    expect(error).toBeInstanceOf(CoreRelocationError);
    expect(error!.message).toBe('local.o: section kprobe/test: offset 0x8: CO-RE <byte_off> s.arr[2]: no type in the target BTF has this field');
    expect(error).toMatchObject({ file: 'local.o', section: SECTION, offset: 8, kind: 'byte_off', access: 's.arr[2]', code: 'core-relocation' });
  });
});

describe('candidates, as libbpf keeps them', () => {
  test('later relocations of a root only consider the candidates that matched earlier ones', () => {
    // Alone, `b` is ambiguous between the flavours; after `u` matched only s___a, s___b is no longer a candidate.
    const flavours = target((b, t) => {
      b.struct('s___a', [{ name: 'b', type: t.int }, { name: 'u', type: t.uint }]);
      b.struct('s___b', [{ name: 'x', type: t.long }, { name: 'b', type: t.int }]);
    });
    const asm = 'mov %r1, 8\nmov %r2, 4\nexit';
    expect(() => relocate(asm, [{ type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET, pc: 1 }], flavours)).toThrow(/ambiguous/);
    const { relocations } = relocate(asm, [
      { type: 's', access: '0:2', kind: K.FIELD_BYTE_OFFSET, pc: 0 },
      { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET, pc: 1 },
    ], flavours);
    expect(relocations.map((r) => [r.access, r.value])).toEqual([['s.u', 4n], ['s.b', 0n]]);
  });

  test('poisoning, as libbpf does it: failed relocations become calls that fail only when run', () => {
    const { insns, poisoned, relocations } = relocate('mov %r1, 4\nlddw %r2, 1\nlddw %r3, 2\nexit', [
      { type: 's', access: '0:1', kind: K.FIELD_BYTE_OFFSET, pc: 0 },
      { type: 'colour', access: '2', kind: K.ENUMVAL_EXISTS, pc: 1 },
      { type: 'colour', access: '2', kind: K.ENUMVAL_VALUE, pc: 3 },
    ], EMPTY, { poison: true });
    expect(insns.map((i) => [i.pc, formatObjdump(i)])).toEqual([
      [0, `call 0x${CORE_POISON_HELPER_ID.toString(16)}`],
      [1, 'r2 = 0x0 ll'],
      [3, `call 0x${CORE_POISON_HELPER_ID.toString(16)}`],
      [4, `call 0x${CORE_POISON_HELPER_ID.toString(16)}`],
      [5, 'exit'],
    ]);
    expect(poisoned.map((e) => e.access)).toEqual(['s.b', 'enum colour::BLUE___old']);
    expect(relocations.map((r) => r.access)).toEqual(['enum colour::BLUE___old']);
  });
});

// --- core_read.o ------------------------------------------------------------------------------

const coreRead: ObjectSpec = loadObjectSpec(new Uint8Array(readFileSync(join(FIXTURES, 'core_read.o'))), 'core_read.o');
const coreReadProgram = coreRead.programs[0]!;
/** llvm-objdump's listing of the object as compiled: pc → text (without the `<symbol+offset>` of branch targets). */
const listing = new Map(
  [...readFileSync(join(FIXTURES, 'golden', 'core_read.lines.btf'), 'utf8').matchAll(/^\s+(\d+):\t(.+)$/gm)]
    .map((m) => [Number(m[1]), m[2]!.replace(/ <[^>]+>$/, '')]),
);

/** The relocated listing, with each relocated slot's expected text. */
function expectListing(insns: readonly Instruction[], changed: Record<number, string>): void {
  const want = [...listing].map(([pc, text]) => [pc, changed[pc] ?? text]);
  expect(insns.map((i) => [i.pc, formatObjdump(i)])).toEqual(want);
}

describe('core_read.o', () => {
  test('the listing before relocation is llvm-objdump\'s', () => {
    expectListing(coreReadProgram.insns, {});
  });

  test('against the runtime\'s kernel BTF', () => {
    const kernel = kernelBtf();
    const off = (path: string) => kernel.memberOffset(kernel.find('task_struct')!.id, path)!.bitOffset / 8;
    const { insns, relocations } = applyCoreRelocations(coreReadProgram, coreRead, kernel);
    const hex = (n: number) => `0x${n.toString(16)}`;
    expectListing(insns, {
      10: `r1 = ${hex(off('pid'))}`,
      17: `r1 = ${hex(off('real_parent'))}`,
      25: `r9 = ${hex(off('tgid'))}`,
      41: `r1 = ${hex(off('real_parent'))}`,
      54: `r1 = ${hex(off('flags'))}`,
      61: `r1 = ${hex(off('comm'))}`,
      68: `r1 = ${hex(off('mm'))}`,
      77: `r1 = ${hex(kernel.memberOffset(kernel.find('mm_struct')!.id, 'total_vm')!.bitOffset / 8)}`,
      85: 'r1 = 0x0',
      87: `r1 = ${hex(kernel.sizeOf(kernel.find('mm_struct')!.id))}`,
      89: 'r1 = 0x1 ll',
      92: 'r1 = 0x2 ll',
    });
    expect(relocations.map((r) => `${r.pc} <${r.kind}> ${r.access}`)).toEqual([
      '10 <0> task_struct.pid', '17 <0> task_struct.real_parent', '25 <0> task_struct.tgid', '41 <0> task_struct.real_parent',
      '54 <0> task_struct.flags', '61 <0> task_struct.comm', '68 <0> task_struct.mm', '77 <0> mm_struct.total_vm',
      '85 <2> task_struct.field_that_does_not_exist', '87 <9> struct mm_struct', '89 <10> enum pid_type::PIDTYPE_PGID',
      '92 <11> enum pid_type::PIDTYPE_PGID',
    ]);
    expect(relocations.find((r) => r.pc === 10)).toMatchObject({ original: 0n, value: BigInt(off('pid')), target: kernel.find('task_struct')!.id });
  });

  test('against its own BTF nothing changes', () => {
    const { insns } = applyCoreRelocations(coreReadProgram, coreRead, coreRead.btf!);
    expectListing(insns, {});
  });

  test('against a kernel with flavoured, reordered structs and renumbered enums', () => {
    const kernel = target((b, t) => {
      const task = b.struct('task_struct___6_1');
      const mm = b.struct('mm_struct', [{ name: 'start_stack', type: t.ulong }, { name: 'pad', type: b.array(t.ulong, 3) }, { name: 'total_vm', type: t.ulong }]);
      b.setMembers(task, [
        { name: 'comm', type: b.array(t.char, 16) },
        { name: 'mm', type: b.ptr(mm) },
        { name: '', type: b.struct('', [{ name: 'tgid', type: t.int }, { name: 'pid', type: t.int }]) },
        { name: 'real_parent', type: b.ptr(task) },
        { name: 'flags', type: t.uint },
      ]);
      b.enum('pid_type', [['PIDTYPE_PID', 0], ['PIDTYPE_TGID', 1], ['PIDTYPE_SID', 2], ['PIDTYPE_PGID', 3]]);
    });
    const { insns } = applyCoreRelocations(coreReadProgram, coreRead, kernel);
    expectListing(insns, {
      10: 'r1 = 0x1c', 17: 'r1 = 0x20', 25: 'r9 = 0x18', 41: 'r1 = 0x20', 54: 'r1 = 0x28', 61: 'r1 = 0x0', 68: 'r1 = 0x10',
      77: 'r1 = 0x20', 85: 'r1 = 0x0', 87: 'r1 = 0x28', 92: 'r1 = 0x3 ll',
    });
  });

  test('against a kernel without mm_struct: the error names the access', () => {
    const kernel = target((b, t) => {
      const task = b.struct('task_struct');
      b.setMembers(task, [
        { name: 'pid', type: t.int }, { name: 'tgid', type: t.int }, { name: 'flags', type: t.uint }, { name: 'real_parent', type: b.ptr(task) },
        { name: 'mm', type: b.ptr(b.fwd('mm_struct')) }, { name: 'comm', type: b.array(t.char, 16) },
      ]);
    });
    expect(() => applyCoreRelocations(coreReadProgram, coreRead, kernel)).toThrow(
      'core_read.o: section kprobe/do_nanosleep: offset 0x268: CO-RE <byte_off> mm_struct.total_vm: no type in the target BTF has this field');
  });

  test('against a kernel without enum pid_type: an error, or with poison the guarded read becomes a poisoned call', () => {
    const kernel = target(() => {});
    const withoutTask = /offset 0x50: CO-RE <byte_off> task_struct.pid/;
    expect(() => applyCoreRelocations(coreReadProgram, coreRead, kernel)).toThrow(withoutTask);
    const { insns, poisoned } = applyCoreRelocations(coreReadProgram, coreRead, kernel, { poison: true });
    expect(poisoned).toHaveLength(9);
    const text = new Map(insns.map((i) => [i.pc, formatObjdump(i)]));
    expect([text.get(85), text.get(87), text.get(89), text.get(92), text.get(93)]).toEqual([
      'r1 = 0x0', 'r1 = 0x0', 'r1 = 0x0 ll', `call 0x${CORE_POISON_HELPER_ID.toString(16)}`, `call 0x${CORE_POISON_HELPER_ID.toString(16)}`,
    ]);
    expect(insns.reduce((n, i) => n + width(i), 0)).toBe(104);
  });
});
