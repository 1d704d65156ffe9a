// loader/btf-builder.ts: every fixture's .BTF rebuilt record by record reads back identically
// (bpftool's raw dump and the bytes), every kind through its shorthand, C layout of structs and
// unions (alignment, padding, System V bitfields), and misuse.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type Btf, BtfBuilder, BtfBuilderError, type BtfTypeInput, BtfKind, dumpBtf, parseBtf, readBtf, readElf } from '../../loader/index.js';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
const withBtf = objects.filter((o) => readBtf(readElf(new Uint8Array(readFileSync(join(FIXTURES, o))), o)) !== undefined);

/** A parsed record as builder input: the record without its id and file offset. */
function input(t: NonNullable<Btf['types'][number]>): BtfTypeInput {
  const { id: _id, at: _at, ...rest } = t;
  return rest as BtfTypeInput;
}

describe('round trip through the reader', () => {
  test('fixtures with BTF exist', () => {
    expect(withBtf.length).toBeGreaterThan(5);
  });

  test.each(withBtf)('%s: every record rebuilt reads back as bpftool printed it', (object) => {
    const original = readBtf(readElf(new Uint8Array(readFileSync(join(FIXTURES, object))), object))!;
    const b = new BtfBuilder();
    for (const t of original.types) if (t) b.add(input(t));
    const bytes = b.encode();
    const again = parseBtf(bytes);
    expect(dumpBtf(again)).toEqual(dumpBtf(original));
    // Encoding what was read gives the same bytes again.
    const b2 = new BtfBuilder();
    for (const t of again.types) if (t) b2.add(input(t));
    expect(b2.encode()).toEqual(bytes);
  });
});

describe('shorthands', () => {
  test('every kind 1..19 is written as the reader expects', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const ptr = b.ptr(int);
    const arr = b.array(int, 3);
    const s = b.struct('s');
    b.setMembers(s, [{ name: 'a', type: int }, { name: 'f', type: b.int('unsigned int', 4), bitfieldSize: 3 }]);
    b.union('u', [{ name: 'x', type: int }, { name: 'p', type: ptr }]);
    b.enum('e', [['A', -1], ['B', 7]]);
    b.fwd('later', true);
    b.typedef('int_t', int);
    b.volatile(int);
    b.const(int);
    b.restrict(ptr);
    const proto = b.funcProto(int, [{ name: 'x', type: int }, { name: '', type: 0 }]);
    b.func('f', proto, 1);
    const v = b.variable('g', int, 1);
    b.datasec('.data', 4, [{ type: v, offset: 0, size: 4 }]);
    b.float('double', 8);
    b.declTag('tag', s, 1);
    b.typeTag('user', int);
    b.enum64('big', [['HUGE', 0xffff_ffff_0000_0001n], ['NEG', -2n]], { signed: true });
    expect(arr).toBe(4);
    expect(dumpBtf(b.build())).toEqual([
      "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
      "[2] PTR '(anon)' type_id=1",
      "[3] INT '__ARRAY_SIZE_TYPE__' size=4 bits_offset=0 nr_bits=32 encoding=(none)",
      "[4] ARRAY '(anon)' type_id=1 index_type_id=3 nr_elems=3",
      "[5] STRUCT 's' size=8 vlen=2",
      "\t'a' type_id=1 bits_offset=0",
      "\t'f' type_id=6 bits_offset=32 bitfield_size=3",
      "[6] INT 'unsigned int' size=4 bits_offset=0 nr_bits=32 encoding=(none)",
      "[7] UNION 'u' size=8 vlen=2",
      "\t'x' type_id=1 bits_offset=0",
      "\t'p' type_id=2 bits_offset=0",
      "[8] ENUM 'e' encoding=SIGNED size=4 vlen=2",
      "\t'A' val=-1",
      "\t'B' val=7",
      "[9] FWD 'later' fwd_kind=union",
      "[10] TYPEDEF 'int_t' type_id=1",
      "[11] VOLATILE '(anon)' type_id=1",
      "[12] CONST '(anon)' type_id=1",
      "[13] RESTRICT '(anon)' type_id=2",
      "[14] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2",
      "\t'x' type_id=1",
      "\t'(anon)' type_id=0",
      "[15] FUNC 'f' type_id=14 linkage=global",
      "[16] VAR 'g' type_id=1, linkage=global",
      "[17] DATASEC '.data' size=4 vlen=1",
      "\ttype_id=16 offset=0 size=4 (VAR 'g')",
      "[18] FLOAT 'double' size=8",
      "[19] DECL_TAG 'tag' type_id=5 component_idx=1",
      "[20] TYPE_TAG 'user' type_id=1",
      "[21] ENUM64 'big' encoding=SIGNED size=8 vlen=2",
      "\t'HUGE' val=-4294967295LL",
      "\t'NEG' val=-2LL",
    ]);
  });

  test('a struct that points to itself is declared, then given its members', () => {
    const b = new BtfBuilder();
    const node = b.struct('node');
    b.setMembers(node, [{ name: 'next', type: b.ptr(node) }, { name: 'value', type: b.int('int', 4, { signed: true }) }]);
    const btf = b.build();
    expect(btf.sizeOf(node)).toBe(16);
    expect(btf.memberOffset(node, 'value')).toMatchObject({ bitOffset: 64 });
    const next = btf.memberOffset(node, 'next')!;
    expect(btf.type(next.type)).toMatchObject({ kind: BtfKind.PTR, type: node });
  });

  test('strings are shared', () => {
    const b = new BtfBuilder();
    b.typedef('same', b.int('same', 4));
    const btf = parseBtf(b.encode());
    expect(btf.header.strLen).toBe('\0same\0'.length);
  });
});

