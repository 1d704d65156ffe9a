// Which bytes of a program's context (and of the socket structs it can reach) may be read or
// written, at which sizes, and what a load gives: Linux's *_is_valid_access in net/core/filter.c
// and kernel/trace/bpf_trace.c. The context here is a real struct in guest memory whose pointer
// fields hold guest addresses (DESIGN.md), so no access needs rewriting: these rules are Linux's.
import type { AttachPoint } from '../loader/program-types.js';
import { RegType } from './registers.js';

/** What a valid context load gives: a scalar or a pointer of some type (maybe NULL). */
export interface FieldLoad {
  readonly type: RegType;
  readonly nullable?: boolean;
}

const SCALAR: FieldLoad = { type: RegType.Scalar };

/** Decides one access; undefined means Linux's "invalid bpf_context access". */
export type AccessRule = (off: number, size: number, write: boolean, ldsx: boolean) => FieldLoad | undefined;

/** Linux bpf_ctx_narrow_access_ok: a power-of-two load no wider than the field. */
function narrowOk(size: number, fieldSize: number): boolean {
  return size <= fieldSize && (size & (size - 1)) === 0;
}

// struct __sk_buff offsets (linux/bpf.h).
const SKB = {
  len: 0, mark: 8, queueMapping: 12, priority: 32, tcIndex: 44, cb: 48, cbEnd: 68, tcClassid: 72, data: 76, dataEnd: 80,
  family: 88, remoteIp4: 92, localIp4: 96, remoteIp6: 100, localIp6: 116, localIp6End: 132, localPortEnd: 140,
  dataMeta: 140, flowKeys: 144, tstamp: 152, wireLen: 160, sk: 168, tstampType: 180, hwtstamp: 184, size: 192,
} as const;

/** The field a byte offset of `struct __sk_buff` falls in, as [start, size]. */
function skbFieldAt(off: number): [number, number] {
  if (off >= SKB.flowKeys && off < SKB.flowKeys + 8) return [SKB.flowKeys, 8];
  if (off >= SKB.tstamp && off < SKB.tstamp + 8) return [SKB.tstamp, 8];
  if (off >= SKB.sk && off < SKB.sk + 8) return [SKB.sk, 8];
  if (off >= SKB.hwtstamp && off < SKB.hwtstamp + 8) return [SKB.hwtstamp, 8];
  return [off & ~3, 4];
}

const inRange = (off: number, start: number, end: number) => off >= start && off < end;

/** Linux bpf_skb_is_valid_access: the checks every skb program type shares. */
function skbBase(off: number, size: number, write: boolean, ldsx: boolean): FieldLoad | undefined {
  if (off < 0 || off >= SKB.size || off % size !== 0) return undefined;
  const [field] = skbFieldAt(off);
  if (inRange(off, SKB.cb, SKB.cbEnd)) return off + size > SKB.cbEnd ? undefined : SCALAR;
  if (field === SKB.data || field === SKB.dataMeta || field === SKB.dataEnd) return ldsx || size !== 4 ? undefined : SCALAR;
  if (inRange(off, SKB.remoteIp6, SKB.localIp6End) || field === SKB.remoteIp4 || field === SKB.localIp4) return size !== 4 ? undefined : SCALAR;
  if (field === SKB.flowKeys) return undefined;
  if (field === SKB.hwtstamp) return write || size !== 8 ? undefined : SCALAR;
  if (field === SKB.tstamp) return size !== 8 ? undefined : SCALAR;
  if (field === SKB.sk) return write || size !== 8 ? undefined : { type: RegType.SockCommon, nullable: true };
  if (off === SKB.tstampType) return undefined;
  if (off > SKB.tstampType && off < SKB.hwtstamp) return undefined;
  if (write) return size === 4 ? SCALAR : undefined;
  return narrowOk(size, 4) ? SCALAR : undefined;
}

/** socket_filter (sk_filter_is_valid_access): no packet pointers, only cb[] is writable. */
const socketFilter: AccessRule = (off, size, write, ldsx) => {
  const [field] = skbFieldAt(off);
  if (field === SKB.tcClassid || field === SKB.data || field === SKB.dataMeta || field === SKB.dataEnd
    || inRange(off, SKB.family, SKB.localPortEnd) || field === SKB.tstamp || field === SKB.wireLen || field === SKB.hwtstamp) return undefined;
  if (write && !inRange(off, SKB.cb, SKB.cbEnd)) return undefined;
  return skbBase(off, size, write, ldsx);
};

/** cgroup_skb (cg_skb_is_valid_access), privileged: data and data_end, no data_meta; mark, priority, cb[] and tstamp writable. */
const cgroupSkb: AccessRule = (off, size, write, ldsx) => {
  const [field] = skbFieldAt(off);
  if (field === SKB.tcClassid || field === SKB.dataMeta || field === SKB.wireLen) return undefined;
  if (write && !(field === SKB.mark || field === SKB.priority || inRange(off, SKB.cb, SKB.cbEnd) || field === SKB.tstamp)) return undefined;
  const base = skbBase(off, size, write, ldsx);
  if (!base) return undefined;
  if (field === SKB.data) return { type: RegType.Packet };
  if (field === SKB.dataEnd) return { type: RegType.PacketEnd };
  return base;
};

/** sched_cls (tc_cls_act_is_valid_access): packet, metadata and end pointers; a few fields writable. */
const schedCls: AccessRule = (off, size, write, ldsx) => {
  const [field] = skbFieldAt(off);
  if (write && !(field === SKB.mark || field === SKB.tcIndex || field === SKB.priority || field === SKB.tcClassid
    || inRange(off, SKB.cb, SKB.cbEnd) || field === SKB.tstamp || field === SKB.queueMapping)) return undefined;
  if (inRange(off, SKB.family, SKB.localPortEnd)) return undefined;
  if (off === SKB.tstampType) return size === 1 ? SCALAR : undefined;
  const base = skbBase(off, size, write, ldsx);
  if (!base) return undefined;
  if (field === SKB.data) return { type: RegType.Packet };
  if (field === SKB.dataMeta) return { type: RegType.PacketMeta };
  if (field === SKB.dataEnd) return { type: RegType.PacketEnd };
  return base;
};

// struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex (u32 each).
const XDP = { data: 0, dataEnd: 4, dataMeta: 8, egressIfindex: 20, size: 24 } as const;

/** xdp (xdp_is_valid_access): read-only u32 fields; egress_ifindex only for devmap programs. */
function xdp(attach: AttachPoint): AccessRule {
  return (off, size, write, ldsx) => {
    if (attach !== 'devmap' && off === XDP.egressIfindex) return undefined;
    if (write) return undefined;
    if ((off === XDP.data || off === XDP.dataEnd || off === XDP.dataMeta) && ldsx) return undefined;
    if (off < 0 || off >= XDP.size || off % size !== 0 || size !== 4) return undefined;
    if (off === XDP.data) return { type: RegType.Packet };
    if (off === XDP.dataMeta) return { type: RegType.PacketMeta };
    if (off === XDP.dataEnd) return { type: RegType.PacketEnd };
    return SCALAR;
  };
}

/** Size of `struct pt_regs` on x86-64, a kprobe's context. */
const PT_REGS_SIZE = 168;
/** Linux MAX_BPF_FUNC_ARGS: raw tracepoint and fentry contexts are this many u64 arguments. */
const MAX_FUNC_ARGS = 12;
/** Linux PERF_MAX_TRACE_SIZE: the largest tracepoint record. */
const PERF_MAX_TRACE_SIZE = 8192;

/** kprobe (kprobe_prog_is_valid_access): read-only pt_regs. */
const kprobe: AccessRule = (off, size, write) =>
  off < 0 || off >= PT_REGS_SIZE || write || off % size !== 0 ? undefined : SCALAR;

/** tracepoint (tp_prog_is_valid_access): read-only record past its common header word. */
const tracepoint: AccessRule = (off, size, write) =>
  off < 8 || off >= PERF_MAX_TRACE_SIZE || write || off % size !== 0 ? undefined : SCALAR;

/**
 * raw_tracepoint and tracing (raw_tp_prog_is_valid_access, tracing_prog_is_valid_access): read-only
 * u64 arguments. Deviation: Linux types fentry's pointer arguments by BTF; here they are scalars,
 * read through bpf_probe_read_kernel (as BPF_CORE_READ does).
 */
const argumentArray: AccessRule = (off, size, write) =>
  off < 0 || off >= 8 * MAX_FUNC_ARGS || write || off % size !== 0 ? undefined : SCALAR;

/** The context rule of a program type. */
export function contextRule(type: string, attach: AttachPoint): AccessRule | undefined {
  switch (type) {
    case 'xdp': return xdp(attach);
    case 'socket_filter': return socketFilter;
    case 'sched_cls': return schedCls;
    case 'cgroup_skb': return cgroupSkb;
    case 'kprobe': return kprobe;
    case 'tracepoint': return tracepoint;
    case 'raw_tracepoint': case 'tracing': return argumentArray;
    default: return undefined;
  }
}

// struct bpf_sock (linux/bpf.h).
const SOCK = { type: 8, priority: 20, srcIp4: 24, srcIp6: 28, srcPort: 44, dstPort: 48, dstIp4: 52, dstIp6: 56, state: 72, rxQueue: 76, size: 80 } as const;

/** bpf_sock_is_valid_access (and bpf_sock_common's narrower set): read-only fields of `struct bpf_sock`. */
function sockAccess(off: number, size: number, common: boolean): boolean {
  if (common && off >= SOCK.type && off < SOCK.priority + 4) return false;
  if (off < 0 || off >= SOCK.size || off % size !== 0) return false;
  if (off === SOCK.state || off === 4 || off === SOCK.type || off === 12 || off === SOCK.srcPort || off === SOCK.rxQueue
    || inRange(off, SOCK.srcIp4, SOCK.srcIp4 + 4) || inRange(off, SOCK.srcIp6, SOCK.srcIp6 + 16)
    || inRange(off, SOCK.dstIp4, SOCK.dstIp4 + 4) || inRange(off, SOCK.dstIp6, SOCK.dstIp6 + 16)) {
    return narrowOk(size, 4);
  }
  if (inRange(off, SOCK.dstPort, SOCK.dstPort + 4)) {
    // dst_port is a __be16 followed by padding: a u32 load of the whole, or narrow loads of the u16.
    return size === 4 ? off === SOCK.dstPort : narrowOk(size, 2) && off + size <= SOCK.dstPort + 2;
  }
  return size === 4;
}

/** bpf_tcp_sock_is_valid_access: read-only u32 fields, two u64 counters; ends after icsk_retransmits. */
function tcpSockAccess(off: number, size: number): boolean {
  const END = 112;
  if (off < 0 || off >= END || off % size !== 0) return false;
  if (off === 80 || off === 88) return size === 8; // bytes_received, bytes_acked
  return size === 4;
}

/** Whether a load from a socket pointer of this type is valid (Linux check_sock_access). */
export function socketAccessOk(type: RegType, off: number, size: number): boolean {
  switch (type) {
    case RegType.Sock: return sockAccess(off, size, false);
    case RegType.SockCommon: return sockAccess(off, size, true);
    case RegType.TcpSock: return tcpSockAccess(off, size);
    case RegType.XdpSock: return off === 0 && size === 4;
    default: return false;
  }
}
