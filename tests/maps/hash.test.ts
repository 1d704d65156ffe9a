// HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH: update flags and errnos, full maps, deletes and the
// free list, stable value addresses, get_next_key traversal across deletes, LRU eviction order.
import { describe, expect, test } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, MapFlag, MapOpError, MapSizeError, MapType } from '../../maps/index.js';
import { readU32, setup, u32, u64 } from './support.js';

const HASH_KINDS = [
  { kind: 'hash', type: MapType.HASH, lru: false },
  { kind: 'percpu_hash', type: MapType.PERCPU_HASH, lru: false },
  { kind: 'lru_hash', type: MapType.LRU_HASH, lru: true },
  { kind: 'lru_percpu_hash', type: MapType.LRU_PERCPU_HASH, lru: true },
];

const hash = (type: number, maxEntries = 4, flags = 0) => setup({ type, name: 'h', keySize: 4, valueSize: 8, maxEntries, flags });

/** errno of a JS update, 0 when it succeeds. */
function updateErrno(run: () => void): number {
  try {
    run();
    return 0;
  } catch (e) {
    if (e instanceof MapOpError) return e.errno!;
    throw e;
  }
}

describe.for(HASH_KINDS)('$kind', ({ type, lru }) => {
  // One simulated CPU: a value is 8 bytes either way.
  const jsValue = (n: number) => u64(n);

  test.for([
    { present: false, flags: BPF_ANY, errno: 0 },
    { present: false, flags: BPF_NOEXIST, errno: 0 },
    { present: false, flags: BPF_EXIST, errno: Errno.ENOENT },
    { present: true, flags: BPF_ANY, errno: 0 },
    { present: true, flags: BPF_NOEXIST, errno: Errno.EEXIST },
    { present: true, flags: BPF_EXIST, errno: 0 },
    { present: true, flags: 3, errno: Errno.EINVAL },
    { present: false, flags: 16, errno: Errno.EINVAL },
    { present: true, flags: BPF_F_LOCK, errno: Errno.EINVAL },
  ])('update flags $flags, key present: $present -> errno $errno', ({ present, flags, errno }) => {
    const { map, put } = hash(type);
    if (present) map.update(u32(1), jsValue(1));
    expect(map.updateAt(put(u32(1)), put(u64(2), 8), flags)).toBe(errno ? -errno : 0);
    expect(map.lookup(u32(1))).toEqual(errno === 0 ? jsValue(2) : present ? jsValue(1) : undefined);
    // The same case through the JS API, on a fresh map: the errno comes back on a MapOpError.
    const fresh = hash(type).map;
    if (present) fresh.update(u32(1), jsValue(1));
    expect(updateErrno(() => fresh.update(u32(1), jsValue(3), flags))).toBe(errno);
  });

  test(lru ? 'a full map evicts instead of failing' : 'a full map refuses new keys with -E2BIG but still updates existing ones', () => {
    const { map, put } = hash(type, 3);
    for (let i = 0; i < 3; i++) map.update(u32(i), jsValue(i));
    const errno = map.updateAt(put(u32(9)), put(u64(9), 8), BPF_ANY);
    if (lru) {
      expect(errno).toBe(0);
      expect(map.size).toBe(3);
      expect(map.lookup(u32(9))).toEqual(jsValue(9));
    } else {
      expect(errno).toBe(-Errno.E2BIG);
      expect(updateErrno(() => map.update(u32(9), jsValue(9), BPF_NOEXIST))).toBe(Errno.E2BIG);
      map.update(u32(1), jsValue(11));
      expect(map.lookup(u32(1))).toEqual(jsValue(11));
    }
  });

  test('delete, -ENOENT for a missing key, and the freed slot is reused', () => {
    const { map, put } = hash(type, 2);
    map.update(u32(1), jsValue(1));
    map.update(u32(2), jsValue(2));
    const addr1 = map.lookupAddress(put(u32(1)));
    expect(map.deleteAt(put(u32(1)))).toBe(0);
    expect(map.deleteAt(put(u32(1)))).toBe(-Errno.ENOENT);
    expect(map.delete(u32(1))).toBe(false);
    expect(map.lookupAddress(put(u32(1)))).toBe(0);
    expect(map.size).toBe(1);
    map.update(u32(3), jsValue(3), BPF_NOEXIST);
    expect(map.lookupAddress(put(u32(3)))).toBe(addr1);
  });

  test('a value keeps its guest address across updates while the entry lives', () => {
    const { map, memory, put } = hash(type, 64);
    map.update(u32(5), jsValue(5));
    const addr = map.lookupAddress(put(u32(5)));
    expect(memory.find(addr, 8)).toBeDefined();
    for (let i = 100; i < 160; i++) map.update(u32(i), jsValue(i)); // forces rehashing
    map.update(u32(5), jsValue(55));
    expect(map.lookupAddress(put(u32(5)))).toBe(addr);
    expect(memory.view.getUint32(addr, true)).toBe(55);
    memory.view.setUint32(addr, 56, true);
    expect(readU32(map.lookup(u32(5))!)).toBe(56);
  });

  test('lookupAndDelete returns the value and removes the entry', () => {
    const { map } = hash(type);
    map.update(u32(7), jsValue(7));
    expect(map.lookupAndDelete(u32(7))).toEqual(jsValue(7));
    expect(map.lookupAndDelete(u32(7))).toBeUndefined();
    expect(map.size).toBe(0);
  });

  test('get_next_key: first key for none or a missing key, -ENOENT at the end, full traversal while deleting', () => {
    const { map } = hash(type, 16);
    expect(map.getNextKey()).toBeUndefined();
    for (let i = 0; i < 10; i++) map.update(u32(i * 3), jsValue(i));
    const first = map.getNextKey()!;
    expect(map.getNextKey(u32(1000))).toEqual(first);
    const seen: number[] = [];
    for (const key of map.keys()) {
      seen.push(readU32(key));
      map.delete(key); // delete the current key while walking, as user space commonly does
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    expect(map.size).toBe(0);
  });

  test('traversal after scattered deletes visits exactly the live keys', () => {
    const { map } = hash(type, 64);
    for (let i = 0; i < 50; i++) map.update(u32(i), jsValue(i));
    for (let i = 0; i < 50; i += 3) map.delete(u32(i));
    for (let i = 100; i < 105; i++) map.update(u32(i), jsValue(i));
    const live = [...map.keys()].map((k) => readU32(k)).sort((a, b) => a - b);
    const expected = [...Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 3 !== 0), 100, 101, 102, 103, 104];
    expect(live).toEqual(expected);
    expect(new Set(live).size).toBe(live.length);
  });

  test('wrong key and value sizes are typed errors naming the map and the sizes', () => {
    const { map } = hash(type);
    expect(() => map.lookup(u64(1))).toThrow(MapSizeError);
    expect(() => map.lookup(u64(1))).toThrow('map h: key must be 4 bytes, got 8');
    expect(() => map.update(u32(1), u32(1))).toThrow('map h: value must be 8 bytes, got 4');
  });
});

