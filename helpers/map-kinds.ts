// Helpers of the map kinds that have nothing in them here (maps/stack-trace.ts, cgroup-array.ts),
// with Linux's ids, prototypes and errnos: bpf_get_stackid (27) for the tracing types, which never
// fetches a stack because programs run on none; bpf_skb_under_cgroup (33) for tc programs and
// bpf_current_task_under_cgroup (37) for the tracing types, which find no cgroup at any index.
import { Errno, MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import { CgroupArrayMap } from '../maps/cgroup-array.js';
import type { HelperCall, HelperSpec } from './table.js';

/** What these helpers need from the runtime. */
export interface MapKindHelperEnvironment {
  /** The map whose handle is at a guest address, or undefined. */
  mapAt(address: number): BpfMap | undefined;
}

/** bpf_get_stackid's flags: BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID. */
const STACKID_FLAGS = 0xffn | (1n << 8n) | (1n << 9n) | (1n << 10n);

function returnErrno(call: HelperCall, errno: number): void {
  call.returnNumber(-errno);
}

/** The cgroup array a map argument names (the verifier has checked its type; the guard keeps the engines honest without it). */
function cgroupArray(env: MapKindHelperEnvironment, call: HelperCall, arg: number): CgroupArrayMap | undefined {
  const map = env.mapAt(call.argU32(arg));
  return map instanceof CgroupArrayMap ? map : undefined;
}

/** bpf_get_stackid(ctx, map, flags), for kprobe, tracepoint, raw_tracepoint and tracing programs: -EINVAL for unknown flags, else -EFAULT (no call chain to fetch). */
export function stackTraceHelpers(): HelperSpec[] {
  return [{
    id: 27,
    name: 'bpf_get_stackid',
    proto: { ret: 'integer', args: ['ptr_to_ctx', 'const_map_ptr', 'anything'], mapTypes: [MapType.STACK_TRACE] },
    impl: (call) => returnErrno(call, BigInt.asUintN(64, call.arg(3)) & ~STACKID_FLAGS ? Errno.EINVAL : Errno.EFAULT),
  }];
}

/** bpf_current_task_under_cgroup(map, index), for the tracing types: -E2BIG past the array's end, -EAGAIN for an empty slot. */
export function currentTaskCgroupHelpers(env: MapKindHelperEnvironment): HelperSpec[] {
  return [{
    id: 37,
    name: 'bpf_current_task_under_cgroup',
    proto: { ret: 'integer', args: ['const_map_ptr', 'anything'], mapTypes: [MapType.CGROUP_ARRAY] },
    impl: (call) => {
      const map = cgroupArray(env, call, 1);
      returnErrno(call, map ? map.cgroupAt(call.argU32(2)).errno : Errno.EINVAL);
    },
  }];
}

/**
 * bpf_skb_under_cgroup(skb, map, index), for tc programs: -ENOENT when the skb has no full socket,
 * then -E2BIG past the array's end, -EAGAIN for an empty slot.
 */
export function skbCgroupHelpers(env: MapKindHelperEnvironment & { hasFullSocket(ctx: number): boolean }): HelperSpec[] {
  return [{
    id: 33,
    name: 'bpf_skb_under_cgroup',
    proto: { ret: 'integer', args: ['ptr_to_ctx', 'const_map_ptr', 'anything'], mapTypes: [MapType.CGROUP_ARRAY] },
    impl: (call) => {
      if (!env.hasFullSocket(call.argU32(1))) return returnErrno(call, Errno.ENOENT);
      const map = cgroupArray(env, call, 2);
      returnErrno(call, map ? map.cgroupAt(call.argU32(3)).errno : Errno.EINVAL);
    },
  }];
}
