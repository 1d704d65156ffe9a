// The skb side of the datapath (net/core/dev.c): a frame that XDP passed (or that no XDP program
// saw) becomes an skb on its interface's stack: the outer 802.1Q tag moves into skb metadata
// (skb_vlan_untag), packet sockets see it (their filters decide how much), then tc ingress (its
// verdicts as sch_handle_ingress and tcx carry them out: SHOT drops, REDIRECT goes to another
// interface's egress or ingress), then the stack, where a frame for a local socket passes the
// cgroup's ingress programs. What a stack sends goes through tc egress, packet sockets, the egress
// XDP hook and out; what a local socket sends passes the cgroup's egress programs first, and tc
// egress sees the socket in `__sk_buff->sk` (at tc ingress Linux has not looked the socket up yet).
// cgroup_skb programs see the packet from the network header, cb[] zeroed and restored after
// (__cgroup_bpf_run_filter_skb, __bpf_prog_run_save_cb).
import { BpfError } from '../isa/errors.js';
import { TcAction } from '../helpers/skb.js';
import type { Netdev } from '../runtime/netdev.js';
import type { Program } from '../runtime/program.js';
import type { Runtime } from '../runtime/runtime.js';
import { SKB_HEADROOM, SkBuffOffset, type SkBuff, type SkbFrame } from '../runtime/sk-buff.js';
import { ethTypeTrans, PacketType } from '../runtime/skb.js';
import type { Socket } from '../runtime/socket.js';
import type { CgroupHook } from '../runtime/cgroup.js';
import { ETH_HLEN, SKB_SHARED_INFO_TAILROOM, XDP_PACKET_HEADROOM } from '../runtime/packet-frame.js';
import { BPF_F_INGRESS } from '../helpers/skb.js';
import type { Datapath } from './datapath.js';
import { verdictName, type DatapathHook } from './datapath-stats.js';

/** 802.1Q and 802.1ad: the tags skb_vlan_untag takes off. */
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const VLAN_HLEN = 4;
/** skb->pkt_type of what the stack sends, as its packet sockets see it. */
const PACKET_OUTGOING = 4;
/** Bytes of `__sk_buff->cb[]`. */
const CB_BYTES = 20;
/** What a tc program's run gives when it faulted. */
const FAULT = Symbol('fault');

/** An outer VLAN tag taken off a frame. */
interface VlanTag {
  /** The tag's EtherType (0x8100 or 0x88a8), in host order. */
  readonly proto: number;
  readonly tci: number;
}

/** The frame without its outer VLAN tag, and the tag; or the frame as it is. */
function untag(bytes: Uint8Array): { frame: Uint8Array; tag?: VlanTag } {
  if (bytes.length < ETH_HLEN + VLAN_HLEN) return { frame: bytes };
  const proto = (bytes[12]! << 8) | bytes[13]!;
  if (proto !== ETH_P_8021Q && proto !== ETH_P_8021AD) return { frame: bytes };
  const frame = new Uint8Array(bytes.length - VLAN_HLEN);
  frame.set(bytes.subarray(0, 12));
  frame.set(bytes.subarray(16), 12);
  return { frame, tag: { proto, tci: (bytes[14]! << 8) | bytes[15]! } };
}

/** A u16 in network order as a program reads it from a u32 field of the context on a little-endian host. */
const be16AsLe = (v: number) => ((v & 0xff) << 8) | (v >>> 8);

/** Packet sockets, tc and the stack of every interface. */
export class SkbPath {
  constructor(private readonly datapath: Datapath, private readonly runtime: Runtime) {}

  /**
   * A frame reaches an interface's stack: after XDP_PASS (with its metadata), from a cpumap, from a
   * tc redirect to ingress, or with no XDP program attached.
   */
  /** Whether a frame reaching `dev`'s stack meets a program (packet socket, tc, cgroup); when not, it needs no skb. */
  hasPrograms(dev: Netdev): boolean {
    return dev.program('tc_ingress') !== undefined || dev.program('socket_filter') !== undefined || (this.runtime.cgroup.has('ingress') && this.runtime.sockets.size > 0);
  }

