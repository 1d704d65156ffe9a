// DEVMAP, DEVMAP_HASH and CPUMAP: value rules and errnos of their updates, deletes, program ids read
// back on lookup, targets for bpf_redirect_map, and creation checks.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, CpumapMap, createMap, DevmapHashMap, DevmapMap, Errno, MapOpError, MapType, type MapSpec } from '../../maps/index.js';
import { readU32, u32, errnoOf } from './support.js';

const egress = { name: 'egress prog' };
const options = { cpus: 4, netdevExists: (i: number) => i === 1 || i === 2, resolveProgram: (id: number) => (id === 5 ? egress : undefined) };
/** An 8-byte bpf_devmap_val / bpf_cpumap_val: the first u32 and a program id (0: none). */
const val = (first: number, prog = 0) => {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, first, true);
  v.setInt32(4, prog, true);
  return b;
};
const make = (type: number, valueSize = 8, extra: Partial<MapSpec> = {}) => {
  const memory = new GuestMemory();
  const map = createMap(memory, { type, name: 'tx', keySize: 4, valueSize, maxEntries: 4, ...extra }, options);
  const stack = memory.allocate(64, 'stack').start;
  return { memory, map, stack };
};

describe('devmap', () => {
  test.for([
    { what: 'an existing interface', key: 0, value: val(1), flags: BPF_ANY, errno: 0 },
    { what: 'an interface with a program', key: 0, value: val(2, 5), flags: BPF_ANY, errno: 0 },
    { what: 'no program (fd -1)', key: 0, value: val(2, -1), flags: BPF_ANY, errno: 0 },
    { what: 'an unknown interface', key: 0, value: val(9), flags: BPF_ANY, errno: Errno.EINVAL },
    { what: 'an unknown program', key: 0, value: val(1, 6), flags: BPF_ANY, errno: Errno.EINVAL },
    { what: 'ifindex 0 with a program', key: 0, value: val(0, 5), flags: BPF_ANY, errno: Errno.EINVAL },
    { what: 'BPF_NOEXIST', key: 0, value: val(1), flags: BPF_NOEXIST, errno: Errno.EEXIST },
    { what: 'BPF_EXIST', key: 0, value: val(1), flags: BPF_EXIST, errno: 0 },
    { what: 'an index past the end', key: 4, value: val(1), flags: BPF_ANY, errno: Errno.E2BIG },
  ])('update with $what -> errno $errno', ({ key, value, flags, errno }) => {
    const { map } = make(MapType.DEVMAP);
    expect(errnoOf(() => map.update(u32(key), value, flags))).toBe(errno);
  });

  test('targets for redirect, program ids on lookup, ifindex 0 and delete empty a slot', () => {
    const { map, memory, stack } = make(MapType.DEVMAP);
    const dev = map as DevmapMap;
    map.update(u32(1), val(2, 5));
    expect(dev.targetAt(1)).toEqual({ first: 2, program: egress });
    expect(dev.targetAt(0)).toBeUndefined();
    expect(dev.targetAt(99)).toBeUndefined();
    expect([...map.lookup(u32(1))!]).toEqual([...val(2, 5)]);
    memory.view.setUint32(stack, 1, true);
    const addr = map.lookupAddress(stack);
    expect(memory.view.getUint32(addr, true)).toBe(2);
    map.update(u32(1), val(0));
    expect(dev.targetAt(1)).toBeUndefined();
    expect(map.size).toBe(0);
    map.update(u32(2), val(1));
    expect(map.delete(u32(2))).toBe(true);
    expect(map.delete(u32(2))).toBe(true); // deleting an empty slot succeeds, as in Linux
    expect(() => map.delete(u32(4))).toThrow(/EINVAL/);
  });

  test('a 4-byte value holds only the ifindex; programs cannot update', () => {
    const { map, memory, stack } = make(MapType.DEVMAP, 4);
    map.update(u32(0), u32(1));
    expect((map as DevmapMap).targetAt(0)).toEqual({ first: 1, program: undefined });
    memory.view.setUint32(stack, 0, true);
    memory.view.setUint32(stack + 4, 2, true);
    expect(map.updateAt(stack, stack + 4, BPF_ANY, 0)).toBe(-Errno.EINVAL);
  });
});

