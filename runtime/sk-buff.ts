// The `struct __sk_buff` context (linux/bpf.h) and an skb frame in guest memory: a linear buffer laid
// out as BPF_PROG_TEST_RUN builds it (NET_SKB_PAD of headroom, the packet, skb_shared_info tailroom),
// and the context struct a program gets in r1, whose data/data_end/data_meta hold guest addresses of
// the packet. The frame keeps the kernel-side state (skb->data, skb->len, the socket) in JS and
// ip_summed/csum in guest memory, writes the program-visible view into the struct, and implements the
// skb helpers' packet work as net/core/filter.c does for a linear skb whose ip_summed is
// CHECKSUM_NONE (what a test run builds), CHECKSUM_UNNECESSARY or CHECKSUM_COMPLETE.
import { Errno } from '../maps/constants.js';
import { csumAdd, csumBlockAdd, csumBlockSub, csumFold, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, csumSub } from '../helpers/checksum.js';
import type { SkbFrameAccess } from '../helpers/skb.js';
import type { SkbContextAccess } from '../helpers/skb-context.js';
import type { GuestMemory, Region } from './memory.js';
import type { PacketBounds } from './run.js';
import { ETH_HLEN, SKB_SHARED_INFO_TAILROOM } from './packet-frame.js';

/** Size of `struct __sk_buff`. */
export const SK_BUFF_SIZE = 192;
/** Headroom a test-run skb gets (NET_SKB_PAD + NET_IP_ALIGN on x86-64). */
export const SKB_HEADROOM = 64;
/** Default frame size: one page, as BPF_PROG_TEST_RUN allocates. */
export const SKB_FRAME_SIZE = 4096;
/** Largest data_in a skb test run takes: a page less headroom and skb_shared_info. */
export const SKB_MAX_DATA = SKB_FRAME_SIZE - SKB_HEADROOM - SKB_SHARED_INFO_TAILROOM;
/** CSUM_MANGLED_0: what bpf_l4_csum_replace writes for a zero UDP checksum under BPF_F_MARK_MANGLED_0. */
export const CSUM_MANGLED_0 = 0xffff;

/** The u32 fields of `struct __sk_buff` and their offsets. */
export const SkBuffOffset = {
  len: 0, pktType: 4, mark: 8, queueMapping: 12, protocol: 16, vlanPresent: 20, vlanTci: 24, vlanProto: 28,
  priority: 32, ingressIfindex: 36, ifindex: 40, tcIndex: 44, cb: 48, hash: 68, tcClassid: 72, data: 76,
  dataEnd: 80, napiId: 84, family: 88, remoteIp4: 92, localIp4: 96, remoteIp6: 100, localIp6: 116,
  remotePort: 132, localPort: 136, dataMeta: 140, flowKeys: 144, tstamp: 152, wireLen: 160, gsoSegs: 164,
  sk: 168, gsoSize: 176, tstampType: 180, hwtstamp: 184,
} as const;

type U32Field = 'len' | 'pktType' | 'mark' | 'queueMapping' | 'protocol' | 'vlanPresent' | 'vlanTci' | 'vlanProto' | 'priority'
  | 'ingressIfindex' | 'ifindex' | 'tcIndex' | 'hash' | 'tcClassid' | 'data' | 'dataEnd' | 'napiId' | 'family' | 'remoteIp4'
  | 'localIp4' | 'remotePort' | 'localPort' | 'dataMeta' | 'wireLen' | 'gsoSegs' | 'gsoSize';
type U64Field = 'flowKeys' | 'tstamp' | 'sk' | 'hwtstamp';
const U32_FIELDS: readonly U32Field[] = [
  'len', 'pktType', 'mark', 'queueMapping', 'protocol', 'vlanPresent', 'vlanTci', 'vlanProto', 'priority', 'ingressIfindex', 'ifindex',
  'tcIndex', 'hash', 'tcClassid', 'data', 'dataEnd', 'napiId', 'family', 'remoteIp4', 'localIp4', 'remotePort', 'localPort', 'dataMeta',
  'wireLen', 'gsoSegs', 'gsoSize',
];
const U64_FIELDS: readonly U64Field[] = ['flowKeys', 'tstamp', 'sk', 'hwtstamp'];

/** The fields of `struct __sk_buff`: u32 fields as numbers, u64 fields as bigints, arrays as u32 numbers. */
export type SkBuff = { [K in U32Field]: number } & { [K in U64Field]: bigint } & {
  /** cb[5]: scratch space programs may write. */
  cb: readonly number[];
  remoteIp6: readonly number[];
  localIp6: readonly number[];
  /** u8 */
  tstampType: number;
};

