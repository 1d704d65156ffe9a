// FLOW (0x1000, this runtime's extension): two keys, one shared value; lookup by either with its
// direction, peer keys, delete by either removes both, update by either, insert's errnos.
import { describe, expect, test } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, Errno, FlowMap, MapType } from '../../maps/index.js';
import { readU32, setup, u32, u64, errnoOf } from './support.js';

const make = (maxEntries = 8) => {
  const s = setup({ type: MapType.FLOW, name: 'flows', keySize: 4, valueSize: 8, maxEntries });
  return { ...s, flows: s.map as FlowMap };
};

describe('flow map', () => {
  test('either key finds the same value pointer, with its direction', () => {
    const { flows, memory, put } = make();
    flows.insert(u32(1), u32(2), u64(42));
    const dir = put(u32(9), 16);
    const a = flows.lookupFlowAt(put(u32(1)), dir);
    expect(a).not.toBe(0);
    expect(memory.view.getUint32(dir, true)).toBe(0);
    expect(flows.lookupFlowAt(put(u32(2)), dir)).toBe(a);
    expect(memory.view.getUint32(dir, true)).toBe(1);
    expect(flows.lookupFlowAt(put(u32(1)), dir)).toBe(a);
    expect(memory.view.getUint32(dir, true)).toBe(0);
    expect(flows.lookupAddress(put(u32(2)))).toBe(a);
    expect(flows.lookupWithDirection(u32(2))).toEqual({ value: u64(42), dir: 1 });
    expect(flows.lookupFlowAt(put(u32(3)), dir)).toBe(0);
  });

  test('peer returns the other side; -ENOENT for an unknown key', () => {
    const { flows, memory, put } = make();
    flows.insert(u32(10), u32(20), u64(1));
    expect(readU32(flows.peer(u32(10))!)).toBe(20);
    expect(readU32(flows.peer(u32(20))!)).toBe(10);
    expect(flows.peer(u32(30))).toBeUndefined();
    const out = put(u32(0), 32);
    expect(flows.peerAt(put(u32(20)), out)).toBe(0);
    expect(memory.view.getUint32(out, true)).toBe(10);
    expect(flows.peerAt(put(u32(99)), out)).toBe(-Errno.ENOENT);
  });

  test('deleting by either key tears down both sides and frees the slot', () => {
    const { flows, put } = make();
    flows.insert(u32(1), u32(2), u64(1));
    const addr = flows.lookupAddress(put(u32(1)));
    expect(flows.delete(u32(2))).toBe(true);
    expect(flows.lookup(u32(1))).toBeUndefined();
    expect(flows.delete(u32(1))).toBe(false);
    expect(flows.size).toBe(0);
    flows.insert(u32(5), u32(6), u64(5));
    expect(flows.lookupAddress(put(u32(6)))).toBe(addr);
  });

  test.for([
    { what: 'BPF_ANY on a missing key', flags: BPF_ANY, key: 3, errno: Errno.ENOENT },
    { what: 'BPF_EXIST on key_b', flags: BPF_EXIST, key: 2, errno: 0 },
    { what: 'BPF_ANY on key_a', flags: BPF_ANY, key: 1, errno: 0 },
    { what: 'BPF_NOEXIST on a present key', flags: BPF_NOEXIST, key: 1, errno: Errno.EEXIST },
    { what: 'unknown flags', flags: 8, key: 1, errno: Errno.EINVAL },
  ])('update: $what -> errno $errno', ({ flags, key, errno }) => {
    const { flows } = make();
    flows.insert(u32(1), u32(2), u64(1));
    expect(errnoOf(() => flows.update(u32(key), u64(7), flags))).toBe(errno);
    if (errno === 0) expect(flows.lookup(u32(key === 1 ? 2 : 1))).toEqual(u64(7));
  });

  test.for([
    { what: 'a fresh pair', a: 5, b: 6, flags: BPF_ANY, errno: 0 },
    { what: 'the same pair again with BPF_ANY (updates the value)', a: 1, b: 2, flags: BPF_ANY, errno: 0 },
    { what: 'the same pair again with BPF_NOEXIST', a: 1, b: 2, flags: BPF_NOEXIST, errno: Errno.EEXIST },
    { what: 'the pair swapped', a: 2, b: 1, flags: BPF_ANY, errno: Errno.EEXIST },
    { what: 'one key taken', a: 1, b: 9, flags: BPF_ANY, errno: Errno.EEXIST },
    { what: 'equal keys', a: 7, b: 7, flags: BPF_ANY, errno: Errno.EINVAL },
    { what: 'BPF_EXIST', a: 5, b: 6, flags: BPF_EXIST, errno: Errno.EINVAL },
  ])('insert $what -> errno $errno', ({ a, b, flags, errno }) => {
    const { flows } = make();
    flows.insert(u32(1), u32(2), u64(1));
    expect(errnoOf(() => flows.insert(u32(a), u32(b), u64(3), flags))).toBe(errno);
  });

  test('max_entries counts pairs: a full map is -E2BIG', () => {
    const { flows } = make(2);
    flows.insert(u32(1), u32(2), u64(1));
    flows.insert(u32(3), u32(4), u64(1));
    expect(errnoOf(() => flows.insert(u32(5), u32(6), u64(1)))).toBe(Errno.E2BIG);
  });

  test('iteration: pairs in insertion order; get_next_key visits both keys of each entry, also while deleting', () => {
    const { flows } = make(64);
    for (let i = 0; i < 40; i++) flows.insert(u32(i * 2), u32(i * 2 + 1), u64(i));
    expect([...flows.pairs()].slice(0, 2).map((p) => [readU32(p.keyA), readU32(p.keyB), readU32(p.value)])).toEqual([[0, 1, 0], [2, 3, 1]]);
    expect([...flows.keys()].map((k) => readU32(k))).toEqual(Array.from({ length: 80 }, (_, i) => i));
    for (let i = 0; i < 40; i += 2) flows.delete(u32(i * 2 + 1));
    expect(flows.size).toBe(20);
    expect([...flows.pairs()].map((p) => readU32(p.value))).toEqual(Array.from({ length: 20 }, (_, i) => i * 2 + 1));
    let visited = 0;
    for (const key of flows.keys()) {
      visited++;
      flows.delete(key);
    }
    // Each entry's key_b was taken as the next key before key_a's delete removed it: it is still
    // visited (its own delete finds nothing) and the walk then restarts at the first live key.
    expect(visited).toBe(40);
    expect(flows.size).toBe(0);
  });

  test('wrong key sizes in insert are typed errors', () => {
    const { flows } = make();
    expect(() => flows.insert(u32(1), u64(2), u64(1))).toThrow('map flows: key must be 4 bytes, got 8');
  });
});
