// ARRAY and PERCPU_ARRAY: Linux's update flags and errnos, zero-initialised values, no deletes,
// get_next_key order, helper-path addresses in guest memory, per-CPU layout.
import { describe, expect, test } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, MapOpError, MapType } from '../../maps/index.js';
import { readU32, setup, u32, u64 } from './support.js';

const array = (maxEntries = 4, valueSize = 8) => setup({ type: MapType.ARRAY, name: 'arr', keySize: 4, valueSize, maxEntries });

describe('array', () => {
  test('values start zeroed and every index exists', () => {
    const { map } = array();
    expect(map.size).toBe(4);
    for (let i = 0; i < 4; i++) expect(map.lookup(u32(i))).toEqual(new Uint8Array(8));
    expect(map.lookup(u32(4))).toBeUndefined();
  });

  test.for([
    { flags: BPF_ANY, index: 1, errno: 0 },
    { flags: BPF_EXIST, index: 1, errno: 0 },
    { flags: BPF_NOEXIST, index: 1, errno: Errno.EEXIST },
    { flags: BPF_ANY, index: 4, errno: Errno.E2BIG },
    { flags: BPF_NOEXIST, index: 4, errno: Errno.E2BIG },
    { flags: 3, index: 1, errno: Errno.EINVAL },
    { flags: 8, index: 1, errno: Errno.EINVAL },
    { flags: BPF_F_LOCK, index: 1, errno: Errno.EINVAL },
  ])('update flags $flags at index $index -> errno $errno', ({ flags, index, errno }) => {
    const { map, put } = array();
    const key = put(u32(index), 0);
    const value = put(u64(0x1122), 8);
    expect(map.updateAt(key, value, flags)).toBe(errno ? -errno : 0);
    if (errno === 0) expect(map.lookup(u32(index))).toEqual(u64(0x1122));
    else {
      const thrown = (() => { try { map.update(u32(index), u64(1), flags); } catch (e) { return e; } })();
      expect(thrown).toBeInstanceOf(MapOpError);
      expect((thrown as MapOpError).errno).toBe(errno);
    }
  });

  test('delete is -EINVAL, from a program and from JS', () => {
    const { map, put } = array();
    expect(map.deleteAt(put(u32(0)))).toBe(-Errno.EINVAL);
    expect(() => map.delete(u32(0))).toThrow(/EINVAL/);
    expect(() => map.lookupAndDelete(u32(0))).toThrow(/ENOTSUPP/);
  });

  test('lookup from a program returns a guest pointer JS writes through and reads back', () => {
    const { map, memory, put } = array();
    const addr = map.lookupAddress(put(u32(2)));
    expect(addr).toBeGreaterThan(4096);
    expect(memory.find(addr, 8)).toBeDefined();
    memory.view.setUint32(addr, 99, true);
    expect(readU32(map.lookup(u32(2))!)).toBe(99);
    map.update(u32(2), u64(7));
    expect(memory.view.getUint32(addr, true)).toBe(7);
    expect(map.lookupAddress(put(u32(4)))).toBe(0);
    expect(map.lookupAddress(put(u32(0xffffffff)))).toBe(0);
  });

  test('values of odd sizes are 8-byte spaced', () => {
    const { map, put } = array(3, 5);
    expect(map.lookupAddress(put(u32(1))) - map.lookupAddress(put(u32(0)))).toBe(8);
    map.update(u32(1), Uint8Array.of(1, 2, 3, 4, 5));
    expect(map.lookup(u32(1))).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
    expect(map.lookup(u32(0))).toEqual(new Uint8Array(5));
  });

  test.for([
    { key: undefined, next: 0 },
    { key: 0, next: 1 },
    { key: 2, next: 3 },
    { key: 3, next: undefined },
    { key: 4, next: 0 },
    { key: 0xffffffff, next: 0 },
  ])('get_next_key after $key is $next', ({ key, next }) => {
    const { map } = array();
    const got = map.getNextKey(key === undefined ? undefined : u32(key));
    expect(got === undefined ? undefined : readU32(got)).toBe(next);
  });

  test('iteration visits every index in order', () => {
    const { map } = array(5);
    map.update(u32(3), u64(33));
    expect([...map.keys()].map((k) => readU32(k))).toEqual([0, 1, 2, 3, 4]);
    expect([...map.entries()].map(([, v]) => readU32(v))).toEqual([0, 0, 0, 33, 0]);
  });

  test('BPF_F_LOCK is accepted when the value holds a spin lock, and the lock word is left alone', () => {
    const { map, memory, put } = setup({ type: MapType.ARRAY, name: 'locked', keySize: 4, valueSize: 16, maxEntries: 2, spinLockOffset: 0 });
    const addr = map.lookupAddress(put(u32(0)));
    memory.view.setUint32(addr, 1, true); // the lock is held
    const value = new Uint8Array(16).fill(0xab);
    map.update(u32(0), value, BPF_F_LOCK);
    const got = map.lookup(u32(0), BPF_F_LOCK)!;
    expect(readU32(got)).toBe(1);
    expect([...got.subarray(4)].every((b) => b === 0xab)).toBe(true);
  });
});

describe('percpu_array', () => {
  const spec = { type: MapType.PERCPU_ARRAY, name: 'pc', keySize: 4, valueSize: 4, maxEntries: 2 };

  test('JS sees every CPU, each value rounded up to 8 bytes', () => {
    const { map } = setup(spec, { cpus: 3 });
    expect(map.jsValueSize).toBe(24);
    expect(map.lookup(u32(0))).toEqual(new Uint8Array(24));
    const all = new Uint8Array(24);
    for (let cpu = 0; cpu < 3; cpu++) all.set(u32(10 + cpu), cpu * 8);
    map.update(u32(1), all);
    expect(map.lookup(u32(1))).toEqual(all);
    expect(() => map.update(u32(1), u32(1))).toThrow(/value must be 24 bytes, got 4/);
  });

  test('a program sees and updates only its CPU copy', () => {
    const { map, memory, put } = setup(spec, { cpus: 4 });
    const key = put(u32(1));
    const addrs = [0, 1, 2, 3].map((cpu) => map.lookupAddress(key, cpu));
    expect(addrs.map((a) => a - addrs[0]!)).toEqual([0, 8, 16, 24]);
    expect(map.updateAt(key, put(u32(77), 8), BPF_ANY, 2)).toBe(0);
    memory.view.setUint32(addrs[3]!, 5, true);
    const got = map.lookup(u32(1))!;
    expect([0, 1, 2, 3].map((cpu) => readU32(got, cpu * 8))).toEqual([0, 0, 77, 5]);
  });

  test('BPF_F_LOCK is -EINVAL (per-CPU maps hold no spin locks)', () => {
    const { map, put } = setup(spec, { cpus: 2 });
    expect(map.updateAt(put(u32(0)), put(u32(1), 8), BPF_F_LOCK)).toBe(-Errno.EINVAL);
  });
});