/** A `struct __sk_buff` with every field zero. */
export function emptySkBuff(): SkBuff {
  const f = Object.fromEntries([...U32_FIELDS.map((k) => [k, 0]), ...U64_FIELDS.map((k) => [k, 0n])]);
  return { ...f, cb: [0, 0, 0, 0, 0], remoteIp6: [0, 0, 0, 0], localIp6: [0, 0, 0, 0], tstampType: 0 } as SkBuff;
}

/** Writes the fields given into a `struct __sk_buff` at `at` in a DataView. */
function writeFields(v: DataView, at: number, fields: Partial<SkBuff>): void {
  for (const k of U32_FIELDS) if (fields[k] !== undefined) v.setUint32(at + SkBuffOffset[k], fields[k]! >>> 0, true);
  for (const k of U64_FIELDS) if (fields[k] !== undefined) v.setBigUint64(at + SkBuffOffset[k], BigInt.asUintN(64, fields[k]!), true);
  for (const k of ['cb', 'remoteIp6', 'localIp6'] as const) {
    fields[k]?.forEach((value, i) => v.setUint32(at + SkBuffOffset[k] + 4 * i, value >>> 0, true));
  }
  if (fields.tstampType !== undefined) v.setUint8(at + SkBuffOffset.tstampType, fields.tstampType);
}

/** Reads a `struct __sk_buff` at `at` in a DataView. */
function readFields(v: DataView, at: number): SkBuff {
  const f: Record<string, unknown> = {};
  for (const k of U32_FIELDS) f[k] = v.getUint32(at + SkBuffOffset[k], true);
  for (const k of U64_FIELDS) f[k] = v.getBigUint64(at + SkBuffOffset[k], true);
  const words = (o: number, n: number) => Array.from({ length: n }, (_, i) => v.getUint32(at + o + 4 * i, true));
  f.cb = words(SkBuffOffset.cb, 5);
  f.remoteIp6 = words(SkBuffOffset.remoteIp6, 4);
  f.localIp6 = words(SkBuffOffset.localIp6, 4);
  f.tstampType = v.getUint8(at + SkBuffOffset.tstampType);
  return f as SkBuff;
}

/** Encodes `struct __sk_buff` (fields not given are zero). */
export function encodeSkBuff(fields: Partial<SkBuff>): Uint8Array {
  const bytes = new Uint8Array(SK_BUFF_SIZE);
  writeFields(new DataView(bytes.buffer), 0, fields);
  return bytes;
}

/** Decodes the first SK_BUFF_SIZE bytes of a `struct __sk_buff` (shorter input reads as zero-padded). */
export function decodeSkBuff(bytes: Uint8Array): SkBuff {
  const padded = new Uint8Array(SK_BUFF_SIZE);
  padded.set(bytes.subarray(0, SK_BUFF_SIZE));
  return readFields(new DataView(padded.buffer), 0);
}

/** Byte offsets of `struct bpf_sock` (linux/bpf.h), what `__sk_buff->sk` points at. */
export const BpfSockOffset = {
  boundDevIf: 0, family: 4, type: 8, protocol: 12, mark: 16, priority: 20, srcIp4: 24, srcIp6: 28, srcPort: 44, dstPort: 48,
  dstIp4: 52, dstIp6: 56, state: 72, rxQueueMapping: 76,
} as const;
/** Size of `struct bpf_sock`. */
export const BPF_SOCK_SIZE = 80;

import { flowHash } from './flow-hash.js';
export { flowHash };

/** The socket an skb belongs to, as far as the skb helpers need it. */
export interface SkbSocket {
  /** What bpf_get_socket_cookie returns (Linux: a non-zero 64-bit id). */
  readonly cookie: bigint;
  /** Guest address of the socket's `struct bpf_sock`, which `__sk_buff->sk` points at; 0 when not materialised. */
  readonly address?: number;
  /** The socket owner's uid (bpf_get_socket_uid; default 0, root). */
  readonly uid?: number;
  /** Whether it is a full socket rather than a TIME_WAIT or request socket (default true). */
  readonly fullSocket?: boolean;
}

/** skb->ip_summed values the frame models (a test-run skb starts CHECKSUM_NONE; CHECKSUM_COMPLETE on request). */
export const IpSummed = { NONE: 0, UNNECESSARY: 1, COMPLETE: 2 } as const;
/** Largest skb->csum_level (Linux SKB_MAX_CSUM_LEVEL). */
export const SKB_MAX_CSUM_LEVEL = 3;
/** Linux's overflow uid: what bpf_get_socket_uid returns for an skb without a socket. */
export const OVERFLOW_UID = 65534;
/** bpf_csum_level's level argument (linux/bpf.h BPF_CSUM_LEVEL_*). */
export const CsumLevel = { QUERY: 0n, INC: 1n, DEC: 2n, RESET: 3n } as const;

/** A redirect a tc program asked for with bpf_redirect, which the runtime (not a test run) carries out. */
export interface SkbRedirect {
  readonly ifindex: number;
  /** The flags given (BPF_F_INGRESS or 0). */
  readonly flags: bigint;
}

