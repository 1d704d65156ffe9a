// The map registry, keyed by BPF_MAP_TYPE_* numbers, and map creation with the checks bpf(2)'s
// BPF_MAP_CREATE makes before and inside each kind's map_alloc_check.
import { OutOfGuestMemoryError, type GuestMemory } from '../runtime/memory.js';
import { arrayKind } from './array.js';
import { arrayOfMapsKind } from './array-of-maps.js';
import { bloomFilterKind } from './bloom-filter.js';
import { cgroupArrayKind } from './cgroup-array.js';
import { Errno, MapType } from './constants.js';
import { cpumapKind } from './cpumap.js';
import { devmapKind } from './devmap.js';
import { devmapHashKind } from './devmap-hash.js';
import { MapCreateError } from './errors.js';
import { flowKind } from './flow-map.js';
import { controlKind } from './control.js';
import { hashKind } from './hash.js';
import { hashOfMapsKind } from './hash-of-maps.js';
import type { MapKind } from './kind.js';
import { inodeStorageKind, taskStorageKind } from './local-storage.js';
import { lruHashKind } from './lru-hash.js';
import { lpmTrieKind } from './lpm-trie.js';
import { lruPercpuHashKind } from './lru-percpu-hash.js';
import type { BpfMap, MapOptions, MapSpec } from './map.js';
import { percpuArrayKind } from './percpu-array.js';
import { percpuHashKind } from './percpu-hash.js';
import { perfEventArrayKind } from './perf-event-array.js';
import { progArrayKind } from './prog-array.js';
import { queueKind } from './queue.js';
import { ringbufKind } from './ringbuf.js';
import { skStorageKind } from './sk-storage.js';
import { sockHashKind, sockMapKind } from './sockmap.js';
import { stackKind } from './stack.js';
import { stackTraceKind } from './stack-trace.js';
import { xskMapKind } from './xskmap.js';
import { reuseportArrayKind } from './reuseport-array.js';
import { userRingbufKind } from './user-ringbuf.js';
import { cgroupStorageKind, percpuCgroupStorageKind } from './cgroup-storage.js';

/** Every map kind this runtime implements, by type number. */
export const MAP_KINDS: ReadonlyMap<number, MapKind> = new Map(
  [hashKind, arrayKind, progArrayKind, perfEventArrayKind, percpuHashKind, percpuArrayKind, lruHashKind, lruPercpuHashKind, lpmTrieKind, arrayOfMapsKind, hashOfMapsKind, devmapKind, cpumapKind, queueKind, stackKind, devmapHashKind, ringbufKind, bloomFilterKind, flowKind, controlKind, skStorageKind,
    stackTraceKind, cgroupArrayKind, sockMapKind, xskMapKind, sockHashKind, inodeStorageKind, taskStorageKind,
    reuseportArrayKind, userRingbufKind, cgroupStorageKind, percpuCgroupStorageKind].map((k) => [k.type, k]),
);

const U32_FIELDS = ['keySize', 'valueSize', 'maxEntries', 'flags'] as const;

/** Creates a map after Linux's creation checks; throws MapCreateError carrying the errno bpf(2) would return. */
export function createMap(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}): BpfMap {
  const name = spec.name ?? `type${spec.type}`;
  const kind = MAP_KINDS.get(spec.type);
  if (!kind) throw new MapCreateError(name, `map type ${spec.type} is not supported`, Errno.EINVAL);
  for (const field of U32_FIELDS) {
    const v = spec[field] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new MapCreateError(name, `${field} ${v} is not a u32`, Errno.EINVAL);
  }
  const extra = spec.mapExtra ?? 0;
  if ((typeof extra === 'number' && !Number.isSafeInteger(extra)) || extra < 0 || BigInt(extra) >= 2n ** 64n) throw new MapCreateError(name, `map_extra ${extra} is not a u64`, Errno.EINVAL);
  if (spec.type !== MapType.BLOOM_FILTER && spec.type !== MapType.CONTROL && BigInt(extra) !== 0n) throw new MapCreateError(name, 'map_extra is only for bloom filters (and control maps)', Errno.EINVAL);
  if (options.cpus !== undefined && (!Number.isInteger(options.cpus) || options.cpus < 1)) throw new MapCreateError(name, `cpus ${options.cpus} must be a positive integer`, Errno.EINVAL);
  const lock = spec.spinLockOffset;
  if (lock !== undefined && (!Number.isInteger(lock) || lock < 0 || lock % 4 !== 0 || lock + 4 > spec.valueSize)) {
    throw new MapCreateError(name, `bpf_spin_lock at offset ${lock} does not fit a ${spec.valueSize}-byte value`, Errno.EINVAL);
  }
  const failure = kind.check(spec, options);
  if (failure) throw new MapCreateError(name, `${kind.name}: ${failure.detail}`, failure.errno);
  const before = new Set(memory.regions());
  try {
    return kind.create(memory, spec, options);
  } catch (e) {
    // A map that failed half-way through creation gives back what it had allocated.
    for (const r of [...memory.regions()]) if (!before.has(r)) memory.free(r);
    if (e instanceof OutOfGuestMemoryError) throw new MapCreateError(name, `${kind.name}: no guest memory for ${spec.maxEntries} entries`, Errno.ENOMEM, { cause: e });
    throw e;
  }
}
