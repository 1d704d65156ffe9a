// SK_STORAGE (24): Linux's creation rules and errnos, the JS API keyed by socket cookie (u32 or u64),
// values that go with their socket or their map, option-memory accounting (-ENOMEM), the helper
// path's get/delete, and the dump through TypedMap.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, MapFlag, MapSizeError, MapType, OPTMEM_MAX, SK_STORAGE_MAX_VALUE_SIZE, SkStorageMap,
  socketStorageKey, type MapSpec,
} from '../../maps/index.js';
import { Runtime } from '../../runtime/runtime.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { errnoOf, readU32, u32, u64 } from './support.js';

/** A spec that passes Linux's checks: BPF_F_NO_PREALLOC, max_entries 0, an int key, BTF types. */
const spec = (over: Partial<MapSpec> = {}): MapSpec => ({
  type: MapType.SK_STORAGE, name: 'store', keySize: 4, valueSize: 16, maxEntries: 0, flags: MapFlag.NO_PREALLOC,
  btfKeyTypeId: 1, btfValueTypeId: 2, btfKeyInt: { bits: 32, bitOffset: 0 }, ...over,
});

const setup = (over: Partial<MapSpec> = {}) => {
  const rt = new Runtime();
  const map = rt.createMap(spec(over)) as SkStorageMap;
  const a = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
  const b = rt.sockets.open({ protocol: 'udp', local: '0.0.0.0:53' });
  return { rt, map, a, b };
};
const createErrno = (over: Partial<MapSpec>) => errnoOf(() => new Runtime().createMap(spec(over)));
const value = (...words: number[]) => Uint8Array.from(words.flatMap((w) => [...u32(w)]));

describe('socket storage: creation (bpf_local_storage_map_alloc_check)', () => {
  test.for([
    ['the checks pass', {}, 0],
    ['BPF_F_CLONE is allowed', { flags: MapFlag.NO_PREALLOC | MapFlag.CLONE }, 0],
    ['without BPF_F_NO_PREALLOC', { flags: 0 }, Errno.EINVAL],
    ['another flag', { flags: MapFlag.NO_PREALLOC | MapFlag.RDONLY }, Errno.EINVAL],
    ['max_entries not 0', { maxEntries: 1 }, Errno.EINVAL],
    ['an 8-byte key', { keySize: 8 }, Errno.EINVAL],
    ['value_size 0', { valueSize: 0 }, Errno.EINVAL],
    ['no BTF key type', { btfKeyTypeId: 0 }, Errno.EINVAL],
    ['no BTF value type', { btfValueTypeId: undefined }, Errno.EINVAL],
    ['a key type that is no int', { btfKeyInt: undefined }, Errno.EINVAL],
    ['a 16-bit int key', { btfKeyInt: { bits: 16, bitOffset: 0 } }, Errno.EINVAL],
    ['the largest value', { valueSize: SK_STORAGE_MAX_VALUE_SIZE }, 0],
    ['a value one byte larger', { valueSize: SK_STORAGE_MAX_VALUE_SIZE + 1 }, Errno.E2BIG],
  ] as const)('%s: errno %s', ([, over, errno]) => {
    expect(createErrno(over as Partial<MapSpec>)).toBe(errno);
  });
});