/** A copy of the packet bpf_clone_redirect sends to an interface's egress (or its ingress, with BPF_F_INGRESS). */
export interface SkbClone extends SkbRedirect {
  readonly packet: Uint8Array;
}

/** How to build an skb frame. */
export interface SkbFrameOptions {
  /** Frame size (default 4096). */
  readonly frameSize?: number;
  /** Headroom before the Ethernet header (default 64). */
  readonly headroom?: number;
  /**
   * Whether the program sees the packet from the network header (socket_filter, cgroup_skb: Linux has
   * pulled the Ethernet header) rather than from the MAC header (tc). Default false.
   */
  readonly pullMacHeader?: boolean;
  /** Initial values of other context fields (len, data pointers and the like are the frame's own). */
  readonly fields?: Partial<SkBuff>;
  /** The socket the skb belongs to. */
  readonly socket?: SkbSocket;
  /** XDP metadata carried over from an XDP_PASS (skb_metadata_set): placed before the MAC header, where data_meta points. */
  readonly metadata?: Uint8Array;
  /**
   * Room for the helpers that grow an skb (tc's bpf_skb_change_head/tail, adjust_room, vlan_push,
   * change_proto): SKB_MAX_LEN bytes before and after the frame, where Linux would reallocate the
   * head. Without it those helpers fail with -ENOMEM once the frame's own head- or tailroom is used.
   */
  readonly growable?: boolean;
}

/** Linux BPF_SKB_MAX_LEN (SKB_MAX_ALLOC: four pages less skb_shared_info): the longest skb the helpers grow. */
export const SKB_MAX_LEN = 4 * 4096 - SKB_SHARED_INFO_TAILROOM;

/**
 * Where a frame keeps its kernel-side state: the last STATE_BYTES of its region, inside the
 * skb_shared_info tailroom no program reaches. Offsets from there.
 */
const STATE_BYTES = 32;
const State = { data: 0, len: 4, mac: 8, network: 12, transport: 16, flags: 20, ipSummed: 24, csumLevel: 25, hashValid: 26, csum: 28 } as const;
const StateFlag = { encapsulation: 1, tunnelDst: 2 } as const;

/** One linear skb and its `struct __sk_buff`, both in guest memory. */
export class SkbFrame implements SkbFrameAccess {
  readonly region: Region;
  readonly ctxRegion: Region;
  readonly frameSize: number;
  /** Bytes before the frame (and after it) that helpers growing the skb may use (see SkbFrameOptions.growable). */
  readonly growth: number;
  /** The skb's socket, if any. */
  socket: SkbSocket | undefined;
  /** The redirect bpf_redirect last recorded on this frame. */
  redirect: SkbRedirect | undefined;
  /** Copies bpf_clone_redirect made during the last run, for the datapath to send on (a test run drops them). */
  clones: SkbClone[] = [];
  /** Bytes of XDP metadata before the MAC header (skb_metadata_len). */
  readonly metaLength: number;

  private constructor(readonly memory: GuestMemory, frameSize: number, headroom: number, packetLength: number, options: SkbFrameOptions) {
    this.frameSize = frameSize;
    this.growth = options.growable ? SKB_MAX_LEN : 0;
    this.region = memory.allocate(frameSize + 2 * this.growth, 'skb');
    this.ctxRegion = memory.allocate(SK_BUFF_SIZE, '__sk_buff');
    this.macHeader = this.head + headroom;
    this.networkHeader = this.macHeader + ETH_HLEN;
    this.transportHeader = 0;
    const pulled = options.pullMacHeader ?? false;
    this.dataAddress = pulled ? this.networkHeader : this.macHeader;
    this.dataLength = pulled ? packetLength - ETH_HLEN : packetLength;
    this.socket = options.socket;
    this.metaLength = options.metadata?.length ?? 0;
  }

  /**
   * Allocates a frame holding `packet` (an Ethernet frame, at least ETH_HLEN bytes) after `headroom`
   * bytes. Throws RangeError if it does not fit.
   */
  static create(memory: GuestMemory, packet: Uint8Array, options: SkbFrameOptions = {}): SkbFrame {
    const frameSize = options.frameSize ?? SKB_FRAME_SIZE;
    const metaLength = options.metadata?.length ?? 0;
    const headroom = options.headroom ?? SKB_HEADROOM + metaLength;
    if (metaLength > headroom) throw new RangeError(`${metaLength} bytes of metadata do not fit ${headroom} bytes of headroom`);
    if (packet.length < ETH_HLEN) throw new RangeError(`a packet of ${packet.length} bytes has no Ethernet header`);
    if (headroom + packet.length > frameSize - SKB_SHARED_INFO_TAILROOM) {
      throw new RangeError(`a packet of ${packet.length} bytes does not fit a ${frameSize}-byte skb with ${headroom} bytes of headroom`);
    }
    const frame = new SkbFrame(memory, frameSize, headroom, packet.length, options);
    memory.bytes.set(packet, frame.macHeader);
    if (options.metadata) memory.bytes.set(options.metadata, frame.macHeader - metaLength);
    if (options.fields) frame.write(options.fields);
    frame.setSocket(options.socket);
    frame.hashValid = (options.fields?.hash ?? 0) !== 0;
    frame.syncPointers();
    return frame;
  }

