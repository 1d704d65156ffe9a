// What the runtime's control maps reach (maps/control.ts; DESIGN.md "Control map"): the interfaces
// (CTRL_XDP_ATTR, keyed by ifindex), the programs' statistics (CTRL_PROG_STATS, keyed by program id)
// and the sockets (CTRL_SOCK_ATTR, keyed by cookie), with their layouts described as BTF and C.
import { BtfBuilder } from '../loader/btf-builder.js';
import type { Btf } from '../loader/btf.js';
import { Errno } from '../maps/constants.js';
import { ControlType, controlLayout, type ControlField, type ControlLayout, type ControlSource } from '../maps/control.js';
import type { Netdev } from './netdev.js';
import type { Network } from './network.js';
import type { Program } from './program.js';
import type { SocketTable } from './sockets.js';

/** Linux's BPF_PROG_TYPE_* numbers of the program types this runtime runs. */
const PROG_TYPE_NUMBERS: Readonly<Record<string, number>> = {
  socket_filter: 1, kprobe: 2, sched_cls: 3, tracepoint: 5, xdp: 6, cgroup_skb: 8, raw_tracepoint: 17, tracing: 26,
};

/** linux/if.h interface flags the XDP_ATTR record reports. */
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;
const IFF_MULTICAST = 0x1000;

/** The XDP_ATTR record: an interface's attributes and counters; mtu and xsk_ring_size are writable. */
export const XDP_ATTR_LAYOUT = controlLayout('bpf_ctrl_xdp_attr', [
  ['ifindex', 4], ['mtu', 4], ['xdp_prog_id', 4], ['egress_prog_id', 4], ['rx_queues', 4], ['tx_queues', 4], ['xsk_ring_size', 4], ['flags', 4],
  ['rx_packets', 8], ['rx_bytes', 8], ['tx_packets', 8], ['tx_bytes', 8], ['rx_dropped', 8], ['tx_dropped', 8],
], ['mtu', 'xsk_ring_size']);

/** The PROG_STATS record: a program's statistics; read-only. */
export const PROG_STATS_LAYOUT = controlLayout('bpf_ctrl_prog_stats', [
  ['id', 4], ['type', 4], ['run_cnt', 8], ['run_time_ns', 8], ['insns_executed', 8], ['jited', 4], ['insn_cnt', 4],
]);

/**
 * The SOCK_ATTR record: the socket's `struct bpf_sock` (linux/bpf.h), byte for byte; its IPv6
 * addresses are four __u32 fields each (src_ip6_0..3, dst_ip6_0..3) where Linux has arrays, and
 * dst_port (network order) is a __u16 with its padding after. mark and priority are writable.
 */
export const SOCK_ATTR_LAYOUT = controlLayout('bpf_sock', [
  ['bound_dev_if', 4], ['family', 4], ['type', 4], ['protocol', 4], ['mark', 4], ['priority', 4], ['src_ip4', 4],
  ['src_ip6_0', 4], ['src_ip6_1', 4], ['src_ip6_2', 4], ['src_ip6_3', 4], ['src_port', 4], ['dst_port', 2], ['dst_ip4', 4],
  ['dst_ip6_0', 4], ['dst_ip6_1', 4], ['dst_ip6_2', 4], ['dst_ip6_3', 4], ['state', 4], ['rx_queue_mapping', 4],
], ['mark', 'priority']);

/** The subsystems this runtime has and their record layouts (SOCK_ATTR comes with the socket table). */
export function controlLayouts(sources: (subsystem: number) => ControlSource | undefined): { subsystem: number; key: string; layout: ControlLayout }[] {
  return Object.values(ControlType).flatMap((subsystem) => {
    const source = sources(subsystem);
    return source ? [{ subsystem, key: KEYS[subsystem]!.name, layout: source.layout }] : [];
  });
}

