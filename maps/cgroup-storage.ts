// BPF_MAP_TYPE_CGROUP_STORAGE (19) and BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE (21)
// (kernel/bpf/local_storage.c): one value per (cgroup, attach type) a program using the map is
// attached to, which the program reaches with bpf_get_local_storage. Linux creates a storage on
// attach, and a fresh one for each BPF_PROG_TEST_RUN, which user space never sees. Here a test run
// gets its own storage, zeroed when the run starts, shared by its repeats (per CPU for the per-CPU
// kind); attachments create none, so user space finds the map empty: lookups and updates are
// -ENOENT, deletes -EINVAL (Linux has no delete), get_next_key -ENOENT. A program on a replay's
// cgroup hook keeps one storage across the replay's packets (the deviation: Linux would show it to
// user space under the cgroup's key).
import type { GuestMemory, Region } from '../runtime/memory.js';
import { ACCESS_MASK, Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';
import { EmptyMap } from './empty-map.js';

/** BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: U16_MAX less the element header Linux keeps beside a value. */
const MAX_VALUE_SIZE = 0xffff - 88;
/** PCPU_MIN_UNIT_SIZE: the largest per-CPU value. */
const PCPU_MIN_UNIT_SIZE = 32 * 1024;
/** sizeof(struct bpf_cgroup_storage_key) (cgroup inode id, attach type, padded), or a bare u64 cgroup id. */
const KEY_SIZES = [16, 8];
/** BPF_F_LOCK: the only update flag beside BPF_EXIST. */
const BPF_F_LOCK = 4;
const BPF_EXIST = 2;

/** A cgroup storage map: no attached storages, and the test run's own. */
export class CgroupStorageMap extends EmptyMap {
  private run: Region | undefined;
  private runSerial = -1;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, spec.type === MapType.PERCPU_CGROUP_STORAGE);
  }

  /**
   * bpf_get_local_storage's value for the run numbered `serial` (a new number per test run), on
   * CPU `cpu`: zeroed the first time a run asks for it.
   */
  storageFor(serial: number, cpu: number): number {
    const perCpu = this.type === MapType.PERCPU_CGROUP_STORAGE;
    const stride = this.cpuStride;
    this.run ??= this.memory.allocate(perCpu ? stride * this.cpus : this.valueSize, `storage of ${this.name}`);
    if (serial !== this.runSerial) {
      this.memory.bytes.fill(0, this.run.start, this.run.end);
      this.runSerial = serial;
    }
    return this.run.start + (perCpu ? cpu * stride : 0);
  }

  /** cgroup_storage_lookup_elem: no storage under any key (-ENOENT). */
  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.lookupFails(key, flags, Errno.ENOENT);
  }

  /** cgroup_storage_update_elem: flags past BPF_EXIST | BPF_F_LOCK -EINVAL, then no storage to write (-ENOENT). */
  protected updateValue(_keyAddr: number, _valueAddr: number, flags: number): number {
    if (flags & ~(BPF_EXIST | BPF_F_LOCK)) return -Errno.EINVAL;
    return -Errno.ENOENT;
  }

  /** cgroup_storage_delete_elem: -EINVAL always. */
  deleteAt(): number {
    return -Errno.EINVAL;
  }

  /** cgroup_storage_get_next_key: no storage, so no key. */
  nextKeyAt(): number {
    return -Errno.ENOENT;
  }

  override free(): void {
    if (this.run) this.memory.free(this.run);
    this.run = undefined;
    super.free();
  }
}

/** cgroup_storage_map_alloc's checks. */
export function checkCgroupStorageSpec(spec: MapSpec): MapCheckFailure | undefined {
  const max = spec.type === MapType.PERCPU_CGROUP_STORAGE ? Math.min(MAX_VALUE_SIZE, PCPU_MIN_UNIT_SIZE) : MAX_VALUE_SIZE;
  if (!KEY_SIZES.includes(spec.keySize)) return invalid('key_size must be 16 (struct bpf_cgroup_storage_key) or 8 (a cgroup id)');
  if (spec.valueSize === 0) return invalid('value_size must be non-zero');
  if (spec.valueSize > max) return tooBig(`value_size ${spec.valueSize} exceeds ${max}`);
  const bad = checkFlags(spec.flags ?? 0, MapFlag.NUMA_NODE | ACCESS_MASK);
  if (bad) return bad;
  if (spec.maxEntries !== 0) return invalid('max_entries must be 0 (cgroup storage has one value per attachment)');
  return undefined;
}

/** Registry entries for BPF_MAP_TYPE_CGROUP_STORAGE and BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE. */
export const cgroupStorageKind: MapKind = {
  type: MapType.CGROUP_STORAGE,
  name: 'cgroup_storage',
  check: checkCgroupStorageSpec,
  create: (memory, spec, options) => new CgroupStorageMap(memory, spec, options),
};

export const percpuCgroupStorageKind: MapKind = {
  type: MapType.PERCPU_CGROUP_STORAGE,
  name: 'percpu_cgroup_storage',
  check: checkCgroupStorageSpec,
  create: (memory, spec, options) => new CgroupStorageMap(memory, spec, options),
};
