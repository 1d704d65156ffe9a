// loader/btf.ts and loader/btf-format.ts: the raw dump of every fixture's .BTF against bpftool's
// (golden/X.btf), a hand-built blob with every kind 1..19 against bpftool's dump of it, the
// queries (resolve, sizeOf, member paths, formatType), one test per kind of malformed input, and a
// seeded fuzz of mutated and truncated .BTF sections that must only ever throw BtfError.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BpfError } from '../../isa/index.js';
import {
  type Btf,
  BtfError,
  BtfKind,
  dumpBtf,
  formatType,
  parseBtf,
  readBtf,
  readElf,
  sectionByName,
} from '../../loader/index.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { prng } from '../support/prng.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const goldens = readdirSync(join(FIXTURES, 'golden')).filter((f) => /^[^.]+(\.v\d)?\.btf$/.test(f)).sort();
const load = (object: string) => readElf(new Uint8Array(readFileSync(join(FIXTURES, object))), object);
const fixtureBtf = (object: string): Btf => readBtf(load(object))!;

/** Builds little BTF blobs word by word, for the kinds the fixtures lack and for malformed input. */
class BtfBuilder {
  private readonly strings: number[] = [0];
  private readonly stringOffsets = new Map<string, number>([['', 0]]);
  private readonly words: number[] = [];
  private count = 0;

  str(s: string): number {
    let at = this.stringOffsets.get(s);
    if (at === undefined) {
      at = this.strings.length;
      this.strings.push(...new TextEncoder().encode(s), 0);
      this.stringOffsets.set(s, at);
    }
    return at;
  }