  receive(dev: Netdev, bytes: Uint8Array, metadata: Uint8Array | undefined, cpu: number, hops: number): void {
    if (!this.hasPrograms(dev)) {
      // No program to see an skb: the frame reaches the stack as it is.
      if (bytes.length < ETH_HLEN) {
        this.datapath.drop(dev, bytes, 'stack', `a frame of ${bytes.length} bytes has no Ethernet header`);
        return;
      }
      dev.counters.pass++;
      this.datapath.emit('pass', dev, bytes, 'stack');
      return;
    }
    // Untagging copies; otherwise copy a view into guest memory before allocating moves it.
    const { frame: packet, tag } = untag(bytes);
    const own = packet === bytes && bytes.buffer === this.runtime.memory.memory.buffer ? bytes.slice() : packet;
    if (own.length < ETH_HLEN) {
      this.datapath.drop(dev, own, 'stack', `a frame of ${own.length} bytes has no Ethernet header`);
      return;
    }
    const { protocol, pktType } = ethTypeTrans(own, dev);
    const queue = this.datapath.cpuOf(dev, own).queue;
    const frame = this.createFrame(own, metadata, {
      pktType, protocol, ifindex: dev.ifindex, ingressIfindex: dev.ifindex,
      // skb_record_rx_queue stores the queue plus one.
      queueMapping: queue + 1,
      ...(tag ? { vlanPresent: 1, vlanTci: tag.tci, vlanProto: be16AsLe(tag.proto) } : {}),
    });
    try {
      this.packetSocket(dev, frame, cpu, tag);
      const program = dev.program('tc_ingress');
      if (program) {
        const verdict = this.runTc(program, frame, cpu, dev, 'tc_ingress');
        if (!this.continues(dev, frame, verdict, program, 'tc_ingress', cpu, hops, tag)) return;
      }
      if (this.runtime.cgroup.has('ingress') && this.runtime.sockets.size > 0 && !this.deliver(dev, frame, cpu, tag)) return;
      dev.counters.pass++;
      this.datapath.emit('pass', dev, this.withTag(frame, tag), 'stack');
    } finally {
      this.runtime.skb.release(frame);
    }
  }

  /**
   * A local socket sends a frame out of an interface (what a capture's outbound frames are): the
   * cgroup's egress programs when the frame comes from an open socket, then transmit with the
   * socket in `__sk_buff->sk`. A frame no socket sent goes straight to transmit.
   */
  send(dev: Netdev, bytes: Uint8Array, cpu: number): void {
    const sockets = this.runtime.sockets;
    const socket = sockets.size > 0 ? sockets.match(bytes, 'out', dev.ifindex) : undefined;
    const cgroupEgress = socket?.fullSocket === true && this.runtime.cgroup.has('egress');
    if (!socket || bytes.length < ETH_HLEN || (!cgroupEgress && !dev.program('tc_egress') && !dev.program('socket_filter'))) {
      this.transmit(dev, bytes, 0, 0, cpu);
      return;
    }
    const own = bytes.buffer === this.runtime.memory.memory.buffer ? bytes.slice() : bytes;
    const frame = this.createFrame(own, undefined, { protocol: be16AsLe((own[12]! << 8) | own[13]!), ifindex: dev.ifindex, ingressIfindex: 0 }, socket);
    try {
      if (cgroupEgress && !this.runCgroup('egress', dev, frame, socket, cpu, undefined)) return;
      this.transmitFrame(dev, frame, 0, 0, cpu);
    } finally {
      this.runtime.skb.release(frame);
    }
  }