describe('devmap_hash', () => {
  test.for([
    { what: 'a new key', present: false, value: val(1), flags: BPF_ANY, errno: 0 },
    { what: 'BPF_EXIST on a missing key (not enforced)', present: false, value: val(1), flags: BPF_EXIST, errno: 0 },
    { what: 'BPF_NOEXIST on a present key', present: true, value: val(1), flags: BPF_NOEXIST, errno: Errno.EEXIST },
    { what: 'ifindex 0', present: false, value: val(0), flags: BPF_ANY, errno: Errno.EINVAL },
    { what: 'an unknown interface', present: false, value: val(7), flags: BPF_ANY, errno: Errno.EINVAL },
    { what: 'unknown flags', present: false, value: val(1), flags: 4, errno: Errno.EINVAL },
  ])('update $what -> errno $errno', ({ present, value, flags, errno }) => {
    const { map } = make(MapType.DEVMAP_HASH);
    if (present) map.update(u32(1000), val(2));
    expect(errnoOf(() => map.update(u32(1000), value, flags))).toBe(errno);
  });

  test('sparse keys, targets with programs, -E2BIG when full, -ENOENT on a missing delete', () => {
    const { map } = make(MapType.DEVMAP_HASH);
    const dev = map as DevmapHashMap;
    map.update(u32(1_000_001), val(1, 5));
    expect(dev.targetAt(1_000_001)).toEqual({ first: 1, program: egress });
    expect(readU32(map.lookup(u32(1_000_001))!, 4)).toBe(5);
    for (const k of [1, 2, 3]) map.update(u32(k), val(2));
    expect(errnoOf(() => map.update(u32(9), val(2)))).toBe(Errno.E2BIG);
    expect(map.delete(u32(1_000_001))).toBe(true);
    expect(dev.targetAt(1_000_001)).toBeUndefined();
    expect(map.delete(u32(1_000_001))).toBe(false);
  });
});

describe('cpumap', () => {
  test.for([
    { what: 'a queue size', key: 1, value: val(192), flags: BPF_ANY, errno: 0 },
    { what: 'a queue size and a program', key: 1, value: val(192, 5), flags: BPF_ANY, errno: 0 },
    { what: 'an unknown program', key: 1, value: val(192, 6), flags: BPF_ANY, errno: Errno.ENOMEM },
    { what: 'a queue size over 16384', key: 1, value: val(16385), flags: BPF_ANY, errno: Errno.EOVERFLOW },
    { what: 'the last simulated CPU', key: 3, value: val(192), flags: BPF_ANY, errno: 0 },
    { what: 'BPF_NOEXIST', key: 1, value: val(192), flags: BPF_NOEXIST, errno: Errno.EEXIST },
    { what: 'an index past the end', key: 4, value: val(192), flags: BPF_ANY, errno: Errno.E2BIG },
  ])('update with $what -> errno $errno', ({ key, value, flags, errno }) => {
    const { map } = make(MapType.CPUMAP);
    expect(errnoOf(() => map.update(u32(key), value, flags))).toBe(errno);
  });

  test('a CPU index beyond the simulated CPUs is -ENODEV; qsize 0 empties the slot', () => {
    const memory = new GuestMemory();
    const map = createMap(memory, { type: MapType.CPUMAP, name: 'cpus', keySize: 4, valueSize: 8, maxEntries: 8 }, { cpus: 2 }) as CpumapMap;
    expect(errnoOf(() => map.update(u32(2), val(64)))).toBe(Errno.ENODEV);
    map.update(u32(1), val(64));
    expect(map.targetAt(1)).toEqual({ first: 64, program: undefined });
    map.update(u32(1), val(0));
    expect(map.targetAt(1)).toBeUndefined();
  });
});

test.for([
  { what: 'devmap value size 12', type: MapType.DEVMAP, spec: { valueSize: 12 }, errno: Errno.EINVAL },
  { what: 'devmap key size 8', type: MapType.DEVMAP, spec: { keySize: 8 }, errno: Errno.EINVAL },
  { what: 'devmap with BPF_F_NO_PREALLOC', type: MapType.DEVMAP, spec: { flags: 1 }, errno: Errno.EINVAL },
  { what: 'devmap_hash with BPF_F_RDONLY_PROG', type: MapType.DEVMAP_HASH, spec: { flags: 1 << 7 }, errno: Errno.EINVAL },
  { what: 'cpumap over NR_CPUS', type: MapType.CPUMAP, spec: { maxEntries: 8193 }, errno: Errno.E2BIG },
  { what: 'cpumap with BPF_F_RDONLY', type: MapType.CPUMAP, spec: { flags: 1 << 3 }, errno: Errno.EINVAL },
])('creation: $what -> errno $errno', ({ type, spec, errno }) => {
  let thrown: unknown;
  try {
    createMap(new GuestMemory(), { type, name: 'bad', keySize: 4, valueSize: 8, maxEntries: 4, ...spec });
  } catch (e) {
    thrown = e;
  }
  expect((thrown as MapOpError).errno).toBe(errno);
});