  /** Guest address of the context (`struct __sk_buff`): the program's r1. */
  get ctx(): number {
    return this.ctxRegion.start;
  }

  /** skb->data as a guest address. */
  get data(): number {
    return this.dataAddress;
  }

  /** skb->len. */
  get length(): number {
    return this.dataLength;
  }

  /** skb->head: the first byte of the frame (growing helpers may move data before it, into the growth room). */
  get head(): number {
    return this.region.start + this.growth;
  }

  // skb->data, skb->len and the header offsets live in guest memory with the rest of the frame's
  // state, so an engine that replays a run from a memory snapshot (`both`) replays what helpers did to them.

  /** skb->data as a guest address. */
  private get dataAddress(): number {
    return this.memory.view.getUint32(this.stateAddress + State.data, true);
  }

  private set dataAddress(value: number) {
    this.memory.view.setUint32(this.stateAddress + State.data, value, true);
  }

  /** skb->len. */
  private get dataLength(): number {
    return this.memory.view.getUint32(this.stateAddress + State.len, true);
  }

  private set dataLength(value: number) {
    this.memory.view.setUint32(this.stateAddress + State.len, value, true);
  }

  /** skb->mac_header as a guest address. */
  get macHeader(): number {
    return this.memory.view.getUint32(this.stateAddress + State.mac, true);
  }

  set macHeader(value: number) {
    this.memory.view.setUint32(this.stateAddress + State.mac, value, true);
  }

  /** skb->network_header as a guest address. */
  get networkHeader(): number {
    return this.memory.view.getUint32(this.stateAddress + State.network, true);
  }

  set networkHeader(value: number) {
    this.memory.view.setUint32(this.stateAddress + State.network, value, true);
  }

  /** skb->transport_header as a guest address; 0 while unset (a test run never sets it). */
  get transportHeader(): number {
    return this.memory.view.getUint32(this.stateAddress + State.transport, true);
  }

  set transportHeader(value: number) {
    this.memory.view.setUint32(this.stateAddress + State.transport, value, true);
  }

  /** skb->encapsulation: set by bpf_skb_adjust_room's encapsulation flags. */
  get encapsulation(): boolean {
    return (this.memory.bytes[this.stateAddress + State.flags]! & StateFlag.encapsulation) !== 0;
  }

  set encapsulation(value: boolean) {
    this.setStateFlag(StateFlag.encapsulation, value);
  }

  /** Whether skb's dst is the tunnel metadata bpf_skb_set_tunnel_key attached (Linux's per-CPU md_dst). */
  get tunnelDst(): boolean {
    return (this.memory.bytes[this.stateAddress + State.flags]! & StateFlag.tunnelDst) !== 0;
  }

  set tunnelDst(value: boolean) {
    this.setStateFlag(StateFlag.tunnelDst, value);
  }

  private setStateFlag(flag: number, value: boolean): void {
    const at = this.stateAddress + State.flags;
    const bytes = this.memory.bytes;
    bytes[at] = value ? bytes[at]! | flag : bytes[at]! & ~flag;
  }

  /** The first guest address data may move down to, and the last its end may reach (short of skb_shared_info). */
  get lowestData(): number {
    return this.region.start + this.metaLength;
  }

  get highestEnd(): number {
    return this.region.end - SKB_SHARED_INFO_TAILROOM;
  }

  /** What the legacy ABS/IND loads read: skb->data..len and the MAC and network headers. */
  bounds(): PacketBounds {
    const data = this.dataAddress;
    return { start: data, end: data + this.dataLength, macHeader: this.macHeader, networkHeader: this.networkHeader };
  }

  /**
   * bpf_skb_generic_push: `len` zeroed bytes inserted at `off` from skb->data (the first `off` bytes
   * move down). False when the frame has no room (Linux would reallocate the head; see growable).
   */
  pushAt(off: number, len: number): boolean {
    const data = this.dataAddress;
    if (data - len < this.lowestData) return false;
    const bytes = this.memory.bytes;
    bytes.copyWithin(data - len, data, data + off);
    bytes.fill(0, data - len + off, data + off);
    this.dataAddress = data - len;
    this.dataLength += len;
    return true;
  }

