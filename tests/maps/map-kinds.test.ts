// The map kinds that hold nothing in a user-space runtime (stack trace, cgroup array, XSKMAP,
// sockmap, sockhash, reuseport socket array, user ring buffer, task and inode storage): Linux's creation checks and errnos, and the
// user-space operations of an empty map of each kind, as Linux gives them.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { createMap, Errno, MapCreateError, MapFlag, MapType, type MapSpec } from '../../maps/index.js';
import { errnoOf, setup, u32, u64 } from './support.js';

const btfInt = { btfKeyTypeId: 1, btfValueTypeId: 2, btfKeyInt: { bits: 32, bitOffset: 0 } };
const storage = (type: number, extra: Partial<MapSpec> = {}): MapSpec => ({ type, keySize: 4, valueSize: 8, maxEntries: 0, flags: MapFlag.NO_PREALLOC, ...btfInt, ...extra });

const CREATION: { what: string; spec: MapSpec; errno: number }[] = [
  { what: 'stack_trace', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 128, maxEntries: 64 }, errno: 0 },
  { what: 'stack_trace value not a multiple of 8', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 12, maxEntries: 64 }, errno: Errno.EINVAL },
  { what: 'stack_trace key 8', spec: { type: MapType.STACK_TRACE, keySize: 8, valueSize: 8, maxEntries: 64 }, errno: Errno.EINVAL },
  { what: 'stack_trace deeper than 127 frames', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 128 * 8, maxEntries: 64 }, errno: Errno.EINVAL },
  { what: 'stack_trace 127 frames', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 127 * 8, maxEntries: 64 }, errno: 0 },
  { what: 'stack_trace build ids of 32 bytes', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 64, maxEntries: 4, flags: MapFlag.STACK_BUILD_ID }, errno: 0 },
  { what: 'stack_trace build ids, value not a multiple of 32', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 40, maxEntries: 4, flags: MapFlag.STACK_BUILD_ID }, errno: Errno.EINVAL },
  { what: 'stack_trace BPF_F_NO_PREALLOC', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 8, maxEntries: 4, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'stack_trace max_entries past 2^31', spec: { type: MapType.STACK_TRACE, keySize: 4, valueSize: 8, maxEntries: 2 ** 31 + 1 }, errno: Errno.E2BIG },
  { what: 'cgroup_array', spec: { type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }, errno: 0 },
  { what: 'cgroup_array value 8', spec: { type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 }, errno: Errno.EINVAL },
  { what: 'cgroup_array max_entries 0', spec: { type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 }, errno: Errno.EINVAL },
  { what: 'cgroup_array BPF_F_RDONLY_PROG', spec: { type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, flags: MapFlag.RDONLY_PROG }, errno: Errno.EINVAL },
  { what: 'cgroup_array BPF_F_MMAPABLE', spec: { type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, flags: MapFlag.MMAPABLE }, errno: Errno.EINVAL },
  { what: 'xskmap', spec: { type: MapType.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 4 }, errno: 0 },
  { what: 'xskmap value 8', spec: { type: MapType.XSKMAP, keySize: 4, valueSize: 8, maxEntries: 4 }, errno: Errno.EINVAL },
  { what: 'xskmap BPF_F_NO_PREALLOC', spec: { type: MapType.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 4, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'sockmap value 8', spec: { type: MapType.SOCKMAP, keySize: 4, valueSize: 8, maxEntries: 8 }, errno: 0 },
  { what: 'sockmap value 4', spec: { type: MapType.SOCKMAP, keySize: 4, valueSize: 4, maxEntries: 8 }, errno: 0 },
  { what: 'sockmap value 2', spec: { type: MapType.SOCKMAP, keySize: 4, valueSize: 2, maxEntries: 8 }, errno: Errno.EINVAL },
  { what: 'sockmap key 8', spec: { type: MapType.SOCKMAP, keySize: 8, valueSize: 8, maxEntries: 8 }, errno: Errno.EINVAL },
  { what: 'sockmap BPF_F_RDONLY_PROG', spec: { type: MapType.SOCKMAP, keySize: 4, valueSize: 8, maxEntries: 8, flags: MapFlag.RDONLY_PROG }, errno: Errno.EINVAL },
  { what: 'sockhash key 8', spec: { type: MapType.SOCKHASH, keySize: 8, valueSize: 8, maxEntries: 8 }, errno: 0 },
  { what: 'sockhash key 0', spec: { type: MapType.SOCKHASH, keySize: 0, valueSize: 8, maxEntries: 8 }, errno: Errno.EINVAL },
  { what: 'sockhash key 513', spec: { type: MapType.SOCKHASH, keySize: 513, valueSize: 8, maxEntries: 8 }, errno: Errno.E2BIG },
  { what: 'reuseport_sockarray value 8', spec: { type: MapType.REUSEPORT_SOCKARRAY, keySize: 4, valueSize: 8, maxEntries: 4 }, errno: 0 },
  { what: 'reuseport_sockarray value 4', spec: { type: MapType.REUSEPORT_SOCKARRAY, keySize: 4, valueSize: 4, maxEntries: 4 }, errno: 0 },
  { what: 'reuseport_sockarray value 2', spec: { type: MapType.REUSEPORT_SOCKARRAY, keySize: 4, valueSize: 2, maxEntries: 4 }, errno: Errno.EINVAL },
  { what: 'reuseport_sockarray BPF_F_MMAPABLE', spec: { type: MapType.REUSEPORT_SOCKARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: MapFlag.MMAPABLE }, errno: Errno.EINVAL },
  { what: 'cgroup_storage', spec: { type: MapType.CGROUP_STORAGE, keySize: 16, valueSize: 8, maxEntries: 0 }, errno: 0 },
  { what: 'cgroup_storage keyed by a u64 cgroup id', spec: { type: MapType.CGROUP_STORAGE, keySize: 8, valueSize: 8, maxEntries: 0 }, errno: 0 },
  { what: 'cgroup_storage key 12', spec: { type: MapType.CGROUP_STORAGE, keySize: 12, valueSize: 8, maxEntries: 0 }, errno: Errno.EINVAL },
  { what: 'cgroup_storage max_entries 1', spec: { type: MapType.CGROUP_STORAGE, keySize: 16, valueSize: 8, maxEntries: 1 }, errno: Errno.EINVAL },
  { what: 'cgroup_storage value 65536', spec: { type: MapType.CGROUP_STORAGE, keySize: 16, valueSize: 65536, maxEntries: 0 }, errno: Errno.E2BIG },
  { what: 'percpu_cgroup_storage value 40000', spec: { type: MapType.PERCPU_CGROUP_STORAGE, keySize: 16, valueSize: 40000, maxEntries: 0 }, errno: Errno.E2BIG },
  { what: 'user_ringbuf', spec: { type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }, errno: 0 },
  { what: 'user_ringbuf not a power of two', spec: { type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 3 * 4096 }, errno: Errno.EINVAL },
  { what: 'user_ringbuf key 4', spec: { type: MapType.USER_RINGBUF, keySize: 4, valueSize: 0, maxEntries: 4096 }, errno: Errno.EINVAL },
  { what: 'task_storage', spec: storage(MapType.TASK_STORAGE), errno: 0 },
  { what: 'task_storage preallocated', spec: storage(MapType.TASK_STORAGE, { flags: 0 }), errno: Errno.EINVAL },
  { what: 'task_storage max_entries 1', spec: storage(MapType.TASK_STORAGE, { maxEntries: 1 }), errno: Errno.EINVAL },
  { what: 'task_storage without BTF', spec: storage(MapType.TASK_STORAGE, { btfKeyTypeId: 0, btfValueTypeId: 0 }), errno: Errno.EINVAL },
  { what: 'inode_storage', spec: storage(MapType.INODE_STORAGE), errno: 0 },
  { what: 'inode_storage value 65408', spec: storage(MapType.INODE_STORAGE, { valueSize: 65408 }), errno: Errno.E2BIG },
];