  /** Appends a type record; `extra` words follow the 12-byte header. Returns its id. */
  add(name: string, kind: number, vlen: number, sizeOrType: number, extra: number[] = [], kindFlag = false): number {
    this.words.push(this.str(name), ((kindFlag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return ++this.count;
  }

  build(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strings.length);
    const view = new DataView(out.buffer);
    view.setUint16(0, 0xeb9f, true);
    view.setUint8(2, 1);
    view.setUint32(4, 24, true);
    view.setUint32(8, 0, true);
    view.setUint32(12, typeLen, true);
    view.setUint32(16, typeLen, true);
    view.setUint32(20, this.strings.length, true);
    this.words.forEach((w, i) => view.setUint32(24 + i * 4, w, true));
    out.set(this.strings, 24 + typeLen);
    return out;
  }
}

/** One type of every kind 1..19, with the variants bpftool prints differently. */
function everyKind(): Uint8Array {
  const b = new BtfBuilder();
  const K = BtfKind;
  b.add('int', K.INT, 0, 4, [1 << 24 | 32]); // 1
  b.add('unsigned char', K.INT, 0, 1, [8]); // 2
  b.add('_Bool', K.INT, 0, 1, [4 << 24 | 8]); // 3
  b.add('', K.PTR, 0, 1); // 4
  b.add('', K.ARRAY, 0, 0, [2, 1, 16]); // 5
  b.add('pkt', K.STRUCT, 4, 24, [b.str('a'), 1, 3 << 24 | 0, b.str('b'), 1, 5 << 24 | 3, b.str('buf'), 5, 32, 0, 7, 160], true); // 6
  b.add('', K.UNION, 2, 4, [b.str('x'), 1, 0, b.str('y'), 18, 0]); // 7
  b.add('color', K.ENUM, 2, 4, [b.str('RED'), -1, b.str('GREEN'), 2], true); // 8
  b.add('later', K.FWD, 0, 0, [], true); // 9
  b.add('u8', K.TYPEDEF, 0, 2); // 10
  b.add('', K.VOLATILE, 0, 10); // 11
  b.add('', K.CONST, 0, 11); // 12
  b.add('', K.RESTRICT, 0, 4); // 13
  b.add('', K.FUNC_PROTO, 2, 1, [b.str('ctx'), 13, 0, 0]); // 14
  b.add('handler', K.FUNC, 1, 14); // 15
  b.add('counter', K.VAR, 0, 1, [1]); // 16
  b.add('.data', K.DATASEC, 1, 8, [16, 0, 4]); // 17
  b.add('float', K.FLOAT, 0, 4); // 18
  b.add('tag1', K.DECL_TAG, 0, 6, [1]); // 19
  b.add('user', K.TYPE_TAG, 0, 1); // 20
  b.add('big', K.ENUM64, 2, 8, [b.str('A'), -1, -1, b.str('B'), 1, 0]); // 21
  b.add('sbig', K.ENUM64, 1, 8, [b.str('N'), -5, -1], true); // 22
  b.add('ftag', K.DECL_TAG, 0, 15, [-1]); // 23
  b.add('', K.PTR, 0, 14); // 24
  b.add('', K.PTR, 0, 5); // 25
  b.add('static_fn', K.FUNC, 0, 14); // 26
  b.add('ext', K.VAR, 0, 12, [2]); // 27
  b.add('', K.PTR, 0, 20); // 28
  b.add('', K.CONST, 0, 4); // 29
  b.add('cfg', K.STRUCT, 3, 44, [0, 7, 0, b.str('inner'), 6, 32, b.str('arr'), 5, 224]); // 30
  return b.build();
}

/** `bpftool btf dump file` of everyKind()'s blob (bpftool v7.1.0). */
const EVERY_KIND_BPFTOOL = `
[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED
[2] INT 'unsigned char' size=1 bits_offset=0 nr_bits=8 encoding=(none)
[3] INT '_Bool' size=1 bits_offset=0 nr_bits=8 encoding=BOOL
[4] PTR '(anon)' type_id=1
[5] ARRAY '(anon)' type_id=2 index_type_id=1 nr_elems=16
[6] STRUCT 'pkt' size=24 vlen=4
	'a' type_id=1 bits_offset=0 bitfield_size=3
	'b' type_id=1 bits_offset=3 bitfield_size=5
	'buf' type_id=5 bits_offset=32
	'(anon)' type_id=7 bits_offset=160
[7] UNION '(anon)' size=4 vlen=2
	'x' type_id=1 bits_offset=0
	'y' type_id=18 bits_offset=0
[8] ENUM 'color' encoding=SIGNED size=4 vlen=2
	'RED' val=-1
	'GREEN' val=2
[9] FWD 'later' fwd_kind=union
[10] TYPEDEF 'u8' type_id=2
[11] VOLATILE '(anon)' type_id=10
[12] CONST '(anon)' type_id=11
[13] RESTRICT '(anon)' type_id=4
[14] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2
	'ctx' type_id=13
	'(anon)' type_id=0
[15] FUNC 'handler' type_id=14 linkage=global
[16] VAR 'counter' type_id=1, linkage=global
[17] DATASEC '.data' size=8 vlen=1
	type_id=16 offset=0 size=4 (VAR 'counter')
[18] FLOAT 'float' size=4
[19] DECL_TAG 'tag1' type_id=6 component_idx=1
[20] TYPE_TAG 'user' type_id=1
[21] ENUM64 'big' encoding=UNSIGNED size=8 vlen=2
	'A' val=18446744073709551615ULL
	'B' val=1ULL
[22] ENUM64 'sbig' encoding=SIGNED size=8 vlen=1
	'N' val=-5LL
[23] DECL_TAG 'ftag' type_id=15 component_idx=-1
[24] PTR '(anon)' type_id=14
[25] PTR '(anon)' type_id=5
[26] FUNC 'static_fn' type_id=14 linkage=static
[27] VAR 'ext' type_id=12, linkage=extern
[28] PTR '(anon)' type_id=20
[29] CONST '(anon)' type_id=4
[30] STRUCT 'cfg' size=44 vlen=3
	'(anon)' type_id=7 bits_offset=0
	'inner' type_id=6 bits_offset=32
	'arr' type_id=5 bits_offset=224
`.trim().split('\n');

test('the golden glob finds a bpftool dump for every C fixture', () => {
  const sources = readdirSync(FIXTURES).filter((f) => f.endsWith('.c'));
  expect(goldens.length).toBeGreaterThanOrEqual(15);
  expect(goldens.map((g) => g.replace(/\.btf$/, '.c')).sort()).toEqual(sources.sort());
});

describe('dumps every fixture\'s .BTF line for line as bpftool does', () => {
  test.each(goldens)('%s', (golden) => {
    const btf = fixtureBtf(golden.replace(/\.btf$/, '.o'));
    const expected = readFileSync(join(FIXTURES, 'golden', golden), 'utf8').trimEnd().split('\n');
    expect(dumpBtf(btf)).toEqual(expected);
  });
});

test('a blob with every kind 1..19 dumps as bpftool dumps it', () => {
  const btf = parseBtf(everyKind(), { file: 'every.btf' });
  expect(new Set(btf.types.slice(1).map((t) => t!.kind)).size).toBe(19);
  expect(dumpBtf(btf)).toEqual(EVERY_KIND_BPFTOOL);
});

test('an object without .BTF has no BTF', () => {
  expect(readBtf(load('all_opcodes.o'))).toBeUndefined();
});

describe('queries', () => {
  const btf = parseBtf(everyKind(), { file: 'every.btf' });

  test('lookup by id, by name and kind', () => {
    expect(btf.count).toBe(30);
    expect(btf.typeById(0)).toBeUndefined();
    expect(btf.type(6)).toMatchObject({ kind: BtfKind.STRUCT, name: 'pkt', size: 24 });
    expect(btf.find('pkt', BtfKind.STRUCT)?.id).toBe(6);
    expect(btf.find('pkt', BtfKind.UNION)).toBeUndefined();
    expect(btf.byName('int').map((t) => t.id)).toEqual([1]);
    expect(() => btf.type(31)).toThrow(BtfError);
    expect(btf.type(21)).toMatchObject({ values: [{ name: 'A', value: 0xffff_ffff_ffff_ffffn }, { name: 'B', value: 1n }] });
    expect(btf.type(8)).toMatchObject({ signed: true, values: [{ name: 'RED', value: -1 }, { name: 'GREEN', value: 2 }] });
    expect(btf.type(6)).toMatchObject({ members: [{ name: 'a', bitOffset: 0, bitfieldSize: 3 }, { name: 'b', bitOffset: 3, bitfieldSize: 5 }, { bitfieldSize: 0 }, {}] });
  });

  test.for([
    [12, 2], [11, 2], [20, 1], [28, 28], [13, 4], [1, 1], [0, 0],
  ] as const)('resolve(%i) = %i', ([id, to]) => {
    expect(btf.resolve(id)).toBe(to);
  });

  test.for([
    [1, 4], [4, 8], [5, 16], [6, 24], [7, 4], [8, 4], [12, 1], [16, 4], [18, 4], [21, 8], [25, 8], [27, 1], [30, 44],
  ] as const)('sizeOf(%i) = %i', ([id, size]) => {
    expect(btf.sizeOf(id)).toBe(size);
  });

  test.for([[0, 'void'], [9, 'FWD'], [14, 'FUNC_PROTO'], [15, 'FUNC']] as const)('sizeOf(%i) is an error (%s)', ([id]) => {
    expect(() => btf.sizeOf(id)).toThrow(BtfError);
  });

  test.for([
    ['x', { type: 1, bitOffset: 0, bitfieldSize: 0 }],
    ['y', { type: 18, bitOffset: 0, bitfieldSize: 0 }],
    ['inner', { type: 6, bitOffset: 32, bitfieldSize: 0 }],
    ['inner.b', { type: 1, bitOffset: 35, bitfieldSize: 5 }],
    ['inner.buf[3]', { type: 2, bitOffset: 88, bitfieldSize: 0 }],
    ['inner.x', { type: 1, bitOffset: 192, bitfieldSize: 0 }],
    ['arr[2]', { type: 2, bitOffset: 240, bitfieldSize: 0 }],
    ['nope', undefined],
    ['inner.nope', undefined],
  ] as const)('memberOffset(cfg, %s)', ([path, expected]) => {
    expect(btf.memberOffset(30, path)).toEqual(expected);
  });

  test.for(['x[1]', 'inner.buf.x', 'inner..b', '', '3', 'x y'])('memberOffset(cfg, %j) is an error', (path) => {
    expect(() => btf.memberOffset(30, path)).toThrow(BtfError);
  });

  test.for([
    [0, '', 'void'],
    [1, 'n', 'int n'],
    [4, '', 'int *'],
    [5, 'buf', 'unsigned char buf[16]'],
    [6, '', 'struct pkt'],
    [7, '', 'union (anon)'],
    [8, '', 'enum color'],
    [9, '', 'union later'],
    [12, '', 'const volatile u8'],
    [15, '', 'int handler(int *restrict ctx, ...)'],
    [20, '', 'int'],
    [21, '', 'enum big'],
    [24, '', 'int (*)(int *restrict ctx, ...)'],
    [25, 'p', 'unsigned char (*p)[16]'],
    [27, '', 'const volatile u8 ext'],
    [29, 'p', 'int *const p'],
    [17, '', 'SEC(".data")'],
  ] as const)('formatType(%i, %j) = %j', ([id, name, text]) => {
    expect(formatType(btf, id, name)).toBe(text);
  });

  test('fixtures: formatType and sizeOf of real types', () => {
    const fw = fixtureBtf('xdp_firewall.o');
    const xdpMd = fw.find('xdp_md', BtfKind.STRUCT)!;
    expect(fw.sizeOf(xdpMd.id)).toBe(24);
    expect(fw.memberOffset(xdpMd.id, 'data_end')).toMatchObject({ bitOffset: 32 });
    const ctx = fw.byName('xdp_firewall', BtfKind.FUNC)[0]!;
    expect(formatType(fw, ctx.id)).toBe('int xdp_firewall(struct xdp_md *ctx)');
    const skb = fixtureBtf('global_data.o');
    expect(formatType(skb, skb.find('iface_prefix', BtfKind.VAR)!.id)).toBe('const volatile char iface_prefix[8]');
    expect(skb.memberOffset(skb.find('__sk_buff', BtfKind.STRUCT)!.id, 'flow_keys')).toMatchObject({ bitOffset: 1152 });
  });

  describe.each(goldens)('%s: sizes agree with the object', (golden) => {
    const fx = fixtureBtf(golden.replace(/\.btf$/, '.o'));
    test('every DATASEC variable has its recorded size; every member lies inside its struct', () => {
      for (const t of fx.types) {
        // A .maps variable may be larger than its type: initialised flexible arrays (prog arrays, map-in-map).
        if (t?.kind === BtfKind.DATASEC) {
          for (const v of t.vars) {
            if (t.name === '.maps') expect(v.size).toBeGreaterThanOrEqual(fx.sizeOf(v.type));
            // libbpf's .ksyms lists extern kernel functions (kfuncs): FUNCs, which have no size.
            else if (t.name === '.ksyms') expect(fx.type(v.type)?.kind).toBe(BtfKind.FUNC);
            else expect(fx.sizeOf(v.type), `${t.name} ${v.type}`).toBe(v.size);
          }
        }
        if (t?.kind === BtfKind.STRUCT || t?.kind === BtfKind.UNION) {
          for (const m of t.members) {
            const bits = m.bitfieldSize || fx.sizeOf(m.type) * 8;
            expect(m.bitOffset + bits, `${t.name}.${m.name}`).toBeLessThanOrEqual(t.size * 8);
            if (m.name !== '') expect(fx.memberOffset(t.id, m.name)?.bitOffset).toBe(m.bitOffset);
          }
        }
      }
    });
  });
});

/** A copy of `bytes` with the u32 at `at` replaced. */
function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value >>> 0, true);
  return out;
}