/** A subsystem's key, as named in descriptions. */
const KEYS: Readonly<Record<number, { name: string; size: 4 | 8 }>> = {
  [ControlType.XDP_ATTR]: { name: 'ifindex', size: 4 },
  [ControlType.PROG_STATS]: { name: 'id', size: 4 },
  [ControlType.SOCK_ATTR]: { name: 'cookie', size: 8 },
};

/** What the sources read: the runtime's interfaces and programs. */
export interface ControlSubjects {
  readonly network: Network;
  programs(): readonly Program[];
  program(id: number): Program | undefined;
}

/** Linux's MTU limits (ETH_MIN_MTU; 65535, or 65536 for lo as its max_mtu). */
function mtuAllowed(dev: Netdev, mtu: bigint): boolean {
  return mtu >= 68n && mtu <= (dev.loopback && dev.name === 'lo' ? 65536n : 65535n);
}

/** Writes a counter (a safe integer) as a little-endian u64 without a BigInt. */
function u64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n >>> 0, true);
  v.setUint32(at + 4, Math.floor(n / 0x100000000) >>> 0, true);
}

function xdpAttrSource(subjects: ControlSubjects): ControlSource {
  const [ifindexAt, mtuAt, xdpAt, egressAt, rxqAt, txqAt, xskAt, flagsAt, rxpAt, rxbAt, txpAt, txbAt, rxdAt, txdAt] = XDP_ATTR_LAYOUT.fields.map((f) => f.offset) as number[];
  return {
    layout: XDP_ATTR_LAYOUT,
    keySize: 4,
    keys: () => subjects.network.list().map((d) => BigInt(d.ifindex)),
    read: (key, v, at) => {
      const dev = key <= 0xffffffffn ? subjects.network.find(Number(key)) : undefined;
      if (!dev) return false;
      const c = dev.counters;
      const flags = IFF_UP | IFF_RUNNING | (dev.name === 'lo' ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST);
      // Field by field: programs look these up per packet.
      v.setUint32(at + ifindexAt!, dev.ifindex, true);
      v.setUint32(at + mtuAt!, dev.mtu, true);
      v.setUint32(at + xdpAt!, dev.program('xdp')?.id ?? 0, true);
      v.setUint32(at + egressAt!, dev.program('xdp_egress')?.id ?? 0, true);
      v.setUint32(at + rxqAt!, dev.rxQueues, true);
      v.setUint32(at + txqAt!, dev.txQueues, true);
      v.setUint32(at + xskAt!, dev.xskRingSize, true);
      v.setUint32(at + flagsAt!, flags, true);
      u64(v, at + rxpAt!, c.rxPackets);
      u64(v, at + rxbAt!, c.rxBytes);
      u64(v, at + txpAt!, c.txPackets);
      u64(v, at + txbAt!, c.txBytes);
      u64(v, at + rxdAt!, c.rxDropped);
      u64(v, at + txdAt!, c.txDropped);
      return true;
    },
    write: (key, field: ControlField, value) => {
      const dev = subjects.network.find(Number(key));
      if (!dev) return -Errno.ENOENT;
      if (field.name === 'mtu') {
        if (!mtuAllowed(dev, value)) return -Errno.EINVAL;
        dev.mtu = Number(value);
      } else if (field.name === 'xsk_ring_size') {
        // AF_XDP rings are a power of two entries.
        if (value === 0n || value > 1n << 20n || (value & (value - 1n)) !== 0n) return -Errno.EINVAL;
        dev.xskRingSize = Number(value);
      }
      return 0;
    },
  };
}