describe('socket storage from JS: the socket cookie is the key', () => {
  test('update, lookup and delete by u32 or u64 cookie; sockets keep their own values', () => {
    const { map, a, b } = setup();
    expect(map.lookup(u32(Number(a.cookie)))).toBeUndefined();
    map.update(u32(Number(a.cookie)), value(1, 2, 3, 4));
    map.update(socketStorageKey(b.cookie), value(5, 6, 7, 8));
    expect(map.lookup(u64(Number(a.cookie)))).toEqual(value(1, 2, 3, 4));
    expect(map.lookup(u32(Number(b.cookie)))).toEqual(value(5, 6, 7, 8));
    expect(map.size).toBe(2);
    expect(map.delete(u32(Number(a.cookie)))).toBe(true);
    expect(map.delete(u32(Number(a.cookie)))).toBe(false);
    expect(map.lookup(u32(Number(a.cookie)))).toBeUndefined();
    expect(map.size).toBe(1);
  });

  test('BPF_NOEXIST, BPF_EXIST and BPF_F_LOCK as bpf_local_storage_update checks them', () => {
    const { map, a } = setup();
    const key = socketStorageKey(a.cookie);
    expect(errnoOf(() => map.update(key, value(1, 1, 1, 1), BPF_EXIST))).toBe(Errno.ENOENT);
    map.update(key, value(1, 1, 1, 1), BPF_NOEXIST);
    expect(errnoOf(() => map.update(key, value(2, 2, 2, 2), BPF_NOEXIST))).toBe(Errno.EEXIST);
    map.update(key, value(3, 3, 3, 3), BPF_EXIST);
    map.update(key, value(4, 4, 4, 4), BPF_ANY);
    expect(map.lookup(key)).toEqual(value(4, 4, 4, 4));
    expect(errnoOf(() => map.update(key, value(5, 5, 5, 5), BPF_NOEXIST | BPF_EXIST))).toBe(Errno.EINVAL);
    // No bpf_spin_lock in the value: BPF_F_LOCK is refused both ways.
    expect(errnoOf(() => map.update(key, value(5, 5, 5, 5), BPF_F_LOCK))).toBe(Errno.EINVAL);
    expect(errnoOf(() => map.lookup(key, BPF_F_LOCK))).toBe(Errno.EINVAL);
  });

  test('BPF_F_LOCK writes a value holding a bpf_spin_lock around the lock', () => {
    const { map, a } = setup({ spinLockOffset: 4 });
    const key = socketStorageKey(a.cookie);
    map.update(key, value(1, 0, 2, 3));
    map.update(key, value(9, 0x55, 8, 7), BPF_F_LOCK);
    expect(map.lookup(key, BPF_F_LOCK)).toEqual(value(9, 0, 8, 7));
  });

  test('a cookie of no open socket is -EBADF (a closed fd), for every operation', () => {
    const { rt, map, a } = setup();
    const key = socketStorageKey(a.cookie);
    map.update(key, value(1, 2, 3, 4));
    rt.sockets.close(a);
    for (const op of [() => map.lookup(key), () => map.update(key, value(0, 0, 0, 0)), () => map.delete(key), () => map.lookup(u32(999))]) {
      expect(errnoOf(op)).toBe(Errno.EBADF);
    }
  });

  test('a key that is neither 4 nor 8 bytes, or a value of the wrong size, is a MapSizeError', () => {
    const { map, a } = setup();
    expect(() => map.lookup(new Uint8Array(2))).toThrow(MapSizeError);
    expect(() => map.update(new Uint8Array(16), value(0, 0, 0, 0))).toThrow(MapSizeError);
    expect(() => map.update(socketStorageKey(a.cookie), new Uint8Array(8))).toThrow(MapSizeError);
  });

  test('Linux has no lookup-and-delete or batch operations for socket storage (-ENOTSUPP)', () => {
    const { map, a } = setup();
    const key = socketStorageKey(a.cookie);
    map.update(key, value(1, 2, 3, 4));
    expect(errnoOf(() => map.lookupAndDelete(key))).toBe(Errno.ENOTSUPP);
    expect(errnoOf(() => map.lookupBatch(4))).toBe(Errno.ENOTSUPP);
    expect(errnoOf(() => map.updateBatch([key], [value(0, 0, 0, 0)]))).toBe(Errno.ENOTSUPP);
    expect(errnoOf(() => map.deleteBatch([key]))).toBe(Errno.ENOTSUPP);
    expect(map.lookup(key)).toEqual(value(1, 2, 3, 4));
  });

  test('keys() walks the sockets holding a value, in the order the values were made (a deviation: Linux has no get_next_key here)', () => {
    const { rt, map, a, b } = setup();
    const c = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:22', remote: '10.0.0.9:5000' });
    for (const s of [c, a, b]) map.update(socketStorageKey(s.cookie), value(Number(s.cookie), 0, 0, 0));
    expect([...map.keys()].map((k) => readU32(k))).toEqual([c, a, b].map((s) => Number(s.cookie)));
    expect([...map.entries()].map(([, v]) => readU32(v))).toEqual([c, a, b].map((s) => Number(s.cookie)));
    // The helper path refuses get_next_key as Linux does.
    expect(map.nextKeyAt(0, 0)).toBe(-Errno.ENOTSUPP);
  });

  test('TypedMap takes a socket, a bigint cookie or a number as the key, and dumps by cookie', async () => {
    const rt = new Runtime();
    const obj = await rt.loadObject(join(PROJECT_ROOT, 'tests', 'fixtures', 'sk_storage.o'));
    const [a, b] = [rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' }), rt.sockets.open({ protocol: 'udp', local: '*:53' })];
    const counters = obj.typedMap('counters');
    counters.update(a, { packets: 1, bytes: 100 });
    counters.update(b.cookie, { packets: 2, bytes: 200 });
    counters.update(Number(a.cookie), { packets: 3, bytes: 300 });
    expect(counters.lookup(a)).toEqual({ packets: 3, bytes: 300 });
    expect(counters.dump()).toEqual([
      { key: Number(a.cookie), value: { packets: 3, bytes: 300 } },
      { key: Number(b.cookie), value: { packets: 2, bytes: 200 } },
    ]);
    expect(counters.delete(a)).toBe(true);
    rt.sockets.close(b);
    expect(counters.dump()).toEqual([]);
  });
});

describe('socket storage lives with its socket and its map', () => {
  test('closing a socket frees its values in every map; other sockets keep theirs', () => {
    const { rt, map, a, b } = setup();
    const other = rt.createMap(spec({ name: 'other', valueSize: 64 })) as SkStorageMap;
    const regions = rt.memory.regions().length;
    map.update(socketStorageKey(a.cookie), value(1, 1, 1, 1));
    other.update(socketStorageKey(a.cookie), new Uint8Array(64).fill(3));
    map.update(socketStorageKey(b.cookie), value(2, 2, 2, 2));
    expect(a.storageCount).toBe(2);
    expect(rt.memory.regions().length).toBe(regions + 3);
    rt.sockets.close(a);
    expect([map.size, other.size]).toEqual([1, 0]);
    // Its two values and its bpf_sock went back.
    expect(rt.memory.regions().length).toBe(regions);
    expect(map.lookup(socketStorageKey(b.cookie))).toEqual(value(2, 2, 2, 2));
  });

  test('freeing a map takes its values off every socket and uncharges them', () => {
    const { rt, map, a, b } = setup();
    const other = rt.createMap(spec({ name: 'other' })) as SkStorageMap;
    map.update(socketStorageKey(a.cookie), value(1, 1, 1, 1));
    other.update(socketStorageKey(a.cookie), value(2, 2, 2, 2));
    other.update(socketStorageKey(b.cookie), value(3, 3, 3, 3));
    const charged = a.optionMemory;
    expect(charged).toBeGreaterThan(0);
    other.free();
    expect([a.storageCount, b.storageCount, b.optionMemory]).toEqual([1, 0, 0]);
    expect(a.optionMemory).toBeLessThan(charged);
    expect(map.lookup(socketStorageKey(a.cookie))).toEqual(value(1, 1, 1, 1));
    map.free();
    expect(a.optionMemory).toBe(0);
  });

  test('values charge the socket\'s option memory: past net.core.optmem_max they fail with -ENOMEM', () => {
    const rt = new Runtime();
    const big = Math.floor(OPTMEM_MAX / 3);
    const maps = [0, 1, 2].map((i) => rt.createMap(spec({ name: `big${i}`, valueSize: big })) as SkStorageMap);
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' });
    const key = socketStorageKey(s.cookie);
    maps[0]!.update(key, new Uint8Array(big));
    maps[1]!.update(key, new Uint8Array(big));
    // The third would pass optmem_max with the element headers and the storage header.
    expect(errnoOf(() => maps[2]!.update(key, new Uint8Array(big)))).toBe(Errno.ENOMEM);
    expect(maps[2]!.getAt(s, 0, true)).toBe(0);
    // Replacing a value charges the new element before freeing the old one (bpf_local_storage_update).
    expect(errnoOf(() => maps[1]!.update(key, new Uint8Array(big)))).toBe(Errno.ENOMEM);
    maps[0]!.delete(key);
    maps[2]!.update(key, new Uint8Array(big));
    expect(s.storageCount).toBe(2);
  });

  test('the helper path: get makes a zeroed or initialised value once, delete takes it away', () => {
    const { rt, map, a } = setup();
    const init = rt.memory.allocate(16, 'init').start;
    rt.memory.bytes.set(value(5, 6, 7, 8), init);
    expect(map.getAt(a, 0, false)).toBe(0);
    const at = map.getAt(a, init, true);
    expect(rt.memory.bytes.slice(at, at + 16)).toEqual(value(5, 6, 7, 8));
    rt.memory.bytes.set(value(0, 0, 0, 0), init);
    expect(map.getAt(a, init, true)).toBe(at);
    expect(map.getAt(a, 0, false)).toBe(at);
    expect(map.deleteFor(a)).toBe(0);
    expect(map.deleteFor(a)).toBe(-Errno.ENOENT);
    const zeroed = map.getAt(a, 0, true);
    expect(rt.memory.bytes.slice(zeroed, zeroed + 16)).toEqual(new Uint8Array(16));
    // bpf_map_lookup/update/delete_elem on socket storage cannot pass the verifier: NULL and -EINVAL here.
    expect([map.lookupAddress(init), map.updateAt(init, init, 0), map.deleteAt(init)]).toEqual([0, -Errno.EINVAL, -Errno.EINVAL]);
  });
});