  /**
   * bpf_skb_generic_pop: removes `len` bytes at `off` from skb->data (the first `off` bytes move up),
   * taking them out of a CHECKSUM_COMPLETE skb->csum. False when the skb is shorter than off + len.
   */
  popAt(off: number, len: number): boolean {
    if (off + len > this.dataLength) return false;
    const data = this.dataAddress;
    this.postpullRcsum(data + off, len);
    this.memory.bytes.copyWithin(data + len, data, data + off);
    this.dataAddress = data + len;
    this.dataLength -= len;
    return true;
  }

  /** __skb_put (zeroed) or __skb_trim at the end: false when the frame has no room to grow. */
  setLength(length: number): boolean {
    const data = this.dataAddress;
    if (data + length > this.highestEnd) return false;
    const old = this.dataLength;
    if (length > old) this.memory.bytes.fill(0, data + old, data + length);
    this.dataLength = length;
    return true;
  }

  /** skb_postpull_rcsum: bytes leaving the skb leave a CHECKSUM_COMPLETE skb->csum. */
  postpullRcsum(at: number, len: number): void {
    if (this.ipSummed !== IpSummed.COMPLETE) return;
    this.csum = ~csumPartial(this.memory.bytes.subarray(at, at + len), ~this.csum >>> 0) >>> 0;
  }

  /** skb_postpush_rcsum: bytes entering the skb enter a CHECKSUM_COMPLETE skb->csum. */
  postpushRcsum(at: number, len: number): void {
    if (this.ipSummed !== IpSummed.COMPLETE) return;
    this.csum = csumAdd(this.csum, csumPartial(this.memory.bytes.subarray(at, at + len), 0));
  }

  /** What bpf_clone_redirect and the cgroup helpers ask of the skb (helpers/skb-context.ts). */
  context(): SkbContextAccess {
    const frame = this;
    return {
      get hasFullSocket() {
        return frame.socket !== undefined && frame.socket.fullSocket !== false;
      },
      get gso() {
        return frame.memory.view.getUint32(frame.ctx + SkBuffOffset.gsoSize, true) !== 0;
      },
      get hasLinkHeader() {
        return frame.macHeader < frame.networkHeader && frame.dataLength > 0;
      },
      clone(ifindex, flags) {
        frame.clones.push({ ifindex, flags, packet: frame.wirePacket() });
      },
    };
  }

  /** Writes skb->len and the packet pointers into the context after a helper moved them. */
  settle(): void {
    this.syncPointers();
  }

  /** Bytes before skb->data (skb_headroom). */
  get headroom(): number {
    return this.dataAddress - this.head;
  }

  /** Reads the context fields. */
  read(): SkBuff {
    return readFields(this.memory.view, this.ctx);
  }

  /** Writes the context fields given. */
  write(fields: Partial<SkBuff>): void {
    writeFields(this.memory.view, this.ctx, fields);
  }

  /** A copy of the packet (skb->data, skb->len bytes). */
  packet(): Uint8Array {
    this.memory.refresh();
    return this.memory.bytes.slice(this.dataAddress, this.dataAddress + this.dataLength);
  }

  /**
   * The packet as it goes on the wire: with the offloaded VLAN tag (vlan_present, vlan_proto,
   * vlan_tci) put back after the MAC addresses, as a driver or validate_xmit_vlan does.
   */
  wirePacket(): Uint8Array {
    const packet = this.packet();
    const v = this.memory.view;
    if (v.getUint32(this.ctx + SkBuffOffset.vlanPresent, true) === 0 || packet.length < 12) return packet;
    const out = new Uint8Array(packet.length + 4);
    out.set(packet.subarray(0, 12));
    // vlan_proto is big-endian in the skb, as the context shows it; the TCI is host order.
    const ov = new DataView(out.buffer);
    ov.setUint16(12, v.getUint32(this.ctx + SkBuffOffset.vlanProto, true), true);
    ov.setUint16(14, v.getUint32(this.ctx + SkBuffOffset.vlanTci, true), false);
    out.set(packet.subarray(12), 16);
    return out;
  }

  /** __skb_pull: moves skb->data forward by `length` bytes (a cgroup_skb program sees the packet from the network header). */
  pull(length: number): void {
    if (length > this.dataLength) throw new RangeError(`cannot pull ${length} bytes from a ${this.dataLength}-byte skb`);
    this.dataAddress += length;
    this.dataLength -= length;
    this.syncPointers();
  }

  /** __skb_push: moves skb->data back by `length` bytes within the headroom (the bytes are not touched). */
  push(length: number): void {
    if (length > this.headroom) throw new RangeError(`cannot push ${length} bytes with ${this.headroom} bytes of headroom`);
    this.dataAddress -= length;
    this.dataLength += length;
    this.syncPointers();
  }

