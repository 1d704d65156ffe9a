// BPF_MAP_TYPE_CGROUP_ARRAY (8) (kernel/bpf/arraymap.c, the fd-array part): cgroups by index, for
// bpf_skb_under_cgroup and bpf_current_task_under_cgroup. This runtime has no cgroup hierarchy to
// take cgroup fds from, so the array stays empty, with Linux's semantics for an empty one: an update
// from user space names no cgroup (-EBADF, a closed fd), a delete finds nothing (-ENOENT), a
// user-space lookup is -ENOTSUPP (Linux has no such op for cgroup arrays), get_next_key walks every
// index, and the helpers see no cgroup at any index (-EAGAIN; -E2BIG past the end).
import { Errno, MapFlag, MapType } from './constants.js';
import { checkArraySpec } from './array.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapSpec } from './map.js';
import { EmptyMap } from './empty-map.js';

/** A cgroup array with no cgroups in it. */
export class CgroupArrayMap extends EmptyMap {
  /** What the under_cgroup helpers find at an index: -E2BIG past the end, -EAGAIN for an empty slot (all of them). */
  cgroupAt(index: number): { errno: number } {
    return { errno: index >>> 0 >= this.maxEntries ? Errno.E2BIG : Errno.EAGAIN };
  }

  /** bpf_fd_array_map_lookup_elem: cgroup arrays have no user-space lookup (-ENOTSUPP). */
  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.lookupFails(key, flags, Errno.ENOTSUPP);
  }

  /** bpf_fd_array_map_update_elem: a program cannot (-EINVAL); from user space, BPF_ANY only, -E2BIG past the end, and no cgroup fd to take (-EBADF). */
  protected updateValue(keyAddr: number, _valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0 || flags !== 0) return -Errno.EINVAL;
    if (this.indexAt(keyAddr) >= this.maxEntries) return -Errno.E2BIG;
    return -Errno.EBADF;
  }

  /** fd_array_map_delete_elem: -E2BIG past the end, -ENOENT for an empty slot. */
  deleteAt(keyAddr: number): number {
    return this.indexAt(keyAddr) >= this.maxEntries ? -Errno.E2BIG : -Errno.ENOENT;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }
}

/** fd_array_map_alloc_check, then the array checks (array_map_alloc). */
export function checkCgroupArraySpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.valueSize !== 4) return invalid('value_size must be 4');
  if ((spec.flags ?? 0) & (MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG)) return invalid('BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not allowed');
  return checkArraySpec(spec, false, true);
}

/** Registry entry for BPF_MAP_TYPE_CGROUP_ARRAY. */
export const cgroupArrayKind: MapKind = {
  type: MapType.CGROUP_ARRAY,
  name: 'cgroup_array',
  check: checkCgroupArraySpec,
  create: (memory, spec, options) => new CgroupArrayMap(memory, spec, options),
};