describe('LRU eviction', () => {
  test.for([
    { kind: 'lru_hash', type: MapType.LRU_HASH },
    { kind: 'lru_percpu_hash', type: MapType.LRU_PERCPU_HASH },
  ])('$kind evicts the least recently used; program lookups and updates refresh, JS lookups do not', ({ type }) => {
    const { map, put } = hash(type, 3);
    for (const k of [1, 2, 3]) map.update(u32(k), u64(k));
    expect(map.lookupAddress(put(u32(1)))).not.toBe(0); // 1 is now the most recent: order 2, 3, 1
    map.update(u32(4), u64(4)); // evicts 2
    expect(map.lookup(u32(2))).toBeUndefined();
    expect(map.lookup(u32(3))).toBeDefined(); // a JS lookup does not refresh 3
    map.update(u32(5), u64(5)); // evicts 3
    expect(map.lookup(u32(3))).toBeUndefined();
    map.update(u32(1), u64(11)); // an update refreshes 1: order 4, 5, 1
    map.update(u32(6), u64(6)); // evicts 4
    expect([...map.keys()].map((k) => readU32(k)).sort()).toEqual([1, 5, 6]);
  });

  test('an evicting insert with NOEXIST succeeds; EXIST on a missing key is still -ENOENT and evicts nothing', () => {
    const { map, put } = hash(MapType.LRU_HASH, 2);
    map.update(u32(1), u64(1));
    map.update(u32(2), u64(2));
    expect(map.updateAt(put(u32(3)), put(u64(3), 8), BPF_EXIST)).toBe(-Errno.ENOENT);
    expect(map.size).toBe(2);
    expect(map.updateAt(put(u32(3)), put(u64(3), 8), BPF_NOEXIST)).toBe(0);
    expect(map.lookup(u32(1))).toBeUndefined();
  });
});