  /**
   * Gives the skb a socket (or none): `__sk_buff->sk` points at its `struct bpf_sock`, and the fields
   * Linux reads through skb->sk (family, remote_ip4/6, local_ip4/6, remote_port, local_port) come
   * from it, as bpf_convert_ctx_access loads them: remote_port is the network-order port in the
   * upper 16 bits, local_port the host-order one.
   */
  setSocket(socket: SkbSocket | undefined): void {
    this.socket = socket;
    const v = this.memory.view;
    const bytes = this.memory.bytes;
    const ctx = this.ctx;
    const sk = socket?.address ?? 0;
    v.setUint32(ctx + SkBuffOffset.sk, sk, true);
    v.setUint32(ctx + SkBuffOffset.sk + 4, 0, true);
    bytes.fill(0, ctx + SkBuffOffset.family, ctx + SkBuffOffset.localPort + 4);
    if (!sk) return;
    v.setUint32(ctx + SkBuffOffset.family, v.getUint32(sk + BpfSockOffset.family, true), true);
    bytes.copyWithin(ctx + SkBuffOffset.remoteIp4, sk + BpfSockOffset.dstIp4, sk + BpfSockOffset.dstIp4 + 4);
    bytes.copyWithin(ctx + SkBuffOffset.localIp4, sk + BpfSockOffset.srcIp4, sk + BpfSockOffset.srcIp4 + 4);
    bytes.copyWithin(ctx + SkBuffOffset.remoteIp6, sk + BpfSockOffset.dstIp6, sk + BpfSockOffset.dstIp6 + 16);
    bytes.copyWithin(ctx + SkBuffOffset.localIp6, sk + BpfSockOffset.srcIp6, sk + BpfSockOffset.srcIp6 + 16);
    bytes.copyWithin(ctx + SkBuffOffset.remotePort + 2, sk + BpfSockOffset.dstPort, sk + BpfSockOffset.dstPort + 2);
    v.setUint32(ctx + SkBuffOffset.localPort, v.getUint32(sk + BpfSockOffset.srcPort, true), true);
  }

  /** skb->queue_mapping as the context holds it. */
  get queueMapping(): number {
    return this.memory.view.getUint32(this.ctx + SkBuffOffset.queueMapping, true);
  }

  /** skb->dev's ifindex (`__sk_buff->ifindex`, which programs cannot write). */
  get ifindex(): number {
    return this.memory.view.getUint32(this.ctx + SkBuffOffset.ifindex, true);
  }

  /** Writes skb->len and the packet pointers into the context (Linux bpf_compute_data_pointers: data_meta is data less the metadata). */
  private syncPointers(): void {
    this.write({ len: this.dataLength, data: this.dataAddress, dataEnd: this.dataAddress + this.dataLength, dataMeta: this.dataAddress - this.metaLength });
  }

  /**
   * Stores the program's writes to fields Linux keeps narrower than the context's u32 the way Linux
   * does: tc_index and tc_classid are u16, and a queue_mapping of 0xffff or more is ignored (the
   * value before the run stays). Call after each run, with queue_mapping as it was before the run.
   * Deviation from Linux: within the run that writes them, a program reads back what it wrote.
   */
  settleWrites(queueMappingBefore: number): void {
    // Three fields, read and written in place: this runs after every skb program run.
    const v = this.memory.view;
    const ctx = this.ctx;
    v.setUint32(ctx + SkBuffOffset.tcIndex, v.getUint32(ctx + SkBuffOffset.tcIndex, true) & 0xffff, true);
    v.setUint32(ctx + SkBuffOffset.tcClassid, v.getUint32(ctx + SkBuffOffset.tcClassid, true) & 0xffff, true);
    if (v.getUint32(ctx + SkBuffOffset.queueMapping, true) >= 0xffff) v.setUint32(ctx + SkBuffOffset.queueMapping, queueMappingBefore, true);
  }

  /** bpf_skb_load_bytes: -EFAULT (and `to` zeroed) past the packet or for offsets past INT_MAX. */
  loadBytes(offset: number, to: number, length: number): number {
    const bytes = this.memory.bytes;
    if (offset > 0x7fffffff || offset + length > this.dataLength) {
      bytes.fill(0, to, to + length);
      return -Errno.EFAULT;
    }
    bytes.copyWithin(to, this.dataAddress + offset, this.dataAddress + offset + length);
    return 0;
  }

  /**
   * bpf_skb_store_bytes (flags already checked): -EFAULT past the packet or for offsets past INT_MAX.
   * With `recomputeCsum`, a CHECKSUM_COMPLETE skb->csum trades the old bytes' sum for the new ones'.
   */
  storeBytes(offset: number, from: number, length: number, recomputeCsum: boolean, invalidateHash: boolean): number {
    if (offset > 0x7fffffff) return -Errno.EFAULT;
    if (!this.makeWritable(offset + length)) return -Errno.EFAULT;
    const at = this.dataAddress + offset;
    const complete = recomputeCsum && this.ipSummed === IpSummed.COMPLETE;
    const bytes = this.memory.bytes;
    if (complete) this.csum = csumBlockSub(this.csum, csumPartial(bytes.subarray(at, at + length), 0), offset);
    bytes.copyWithin(at, from, from + length);
    if (complete) this.csum = csumBlockAdd(this.csum, csumPartial(bytes.subarray(at, at + length), 0), offset);
    if (invalidateHash) this.clearHash();
    return 0;
  }

