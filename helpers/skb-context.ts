// skb helpers that report where an skb is (linux/bpf.h ids; net/core/filter.c): its socket's cgroup
// (skb_cgroup_id 79, skb_ancestor_cgroup_id 83, sk_cgroup_id 128, sk_ancestor_cgroup_id 129), its
// network namespace (get_netns_cookie 122), its route realm (get_route_realm 24), net_cls class
// (get_cgroup_classid 17 on an skb, skb_cgroup_classid 151), IPsec state (skb_get_xfrm_state 66),
// and bpf_clone_redirect (13). The runtime has one cgroup (the root) and one network namespace, no
// routes with realms, no net_cls classes and no IPsec: these give Linux's answers for that machine.
import { Errno } from '../maps/constants.js';
import type { HelperCall, HelperSpec } from './table.js';

/** The id of the root cgroup (cgroup v2's root is 1), the only cgroup of the runtime. */
export const ROOT_CGROUP_ID = 1;
/**
 * The cookie of the runtime's one network namespace. Deviation: Linux numbers namespaces from a
 * global counter, so init_net's cookie differs between machines (3 on the oracle's); ours is fixed.
 */
export const NETNS_COOKIE = 1;
/** bpf_clone_redirect's only flag: to the target's ingress rather than its egress. */
const BPF_F_INGRESS = 1n;
/** Linux EBADMSG: a GSO skb without a GSO type (only a test run makes one), which bpf_clone_redirect refuses. */
const EBADMSG = 74;
/** Linux ERANGE: a clone without a link-layer header. */
const ERANGE = 34;

/** What these helpers need from an skb. */
export interface SkbContextAccess {
  /** Whether the skb's socket is a full socket (no socket: false). */
  readonly hasFullSocket: boolean;
  /** skb_is_gso: gso_size is set (a test run's skb from ctx_in; it never has a GSO type). */
  readonly gso: boolean;
  /** Whether the skb carries a link-layer header before its network header, and any bytes. */
  readonly hasLinkHeader: boolean;
  /** Records a clone of the packet for the target to transmit (or receive, with BPF_F_INGRESS) after the program. */
  clone(ifindex: number, flags: bigint): void;
}

/** What these helpers need from the runtime. */
export interface SkbContextEnvironment {
  /** The skb behind a context. */
  skbAt(ctx: number): SkbContextAccess | undefined;
  /** Whether a socket pointer is a full socket (sk_to_full_sk and sk_fullsock). */
  fullSocketAt(address: number): boolean;
  /** Whether an interface exists (dev_get_by_index). */
  deviceExists(ifindex: number): boolean;
}

/** cgroup_ancestor of the root cgroup: itself at level 0, nothing else. */
const ancestor = (level: number) => (level === 0 ? ROOT_CGROUP_ID : 0);

/** The helpers for an skb program type: tc gets them all; cgroup_skb the cgroup and netns ones; socket filters only the netns cookie. */
export function skbContextHelpers(env: SkbContextEnvironment, type: 'socket_filter' | 'sched_cls' | 'cgroup_skb'): HelperSpec[] {
  const skbCgroup = (call: HelperCall, level: number) => (env.skbAt(call.argU32(1))?.hasFullSocket ? ancestor(level) : 0);
  const netns: HelperSpec = {
    // The skb's (or, for NULL, the caller's) namespace: there is one.
    id: 122, name: 'bpf_get_netns_cookie', proto: { ret: 'integer', args: ['ptr_to_ctx_or_null'] },
    impl: (call) => call.returnNumber(NETNS_COOKIE),
  };
  if (type === 'socket_filter') return [netns];
  const cgroups: HelperSpec[] = [
    netns,
    {
      id: 79, name: 'bpf_skb_cgroup_id', proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => call.returnNumber(skbCgroup(call, 0)),
    },
    {
      id: 83, name: 'bpf_skb_ancestor_cgroup_id', proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => call.returnNumber(skbCgroup(call, call.argU32(2) | 0)),
    },
  ];
  if (type === 'cgroup_skb') {
    return [
      ...cgroups,
      {
        id: 128, name: 'bpf_sk_cgroup_id', proto: { ret: 'integer', args: ['ptr_to_btf_id_sock_common'] },
        impl: (call) => call.returnNumber(env.fullSocketAt(call.argU32(1)) ? ROOT_CGROUP_ID : 0),
      },
      {
        id: 129, name: 'bpf_sk_ancestor_cgroup_id', proto: { ret: 'integer', args: ['ptr_to_btf_id_sock_common', 'anything'] },
        impl: (call) => call.returnNumber(env.fullSocketAt(call.argU32(1)) ? ancestor(call.argU32(2) | 0) : 0),
      },
    ];
  }
  return [
    ...cgroups,
    {
      // dst_tclassid: no route carries a realm here (Linux: 0 without a dst).
      id: 24, name: 'bpf_get_route_realm', proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => call.returnNumber(0),
    },
    {
      // task_get_classid: the root net_cls class.
      id: 17, name: 'bpf_get_cgroup_classid', proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => call.returnNumber(0),
    },
    {
      id: 151, name: 'bpf_skb_cgroup_classid', proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => call.returnNumber(0),
    },
    {
      // No skb has a sec_path: -EINVAL with the buffer zeroed, whatever the index.
      id: 66, name: 'bpf_skb_get_xfrm_state', proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size', 'anything'] },
      impl: (call) => {
        const to = call.argU32(3);
        call.memory.bytes.fill(0, to, to + call.argU32(4));
        call.returnNumber(-Errno.EINVAL);
      },
    },
    {
      id: 13, name: 'bpf_clone_redirect', proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'anything'], changesPacket: true },
      impl: (call) => {
        const skb = env.skbAt(call.argU32(1));
        const ifindex = call.argU32(2);
        const flags = BigInt.asUintN(64, call.arg(3));
        if (!skb || flags & ~BPF_F_INGRESS) return call.returnNumber(-Errno.EINVAL);
        if (skb.gso) return call.returnNumber(-EBADMSG);
        if (!env.deviceExists(ifindex)) return call.returnNumber(-Errno.EINVAL);
        if (!skb.hasLinkHeader) return call.returnNumber(-ERANGE);
        skb.clone(ifindex, flags);
        call.returnNumber(0);
      },
    },
  ];
}
