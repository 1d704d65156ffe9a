// loader/btf-value.ts: JS values to BTF-described bytes and back, on the committed fixtures' map
// types (as bpftool's JSON shows them) and on builder-made types for the kinds the fixtures lack
// (bitfields, enums, unions, floats, pointers, modifiers), with every encoding error naming path and type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadObjectSpec, type ObjectSpec } from '../../loader/object.js';
import { BtfBuilder } from '../../loader/btf-builder.js';
import { BtfKind } from '../../loader/btf-types.js';
import { btfTypeName, BtfValueError, decodeBtfValue, encodeBtfValue, type BtfValueOptions } from '../../loader/btf-value.js';
import type { Btf } from '../../loader/btf.js';
import { PROJECT_ROOT } from '../support/suite.js';

const specs = new Map<string, ObjectSpec>();
function fixture(name: string): ObjectSpec {
  let spec = specs.get(name);
  if (!spec) {
    spec = loadObjectSpec(new Uint8Array(readFileSync(join(PROJECT_ROOT, 'tests', 'fixtures', name))), name);
    specs.set(name, spec);
  }
  return spec;
}

/** The BTF and type id of `map:key`, `map:value` or a type name in a fixture. */
function typeIn(object: string, what: string): { btf: Btf; id: number } {
  const spec = fixture(object);
  const btf = spec.btf!;
  const [mapName, side] = what.split(':');
  if (side !== undefined) {
    const def = spec.maps.find((m) => m.name === mapName)!;
    const id = side === 'key' ? def.keyType : def.valueType;
    expect(id, `${object} ${what} has a BTF type`).toBeDefined();
    return { btf, id: id! };
  }
  return { btf, id: btf.find(what)!.id };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const unhex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

describe('fixture types encode to the bytes the C program uses and decode as bpftool shows them', () => {
  test.for([
    {
      name: 'port_key: __be16 in network byte order',
      object: 'xdp_firewall.o', type: 'denied_ports:key',
      value: { proto: 6, port: 80 }, bytes: '06000050', decoded: { proto: 6, pad: 0, port: 80 },
    },
    {
      name: 'port_key with networkByteOrder off: the little-endian reading, as bpftool prints',
      object: 'xdp_firewall.o', type: 'denied_ports:key', options: { networkByteOrder: false },
      value: { proto: 17, port: 0x3500 }, bytes: '11000035', decoded: { proto: 17, pad: 0, port: 0x3500 },
    },
    {
      name: 'lpm_v4_key: a __u8 array is numbers, not a string',
      object: 'xdp_firewall.o', type: 'blocked_v4:key',
      value: { prefixlen: 24, addr: [192, 0, 2, 0] }, bytes: '18000000c0000200', decoded: { prefixlen: 24, addr: [192, 0, 2, 0] },
    },
    {
      name: 'lpm_v6_key: missing elements are zero',
      object: 'xdp_firewall.o', type: 'blocked_v6:key',
      value: { prefixlen: 32, addr: [0x20, 0x01, 0x0d, 0xb8] }, bytes: `20000000${'20010db8'}${'00'.repeat(12)}`,
      decoded: { prefixlen: 32, addr: [0x20, 0x01, 0x0d, 0xb8, ...new Array(12).fill(0)] },
    },
    {
      name: 'lpm_v4_key: missing members are zero',
      object: 'xdp_firewall.o', type: 'blocked_v4:key',
      value: {}, bytes: '0000000000000000', decoded: { prefixlen: 0, addr: [0, 0, 0, 0] },
    },
    {
      name: '__u64 below 2^53 is a number',
      object: 'xdp_firewall.o', type: 'verdicts:value',
      value: 2 ** 53 - 1, bytes: 'ffffffffffff1f00', decoded: 2 ** 53 - 1,
    },
    {
      name: '__u64 beyond 2^53 is a bigint',
      object: 'xdp_firewall.o', type: 'verdicts:value',
      value: 2n ** 64n - 1n, bytes: 'ffffffffffffffff', decoded: 18446744073709551615n,
    },
    {
      name: "__u64 beyond 2^53 with bigint: 'string' is a decimal string, and strings encode",
      object: 'xdp_firewall.o', type: 'verdicts:value', options: { bigint: 'string' as const },
      value: '0x20000000000001', bytes: '0100000000002000', decoded: '9007199254740993',
    },
    {
      name: 'task_info: a char array is a string, an int is signed, an unsigned long a number',
      object: 'core_read.o', type: 'tasks:value',
      value: { pid: -5, ppid: 1, flags: 0x400100, total_vm: 4096, comm: 'bash', mm_size: 16 },
      bytes: `fbffffff${'01000000'}${'00000000'}${'00014000'}${'0010000000000000'}${'62617368'}${'00'.repeat(12)}${'00000000'}${'10000000'}${'00000000'}${'00000000'}`,
      decoded: { pid: -5, ppid: 1, gppid: 0, flags: 0x400100, total_vm: 4096, comm: 'bash', has_missing_field: 0, mm_size: 16, pgid_value: 0 },
    },
    {
      name: 'task_info: an empty string is the empty string',
      object: 'core_read.o', type: 'task_info',
      value: { comm: '' }, bytes: '00'.repeat(56),
      decoded: { pid: 0, ppid: 0, gppid: 0, flags: 0, total_vm: 0, comm: '', has_missing_field: 0, mm_size: 0, pgid_value: 0 },
    },
    {
      name: 'bucket: the bpf_spin_lock is left out',
      object: 'spin_lock.o', type: 'buckets:value',
      value: { tokens: 65536, last_refill_ns: 1000, passed: 3, dropped: 1 },
      bytes: `00000000${'00000100'}${'e803000000000000'}${'0300000000000000'}${'0100000000000000'}`,
      decoded: { tokens: 65536, last_refill_ns: 1000, passed: 3, dropped: 1 },
    },
    {
      name: "bucket: a zero spin lock in bpftool's shape is accepted",
      object: 'spin_lock.o', type: 'bucket',
      value: { lock: { val: 0 }, tokens: 1 }, bytes: `0000000001000000${'00'.repeat(24)}`,
      decoded: { tokens: 1, last_refill_ns: 0, passed: 0, dropped: 0 },
    },
    {
      name: 'counters of the per-CPU maps',
      object: 'percpu_counter.o', type: 'by_protocol:value',
      value: { packets: 2, bytes: 3000, last_cpu: 1, max_len: 1500 }, bytes: '0200000000000000b80b000000000000' + '01000000dc050000',
      decoded: { packets: 2, bytes: 3000, last_cpu: 1, max_len: 1500 },
    },
    {
      name: '__u32 key',
      object: 'percpu_counter.o', type: 'by_ifindex:key',
      value: 4294967295, bytes: 'ffffffff', decoded: 4294967295,
    },
  ])('$name', ({ object, type, value, bytes, decoded, options }) => {
    const { btf, id } = typeIn(object, type);
    const opts: BtfValueOptions = options ?? {};
    const encoded = encodeBtfValue(btf, id, value, opts);
    expect(hex(encoded)).toBe(bytes);
    expect(decodeBtfValue(btf, id, encoded, opts)).toEqual(decoded);
    // What decoding gives encodes to the same bytes again.
    expect(hex(encodeBtfValue(btf, id, decoded, opts))).toBe(hex(encoded));
  });

  test('a char array that is not a printable C string decodes to numbers, as bpftool does', () => {
    const { btf, id } = typeIn('core_read.o', 'task_info');
    const comm = (bytes: number[]) => {
      const raw = new Uint8Array(56);
      raw.set(bytes, 24);
      return (decodeBtfValue(btf, id, raw) as { comm: unknown }).comm;
    };
    expect(comm(new Array(16).fill(0x61))).toEqual(new Array(16).fill(0x61)); // no NUL within the array
    expect(comm([0x61, 0x09, 0x62])).toEqual([0x61, 9, 0x62, ...new Array(13).fill(0)]); // a tab
    expect(comm([0xff, 0x41])).toEqual([-1, 0x41, ...new Array(14).fill(0)]); // not UTF-8; char is signed
    expect(comm([0xc3, 0xa9, 0x74, 0xc3, 0xa9])).toBe('été'); // UTF-8 (bpftool would print numbers)
    expect(comm([0x6f, 0x6b, 0, 0x7a])).toBe('ok'); // bytes after the NUL are not part of the value
  });

  test('anonymous unions of __sk_buff are reached by their members\' names, as in C', () => {
    const { btf, id } = typeIn('spin_lock.o', '__sk_buff');
    const bytes = encodeBtfValue(btf, id, { len: 100, protocol: 0x0008, sk: 0x1000, flow_keys: 0x2000, cb: [1, 2] });
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(100);
    expect(view.getBigUint64(btf.memberOffset(id, 'sk')!.bitOffset / 8, true)).toBe(0x1000n);
    expect(view.getBigUint64(btf.memberOffset(id, 'flow_keys')!.bitOffset / 8, true)).toBe(0x2000n);
    const decoded = decodeBtfValue(btf, id, bytes) as Record<string, unknown>;
    expect(decoded).toMatchObject({ len: 100, protocol: 8, sk: 0x1000, flow_keys: 0x2000, cb: [1, 2, 0, 0, 0] });
    expect(Object.keys(decoded)).not.toContain('');
  });

  test('a Uint8Array of the right size is raw bytes, at the top and for a member', () => {
    const { btf, id } = typeIn('xdp_firewall.o', 'lpm_v4_key');
    expect(hex(encodeBtfValue(btf, id, unhex('2000000001020304')))).toBe('2000000001020304');
    expect(hex(encodeBtfValue(btf, id, { prefixlen: 8, addr: Uint8Array.of(10, 0, 0, 0) }))).toBe('080000000a000000');
  });

  test('addresses may be written as text: an IPv4 string for a __be32, an IPv4 or IPv6 string for a byte array of 4 or 16', () => {
    const v4 = typeIn('xdp_firewall.o', 'lpm_v4_key');
    expect(hex(encodeBtfValue(v4.btf, v4.id, { prefixlen: 24, addr: '10.1.2.0' }))).toBe('180000000a010200');
    const v6 = typeIn('xdp_firewall.o', 'lpm_v6_key');
    expect(hex(encodeBtfValue(v6.btf, v6.id, { prefixlen: 128, addr: '2001:db8::ff:1.2.3.4' }))).toBe('8000000020010db800000000000000ff01020304');
    expect(() => encodeBtfValue(v6.btf, v6.id, { prefixlen: 128, addr: '10.0.0.1' })).toThrow("value.addr: '10.0.0.1' is not an IPv6 address for __u8[16]");
    expect(() => encodeBtfValue(v4.btf, v4.id, { prefixlen: 8, addr: '1::2::3' })).toThrow(/is not an IPv4 address/);
    const nat = typeIn('tc_nat.o', 'nat_table:key');
    expect(hex(encodeBtfValue(nat.btf, nat.id, { addr: '192.168.1.2', port: 53, proto: 17 }))).toBe('c0a801020035' + '1100');
    // They decode as bpftool prints them: numbers.
    const nat2 = typeIn('tc_nat.o', 'nat_table:value');
    expect(hex(encodeBtfValue(nat2.btf, nat2.id, { addr: '10.0.0.2', port: 80, mac: '02:aa:bb:cc:dd:0e', ifindex: 3 }))).toBe('0a000002005002aabbccdd0e03000000');
    expect(decodeBtfValue(v4.btf, v4.id, unhex('180000000a010200'))).toEqual({ prefixlen: 24, addr: [10, 1, 2, 0] });
  });
});

/** BTF for the kinds and layouts the fixtures do not have. */
function edgeBtf() {
  const b = new BtfBuilder();
  const u8 = b.int('unsigned char', 1);
  const s8 = b.int('signed char', 1, { signed: true });
  const u16 = b.int('unsigned short', 2);
  const s16 = b.int('short', 2, { signed: true });
  const u32 = b.int('unsigned int', 4);
  const s32 = b.int('int', 4, { signed: true });
  const u64 = b.int('unsigned long long', 8);
  const s64 = b.int('long long', 8, { signed: true });
  const u128 = b.int('unsigned __int128', 16);
  const bool = b.int('_Bool', 1, { bool: true });
  const char = b.int('char', 1, { signed: true });
  const charEnc = b.int('uchar_t', 1, { char: true });
  const color = b.enum('color', [['RED', 0], ['GREEN', 1], ['BLUE', 2]]);
  const sign = b.enum('sign', [['NEG', -1], ['ZERO', 0]], { size: 1 });
  const big = b.enum64('big', [['HUGE', 1n << 60n], ['SMALL', 5n]]);
  const half = b.float('_Float16', 2);
  const float = b.float('float', 4);
  const double = b.float('double', 8);
  const longDouble = b.float('long double', 16);
  const be32 = b.typedef('__be32', u32);
  const be64 = b.typedef('__be64', u64);
  const constU16 = b.const(b.volatile(b.typeTag('user', b.typedef('u16_t', u16))));
  const bits = b.struct('bits', [
    { name: 'a', type: u32, bitfieldSize: 3 },
    { name: 'b', type: s32, bitfieldSize: 5 },
    { name: 'c', type: color, bitfieldSize: 2 },
    { name: 'flag', type: bool, bitfieldSize: 1 },
    { name: 'wide', type: u64, bitfieldSize: 60 },
  ]);
  // An old-style bitfield: no kind_flag; the INT itself holds 4 bits at bit 2 of a byte.
  const nibble = b.add({ kind: BtfKind.INT, name: 'nibble', size: 1, encoding: 0, bitOffset: 2, bits: 4 });
  const oldStyle = b.struct('old_style', [{ name: 'n', type: nibble, bitOffset: 8 }], { size: 2 });
  const inner = b.union('', [{ name: 'word', type: u32 }, { name: 'bytes', type: b.array(u8, 4) }]);
  const flat = b.struct('flat', [
    { name: 'first', type: u16 },
    { name: '', type: b.struct('', [{ name: 'x', type: u16 }, { name: '', type: inner }]) },
  ]);
  const numbers = b.union('numbers', [{ name: 'u', type: u64 }, { name: 'lo', type: u32 }, { name: 'f', type: double }]);
  const matrix = b.array(b.array(s16, 3), 2);
  const ptr = b.ptr(flat);
  const all = b.struct('all', [
    { name: 'u8', type: u8 }, { name: 's8', type: s8 }, { name: 'u16', type: u16 }, { name: 's16', type: s16 },
    { name: 'u32', type: u32 }, { name: 's32', type: s32 }, { name: 'u64', type: u64 }, { name: 's64', type: s64 },
    { name: 'ok', type: bool }, { name: 'ch', type: char }, { name: 'color', type: color }, { name: 'sign', type: sign },
    { name: 'big', type: big }, { name: 'half', type: half }, { name: 'float', type: float }, { name: 'double', type: double },
    { name: 'addr', type: be32 }, { name: 'seq', type: be64 }, { name: 'tagged', type: constU16 }, { name: 'ptr', type: ptr },
    { name: 'name', type: b.array(b.const(char), 8) }, { name: 'tag', type: b.array(charEnc, 4) }, { name: 'matrix', type: matrix },
  ]);
  const btf = b.build();
  return { btf, ids: { u8, s8, u16, s16, u32, s32, u64, s64, u128, bool, char, color, sign, big, half, float, double, longDouble, be32, be64, constU16, bits, oldStyle, flat, numbers, matrix, ptr, all } };
}

describe('every kind, on built BTF', () => {
  const { btf, ids } = edgeBtf();

  test.for([
    { name: 'u8 max', type: 'u8', value: 255, bytes: 'ff', decoded: 255 },
    { name: 's8 min', type: 's8', value: -128, bytes: '80', decoded: -128 },
    { name: 'u16', type: 'u16', value: 0x1234, bytes: '3412', decoded: 0x1234 },
    { name: 's16 -2', type: 's16', value: -2, bytes: 'feff', decoded: -2 },
    { name: 'u32 from a hex string', type: 'u32', value: '0xdeadbeef', bytes: 'efbeadde', decoded: 0xdeadbeef },
    { name: 's32 min', type: 's32', value: -(2 ** 31), bytes: '00000080', decoded: -(2 ** 31) },
    { name: 's64 min is a bigint', type: 's64', value: -(2n ** 63n), bytes: '0000000000000080', decoded: -(2n ** 63n) },
    { name: 's64 -2^53+1 is a number', type: 's64', value: -(2 ** 53) + 1, bytes: '010000000000e0ff', decoded: -(2 ** 53) + 1 },
    { name: 'u128', type: 'u128', value: 2n ** 100n, bytes: `${'00'.repeat(12)}10000000`, decoded: 2n ** 100n },
    { name: 'bool true', type: 'bool', value: true, bytes: '01', decoded: true },
    { name: 'bool from 0', type: 'bool', value: 0, bytes: '00', decoded: false },
    { name: 'a lone char is a number, and takes a one-character string', type: 'char', value: 'A', bytes: '41', decoded: 65 },
    { name: 'enum by name', type: 'color', value: 'BLUE', bytes: '02000000', decoded: 'BLUE' },
    { name: 'enum by number, no enumerator', type: 'color', value: 7, bytes: '07000000', decoded: 7 },
    { name: 'signed 1-byte enum', type: 'sign', value: 'NEG', bytes: 'ff', decoded: 'NEG' },
    { name: 'enum64 by name', type: 'big', value: 'HUGE', bytes: '0000000000000010', decoded: 'HUGE' },
    { name: 'enum64 by bigint', type: 'big', value: 5n, bytes: '0500000000000000', decoded: 'SMALL' },
    { name: 'half float', type: 'half', value: 1.5, bytes: '003e', decoded: 1.5 },
    { name: 'half float rounds to nearest even', type: 'half', value: 2049, bytes: '0068', decoded: 2048 },
    { name: 'half float subnormal', type: 'half', value: 2 ** -24, bytes: '0100', decoded: 2 ** -24 },
    { name: 'float', type: 'float', value: 0.5, bytes: '0000003f', decoded: 0.5 },
    { name: 'double', type: 'double', value: -2.25, bytes: '00000000000002c0', decoded: -2.25 },
    { name: '__be32 is big-endian', type: 'be32', value: 0x0a000001, bytes: '0a000001', decoded: 0x0a000001 },
    { name: '__be64 is big-endian', type: 'be64', value: 2n ** 63n, bytes: '8000000000000000', decoded: 2n ** 63n },
    { name: 'const volatile type_tag typedef are followed', type: 'constU16', value: 7, bytes: '0700', decoded: 7 },
    { name: 'a pointer is a number', type: 'ptr', value: 0x1000, bytes: '0010000000000000', decoded: 0x1000 },
    { name: 'nested arrays', type: 'matrix', value: [[1, -1], [0, 0, 3]], bytes: '0100ffff0000' + '000000000300', decoded: [[1, -1, 0], [0, 0, 3]] },
    {
      name: 'kind_flag bitfields: unsigned, sign-extended, enum and bool', type: 'bits',
      value: { a: 5, b: -3, c: 'GREEN', flag: true, wide: 2n ** 59n + 1n },
      // a=5 (3 bits) | b=-3 as 11101 << 3 | c=1 << 8 | flag << 10; wide is in the next 8 bytes.
      bytes: 'ed05000000000000' + '0100000000000008', decoded: { a: 5, b: -3, c: 'GREEN', flag: true, wide: 2n ** 59n + 1n },
    },
    { name: 'an old-style INT bitfield (bits and offset in the INT)', type: 'oldStyle', value: { n: 9 }, bytes: '0024', decoded: { n: 9 } },
    {
      name: 'anonymous struct and union members are flattened', type: 'flat',
      value: { first: 1, x: 2, word: 0x04030201 }, bytes: '010000000200000001020304',
      decoded: { first: 1, x: 2, word: 0x04030201, bytes: [1, 2, 3, 4] },
    },
    {
      name: 'union members that agree on their bytes', type: 'numbers',
      value: { u: 0x100000002n, lo: 2 }, bytes: '0200000001000000',
      decoded: { u: 0x100000002, lo: 2, f: new DataView(Uint8Array.of(2, 0, 0, 0, 1, 0, 0, 0).buffer).getFloat64(0, true) },
    },
  ])('$name', ({ type, value, bytes, decoded }) => {
    const id = ids[type as keyof typeof ids];
    const encoded = encodeBtfValue(btf, id, value);
    expect(hex(encoded)).toBe(bytes);
    expect(decodeBtfValue(btf, id, encoded)).toEqual(decoded);
  });

  test('a struct of every kind round-trips through JSON with bigint: string', () => {
    const value = {
      u8: 1, s8: -1, u16: 2, s16: -2, u32: 3, s32: -3, u64: '18446744073709551615', s64: '-9223372036854775808',
      ok: true, ch: 97, color: 'GREEN', sign: 'ZERO', big: 'HUGE', half: 0.25, float: 1.5, double: Math.PI,
      addr: 0xc0000201, seq: 42, tagged: 9, ptr: 4096, name: 'eth0', tag: 'ab', matrix: [[1, 2, 3], [4, 5, 6]],
    };
    const options = { bigint: 'string' as const };
    const bytes = encodeBtfValue(btf, ids.all, value, options);
    expect(bytes.length).toBe(btf.sizeOf(ids.all));
    const decoded = decodeBtfValue(btf, ids.all, bytes, options);
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(value);
    expect(encodeBtfValue(btf, ids.all, JSON.parse(JSON.stringify(decoded)), options)).toEqual(bytes);
  });

  test('type names are spelled as in C', () => {
    expect(btfTypeName(btf, ids.matrix)).toBe('short[2][3]');
    expect(btfTypeName(btf, ids.constU16)).toBe('const volatile u16_t');
    expect(btfTypeName(btf, ids.ptr)).toBe('struct flat *');
    expect(btfTypeName(btf, ids.color)).toBe('enum color');
  });
});

describe('encoding errors name the path, the type and the problem', () => {
  const { btf, ids } = edgeBtf();
  const firewall = typeIn('xdp_firewall.o', 'port_key');
  const task = typeIn('core_read.o', 'task_info');
  const bucket = typeIn('spin_lock.o', 'bucket');

  test.for([
    { name: 'unknown member', at: firewall, value: { proto: 6, prot: 1 }, problem: 'unknown-member', message: "key.prot: struct port_key has no member 'prot' (it has proto, pad, port)" },
    { name: 'unknown member of a flattened struct lists the flattened names', at: { btf, id: ids.flat }, value: { y: 1 }, problem: 'unknown-member', message: "key.y: struct flat has no member 'y' (it has first, x, word, bytes)" },
    { name: 'value out of range', at: firewall, value: { port: 65536 }, problem: 'out-of-range', message: 'key.port: 65536 is out of range for __be16 (0..65535)' },
    { name: 'negative for unsigned', at: firewall, value: { proto: -1 }, problem: 'out-of-range', message: 'key.proto: -1 is out of range for __u8 (0..255)' },
    { name: 'bitfield out of range', at: { btf, id: ids.bits }, value: { b: 16 }, problem: 'out-of-range', message: 'key.b: 16 is out of range for int:5 (-16..15)' },
    { name: 'wrong JS type for an int', at: firewall, value: { proto: 'tcp' }, problem: 'wrong-type', message: "key.proto: __u8 takes an integer, not the string 'tcp'" },
    { name: 'a fraction', at: firewall, value: { port: 80.5 }, problem: 'wrong-type', message: 'key.port: __be16 takes an integer, not 80.5' },
    { name: 'an unsafe number', at: { btf, id: ids.u64 }, value: 2 ** 60, problem: 'wrong-type', message: /key: 1152921504606847000 is beyond 2\^53 .* give unsigned long long a bigint/ },
    { name: 'a struct given a number', at: firewall, value: 5, problem: 'wrong-type', message: 'key: struct port_key takes an object, not number 5' },
    { name: 'an array given an object', at: task, value: { comm: { a: 1 } }, problem: 'wrong-type', message: 'key.comm: char[16] takes a string or an array, not an object' },
    { name: 'a string for a non-char array', at: typeIn('xdp_firewall.o', 'lpm_v4_key'), value: { addr: 'ten' }, problem: 'wrong-type', message: "key.addr: __u8[4] takes an array, not the string 'ten'" },
    { name: 'too-long string', at: task, value: { comm: 'a-very-long-name!' }, problem: 'too-long', message: 'key.comm: the string is 17 bytes, but char[16] holds at most 15 and its NUL' },
    { name: 'a string with a NUL', at: task, value: { comm: 'a\0b' }, problem: 'wrong-type', message: /key\.comm: a string for char\[16\] must not hold NUL/ },
    { name: 'too many elements', at: task, value: { comm: new Array(17).fill(1) }, problem: 'too-long', message: 'key.comm: 17 elements do not fit char[16]' },
    { name: 'an element out of range names its index', at: typeIn('xdp_firewall.o', 'lpm_v4_key'), value: { addr: [1, 2, 256] }, problem: 'out-of-range', message: 'key.addr[2]: 256 is out of range for __u8 (0..255)' },
    { name: 'unknown enumerator', at: { btf, id: ids.color }, value: 'PURPLE', problem: 'unknown-enumerator', message: "key: enum color has no enumerator 'PURPLE' (it has RED, GREEN, BLUE)" },
    { name: 'enum number out of range', at: { btf, id: ids.sign }, value: 200, problem: 'out-of-range', message: 'key: 200 is out of range for enum sign (-128..127)' },
    { name: 'raw bytes of the wrong size', at: firewall, value: new Uint8Array(3), problem: 'bad-size', message: 'key: struct port_key is 4 bytes, got 3' },
    { name: 'a set spin lock', at: bucket, value: { lock: { val: 1 } }, problem: 'out-of-range', message: 'key.lock: struct bpf_spin_lock belongs to the kernel and cannot be set from JS (leave it out or give 0)' },
    { name: 'a float given a string', at: { btf, id: ids.float }, value: '1.5', problem: 'wrong-type', message: "key: float takes a number, not the string '1.5'" },
    { name: 'a float overflowing', at: { btf, id: ids.half }, value: 70000, problem: 'out-of-range', message: 'key: 70000 is out of range for _Float16' },
    { name: 'a bool given a string', at: { btf, id: ids.bool }, value: 'yes', problem: 'wrong-type', message: "key: _Bool takes a boolean, not the string 'yes'" },
    { name: 'union members that disagree', at: { btf, id: ids.numbers }, value: { u: 1, lo: 2 }, problem: 'conflict', message: 'key.lo: conflicts with key.u, which shares its bytes and gives them another value' },
    { name: 'unsupported float size', at: { btf, id: ids.longDouble }, value: 1, problem: 'unsupported', message: 'key: long double: 16-byte floats are not supported' },
  ])('$name', ({ at, value, problem, message }) => {
    let error: unknown;
    try {
      encodeBtfValue(at.btf, at.id, value, { path: 'key' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BtfValueError);
    const e = error as BtfValueError;
    expect(e.problem).toBe(problem);
    expect(e.code).toBe(`btf-value-${problem}`);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  test('decoding checks the size and refuses types without a value', () => {
    const { btf: b2, id } = firewall;
    expect(() => decodeBtfValue(b2, id, new Uint8Array(5), { path: 'key' })).toThrow('key: struct port_key is 4 bytes, got 5');
    const b = new BtfBuilder();
    const fwd = b.fwd('opaque');
    const built = b.build();
    expect(() => decodeBtfValue(built, fwd, new Uint8Array(0))).toThrow(BtfValueError);
    expect(() => encodeBtfValue(built, fwd, {})).toThrow(/struct opaque has no size/);
  });
});

describe('round trips over random bytes of every fixture map type', () => {
  /** Deterministic bytes (xorshift32). */
  function randomBytes(n: number, seed: number): Uint8Array {
    let s = seed >>> 0 || 1;
    return Uint8Array.from({ length: n }, () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>>= 0) & 0xff;
    });
  }

  const cases = ['xdp_firewall.o', 'core_read.o', 'spin_lock.o', 'percpu_counter.o'].flatMap((object) =>
    fixture(object).maps.flatMap((m) => [
      ...(m.keyType !== undefined ? [{ object, what: `${m.name}:key` }] : []),
      ...(m.valueType !== undefined ? [{ object, what: `${m.name}:value` }] : []),
    ]));

  test('there are map types to round-trip', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  test.for(cases)('$object $what: decode, encode, decode gives the same value', ({ object, what }) => {
    const { btf, id } = typeIn(object, what);
    for (let seed = 1; seed <= 20; seed++) {
      const bytes = randomBytes(btf.sizeOf(id), seed * 7919);
      const value = decodeBtfValue(btf, id, bytes);
      const again = encodeBtfValue(btf, id, value);
      expect(decodeBtfValue(btf, id, again)).toEqual(value);
      // Types without padding, strings or kernel fields come back byte for byte.
      if (what !== 'tasks:value' && what !== 'buckets:value') expect(hex(again)).toBe(hex(bytes));
    }
  });
});