  /** The stack of an interface sends a frame (or a tc program redirected one to its egress): tc egress, packet sockets, then out. */
  transmit(dev: Netdev, bytes: Uint8Array, ingressIfindex: number, hops: number, cpu: number): void {
    if (!dev.program('tc_egress') && !dev.program('socket_filter') && bytes.length >= ETH_HLEN) {
      this.datapath.transmitBytes(dev, bytes, this.runtime.network.find(ingressIfindex), cpu, hops);
      return;
    }
    const own = bytes.buffer === this.runtime.memory.memory.buffer ? bytes.slice() : bytes;
    if (own.length < ETH_HLEN) {
      this.datapath.drop(dev, own, 'stack', `a frame of ${own.length} bytes has no Ethernet header`, undefined, true);
      return;
    }
    const protocol = be16AsLe((own[12]! << 8) | own[13]!);
    const frame = this.createFrame(own, undefined, { protocol, ifindex: dev.ifindex, ingressIfindex });
    try {
      this.transmitFrame(dev, frame, ingressIfindex, hops, cpu);
    } finally {
      this.runtime.skb.release(frame);
    }
  }

  /** tc egress, packet sockets, then out: the skb side of transmitting a frame. */
  private transmitFrame(dev: Netdev, frame: SkbFrame, ingressIfindex: number, hops: number, cpu: number): void {
    const program = dev.program('tc_egress');
    if (program) {
      const verdict = this.runTc(program, frame, cpu, dev, 'tc_egress');
      if (!this.continues(dev, frame, verdict, program, 'tc_egress', cpu, hops, undefined)) return;
    }
    this.packetSocket(dev, frame, cpu, undefined, true);
    this.datapath.transmitBytes(dev, frame.wirePacket(), this.runtime.network.find(ingressIfindex), cpu, hops);
  }

  private createFrame(packet: Uint8Array, metadata: Uint8Array | undefined, fields: Partial<SkBuff>, socket?: Socket): SkbFrame {
    const headroom = metadata ? XDP_PACKET_HEADROOM : SKB_HEADROOM;
    const needed = headroom + packet.length + SKB_SHARED_INFO_TAILROOM;
    const frameSize = Math.max(this.runtime.skb.frameSize, Math.ceil(needed / 4096) * 4096);
    // growable: tc programs' helpers may grow the skb, where Linux reallocates its head.
    return this.runtime.skb.createFrame(packet, { frameSize, headroom, fields, growable: true, ...(metadata ? { metadata } : {}), ...(socket ? { socket } : {}) });
  }

  /**
   * The stack delivers a received frame: to a local socket when one matches it (ip_rcv drops frames
   * for other hosts first), through the cgroup's ingress programs. False when they dropped it.
   */
  private deliver(dev: Netdev, frame: SkbFrame, cpu: number, tag: VlanTag | undefined): boolean {
    if (frame.read().pktType === PacketType.OTHERHOST) return true;
    const memory = this.runtime.memory;
    memory.refresh();
    const socket = this.runtime.sockets.match(memory.bytes.subarray(frame.data, frame.data + frame.length), 'in', dev.ifindex);
    // Linux runs the filter (tcp_filter, sk_filter) for full sockets only: a TIME_WAIT socket answers first.
    if (!socket?.fullSocket) return true;
    return this.runCgroup('ingress', dev, frame, socket, cpu, tag);
  }

