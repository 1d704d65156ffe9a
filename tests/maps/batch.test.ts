// Batch operations from JS: pages through a cursor, lookup-and-delete pages, update and delete
// batches stopping at the first failure with the count done, as BPF_MAP_*_BATCH do.
import { describe, expect, test } from 'vitest';
import { BPF_NOEXIST, Errno, MapOpError, MapType } from '../../maps/index.js';
import { readU32, setup, u32, u64 } from './support.js';

const KINDS = [
  { kind: 'hash', type: MapType.HASH },
  { kind: 'percpu_hash', type: MapType.PERCPU_HASH },
  { kind: 'lru_hash', type: MapType.LRU_HASH },
  { kind: 'lru_percpu_hash', type: MapType.LRU_PERCPU_HASH },
];

const fill = (type: number, n: number) => {
  const { map } = setup({ type, name: 'b', keySize: 4, valueSize: 8, maxEntries: 64 });
  const keys = Array.from({ length: n }, (_, i) => u32(i + 1));
  expect(map.updateBatch(keys, keys.map((_, i) => u64((i + 1) * 10)))).toBe(n);
  return map;
};

describe.for(KINDS)('$kind batch ops', ({ type }) => {
  test('lookupBatch pages through every entry exactly once', () => {
    const map = fill(type, 23);
    const seen: number[] = [];
    let cursor: Uint8Array | undefined;
    let pages = 0;
    do {
      const page = map.lookupBatch(5, cursor);
      page.keys.forEach((k, i) => {
        seen.push(readU32(k));
        expect(readU32(page.values[i]!)).toBe(readU32(k) * 10);
      });
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(map.size).toBe(23);
  });

  test('lookupAndDeleteBatch drains the map', () => {
    const map = fill(type, 12);
    let total = 0;
    let cursor: Uint8Array | undefined;
    do {
      const page = map.lookupAndDeleteBatch(5, cursor);
      total += page.keys.length;
      cursor = page.cursor;
    } while (cursor);
    expect(total).toBe(12);
    expect(map.size).toBe(0);
  });

  test('updateBatch stops at the first failure and reports how many were done', () => {
    const map = fill(type, 3);
    const keys = [u32(10), u32(11), u32(2), u32(12)];
    let thrown: unknown;
    try {
      map.updateBatch(keys, keys.map(() => u64(1)), BPF_NOEXIST);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MapOpError);
    expect((thrown as MapOpError).errno).toBe(Errno.EEXIST);
    expect((thrown as MapOpError).processed).toBe(2);
    expect(map.lookup(u32(12))).toBeUndefined();
  });

  test('deleteBatch stops with ENOENT at the first missing key', () => {
    const map = fill(type, 5);
    expect(map.deleteBatch([u32(1), u32(2)])).toBe(2);
    expect(() => map.deleteBatch([u32(3), u32(99), u32(4)])).toThrow(/ENOENT after 1 elements/);
    expect(map.size).toBe(2);
  });

  test('updateBatch with mismatched lengths is EINVAL', () => {
    const map = fill(type, 1);
    expect(() => map.updateBatch([u32(1)], [])).toThrow(/EINVAL/);
  });
});

describe('array batch ops', () => {
  test('lookupBatch walks indexes; deleteBatch is EINVAL; lookupAndDeleteBatch is not supported', () => {
    const { map } = setup({ type: MapType.ARRAY, name: 'a', keySize: 4, valueSize: 4, maxEntries: 7 });
    map.updateBatch([u32(2), u32(6)], [u32(20), u32(60)]);
    const first = map.lookupBatch(4);
    expect(first.keys.map((k) => readU32(k))).toEqual([0, 1, 2, 3]);
    const rest = map.lookupBatch(4, first.cursor);
    expect(rest.keys.map((k) => readU32(k))).toEqual([4, 5, 6]);
    expect(rest.values.map((v) => readU32(v))).toEqual([0, 0, 60]);
    expect(rest.cursor).toBeUndefined();
    expect(() => map.deleteBatch([u32(0)])).toThrow(/EINVAL/);
    expect(() => map.lookupAndDeleteBatch(2)).toThrow(/ENOTSUPP/);
  });
});
