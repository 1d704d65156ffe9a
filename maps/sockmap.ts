// BPF_MAP_TYPE_SOCKMAP (15) and BPF_MAP_TYPE_SOCKHASH (18) (net/core/sock_map.c): sockets by index
// or by key, for sk_msg/sk_skb redirects and bpf_sk_select_reuseport. Not supported here: putting a
// socket in one. Linux attaches the socket to the map's psock machinery, which this runtime does not
// have, so every update of an open socket is refused with -EOPNOTSUPP (Linux's errno for a socket it
// cannot hold); a cookie naming no open socket is -EBADF (a closed fd). The maps are created with
// Linux's checks and behave as Linux's empty ones do: a program's lookup gives NULL, a user-space
// lookup is -ENOSPC with a 4-byte value and -ENOENT otherwise, a sockmap delete is -EINVAL (there
// is no socket to take out), a sockhash delete -ENOENT; a sockmap's get_next_key walks every
// index, a sockhash's ends at once.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, roundUpPow2, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';
import { EmptyMap } from './empty-map.js';

/** SOCK_CREATE_FLAG_MASK. */
const SOCK_CREATE_FLAG_MASK = MapFlag.NUMA_NODE | MapFlag.RDONLY | MapFlag.WRONLY;
/** MAX_BPF_STACK: the longest sockhash key. */
const MAX_BPF_STACK = 512;
/** S32_MAX: the largest fd a user-space update may name. */
const S32_MAX = 0x7fffffff;

/** A sockmap or sockhash; it holds no sockets (see the file's header). */
export class SockMap extends EmptyMap {
  private readonly resolveSocket: MapOptions['resolveSocket'];

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options);
    this.resolveSocket = options.resolveSocket;
  }

  private get isHash(): boolean {
    return this.type === MapType.SOCKHASH;
  }

  /** sock_map_lookup_sys / sock_hash_lookup_sys: -ENOSPC unless the value holds a u64 cookie, then -ENOENT. */
  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkAccess('lookup', false);
    this.keyIn(key);
    if (flags !== 0) this.fail('lookup', Errno.EINVAL);
    if (this.valueSize !== 8) this.fail('lookup', Errno.ENOSPC);
    return undefined;
  }

  /**
   * sock_map_update_elem_sys: the value names a socket (here by its cookie, where Linux takes an
   * fd): above S32_MAX -EINVAL, no open socket -EBADF, an open one -EOPNOTSUPP (not supported
   * here). A program's update (sock_map_update_elem) is refused the same way.
   */
  protected updateValue(_keyAddr: number, valueAddr: number, _flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EOPNOTSUPP;
    const view = this.memory.view;
    const cookie = this.valueSize === 8 ? view.getBigUint64(valueAddr, true) : BigInt(view.getUint32(valueAddr, true));
    if (cookie > BigInt(S32_MAX)) return -Errno.EINVAL;
    if (!this.resolveSocket?.(cookie)) return -Errno.EBADF;
    return -Errno.EOPNOTSUPP;
  }

  /** sock_map_delete_elem: -EINVAL (past the end, or no socket at the index); sock_hash_delete_elem: -ENOENT. */
  deleteAt(_keyAddr: number): number {
    return this.isHash ? -Errno.ENOENT : -Errno.EINVAL;
  }

  /** sock_map_get_next_key walks indexes as arrays do; sock_hash_get_next_key finds no element. */
  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.isHash ? -Errno.ENOENT : this.nextIndexAt(keyAddr, outAddr);
  }
}

/** sock_map_alloc's checks. */
export function checkSockMapSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.maxEntries === 0 || spec.maxEntries > S32_MAX || spec.keySize !== 4 || (spec.valueSize !== 4 && spec.valueSize !== 8)) {
    return invalid('max_entries must be non-zero (at most INT_MAX), key_size 4, value_size 4 or 8');
  }
  return checkFlags(spec.flags ?? 0, SOCK_CREATE_FLAG_MASK);
}

/** sock_hash_alloc's checks. */
export function checkSockHashSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.maxEntries === 0 || spec.keySize === 0 || (spec.valueSize !== 4 && spec.valueSize !== 8)) {
    return invalid('max_entries and key_size must be non-zero, value_size 4 or 8');
  }
  const bad = checkFlags(spec.flags ?? 0, SOCK_CREATE_FLAG_MASK);
  if (bad) return bad;
  if (spec.keySize > MAX_BPF_STACK) return tooBig(`key_size ${spec.keySize} exceeds ${MAX_BPF_STACK}`);
  // buckets_num is max_entries rounded up to a power of two, which must fit a u32 of bucket bytes.
  if (roundUpPow2(spec.maxEntries) > Math.floor(0xffffffff / 16)) return invalid(`max_entries ${spec.maxEntries} needs too many buckets`);
  return undefined;
}

/** Registry entries for BPF_MAP_TYPE_SOCKMAP and BPF_MAP_TYPE_SOCKHASH. */
export const sockMapKind: MapKind = {
  type: MapType.SOCKMAP,
  name: 'sockmap',
  check: checkSockMapSpec,
  create: (memory, spec, options) => new SockMap(memory, spec, options),
};

export const sockHashKind: MapKind = {
  type: MapType.SOCKHASH,
  name: 'sockhash',
  check: checkSockHashSpec,
  create: (memory, spec, options) => new SockMap(memory, spec, options),
};