describe('per-CPU hash layout', () => {
  test.for([MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH])('type %i: JS values cover every CPU; a program update sets its CPU and zeroes the others on insert', (type) => {
    const { map, memory, put } = setup({ type, name: 'pch', keySize: 4, valueSize: 4, maxEntries: 8 }, { cpus: 3 });
    expect(map.jsValueSize).toBe(24);
    expect(map.updateAt(put(u32(1)), put(u32(42), 8), BPF_ANY, 1)).toBe(0);
    let got = map.lookup(u32(1))!;
    expect([0, 1, 2].map((c) => readU32(got, c * 8))).toEqual([0, 42, 0]);
    expect(map.updateAt(put(u32(1)), put(u32(43), 8), BPF_ANY, 2)).toBe(0);
    got = map.lookup(u32(1))!;
    expect([0, 1, 2].map((c) => readU32(got, c * 8))).toEqual([0, 42, 43]);
    const cpu2 = map.lookupAddress(put(u32(1)), 2);
    expect(cpu2 - map.lookupAddress(put(u32(1)), 0)).toBe(16);
    expect(memory.view.getUint32(cpu2, true)).toBe(43);
  });
});

describe('BPF_F_NO_PREALLOC', () => {
  test('hash maps grow guest memory on demand and behave the same', () => {
    const { map, memory } = hash(MapType.HASH, 100_000, MapFlag.NO_PREALLOC);
    const before = memory.regions().length;
    for (let i = 0; i < 1000; i++) map.update(u32(i), u64(i * 2));
    expect(memory.regions().length).toBeGreaterThan(before);
    for (let i = 0; i < 1000; i++) expect(map.lookup(u32(i))).toEqual(u64(i * 2));
    expect(map.size).toBe(1000);
  });
});

describe('BPF_F_LOCK on a hash map whose value holds a spin lock', () => {
  test('updates in place without touching the lock word; flags beyond it still apply', () => {
    const { map, memory, put } = setup({ type: MapType.HASH, name: 'locked', keySize: 4, valueSize: 16, maxEntries: 4, spinLockOffset: 8 });
    expect(map.updateAt(put(u32(1)), put(new Uint8Array(16).fill(1), 16), BPF_EXIST | BPF_F_LOCK)).toBe(-Errno.ENOENT);
    map.update(u32(1), new Uint8Array(16).fill(1), BPF_F_LOCK);
    const addr = map.lookupAddress(put(u32(1)));
    expect(memory.view.getUint32(addr + 8, true)).toBe(0); // a new element's lock starts unlocked
    memory.view.setUint32(addr + 8, 1, true);
    map.update(u32(1), new Uint8Array(16).fill(2), BPF_F_LOCK);
    expect([...map.lookup(u32(1), BPF_F_LOCK)!]).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 0, 0, 2, 2, 2, 2]);
    expect(map.updateAt(put(u32(1)), put(new Uint8Array(16), 16), BPF_NOEXIST | BPF_F_LOCK)).toBe(-Errno.EEXIST);
  });
});