  /** skb_clear_hash: skb->hash is 0 and will be computed again when asked for. */
  clearHash(): void {
    this.write({ hash: 0 });
    this.hashValid = false;
  }

  /** bpf_set_hash: a hash set by the program, kept until cleared. */
  setHash(hash: number): void {
    this.write({ hash });
    this.hashValid = true;
  }

  /**
   * bpf_get_hash_recalc (skb_get_hash): skb->hash, computed from the packet's flow if it is not
   * valid. Deviation from Linux: Linux hashes the dissected flow keys with siphash and a random
   * boot-time key; ours is a fixed function (flowHash) with the properties programs rely on.
   */
  hashRecalc(): number {
    if (!this.hashValid) this.setHash(flowHash(this.memory.bytes.subarray(this.macHeader, this.dataAddress + this.dataLength)));
    return this.read().hash;
  }

  /** bpf_l3_csum_replace (flags already checked): the field changes; skb->csum does not. */
  l3CsumReplace(offset: number, from: bigint, to: bigint, size: number): number {
    return this.csumReplace(offset, from, to, size, { markMangled0: false, markEnforce: false, pseudoHeader: false, ipv6: false }, false);
  }

  /**
   * bpf_l4_csum_replace (flags already checked). Under CHECKSUM_COMPLETE a pseudo-header change also
   * moves skb->csum (Linux inet_proto_csum_replace*: not for a difference on IPv6); otherwise the
   * pseudo-header flag changes nothing.
   */
  l4CsumReplace(offset: number, from: bigint, to: bigint, size: number, flags: { markMangled0: boolean; markEnforce: boolean; pseudoHeader: boolean; ipv6: boolean }): number {
    return this.csumReplace(offset, from, to, size, flags, true);
  }

  /** bpf_skb_load_bytes_relative: from the MAC or network header, up to the end of the packet. */
  loadBytesRelative(offset: number, to: number, length: number, startHeader: number): number {
    const start = startHeader === 0 ? this.macHeader : startHeader === 1 ? this.networkHeader : undefined;
    const bytes = this.memory.bytes;
    if (offset > 0xffff || start === undefined || start + offset + length > this.dataAddress + this.dataLength) {
      bytes.fill(0, to, to + length);
      return -Errno.EFAULT;
    }
    bytes.copyWithin(to, start + offset, start + offset + length);
    return 0;
  }

  /** bpf_skb_pull_data on a linear skb: everything is already there, so only a length past the packet fails. */
  pullData(length: number): number {
    return this.makeWritable(length === 0 ? this.dataLength : length) ? 0 : -Errno.ENOMEM;
  }

  /** bpf_csum_update: adds to a CHECKSUM_COMPLETE skb->csum and returns it; -ENOTSUPP for other skbs. */
  csumUpdate(csum: number): number {
    if (this.ipSummed !== IpSummed.COMPLETE) return -Errno.ENOTSUPP;
    this.csum = csumAdd(this.csum, csum);
    return this.csum;
  }

  /** Makes the skb CHECKSUM_COMPLETE with skb->csum over the network header to the end (BPF_F_TEST_SKB_CHECKSUM_COMPLETE). */
  startChecksumComplete(): void {
    this.ipSummed = IpSummed.COMPLETE;
    this.csum = this.networkChecksum();
  }

  /** Whether a CHECKSUM_COMPLETE skb->csum still folds to the packet's checksum (what a test run checks after the run). */
  checksumValid(): boolean {
    return csumFold(this.csum) === csumFold(this.networkChecksum());
  }

  private networkChecksum(): number {
    return csumPartial(this.memory.bytes.subarray(this.networkHeader, this.dataAddress + this.dataLength), 0);
  }

  /** bpf_csum_level, with Linux's __skb_{incr,decr,reset}_checksum_unnecessary (which leave CHECKSUM_COMPLETE alone). */
  csumLevel(level: bigint): number {
    const unnecessary = this.ipSummed === IpSummed.UNNECESSARY;
    switch (level) {
      case CsumLevel.INC:
        if (unnecessary) this.csumLevelValue = Math.min(this.csumLevelValue + 1, SKB_MAX_CSUM_LEVEL);
        else if (this.ipSummed === IpSummed.NONE) [this.ipSummed, this.csumLevelValue] = [IpSummed.UNNECESSARY, 0];
        return 0;
      case CsumLevel.DEC:
        if (unnecessary && this.csumLevelValue === 0) this.ipSummed = IpSummed.NONE;
        else if (unnecessary) this.csumLevelValue--;
        return 0;
      case CsumLevel.RESET:
        if (unnecessary) [this.ipSummed, this.csumLevelValue] = [IpSummed.NONE, 0];
        return 0;
      case CsumLevel.QUERY:
        return unnecessary ? this.csumLevelValue : -Errno.EACCES;
      default:
        return -Errno.EINVAL;
    }
  }

