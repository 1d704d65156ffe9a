// Map creation refuses what Linux's BPF_MAP_CREATE refuses, with the same errno, as typed errors.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { BpfError } from '../../isa/errors.js';
import { createMap, Errno, MAP_KINDS, MapCreateError, MapError, MapFlag, MapType, type MapSpec } from '../../maps/index.js';

const base = { keySize: 4, valueSize: 8, maxEntries: 16 };

const REFUSED: { what: string; spec: MapSpec; errno: number }[] = [
  { what: 'unknown type', spec: { type: 9999, ...base }, errno: Errno.EINVAL },
  { what: 'array key size 8', spec: { type: MapType.ARRAY, ...base, keySize: 8 }, errno: Errno.EINVAL },
  { what: 'array value size 0', spec: { type: MapType.ARRAY, ...base, valueSize: 0 }, errno: Errno.EINVAL },
  { what: 'array max_entries 0', spec: { type: MapType.ARRAY, ...base, maxEntries: 0 }, errno: Errno.EINVAL },
  { what: 'array with BPF_F_NO_PREALLOC', spec: { type: MapType.ARRAY, ...base, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'percpu_array mmapable', spec: { type: MapType.PERCPU_ARRAY, ...base, flags: MapFlag.MMAPABLE }, errno: Errno.EINVAL },
  { what: 'percpu_array value over 32 KiB', spec: { type: MapType.PERCPU_ARRAY, ...base, valueSize: 32 * 1024 + 1 }, errno: Errno.E2BIG },
  { what: 'array with map_extra', spec: { type: MapType.ARRAY, ...base, mapExtra: 1 }, errno: Errno.EINVAL },
  { what: 'array RDONLY_PROG|WRONLY_PROG', spec: { type: MapType.ARRAY, ...base, flags: MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG }, errno: Errno.EINVAL },
  { what: 'hash key size 0', spec: { type: MapType.HASH, ...base, keySize: 0 }, errno: Errno.EINVAL },
  { what: 'hash value size 0', spec: { type: MapType.HASH, ...base, valueSize: 0 }, errno: Errno.EINVAL },
  { what: 'hash max_entries 0', spec: { type: MapType.HASH, ...base, maxEntries: 0 }, errno: Errno.EINVAL },
  { what: 'hash with BPF_F_MMAPABLE', spec: { type: MapType.HASH, ...base, flags: MapFlag.MMAPABLE }, errno: Errno.EINVAL },
  { what: 'hash with BPF_F_NO_COMMON_LRU', spec: { type: MapType.HASH, ...base, flags: MapFlag.NO_COMMON_LRU }, errno: Errno.EINVAL },
  { what: 'hash element over KMALLOC_MAX_SIZE', spec: { type: MapType.HASH, ...base, valueSize: 4 << 20 }, errno: Errno.E2BIG },
  { what: 'hash max_entries past 2^28 buckets', spec: { type: MapType.HASH, ...base, maxEntries: 2 ** 28 + 1, flags: MapFlag.NO_PREALLOC }, errno: Errno.E2BIG },
  { what: 'percpu_hash value over 32 KiB', spec: { type: MapType.PERCPU_HASH, ...base, valueSize: 40000 }, errno: Errno.E2BIG },
  { what: 'lru_hash without preallocation', spec: { type: MapType.LRU_HASH, ...base, flags: MapFlag.NO_PREALLOC }, errno: Errno.ENOTSUPP },
  { what: 'lru_hash with a spin lock', spec: { type: MapType.LRU_HASH, ...base, spinLockOffset: 0 }, errno: Errno.EOPNOTSUPP },
  { what: 'spin lock past the value', spec: { type: MapType.HASH, ...base, spinLockOffset: 8 }, errno: Errno.EINVAL },
  { what: 'lpm_trie without BPF_F_NO_PREALLOC', spec: { type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 16 }, errno: Errno.EINVAL },
  { what: 'lpm_trie key of only a prefixlen', spec: { type: MapType.LPM_TRIE, keySize: 4, valueSize: 4, maxEntries: 16, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'lpm_trie key over 256 data bytes', spec: { type: MapType.LPM_TRIE, keySize: 261, valueSize: 4, maxEntries: 16, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'lpm_trie value size 0', spec: { type: MapType.LPM_TRIE, keySize: 8, valueSize: 0, maxEntries: 16, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'lpm_trie with BPF_F_ZERO_SEED', spec: { type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 16, flags: MapFlag.NO_PREALLOC | MapFlag.ZERO_SEED }, errno: Errno.EINVAL },
  { what: 'queue with a key', spec: { type: MapType.QUEUE, keySize: 4, valueSize: 4, maxEntries: 16 }, errno: Errno.EINVAL },
  { what: 'stack value size 0', spec: { type: MapType.STACK, keySize: 0, valueSize: 0, maxEntries: 16 }, errno: Errno.EINVAL },
  { what: 'stack max_entries 0', spec: { type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 0 }, errno: Errno.EINVAL },
  { what: 'queue with BPF_F_NO_PREALLOC', spec: { type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 16, flags: MapFlag.NO_PREALLOC }, errno: Errno.EINVAL },
  { what: 'queue value over KMALLOC_MAX_SIZE', spec: { type: MapType.QUEUE, keySize: 0, valueSize: (4 << 20) + 1, maxEntries: 1 }, errno: Errno.E2BIG },
  { what: 'bloom filter with a key', spec: { type: MapType.BLOOM_FILTER, keySize: 4, valueSize: 4, maxEntries: 16 }, errno: Errno.EINVAL },
  { what: 'bloom filter map_extra over 15', spec: { type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 16, mapExtra: 16 }, errno: Errno.EINVAL },
  { what: 'bloom filter value over KMALLOC_MAX_SIZE', spec: { type: MapType.BLOOM_FILTER, keySize: 0, valueSize: (4 << 20) + 1, maxEntries: 16 }, errno: Errno.E2BIG },
  { what: 'hash with map_extra', spec: { type: MapType.HASH, ...base, mapExtra: 3 }, errno: Errno.EINVAL },
  { what: 'bloom filter map_extra 16 as a bigint', spec: { type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 16, mapExtra: 16n }, errno: Errno.EINVAL },
  { what: 'map_extra past u64', spec: { type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 16, mapExtra: 2n ** 64n }, errno: Errno.EINVAL },
  { what: 'negative key size', spec: { type: MapType.HASH, ...base, keySize: -1 }, errno: Errno.EINVAL },
  { what: 'fractional max_entries', spec: { type: MapType.HASH, ...base, maxEntries: 1.5 }, errno: Errno.EINVAL },
];

describe('map creation', () => {
  test.for(REFUSED)('$what -> errno $errno', ({ spec, errno }) => {
    const memory = new GuestMemory();
    let thrown: unknown;
    try {
      createMap(memory, { name: 'bad', ...spec });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MapCreateError);
    expect(thrown).toBeInstanceOf(MapError);
    expect(thrown).toBeInstanceOf(BpfError);
    expect((thrown as MapCreateError).errno).toBe(errno);
    expect((thrown as Error).message).toMatch(/^map bad: /);
  });

  test('a map too large for guest memory is -ENOMEM', () => {
    const memory = new GuestMemory({ initialPages: 1, maximumPages: 4 });
    expect(() => createMap(memory, { type: MapType.ARRAY, name: 'huge', keySize: 4, valueSize: 1024, maxEntries: 1024 })).toThrow(/ENOMEM/);
  });

  test('the registry is keyed by BPF_MAP_TYPE_* numbers', () => {
    expect([...MAP_KINDS.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31, 0x1000, 0x1001]);
    expect(MAP_KINDS.get(1)!.name).toBe('hash');
    expect(MAP_KINDS.get(10)!.name).toBe('lru_percpu_hash');
  });

  test('BPF_F_RDONLY and BPF_F_WRONLY restrict the JS side with EPERM', () => {
    const memory = new GuestMemory();
    const ro = createMap(memory, { type: MapType.HASH, name: 'ro', ...base, flags: MapFlag.RDONLY });
    expect(() => ro.update(new Uint8Array(4), new Uint8Array(8))).toThrow(/EPERM/);
    expect(ro.lookup(new Uint8Array(4))).toBeUndefined();
    const wo = createMap(memory, { type: MapType.HASH, name: 'wo', ...base, flags: MapFlag.WRONLY });
    wo.update(new Uint8Array(4), new Uint8Array(8));
    expect(() => wo.lookup(new Uint8Array(4))).toThrow(/EPERM/);
  });

  test('map_extra may be a bigint, as the loader reads it', () => {
    const memory = new GuestMemory();
    expect(createMap(memory, { type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 8, mapExtra: 3n }).mapExtra).toBe(3);
    expect(createMap(memory, { type: MapType.HASH, ...base, mapExtra: 0n }).mapExtra).toBe(0);
  });

  test('free returns the map regions to guest memory', () => {
    const memory = new GuestMemory();
    const before = memory.regions().length;
    const map = createMap(memory, { type: MapType.HASH, name: 'f', ...base });
    expect(memory.regions().length).toBeGreaterThan(before);
    map.free();
    expect(memory.regions().length).toBe(before);
  });
});