describe('malformed input is a BtfError naming the file, the section and the offset', () => {
  const good = everyKind();
  const typesAt = 24;
  // Offsets of some records in everyKind(): type 1 at 24 (16 bytes), type 2 at 40, type 6's first member at 24 + 16*3 + 12 + 12 + 24.
  const cases: [string, Uint8Array, RegExp, number][] = [
    ['empty', new Uint8Array(0), /too short/, 0],
    ['bad magic', patch(good, 0, 0x0001eb9e), /bad magic 0xeb9e/, 0],
    ['big-endian', patch(good, 0, 0x01009feb), /big-endian/, 0],
    ['version 2', patch(good, 0, 0x0002eb9f), /version 2/, 2],
    ['short header', patch(good, 4, 8), /header length 8/, 4],
    ['header past the end', patch(good, 4, good.length + 4), /BTF header/, 0],
    ['unaligned types', patch(good, 8, 2), /aligned/, 8],
    ['type section past the end', patch(good, 12, good.length), /type section/, 24],
    ['string section past the end', patch(good, 20, good.length), /string section/, 24 + new DataView(good.buffer).getUint32(16, true)],
    ['truncated', good.subarray(0, good.length - 3), /string section/, 24 + new DataView(good.buffer).getUint32(16, true)],
    ['unknown kind', patch(good, typesAt + 4, 20 << 24), /unknown kind 20/, typesAt + 4],
    ['vlen on an INT', patch(good, typesAt + 4, 1 << 24 | 1), /vlen 1 must be 0/, typesAt + 4],
    ['kind_flag on a PTR', patch(good, typesAt + 16 * 3 + 4, (1 << 31 | 2 << 24) >>> 0), /kind_flag/, typesAt + 16 * 3 + 4],
    ['INT bits past its size', patch(good, typesAt + 12, 1 << 24 | 33), /33 bits/, typesAt + 12],
    ['name outside the strings', patch(good, typesAt, 0xffff), /name offset 65535/, typesAt],
    ['referenced type out of range', patch(good, typesAt + 16 * 3 + 8, 99), /referenced type 99 is out of range/, typesAt + 16 * 3],
    ['FUNC of a non-prototype', patch(good, patchOffsetOfFunc(good), 1), /not a FUNC_PROTO/, patchOffsetOfFunc(good) - 8],
  ];

  test.each(cases)('%s', (_name, bytes, message, offset) => {
    let error: unknown;
    try {
      parseBtf(bytes, { file: 'every.btf' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BtfError);
    const e = error as BtfError;
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^every\.btf: section \.BTF: offset 0x/);
    expect(e.file).toBe('every.btf');
    expect(e.section).toBe('.BTF');
    expect(e.offset).toBe(offset);
    expect(e.code).toBe('bad-btf');
  });

  test('errors from an object name file offsets', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'socket_filter.o')));
    const section = sectionByName(readElf(bytes, 'socket_filter.o'), '.BTF')!;
    const broken = patch(bytes, section.offset + 24 + 4, 25 << 24);
    expect(() => readBtf(readElf(broken, 'socket_filter.o'))).toThrow(
      new BtfError('socket_filter.o', 'type 1 has unknown kind 25', { section: '.BTF', offset: section.offset + 28 }).message,
    );
  });

  test('cycles: resolve through modifiers, sizeOf through arrays, formatType', () => {
    const b = new BtfBuilder();
    b.add('a', BtfKind.TYPEDEF, 0, 2); // 1
    b.add('b', BtfKind.TYPEDEF, 0, 1); // 2
    b.add('int', BtfKind.INT, 0, 4, [32]); // 3
    b.add('', BtfKind.ARRAY, 0, 0, [4, 3, 2]); // 4: an array of itself
    b.add('', BtfKind.PTR, 0, 5); // 5: a pointer to itself
    const btf = parseBtf(b.build(), { file: 'cycle.btf' });
    expect(() => btf.resolve(1)).toThrow(/cycle/);
    expect(() => btf.sizeOf(1)).toThrow(BtfError);
    expect(() => btf.sizeOf(4)).toThrow(/contains itself/);
    expect(btf.sizeOf(5)).toBe(8);
    expect(() => formatType(btf, 5)).toThrow(BtfError);
    expect(formatType(btf, 1)).toBe('a');
  });

  test('long chains and cycles through prototypes neither recurse without bound nor exhaust the stack', () => {
    const b = new BtfBuilder();
    b.add('int', BtfKind.INT, 0, 4, [32]); // 1
    for (let id = 2; id <= 100_000; id++) b.add('', BtfKind.CONST, 0, id - 1);
    b.add('', BtfKind.PTR, 0, 100_002); // 100001: a pointer to a prototype whose parameter is that pointer
    b.add('', BtfKind.FUNC_PROTO, 1, 1, [b.str('f'), 100_001]); // 100002
    const btf = parseBtf(b.build(), { file: 'deep.btf' });
    expect(btf.sizeOf(100_000)).toBe(4);
    expect(btf.resolve(100_000)).toBe(1);
    expect(() => formatType(btf, 100_000)).toThrow(/too deeply nested/);
    expect(() => formatType(btf, 100_001)).toThrow(/too deeply nested/);
  });
});