describe('C layout', () => {
  const b = new BtfBuilder();
  const char = b.int('char', 1, { signed: true });
  const short = b.int('short', 2, { signed: true });
  const int = b.int('int', 4, { signed: true });
  const uint = b.int('unsigned int', 4);
  const long = b.int('long', 8, { signed: true });
  const ptr = b.ptr(char);

  test.for([
    { what: 'padding before an int', members: [char, int, char], offsets: [0, 32, 64], size: 12 },
    { what: 'padding before a long', members: [char, long], offsets: [0, 64], size: 16 },
    { what: 'a short packs after a char', members: [char, short, int], offsets: [0, 16, 32], size: 8 },
    { what: 'pointers align to 8', members: [int, ptr, char], offsets: [0, 64, 128], size: 24 },
    { what: 'arrays align as their element', members: [char, b.array(int, 3), char], offsets: [0, 32, 128], size: 20 },
    { what: 'a nested struct aligns to its widest member', members: [char, b.struct('inner', [{ name: 'x', type: long }])], offsets: [0, 64], size: 16 },
  ])('$what', ({ members, offsets, size }) => {
    const id = b.struct('', members.map((type, i) => ({ name: `m${i}`, type })));
    const btf = b.build();
    const t = btf.type(id);
    expect(t.kind === BtfKind.STRUCT && t.members.map((m) => m.bitOffset)).toEqual(offsets);
    expect(btf.sizeOf(id)).toBe(size);
  });

  test.for([
    { what: 'bitfields pack into one unit', widths: [3, 5, 24], offsets: [0, 3, 8], size: 4 },
    { what: 'a bitfield that would straddle its unit starts the next', widths: [3, 30], offsets: [0, 32], size: 8 },
    { what: 'a bitfield fills a unit exactly', widths: [16, 16, 1], offsets: [0, 16, 32], size: 8 },
  ])('$what', ({ widths, offsets, size }) => {
    const id = b.struct('', widths.map((w, i) => ({ name: `b${i}`, type: uint, bitfieldSize: w })));
    const btf = b.build();
    const t = btf.type(id);
    if (t.kind !== BtfKind.STRUCT) throw new Error('not a struct');
    expect(t.kindFlag).toBe(true);
    expect(t.members.map((m) => m.bitOffset)).toEqual(offsets);
    expect(t.members.map((m) => m.bitfieldSize)).toEqual(widths);
    expect(t.size).toBe(size);
  });

  test('a union is as large as its largest member, rounded to its alignment', () => {
    const id = b.union('', [{ name: 'c', type: b.array(char, 5) }, { name: 'i', type: int }]);
    const btf = b.build();
    expect(btf.sizeOf(id)).toBe(8);
  });

  test('explicit offsets and size win', () => {
    const id = b.struct('', [{ name: 'a', type: int, bitOffset: 64 }, { name: 'b', type: char }], { size: 32 });
    const t = b.build().type(id);
    expect(t.kind === BtfKind.STRUCT && [t.members.map((m) => m.bitOffset), t.size]).toEqual([[64, 96], 32]);
  });
});

describe('misuse', () => {
  test('an unknown type id', () => {
    const b = new BtfBuilder();
    expect(() => b.sizeOf(3)).toThrow(BtfBuilderError);
    expect(() => b.setMembers(0, [])).toThrow(BtfBuilderError);
  });

  test('members for a type that is not a struct', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4);
    expect(() => b.setMembers(int, [])).toThrow(/not a struct or union/);
  });

  test('a function has no size', () => {
    const b = new BtfBuilder();
    const proto = b.funcProto(0, []);
    expect(() => b.struct('s', [{ name: 'f', type: proto }])).toThrow(/has no size/);
  });

  test('more than 65535 enumerators', () => {
    const b = new BtfBuilder();
    b.enum('e', Array.from({ length: 65536 }, (_, i) => [`E${i}`, i] as const));
    expect(() => b.encode()).toThrow(/at most 65535/);
  });
});