describe('creation', () => {
  test.for(CREATION)('$what: errno $errno', ({ spec, errno }) => {
    let got = 0;
    try {
      createMap(new GuestMemory(), spec);
    } catch (err) {
      expect(err).toBeInstanceOf(MapCreateError);
      got = (err as MapCreateError).errno!;
    }
    expect(got).toBe(errno);
  });
});

describe('user space on empty maps', () => {
  test('reuseport_sockarray: the cookie needs value_size 8 (ENOSPC), no sockets (ENOENT, EBADF), deletes ENOENT or E2BIG', () => {
    const { map } = setup({ type: MapType.REUSEPORT_SOCKARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
    expect(errnoOf(() => map.lookup(u32(0)))).toBe(Errno.ENOENT);
    expect(errnoOf(() => map.update(u32(0), u64(3)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.update(u32(0), u64(2 ** 31)))).toBe(Errno.EINVAL);
    expect(errnoOf(() => map.update(u32(2), u64(3)))).toBe(Errno.E2BIG);
    expect(errnoOf(() => map.update(u32(0), u64(3), 3))).toBe(Errno.EINVAL);
    expect(map.delete(u32(0))).toBe(false); // -ENOENT: nothing there
    expect(errnoOf(() => map.delete(u32(2)))).toBe(Errno.E2BIG);
    expect([...map.keys()].map((k) => k[0])).toEqual([0, 1]);
    const small = setup({ type: MapType.REUSEPORT_SOCKARRAY, keySize: 4, valueSize: 4, maxEntries: 2 }).map;
    expect(errnoOf(() => small.lookup(u32(0)))).toBe(Errno.ENOSPC);
  });

  test('cgroup_storage: no attached storage in user space (ENOENT), deletes EINVAL', () => {
    const { map } = setup({ type: MapType.CGROUP_STORAGE, keySize: 16, valueSize: 8, maxEntries: 0 });
    expect(errnoOf(() => map.lookup(new Uint8Array(16)))).toBe(Errno.ENOENT);
    expect(errnoOf(() => map.update(new Uint8Array(16), u64(1)))).toBe(Errno.ENOENT);
    expect(errnoOf(() => map.update(new Uint8Array(16), u64(1), 1))).toBe(Errno.EINVAL);
    expect(errnoOf(() => map.delete(new Uint8Array(16)))).toBe(Errno.EINVAL);
    expect(map.getNextKey()).toBeUndefined();
  });

  test('user_ringbuf: every user-space operation is ENOTSUPP', () => {
    const { map } = setup({ type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(errnoOf(() => map.lookup(new Uint8Array(0)))).toBe(Errno.ENOTSUPP);
    expect(errnoOf(() => map.update(new Uint8Array(0), new Uint8Array(0)))).toBe(Errno.ENOTSUPP);
    expect(errnoOf(() => map.delete(new Uint8Array(0)))).toBe(Errno.ENOTSUPP);
    expect(errnoOf(() => map.getNextKey())).toBe(Errno.ENOTSUPP);
    expect(map.size).toBe(0);
  });

  test('stack_trace: lookups miss, updates are EINVAL, deletes ENOENT (E2BIG past the buckets), no next key, no batches', () => {
    const { map } = setup({ type: MapType.STACK_TRACE, keySize: 4, valueSize: 16, maxEntries: 5 });
    expect(map.lookup(u32(0))).toBeUndefined();
    expect(errnoOf(() => map.update(u32(0), new Uint8Array(16)))).toBe(Errno.EINVAL);
    expect(map.delete(u32(7))).toBe(false);
    expect(errnoOf(() => map.delete(u32(8)))).toBe(Errno.E2BIG);
    expect(map.getNextKey()).toBeUndefined();
    expect(errnoOf(() => map.lookupBatch(4))).toBe(Errno.ENOTSUPP);
  });

  test('cgroup_array: no cgroup fds (EBADF), lookups ENOTSUPP, deletes ENOENT or E2BIG, get_next_key walks indexes', () => {
    const { map } = setup({ type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(errnoOf(() => map.update(u32(0), u32(3)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.update(u32(2), u32(3)))).toBe(Errno.E2BIG);
    expect(errnoOf(() => map.update(u32(0), u32(3), 1))).toBe(Errno.EINVAL);
    expect(errnoOf(() => map.lookup(u32(0)))).toBe(Errno.ENOTSUPP);
    expect(map.delete(u32(1))).toBe(false);
    expect(errnoOf(() => map.delete(u32(2)))).toBe(Errno.E2BIG);
    expect([...map.keys()].map((k) => k[0])).toEqual([0, 1]);
  });

  test('xskmap: no AF_XDP sockets (EBADF), lookups EOPNOTSUPP, deletes succeed, get_next_key walks indexes', () => {
    const { map } = setup({ type: MapType.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 3 });
    expect(errnoOf(() => map.update(u32(0), u32(3)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.update(u32(3), u32(3)))).toBe(Errno.E2BIG);
    expect(errnoOf(() => map.update(u32(0), u32(3), 3))).toBe(Errno.EINVAL);
    expect(errnoOf(() => map.lookup(u32(0)))).toBe(Errno.EOPNOTSUPP);
    expect(map.delete(u32(2))).toBe(true);
    expect(errnoOf(() => map.delete(u32(3)))).toBe(Errno.EINVAL);
    expect([...map.keys()].map((k) => k[0])).toEqual([0, 1, 2]);
  });

  test('sockmap: a cookie naming no socket is EBADF, an open socket cannot be held (EOPNOTSUPP); lookups ENOSPC with 4-byte values', () => {
    const open = { cookie: 5n, fullSocket: true, storage: [], storageCount: 0, optionMemory: 0 };
    const { map } = setup({ type: MapType.SOCKMAP, keySize: 4, valueSize: 8, maxEntries: 4 }, { resolveSocket: (c) => (c === 5n ? open : undefined) });
    expect(errnoOf(() => map.update(u32(0), u64(9)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.update(u32(0), u64(5)))).toBe(Errno.EOPNOTSUPP);
    expect(errnoOf(() => map.update(u32(0), u64(2 ** 31)))).toBe(Errno.EINVAL);
    expect(map.lookup(u32(0))).toBeUndefined();
    expect(errnoOf(() => map.delete(u32(0)))).toBe(Errno.EINVAL);
    expect([...map.keys()].length).toBe(4);
    const narrow = setup({ type: MapType.SOCKMAP, keySize: 4, valueSize: 4, maxEntries: 4 }).map;
    expect(errnoOf(() => narrow.lookup(u32(0)))).toBe(Errno.ENOSPC);
  });

  test('sockhash: lookups and deletes miss, no keys', () => {
    const { map } = setup({ type: MapType.SOCKHASH, keySize: 8, valueSize: 8, maxEntries: 4 });
    expect(map.lookup(u64(1))).toBeUndefined();
    expect(map.delete(u64(1))).toBe(false);
    expect(map.getNextKey()).toBeUndefined();
  });

  test.for([MapType.TASK_STORAGE, MapType.INODE_STORAGE])('local storage %i: no pidfds or file fds (EBADF), no get_next_key', (type) => {
    const { map } = setup(storage(type));
    expect(errnoOf(() => map.lookup(u32(3)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.update(u32(3), u64(1)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.delete(u32(3)))).toBe(Errno.EBADF);
    expect(errnoOf(() => map.getNextKey())).toBe(Errno.ENOTSUPP);
  });
});
