// Socket helpers with Linux's ids and prototypes (linux/bpf.h; net/core/filter.c,
// net/core/bpf_sk_storage.c): sk_lookup_tcp (84), sk_lookup_udp (85), sk_release (86), sk_fullsock
// (95), get_listener_sock (98), skc_lookup_tcp (99), sk_storage_get (107) and sk_storage_delete
// (108). A socket argument is the guest address of its `struct bpf_sock`; the runtime's socket
// table turns it back into the socket. Which of them a program type gets follows Linux's
// *_func_proto: XDP the lookups and release, tc and cgroup_skb everything.
import { Errno, MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import { BPF_SK_STORAGE_GET_F_CREATE, SkStorageMap, type StorageOwner } from '../maps/sk-storage.js';
import type { HelperCall, HelperProto, HelperSpec } from './table.js';

/** A socket as the helpers see it (the runtime's Socket). */
export interface HelperSocket extends StorageOwner {
  /** Guest address of its `struct bpf_sock`. */
  readonly address: number;
  /** A TCP state (TCP_LISTEN is 10). */
  readonly state: number;
  readonly protocol: string;
}

/** What the socket helpers need from the runtime. */
export interface SocketHelperEnvironment {
  /** The map whose handle is at a guest address. */
  mapAt(address: number): BpfMap | undefined;
  /** The open socket whose `struct bpf_sock` is at a guest address. */
  socketAt(address: number): HelperSocket | undefined;
  /** The socket a packet from remote to local reaches on interface `ifindex` (Linux's socket lookup). */
  lookup(protocol: number, local: Uint8Array, localPort: number, remote: Uint8Array, remotePort: number, ifindex: number): HelperSocket | undefined;
  /** The interface of the packet behind a context (skb->dev, or the XDP frame's rxq->dev); undefined when ctx is no live frame. */
  ifindexOf(ctx: number): number | undefined;
  /** A lookup handed the program a reference to the socket at a guest address. */
  acquire(address: number): void;
  /** bpf_sk_release of the socket at a guest address: throws for a reference the run does not hold. */
  release(address: number): void;
}

/** Linux helper ids of the socket helpers. */
export const SocketHelperId = {
  skLookupTcp: 84, skLookupUdp: 85, skRelease: 86, skFullsock: 95, getListenerSock: 98, skcLookupTcp: 99, skStorageGet: 107, skStorageDelete: 108,
} as const;

/** BPF_F_CURRENT_NETNS: a lookup in the caller's network namespace (any negative s32 does). */
export const BPF_F_CURRENT_NETNS = -1n;
/** sizeof(bpf_sock_tuple.ipv4): the tuple size of an IPv4 lookup. */
export const SOCK_TUPLE_IPV4_SIZE = 12;
/** sizeof(bpf_sock_tuple.ipv6): the tuple size of an IPv6 lookup. */
export const SOCK_TUPLE_IPV6_SIZE = 36;
const TCP_LISTEN = 10;
/** BPF_SK_STORAGE_GET_F_CREATE as a number, for the flags' low half. */
const GET_F_CREATE = Number(BPF_SK_STORAGE_GET_F_CREATE);
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** bpf_sk_lookup_tcp/udp and bpf_skc_lookup_tcp: ctx, a read-only tuple and its size (0 allowed), netns, flags. */
function lookupProto(ret: 'ptr_to_socket_or_null' | 'ptr_to_sock_common_or_null'): HelperProto {
  return { ret, args: ['ptr_to_ctx', 'ptr_to_mem', 'const_size_or_zero', 'anything', 'anything'], acquires: true, packetAccess: true };
}

/**
 * The socket helpers for one program type. `xdp` narrows bpf_sk_lookup's netns argument to a u32,
 * as bpf_xdp_sk_lookup_* declare it.
 */
export function socketHelpers(env: SocketHelperEnvironment, type: 'xdp' | 'sched_cls' | 'cgroup_skb'): HelperSpec[] {
  /**
   * __bpf_sk_lookup: the tuple's size says the family (anything else is NULL), flags must be 0, and
   * netns must name the caller's namespace (a negative s32); another namespace's id finds nothing
   * here, since the runtime has one namespace. `full` drops sockets that are not full
   * (TIME_WAIT), as bpf_sk_lookup_* do and bpf_skc_lookup_tcp does not.
   */
  const lookup = (call: HelperCall, protocol: number, full: boolean): number => {
    const ifindex = env.ifindexOf(call.argU32(1));
    const size = call.argHighU32(3) === 0 ? call.argU32(3) : -1;
    const family = size === SOCK_TUPLE_IPV4_SIZE ? 4 : size === SOCK_TUPLE_IPV6_SIZE ? 6 : 0;
    if (ifindex === undefined || family === 0) return 0;
    const netns = type === 'xdp' ? BigInt(call.argU32(4)) : BigInt.asUintN(64, call.arg(4));
    const netnsLow = Number(BigInt.asIntN(32, netns));
    if (call.arg(5) !== 0n || !(netnsLow < 0 || netns <= 0x7fffffffn)) return 0;
    if (netnsLow >= 0) return 0;
    const at = call.argU32(2);
    const bytes = call.memory.bytes;
    const addressSize = family === 4 ? 4 : 16;
    const saddr = bytes.subarray(at, at + addressSize);
    const daddr = bytes.subarray(at + addressSize, at + 2 * addressSize);
    const ports = at + 2 * addressSize;
    const sport = (bytes[ports]! << 8) | bytes[ports + 1]!;
    const dport = (bytes[ports + 2]! << 8) | bytes[ports + 3]!;
    const socket = env.lookup(protocol, daddr, dport, saddr, sport, ifindex);
    if (!socket || (full && !socket.fullSocket)) return 0;
    env.acquire(socket.address);
    return socket.address;
  };
  const lookups: HelperSpec[] = [
    {
      id: SocketHelperId.skLookupTcp, name: 'bpf_sk_lookup_tcp', proto: lookupProto('ptr_to_socket_or_null'),
      impl: (call) => call.returnNumber(lookup(call, IPPROTO_TCP, true)),
    },
    {
      id: SocketHelperId.skLookupUdp, name: 'bpf_sk_lookup_udp', proto: lookupProto('ptr_to_socket_or_null'),
      impl: (call) => call.returnNumber(lookup(call, IPPROTO_UDP, true)),
    },
    {
      id: SocketHelperId.skcLookupTcp, name: 'bpf_skc_lookup_tcp', proto: lookupProto('ptr_to_sock_common_or_null'),
      impl: (call) => call.returnNumber(lookup(call, IPPROTO_TCP, false)),
    },
    {
      id: SocketHelperId.skRelease, name: 'bpf_sk_release',
      proto: { ret: 'integer', args: ['ptr_to_btf_id_sock_common'], releases: 1 },
      impl: (call) => {
        const at = call.argU32(1);
        if (at !== 0) env.release(at);
        call.returnNumber(0);
      },
    },
  ];
  if (type === 'xdp') return lookups;
  const storageMap = (call: HelperCall) => {
    const map = env.mapAt(call.argU32(1));
    return map instanceof SkStorageMap ? map : undefined;
  };
  return [
    ...lookups,
    {
      id: SocketHelperId.skFullsock, name: 'bpf_sk_fullsock',
      proto: { ret: 'ptr_to_socket_or_null', args: ['ptr_to_sock_common'] },
      impl: (call) => {
        const socket = env.socketAt(call.argU32(1));
        call.returnNumber(socket?.fullSocket ? socket.address : 0);
      },
    },
    {
      id: SocketHelperId.getListenerSock, name: 'bpf_get_listener_sock',
      proto: { ret: 'ptr_to_socket_or_null', args: ['ptr_to_sock_common'] },
      impl: (call) => {
        // A TCP listener is RCU-freed (SOCK_RCU_FREE), which Linux also insists on.
        const socket = env.socketAt(call.argU32(1));
        call.returnNumber(socket && socket.protocol === 'tcp' && socket.state === TCP_LISTEN ? socket.address : 0);
      },
    },
    {
      id: SocketHelperId.skStorageGet, name: 'bpf_sk_storage_get',
      proto: { ret: 'ptr_to_map_value_or_null', args: ['const_map_ptr', 'ptr_to_btf_id_sock_common', 'ptr_to_map_value_or_null', 'anything'], mapTypes: [MapType.SK_STORAGE] },
      impl: (call) => {
        // NULL for no socket, one that is not full, or flags other than 0 and F_CREATE (bpf_sk_storage_get).
        // Flags as two u32 halves: no BigInt on a path programs take once per packet.
        const map = storageMap(call);
        const socket = env.socketAt(call.argU32(2));
        const flags = call.argU32(4);
        if (!map || !socket?.fullSocket || call.argHighU32(4) !== 0 || flags > GET_F_CREATE) return call.returnNumber(0);
        call.returnNumber(map.getAt(socket, call.argU32(3), flags === GET_F_CREATE));
      },
    },
    {
      id: SocketHelperId.skStorageDelete, name: 'bpf_sk_storage_delete',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_btf_id_sock_common'], mapTypes: [MapType.SK_STORAGE] },
      impl: (call) => {
        const map = storageMap(call);
        const socket = env.socketAt(call.argU32(2));
        // Deviation from Linux: a map argument that is no socket storage cannot pass the verifier; here it is -EINVAL.
        if (!map || !socket?.fullSocket) return call.returnNumber(-Errno.EINVAL);
        call.returnNumber(map.deleteFor(socket));
      },
    },
  ];
}