/** Byte offset of the size/type word of the FUNC 'handler' (type 15) in everyKind(). */
function patchOffsetOfFunc(blob: Uint8Array): number {
  const btf = parseBtf(blob);
  return btf.type(15).at + 8;
}


/** Everything a later stage may ask of a parsed blob; only BtfError may come out. */
function exercise(btf: Btf): void {
  dumpBtf(btf);
  for (const t of btf.types) {
    if (!t) continue;
    for (const step of [() => btf.resolve(t.id), () => btf.sizeOf(t.id), () => formatType(btf, t.id, 'x')]) {
      try {
        step();
      } catch (err) {
        if (!(err instanceof BtfError)) throw err;
      }
    }
    if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) {
      for (const m of t.members) {
        try {
          btf.memberOffset(t.id, [m.name === '' ? 'x' : m.name, 0]);
        } catch (err) {
          if (!(err instanceof BtfError)) throw err;
        }
      }
    }
  }
}

const FUZZ_SEED = 0xb7f_5eed;
const FUZZ_CASES = 3000;

test(`${FUZZ_CASES} mutated or truncated .BTF sections throw only BtfError`, () => {
  const blobs = [
    { name: 'every.btf', bytes: everyKind() },
    ...goldens.map((g) => {
      const object = g.replace(/\.btf$/, '.o');
      return { name: object, bytes: sectionByName(load(object), '.BTF')!.data.slice() };
    }),
  ];
  const random = prng(FUZZ_SEED);
  const pick = (n: number) => Math.floor(random() * n);
  const interesting = [0, 1, 2, 3, 4, 8, 12, 16, 19, 20, 24, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
  const failures: string[] = [];
  let rejected = 0;
  for (let i = 0; i < FUZZ_CASES; i++) {
    const blob = blobs[pick(blobs.length)]!;
    let bytes: Uint8Array;
    let how: string;
    const kind = random();
    if (kind < 0.15) {
      const length = pick(blob.bytes.length);
      bytes = blob.bytes.slice(0, length);
      how = `truncate to ${length}`;
    } else {
      bytes = blob.bytes.slice();
      const view = new DataView(bytes.buffer);
      const hows: string[] = [];
      for (let n = 1 + pick(3); n > 0; n--) {
        const at = pick(bytes.length >> 2) * 4;
        if (kind < 0.35) {
          bytes[at + pick(4)] = pick(256);
          hows.push(`byte near ${at}`);
        } else {
          // Words are where the structure is: header fields, info words, sizes, type ids, offsets.
          const value = random() < 0.7 ? interesting[pick(interesting.length)]! : (pick(1 << 16) << 16 | pick(1 << 16)) >>> 0;
          const info = random() < 0.5 ? ((pick(21) << 24) | pick(4)) >>> 0 : value;
          view.setUint32(at, random() < 0.3 ? info : value, true);
          hows.push(`u32@${at}=0x${view.getUint32(at, true).toString(16)}`);
        }
      }
      how = hows.join(', ');
    }
    try {
      exercise(parseBtf(bytes, { file: blob.name }));
    } catch (err) {
      if (err instanceof BpfError) rejected++;
      else failures.push(`case ${i} (${blob.name}: ${how}): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }
  expect(failures.slice(0, 10)).toEqual([]);
  expect(rejected).toBeGreaterThan(FUZZ_CASES / 4);
});
