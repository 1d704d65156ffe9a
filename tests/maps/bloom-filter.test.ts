// BLOOM_FILTER: no false negatives, a false-positive rate near the design point, push flags,
// map_extra's hash count and the operations Linux refuses.
import { describe, expect, test } from 'vitest';
import { BloomFilterMap, BPF_ANY, BPF_EXIST, BPF_NOEXIST, Errno, MapType } from '../../maps/index.js';
import { setup, u32, u64 } from './support.js';

const bloom = (maxEntries: number, mapExtra = 0, valueSize = 8) =>
  setup({ type: MapType.BLOOM_FILTER, name: 'bf', keySize: 0, valueSize, maxEntries, mapExtra }).map as BloomFilterMap;

describe('bloom_filter', () => {
  test.for([
    { hashes: 0, entries: 1000, valueSize: 8 },
    { hashes: 1, entries: 1000, valueSize: 8 },
    { hashes: 3, entries: 5000, valueSize: 4 },
    { hashes: 15, entries: 200, valueSize: 13 },
  ])('no false negatives with map_extra $hashes, $entries values of $valueSize bytes', ({ hashes, entries, valueSize }) => {
    const map = bloom(entries, hashes, valueSize);
    expect(map.hashCount).toBe(hashes || 5);
    const value = (i: number) => {
      const v = new Uint8Array(valueSize);
      new DataView(v.buffer).setUint32(0, Math.imul(i, 2654435761) >>> 0, true);
      v[valueSize - 1] ^= i & 0xff;
      return v;
    };
    for (let i = 0; i < entries; i++) map.push(value(i));
    for (let i = 0; i < entries; i++) expect(map.has(value(i))).toBe(true);
    let falsePositives = 0;
    for (let i = entries; i < entries + 10_000; i++) if (map.has(value(i))) falsePositives++;
    expect(falsePositives / 10_000).toBeLessThan(hashes === 1 ? 0.5 : 0.1);
  });

  test('bit array sized as Linux sizes it', () => {
    expect(bloom(1).bitCount).toBe(64);
    expect(bloom(1000).bitCount).toBe(8192); // 1000 * 5 / 5 * 7 = 7000 -> 8192
    expect(bloom(1000, 3).bitCount).toBe(8192); // 3000 / 5 * 7 = 4200 -> 8192
    expect(bloom(100).bitCount).toBe(1024); // 500 / 5 * 7 = 700 -> 1024
  });

  test.for([
    { flags: BPF_ANY, errno: 0 },
    { flags: BPF_NOEXIST, errno: Errno.EINVAL },
    { flags: BPF_EXIST, errno: Errno.EINVAL },
  ])('push flags $flags -> errno $errno', ({ flags, errno }) => {
    const { map, put } = setup({ type: MapType.BLOOM_FILTER, name: 'bf', keySize: 0, valueSize: 8, maxEntries: 10 });
    expect(map.pushAt(put(u64(1)), flags)).toBe(errno ? -errno : 0);
  });

  test('peek from a program: 0 when maybe present, -ENOENT when absent; keyed operations refused', () => {
    const { map, put } = setup({ type: MapType.BLOOM_FILTER, name: 'bf', keySize: 0, valueSize: 4, maxEntries: 100 });
    expect(map.peekAt(put(u32(1)))).toBe(-Errno.ENOENT);
    expect(map.pushAt(put(u32(1)), BPF_ANY)).toBe(0);
    expect(map.peekAt(put(u32(1)))).toBe(0);
    expect(map.popAt(put(u32(1)))).toBe(-Errno.EOPNOTSUPP);
    expect(map.lookupAddress(put(u32(1)))).toBe(0);
    expect(map.deleteAt(put(u32(1)))).toBe(-Errno.EOPNOTSUPP);
    expect(map.updateAt(0, put(u32(1)), BPF_ANY)).toBe(-Errno.EINVAL);
    expect(() => map.lookup(new Uint8Array(0))).toThrow(/EOPNOTSUPP/);
    expect(() => map.getNextKey()).toThrow(/EOPNOTSUPP/);
    map.update(new Uint8Array(0), u32(2)); // bpf(2) update pushes
    expect((map as BloomFilterMap).has(u32(2))).toBe(true);
  });
});
