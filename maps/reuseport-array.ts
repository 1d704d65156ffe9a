// BPF_MAP_TYPE_REUSEPORT_SOCKARRAY (20) (kernel/bpf/reuseport_array.c): SO_REUSEPORT sockets by
// index, for sk_reuseport programs' bpf_sk_select_reuseport. This runtime has no reuseport groups
// (and no sk_reuseport programs run), so the array stays empty, with Linux's semantics for an empty
// one: a user-space lookup is -ENOSPC unless value_size is 8 (the socket's cookie), then -ENOENT;
// an update names no socket (-EBADF, a closed fd) after Linux's own checks; a delete is -ENOENT
// (-E2BIG past the end); get_next_key walks every index.
import { ACCESS_MASK, BPF_EXIST, Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapSpec } from './map.js';
import { EmptyMap } from './empty-map.js';

/** A reuseport socket array with no sockets in it. */
export class ReuseportArrayMap extends EmptyMap {
  /** bpf_fd_reuseport_array_lookup_elem: the cookie needs an 8-byte value (-ENOSPC), and there is no socket (-ENOENT). */
  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.lookupFails(key, flags, this.valueSize === 8 ? Errno.ENOENT : Errno.ENOSPC);
  }

  /** bpf_fd_reuseport_array_update_elem: flags past BPF_EXIST and fds past S32_MAX -EINVAL, -E2BIG past the end, then no socket behind the fd. */
  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EINVAL;
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    if (this.indexAt(keyAddr) >= this.maxEntries) return -Errno.E2BIG;
    if (this.valueSize === 8 && this.memory.view.getBigUint64(valueAddr, true) > 0x7fffffffn) return -Errno.EINVAL;
    return -Errno.EBADF;
  }

  /** reuseport_array_delete_elem: -E2BIG past the end, -ENOENT for an empty slot. */
  deleteAt(keyAddr: number): number {
    return this.indexAt(keyAddr) >= this.maxEntries ? -Errno.E2BIG : -Errno.ENOENT;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }
}

/** reuseport_array_alloc_check: value_size 4 or 8, then array_map_alloc_check (no mmap, no inner maps). */
export function checkReuseportArraySpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.valueSize !== 4 && spec.valueSize !== 8) return invalid('value_size must be 4 or 8');
  if (spec.maxEntries === 0 || spec.keySize !== 4) return invalid('max_entries must be non-zero and key_size 4');
  return checkFlags(spec.flags ?? 0, MapFlag.NUMA_NODE | ACCESS_MASK);
}

/** Registry entry for BPF_MAP_TYPE_REUSEPORT_SOCKARRAY. */
export const reuseportArrayKind: MapKind = {
  type: MapType.REUSEPORT_SOCKARRAY,
  name: 'reuseport_sockarray',
  check: checkReuseportArraySpec,
  create: (memory, spec, options) => new ReuseportArrayMap(memory, spec, options),
};