  /** The socket's cookie, or 0 without a socket (bpf_get_socket_cookie). */
  socketCookie(): bigint {
    return this.socket?.cookie ?? 0n;
  }

  /** The socket owner's uid, or the overflow uid without a socket (bpf_get_socket_uid). */
  socketUid(): number {
    return this.socket ? this.socket.uid ?? 0 : OVERFLOW_UID;
  }

  /** Records a redirect (bpf_redirect). */
  setRedirect(ifindex: number, flags: bigint): void {
    this.redirect = { ifindex, flags };
  }

  /**
   * skb->ip_summed: CHECKSUM_NONE, CHECKSUM_UNNECESSARY after bpf_csum_level raised it, or
   * CHECKSUM_COMPLETE when the test run asked for it. Kept in
   * guest memory (in the skb_shared_info tailroom, which no program reaches) like the rest of the
   * frame, so an engine that replays a run from a memory snapshot (`both`) replays it too.
   */
  get ipSummed(): number {
    return this.memory.bytes[this.stateAddress + State.ipSummed]!;
  }

  set ipSummed(value: number) {
    this.memory.bytes[this.stateAddress + State.ipSummed] = value;
  }

  /** skb->csum_level, meaningful under CHECKSUM_UNNECESSARY; kept next to ip_summed. */
  get csumLevelValue(): number {
    return this.memory.bytes[this.stateAddress + State.csumLevel]!;
  }

  set csumLevelValue(value: number) {
    this.memory.bytes[this.stateAddress + State.csumLevel] = value;
  }

  /** Whether skb->hash holds a computed or set hash (Linux l4_hash or sw_hash); kept next to ip_summed. */
  get hashValid(): boolean {
    return this.memory.bytes[this.stateAddress + State.hashValid] !== 0;
  }

  set hashValid(value: boolean) {
    this.memory.bytes[this.stateAddress + State.hashValid] = value ? 1 : 0;
  }

  /** skb->csum, meaningful under CHECKSUM_COMPLETE; kept next to ip_summed. */
  get csum(): number {
    return this.memory.view.getUint32(this.stateAddress + State.csum, true);
  }

  set csum(value: number) {
    this.memory.view.setUint32(this.stateAddress + State.csum, value >>> 0, true);
  }

  /** Where the frame keeps its state (State): the last bytes of its region. */
  private get stateAddress(): number {
    return this.region.end - STATE_BYTES;
  }

  /** Returns the frame and its context to the allocator. */
  free(): void {
    this.memory.free(this.region);
    this.memory.free(this.ctxRegion);
  }

  /** Linux bpf_try_make_writable on a linear, unshared skb: fails when the range passes skb->len. */
  private makeWritable(end: number): boolean {
    return end <= this.dataLength;
  }

  private csumReplace(offset: number, from: bigint, to: bigint, size: number, flags: { markMangled0: boolean; markEnforce: boolean; pseudoHeader: boolean; ipv6: boolean }, l4: boolean): number {
    if (offset > 0xffff || offset & 1) return -Errno.EFAULT;
    if (!this.makeWritable(offset + 2)) return -Errno.EFAULT;
    const v = this.memory.view;
    const at = this.dataAddress + offset;
    const check = v.getUint16(at, true);
    if (flags.markMangled0 && !flags.markEnforce && check === 0) return 0;
    const pseudo = l4 && flags.pseudoHeader && this.ipSummed === IpSummed.COMPLETE;
    let next: number;
    if (size === 0) {
      if (from !== 0n) return -Errno.EINVAL;
      const diff = Number(to & 0xffffffffn);
      next = csumReplaceByDiff(check, diff);
      if (pseudo && !flags.ipv6) this.csum = ~csumSub(diff, this.csum) >>> 0;
    } else if (size === 2 || size === 4) {
      const mask = size === 2 ? 0xffffn : 0xffffffffn;
      const [f, t] = [Number(from & mask), Number(to & mask)];
      // inet_proto_csum_replace2 widens to 32 bits and uses csum_replace4; the L3 helper stays in 16 bits.
      next = size === 2 && !l4 ? csumReplace2(check, f, t) : csumReplace4(check, f, t);
      if (pseudo) this.csum = ~csumAdd(csumSub(~this.csum >>> 0, f), t) >>> 0;
    } else {
      return -Errno.EINVAL;
    }
    if (flags.markMangled0 && next === 0) next = CSUM_MANGLED_0;
    v.setUint16(at, next, true);
    return 0;
  }
}