function progStatsSource(subjects: ControlSubjects): ControlSource {
  return {
    layout: PROG_STATS_LAYOUT,
    keySize: 4,
    keys: () => subjects.programs().map((p) => BigInt(p.id)).sort((a, b) => (a < b ? -1 : 1)),
    read: (key, v, at) => {
      const p = key <= 0xffffffffn ? subjects.program(Number(key)) : undefined;
      if (!p) return false;
      const f = PROG_STATS_LAYOUT.fields;
      v.setUint32(at + f[0]!.offset, p.id, true);
      v.setUint32(at + f[1]!.offset, PROG_TYPE_NUMBERS[p.type] ?? 0, true);
      u64(v, at + f[2]!.offset, p.stats.runs);
      u64(v, at + f[3]!.offset, p.stats.runTimeNs);
      u64(v, at + f[4]!.offset, p.stats.instructions);
      v.setUint32(at + f[5]!.offset, p.engine === 'jit' ? 1 : 0, true);
      v.setUint32(at + f[6]!.offset, p.insns.reduce((n, i) => n + (i.immHi !== undefined ? 2 : 1), 0), true);
      return true;
    },
    write: () => -Errno.EACCES,
  };
}

/** The sockets as SOCK_ATTR shows them: every open socket by cookie (a test run's dummy one while it runs). */
export function sockAttrSource(sockets: SocketTable): ControlSource {
  return {
    layout: SOCK_ATTR_LAYOUT,
    keySize: 8,
    keys: () => sockets.cookies(),
    read: (key, v, at) => {
      const socket = sockets.byCookieOf(key);
      if (!socket) return false;
      new Uint8Array(v.buffer).copyWithin(at, socket.address, socket.address + SOCK_ATTR_LAYOUT.size);
      return true;
    },
    write: (key, field, value) => {
      const socket = sockets.byCookieOf(key);
      if (!socket) return -Errno.ENOENT;
      // Both writable fields are u32s, the width the layout gives them, so any value fits.
      if (field.name === 'mark') socket.mark = Number(value);
      else if (field.name === 'priority') socket.priority = Number(value);
      return 0;
    },
  };
}

/** The control subsystems of a runtime, by map_extra; SOCK_ATTR's source comes from the socket table. */
export function controlSources(subjects: ControlSubjects, sockets?: () => ControlSource | undefined): (subsystem: number) => ControlSource | undefined {
  const sources = new Map<number, ControlSource>([
    [ControlType.XDP_ATTR, xdpAttrSource(subjects)],
    [ControlType.PROG_STATS, progStatsSource(subjects)],
  ]);
  return (subsystem) => (subsystem === ControlType.SOCK_ATTR ? sockets?.() : sources.get(subsystem));
}

/** A control subsystem's layout as BTF: the record struct (fields as __u16/__u32/__u64) and its key type. */
export function controlBtf(subsystem: number, layout: ControlLayout): { btf: Btf; keyType: number; valueType: number } {
  const b = new BtfBuilder();
  const ints = { 2: b.typedef('__u16', b.int('unsigned short', 2)), 4: b.typedef('__u32', b.int('unsigned int', 4)), 8: b.typedef('__u64', b.int('unsigned long long', 8)) };
  const valueType = b.struct(layout.name, layout.fields.map((f) => ({ name: f.name, type: ints[f.size], bitOffset: f.offset * 8 })), { size: layout.size });
  return { btf: b.build({ file: `<control ${layout.name}>` }), keyType: ints[KEYS[subsystem]?.size ?? 4], valueType };
}

/** A control subsystem's layout as C, with its key and which fields are writable (what `ebpf-wasm control` prints). */
export function describeControl(subsystem: number, layout: ControlLayout): string {
  const key = KEYS[subsystem]!;
  const type = (size: number) => (size === 8 ? '__u64' : size === 4 ? '__u32' : '__u16');
  const lines = layout.fields.map((f) => `\t${type(f.size)} ${f.name};${' '.repeat(Math.max(1, 22 - f.name.length))}/* offset ${f.offset}${f.writable ? ', writable' : ''} */`);
  return [`/* map_extra ${subsystem}; key: ${type(key.size)} ${key.name}; ${layout.size} bytes */`, `struct ${layout.name} {`, ...lines, '};'].join('\n');
}
