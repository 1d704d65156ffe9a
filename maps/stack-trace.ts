// BPF_MAP_TYPE_STACK_TRACE (7) (kernel/bpf/stackmap.c): stack ids to call chains, filled by
// bpf_get_stackid. This runtime runs programs on no kernel or user stack, so bpf_get_stackid never
// fetches a trace (-EFAULT, as Linux returns when it cannot) and the map stays empty: user-space
// lookups and deletes miss, get_next_key ends at once. Creation makes Linux's checks.
import { Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, roundUpPow2, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapSpec } from './map.js';
import { EmptyMap } from './empty-map.js';

/** STACK_CREATE_FLAG_MASK. */
const STACK_CREATE_FLAG_MASK = MapFlag.NUMA_NODE | MapFlag.RDONLY | MapFlag.WRONLY | MapFlag.STACK_BUILD_ID;
/** kernel.perf_event_max_stack's default (PERF_MAX_STACK_DEPTH): the deepest trace a value may hold. */
export const PERF_EVENT_MAX_STACK = 127;
/** sizeof(struct bpf_stack_build_id): one frame of a BPF_F_STACK_BUILD_ID value. */
const STACK_BUILD_ID_SIZE = 32;

/** A stack trace map that no trace reaches: every bucket stays empty. */
export class StackTraceMap extends EmptyMap {
  /** stack_map_update_elem: -EINVAL always (only bpf_get_stackid fills the map). */
  protected updateValue(): number {
    return -Errno.EINVAL;
  }

  /** stack_map_delete_elem: -E2BIG past the buckets, -ENOENT for an empty one. */
  deleteAt(keyAddr: number): number {
    return this.indexAt(keyAddr) >= this.buckets ? -Errno.E2BIG : -Errno.ENOENT;
  }

  /** stack_map_get_next_key: the next non-empty bucket; there is none. */
  nextKeyAt(): number {
    return -Errno.ENOENT;
  }

  /** Buckets: max_entries rounded up to a power of two. */
  private get buckets(): number {
    return roundUpPow2(this.maxEntries);
  }
}

/** stack_map_alloc's checks. */
export function checkStackTraceSpec(spec: MapSpec): MapCheckFailure | undefined {
  const flags = spec.flags ?? 0;
  const bad = checkFlags(flags, STACK_CREATE_FLAG_MASK);
  if (bad) return bad;
  if (spec.maxEntries === 0 || spec.keySize !== 4 || spec.valueSize < 8 || spec.valueSize % 8 !== 0) {
    return invalid('max_entries must be non-zero, key_size 4, value_size a non-zero multiple of 8');
  }
  if (flags & MapFlag.STACK_BUILD_ID) {
    if (spec.valueSize % STACK_BUILD_ID_SIZE !== 0 || spec.valueSize / STACK_BUILD_ID_SIZE > PERF_EVENT_MAX_STACK) {
      return invalid(`with BPF_F_STACK_BUILD_ID, value_size must be a multiple of ${STACK_BUILD_ID_SIZE} holding at most ${PERF_EVENT_MAX_STACK} frames`);
    }
  } else if (spec.valueSize / 8 > PERF_EVENT_MAX_STACK) {
    return invalid(`value_size ${spec.valueSize} holds more than ${PERF_EVENT_MAX_STACK} frames (perf_event_max_stack)`);
  }
  if (spec.maxEntries > 2 ** 31) return tooBig(`max_entries ${spec.maxEntries} exceeds 2^31`);
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_STACK_TRACE. */
export const stackTraceKind: MapKind = {
  type: MapType.STACK_TRACE,
  name: 'stack_trace',
  check: checkStackTraceSpec,
  create: (memory, spec, options) => new StackTraceMap(memory, spec, options),
};