  /**
   * Runs the cgroup's programs of one direction on a frame of `socket` (__cgroup_bpf_run_filter_skb):
   * from the network header, with `__sk_buff->sk` the socket and cb[] zeroed (restored after). Every
   * program runs; the frame goes on only if each lets it (ingress: a non-zero verdict; egress: bit 0
   * set, bit 1 asks for congestion notification). A faulting program aborts the frame. False when
   * the frame is dropped or aborted.
   */
  private runCgroup(direction: CgroupHook, dev: Netdev, frame: SkbFrame, socket: Socket, cpu: number, tag: VlanTag | undefined): boolean {
    const hook: DatapathHook = direction === 'ingress' ? 'cgroup_ingress' : 'cgroup_egress';
    const egress = direction === 'egress';
    const memory = this.runtime.memory;
    const cb = frame.ctx + SkBuffOffset.cb;
    const savedCb = memory.bytes.slice(cb, cb + CB_BYTES);
    const savedSocket = frame.socket;
    memory.bytes.fill(0, cb, cb + CB_BYTES);
    frame.setSocket(socket);
    frame.pull(ETH_HLEN);
    let dropper: Program | undefined;
    let fault: { program: Program; err: BpfError } | undefined;
    try {
      for (const program of this.runtime.cgroup.programs(direction)) {
        let verdict: number;
        try {
          verdict = this.runtime.enter(program, cpu, () => this.runtime.skb.run(program.executor, frame));
        } catch (err) {
          if (!(err instanceof BpfError)) throw err;
          this.datapath.onProgram?.({ hook, dev, program, verdict: undefined, data: frame.packet(), packet: this.datapath.current });
          this.datapath.stats.verdict(dev, hook, program, 'fault');
          fault ??= { program, err };
          continue;
        }
        this.datapath.stats.verdict(dev, hook, program, verdictName(hook, verdict));
        this.datapath.onProgram?.({ hook, dev, program, verdict, data: frame.packet(), packet: this.datapath.current });
        if (egress ? (verdict & 1) === 0 : verdict === 0) dropper ??= program;
      }
    } finally {
      frame.push(ETH_HLEN);
      memory.bytes.set(savedCb, cb);
      frame.setSocket(savedSocket);
    }
    if (fault) {
      this.datapath.abort(dev, this.withTag(frame, tag), hook, fault.err.message, fault.program.name, (fault.err as { pc?: number }).pc);
      return false;
    }
    if (dropper) {
      this.datapath.drop(dev, this.withTag(frame, tag), hook, `cgroup_skb/${direction} verdict: drop (socket ${socket.cookie})`, dropper.name, egress);
      return false;
    }
    return true;
  }

  /** The skb's packet, with its VLAN tag put back (as a capture on the interface shows it). */
  /** The frame as the wire (or a capture on the interface) has it: with its offloaded VLAN tag, which the receive path set from `tag` and bpf_skb_vlan_push/pop may have changed. */
  private withTag(frame: SkbFrame, _tag?: VlanTag): Uint8Array {
    return frame.wirePacket();
  }

  /**
   * A packet socket on the interface (AF_PACKET, as tcpdump opens) with the program as its filter:
   * it sees the frame from the MAC header and keeps as many bytes as the filter returns (0: none).
   * The frame goes on either way.
   */
  private packetSocket(dev: Netdev, frame: SkbFrame, cpu: number, tag: VlanTag | undefined, outgoing = false): void {
    const program = dev.program('socket_filter');
    if (!program) return;
    if (outgoing) frame.write({ pktType: PACKET_OUTGOING });
    let keep: number;
    try {
      keep = this.runtime.enter(program, cpu, () => this.runtime.skb.run(program.executor, frame));
    } catch (err) {
      if (!(err instanceof BpfError)) throw err;
      this.datapath.stats.verdict(dev, 'socket_filter', program, 'fault');
      this.datapath.stats.aborted(dev, 'socket_filter', err.message, program.name, (err as { pc?: number }).pc);
      return;
    } finally {
      if (outgoing) frame.write({ pktType: 0 });
    }
    const bytes = this.withTag(frame, tag);
    const name = keep === 0 ? 'drop' : keep < bytes.length ? 'truncate' : 'accept';
    this.datapath.stats.verdict(dev, 'socket_filter', program, name);
    if (keep !== 0) this.datapath.emit('socket', dev, bytes.subarray(0, Math.min(keep, bytes.length)), 'socket_filter', program.name);
  }

  /** Runs a tc program; a fault is tallied as an abort and gives FAULT. The verdict is signed (TC_ACT_UNSPEC is -1). */
  private runTc(program: Program, frame: SkbFrame, cpu: number, dev: Netdev, hook: DatapathHook): number | typeof FAULT {
    frame.redirect = undefined;
    try {
      const verdict = this.runtime.enter(program, cpu, () => this.runtime.skb.run(program.executor, frame)) | 0;
      this.sendClones(dev, frame, hook, cpu);
      this.datapath.stats.verdict(dev, hook, program, verdictName(hook, verdict));
      this.datapath.onProgram?.({ hook, dev, program, verdict, data: frame.packet(), packet: this.datapath.current });
      return verdict;
    } catch (err) {
      if (!(err instanceof BpfError)) throw err;
      this.datapath.onProgram?.({ hook, dev, program, verdict: undefined, data: frame.packet(), packet: this.datapath.current });
      this.datapath.stats.verdict(dev, hook, program, 'fault');
      this.datapath.abort(dev, frame.packet(), hook, err.message, program.name, (err as { pc?: number }).pc);
      return FAULT;
    }
  }

