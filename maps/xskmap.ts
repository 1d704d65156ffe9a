// BPF_MAP_TYPE_XSKMAP (17) (net/xdp/xskmap.c): AF_XDP sockets by index, for bpf_redirect_map. This
// runtime has no AF_XDP sockets, so the map stays empty, with Linux's semantics for an empty one:
// a program's lookup gives NULL, bpf_redirect_map falls back to the action in its flags, an update
// from user space names no socket (-EBADF, a closed fd), a delete succeeds, a user-space lookup is
// -EOPNOTSUPP (Linux has none), and get_next_key walks every index.
import { BPF_EXIST, Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapSpec } from './map.js';
import { EmptyMap } from './empty-map.js';
import type { RedirectTarget } from './redirect-target.js';

/** An XSKMAP with no sockets in it. */
export class XskMap extends EmptyMap {
  /** The socket at an index, for bpf_redirect_map: there is none. */
  targetAt(_index: number): RedirectTarget | undefined {
    return undefined;
  }

  /** xsk_map_lookup_elem_sys_only: -EOPNOTSUPP. */
  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.lookupFails(key, flags, Errno.EOPNOTSUPP);
  }

  /** xsk_map_update_elem: flags past BPF_EXIST -EINVAL, -E2BIG past the end, then no socket behind the fd (-EBADF). Programs cannot update it. */
  protected updateValue(keyAddr: number, _valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EINVAL;
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    if (this.indexAt(keyAddr) >= this.maxEntries) return -Errno.E2BIG;
    return -Errno.EBADF;
  }

  /** xsk_map_delete_elem: -EINVAL past the end; clearing an empty slot succeeds. */
  deleteAt(keyAddr: number): number {
    return this.indexAt(keyAddr) >= this.maxEntries ? -Errno.EINVAL : 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }
}

/** xsk_map_alloc's checks. */
export function checkXskMapSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.maxEntries === 0 || spec.keySize !== 4 || spec.valueSize !== 4) return invalid('max_entries must be non-zero, key_size and value_size 4');
  return checkFlags(spec.flags ?? 0, MapFlag.NUMA_NODE | MapFlag.RDONLY | MapFlag.WRONLY);
}

/** Registry entry for BPF_MAP_TYPE_XSKMAP. */
export const xskMapKind: MapKind = {
  type: MapType.XSKMAP,
  name: 'xskmap',
  check: checkXskMapSpec,
  create: (memory, spec, options) => new XskMap(memory, spec, options),
};