  /**
   * Carries out a tc verdict; true when the frame goes on (to the stack, or out). tcx programs
   * (tcx/ sections) have tcx's codes: only PASS, DROP and REDIRECT mean anything, the rest go on to
   * the next program (none here). Classic clsact programs also consume the frame with STOLEN,
   * QUEUED and TRAP.
   */
  private continues(dev: Netdev, frame: SkbFrame, verdict: number | typeof FAULT, program: Program, hook: 'tc_ingress' | 'tc_egress', cpu: number, hops: number, tag: VlanTag | undefined): boolean {
    if (verdict === FAULT) return false;
    const egress = hook === 'tc_egress';
    const tcx = program.section.startsWith('tcx');
    switch (verdict) {
      case TcAction.SHOT:
        this.datapath.drop(dev, this.withTag(frame, tag), hook, 'TC_ACT_SHOT', program.name, egress);
        return false;
      case TcAction.REDIRECT:
        this.redirect(dev, frame, program, hook, cpu, hops, tag);
        return false;
      case TcAction.STOLEN:
      case TcAction.QUEUED:
      case 8: // TC_ACT_TRAP
        if (tcx) return true;
        this.datapath.drop(dev, this.withTag(frame, tag), hook, `${verdictName(hook, verdict).toUpperCase()}: consumed by the program`, program.name, egress);
        return false;
      default:
        return true;
    }
  }

  /** The copies bpf_clone_redirect made during the run (Linux sends each at once): to an interface's egress, or its ingress with BPF_F_INGRESS. */
  private sendClones(dev: Netdev, frame: SkbFrame, hook: DatapathHook, cpu: number): void {
    const clones = frame.clones;
    if (clones.length === 0) return;
    frame.clones = [];
    const hops = 1;
    for (const clone of clones) {
      const to = this.runtime.network.find(clone.ifindex);
      if (!to) continue;
      const ingress = (clone.flags & BPF_F_INGRESS) !== 0n;
      this.datapath.stats.redirect(dev, 'bpf_clone_redirect', clone.ifindex, `${to.name}${ingress ? ' (ingress)' : ''}`);
      if (ingress) this.receive(to, clone.packet, undefined, cpu, hops);
      else this.transmit(to, clone.packet, hook === 'tc_egress' ? 0 : dev.ifindex, hops, cpu);
    }
  }

  /** skb_do_redirect: to another interface's egress, or its ingress with BPF_F_INGRESS. */
  private redirect(dev: Netdev, frame: SkbFrame, program: Program, hook: 'tc_ingress' | 'tc_egress', cpu: number, hops: number, tag: VlanTag | undefined): void {
    const target = frame.redirect;
    const egress = hook === 'tc_egress';
    const bytes = this.withTag(frame, tag);
    const to = target && this.runtime.network.find(target.ifindex);
    if (!target || !to) {
      this.datapath.stats.redirect(dev, 'bpf_redirect', target?.ifindex ?? 0, 'failed: -EINVAL');
      const cause = target ? `redirect failed (-EINVAL): no interface with ifindex ${target.ifindex}` : `'${program.name}' returned TC_ACT_REDIRECT without calling bpf_redirect`;
      this.datapath.drop(dev, bytes, hook, cause, program.name, egress);
      return;
    }
    if (hops + 1 > this.datapath.maxHops) {
      this.datapath.drop(dev, bytes, hook, `hop limit of ${this.datapath.maxHops} reached`, program.name, egress);
      return;
    }
    const ingress = (target.flags & BPF_F_INGRESS) !== 0n;
    this.datapath.stats.redirect(dev, 'bpf_redirect', target.ifindex, `${to.name}${ingress ? ' (ingress)' : ''}`);
    if (ingress) this.receive(to, bytes, undefined, cpu, hops + 1);
    else this.transmit(to, bytes, egress ? 0 : dev.ifindex, hops + 1, cpu);
  }
}
