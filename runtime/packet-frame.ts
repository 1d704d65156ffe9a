// An XDP packet frame in guest memory, laid out as Linux lays out a test-run or driver frame
// (include/net/xdp.h, net/core/filter.c): headroom, metadata growing down from data, the packet,
// and tailroom short of the skb_shared_info reservation. The frame's pointers live in its
// `struct xdp_md` in guest memory (the context a program gets in r1), so a program reads them with
// plain loads and the helpers that move them rewrite that struct. A multi-buffer frame (xdp.frags)
// keeps what does not fit the linear part in fragments of one page each, as Linux's test run and
// drivers do; data..data_end covers the linear part only, and the byte helpers reach every fragment.
import type { XdpFrameAccess, XdpRedirect } from '../helpers/xdp.js';
import { Errno } from '../maps/constants.js';
import type { GuestMemory, Region } from './memory.js';
import { kvDelete, kvEntries, kvGet, kvSet, type KvFrame, type RxHints } from './metadata-store.js';
import { flowHash } from './flow-hash.js';

/** Default frame size: one page, as BPF_PROG_TEST_RUN and most drivers use. */
export const XDP_FRAME_SIZE = 4096;
/** Headroom before the packet (Linux XDP_PACKET_HEADROOM). */
export const XDP_PACKET_HEADROOM = 256;
/** Start of the headroom Linux keeps for `struct xdp_frame` (x86-64 size); adjust_head/meta cannot reach into it. */
export const XDP_FRAME_RESERVED = 40;
/** End of the frame Linux keeps for `struct skb_shared_info` (SKB_DATA_ALIGN of its x86-64 size). */
export const SKB_SHARED_INFO_TAILROOM = 320;
/** Smallest packet the helpers leave (Linux ETH_HLEN). */
export const ETH_HLEN = 14;
/** Largest metadata area (Linux: the u8 skb_shared_info.meta_len, 4-byte aligned: 252). */
export const XDP_META_MAX = 255;
/** Size of one fragment of a multi-buffer frame (a page; the test run's rxq frag_size). */
export const XDP_FRAGMENT_SIZE = 4096;
/** Most fragments a frame can have (Linux MAX_SKB_FRAGS). */
export const MAX_SKB_FRAGS = 17;

/** Byte offsets of the u32 fields of `struct xdp_md` (linux/bpf.h). */
export const XdpMdOffset = { data: 0, dataEnd: 4, dataMeta: 8, ingressIfindex: 12, rxQueueIndex: 16, egressIfindex: 20 } as const;
/** Size of `struct xdp_md`. */
export const XDP_MD_SIZE = 24;

/** The fields of `struct xdp_md` as numbers. */
export interface XdpMd {
  data: number;
  dataEnd: number;
  dataMeta: number;
  ingressIfindex: number;
  rxQueueIndex: number;
  egressIfindex: number;
}

/** How to lay out a frame. */
export interface PacketFrameOptions {
  /** Frame size in bytes (default 4096). */
  frameSize?: number;
  /** Headroom before data (default 256). */
  headroom?: number;
  /** Metadata bytes in front of data, taken from the headroom (default 0). */
  metaLength?: number;
  ingressIfindex?: number;
  rxQueueIndex?: number;
  egressIfindex?: number;
  /**
   * Packet bytes in the linear part (default: all of them); the rest go into fragments of
   * XDP_FRAGMENT_SIZE bytes, making a multi-buffer frame.
   */
  linearLength?: number;
}

/** One fragment of a multi-buffer frame: a page of guest memory, of which `length` bytes from its start are packet. */
interface Fragment {
  readonly region: Region;
  length: number;
}

/** Linux's check of a metadata length: 4-byte aligned and at most XDP_META_MAX. */
export function metaLengthInvalid(length: number): boolean {
  return length % 4 !== 0 || length > XDP_META_MAX;
}

/** One frame and its `struct xdp_md`, both in guest memory. */
export class PacketFrame implements XdpFrameAccess, KvFrame {
  /** The whole frame, headroom to tailroom. */
  readonly region: Region;
  /** The `struct xdp_md` a program gets as its context (read-only to programs, as in Linux). */
  readonly ctxRegion: Region;
  readonly frameSize: number;
  /** Where bpf_redirect or bpf_redirect_map sent the frame in the current run, if anywhere. */
  redirect: XdpRedirect | undefined;
  /** Whether a runner has the frame in use (a released frame is not found by its context address). */
  inUse = false;
  /**
   * The frame bytes that may not be zero: every [data_meta, data_end) the frame has had, past uses'
   * included, and the key/value store. A verified program writes nowhere else, and reads nothing
   * past data_end (bpf_xdp_adjust_tail zeroes what it adds), so a recycled frame zeroes only what lies
   * before the new packet's data_meta; bytes past its end are cleared only before a program the
   * verifier did not check runs (`beforeRun`), and after such a run (`unconfined`) the whole frame is.
   */
  private dirtyLow = 0;
  private dirtyHigh = 0;
  /** Set when a program the verifier did not check ran on the frame: it may have written anywhere in it. */
  unconfined = true;

  /**
   * Notes packet bytes written up to `end` by a caller that refills the frame itself (the replay
   * lane writes each packet and data_end in WebAssembly), so that a recycled frame is cleared as far.
   */
  filledTo(end: number): void {
    this.dirtyHigh = Math.max(this.dirtyHigh, end);
  }

  /** Before a program runs on the frame: one the verifier did not check may read past data_end, where a past use's bytes may lie. */
  beforeRun(verified: boolean): void {
    if (verified) return;
    const dataEnd = this.dataEnd;
    if (this.dirtyHigh > dataEnd) {
      this.memory.bytes.fill(0, dataEnd, this.dirtyHigh);
      this.dirtyHigh = dataEnd;
    }
    this.unconfined = true;
  }
  /** Bytes the metadata key/value store takes at the start of the headroom (runtime/metadata-store.ts). */
  storeSize = 0;
  /** Receive hints set outright (a clone's, a test's); otherwise they come from what `received` recorded. */
  private explicitHints: RxHints | undefined = undefined;
  /** What the frame was received as (replay), for its hints, computed only if a program asks. */
  private receivedBytes: Uint8Array | undefined = undefined;
  private receivedSeconds = 0;
  private receivedNanoseconds = 0;

  /**
   * Records how the frame arrived, for the receive hints: its bytes as received (a view that must
   * stay valid while the frame is in use) and the capture's time. Nothing is computed unless asked.
   */
  received(bytes: Uint8Array, seconds: number, nanoseconds: number): void {
    this.explicitHints = undefined;
    this.receivedBytes = bytes;
    this.receivedSeconds = seconds;
    this.receivedNanoseconds = nanoseconds;
  }

  /** Receive hints for the store's hint keys: the flow hash, the outer VLAN tag, the capture time; undefined when the frame was not received. */
  get hints(): RxHints | undefined {
    if (this.explicitHints || !this.receivedBytes) return this.explicitHints;
    const b = this.receivedBytes;
    const tagged = b.length >= 18 && ((b[12] === 0x81 && b[13] === 0x00) || (b[12] === 0x88 && b[13] === 0xa8));
    const rxTimestamp = BigInt(this.receivedSeconds) * 1_000_000_000n + BigInt(this.receivedNanoseconds);
    this.explicitHints = { rxHash: flowHash(b), rxTimestamp, ...(tagged ? { vlanTci: (b[14]! << 8) | b[15]! } : {}) };
    return this.explicitHints;
  }

  set hints(hints: RxHints | undefined) {
    this.explicitHints = hints;
    this.receivedBytes = undefined;
  }
  /** The fragments of a multi-buffer frame (skb_shared_info.frags), in order; empty for a linear frame. */
  private readonly fragments: Fragment[] = [];

  private constructor(readonly memory: GuestMemory, frameSize: number) {
    this.frameSize = frameSize;
    this.region = memory.allocate(frameSize, 'packet');
    this.ctxRegion = memory.allocate(XDP_MD_SIZE, 'xdp_md', { writable: false });
  }

  /**
   * Allocates a frame holding `bytes`: the first `metaLength` of them are metadata, the rest the
   * packet, which starts `headroom` bytes into the frame. Throws RangeError if it does not fit.
   * `reuse` is a released frame to fill instead of allocating a new one.
   */
  static create(memory: GuestMemory, bytes: Uint8Array, options: PacketFrameOptions = {}, reuse?: PacketFrame): PacketFrame {
    return PacketFrame.build(
      memory, bytes, options.frameSize ?? XDP_FRAME_SIZE, options.headroom ?? XDP_PACKET_HEADROOM, options.metaLength ?? 0,
      options.linearLength, options.ingressIfindex ?? 0, options.rxQueueIndex ?? 0, options.egressIfindex ?? 0, reuse,
    );
  }

  /**
   * create's work with every option spelled out: what runners call once per packet. (An options
   * object of a different shape at each call site made the property reads megamorphic; that cost
   * more than the copy.)
   */
  static build(
    memory: GuestMemory, bytes: Uint8Array, frameSize: number, headroom: number, metaLength: number, linearLength: number | undefined,
    ingressIfindex: number, rxQueueIndex: number, egressIfindex: number, reuse?: PacketFrame,
  ): PacketFrame {
    if (metaLength > bytes.length || metaLength > headroom - XDP_FRAME_RESERVED) throw new RangeError(`metadata of ${metaLength} bytes does not fit`);
    const packetLength = bytes.length - metaLength;
    const linear = Math.min(linearLength ?? packetLength, packetLength);
    if (headroom + linear > frameSize - SKB_SHARED_INFO_TAILROOM) {
      throw new RangeError(`a packet of ${linear} bytes does not fit a ${frameSize}-byte frame with ${headroom} bytes of headroom`);
    }
    const fragmentCount = Math.ceil((packetLength - linear) / XDP_FRAGMENT_SIZE);
    if (fragmentCount > MAX_SKB_FRAGS) throw new RangeError(`a packet of ${packetLength} bytes needs ${fragmentCount} fragments; a frame has at most ${MAX_SKB_FRAGS}`);
    const frame = reuse && reuse.frameSize === frameSize ? reuse : new PacketFrame(memory, frameSize);
    const hard = frame.region.start;
    const dataMeta = hard + headroom - metaLength;
    const end = dataMeta + metaLength + linear;
    if (frame === reuse) {
      // A recycled frame reads as a new one would: zero before the new bytes; past them, see dirtyLow.
      if (frame.fragments.length) frame.dropFragments(0);
      frame.storeSize = 0;
      frame.hints = undefined;
      if (frame.unconfined) {
        memory.bytes.fill(0, frame.region.start, frame.region.end);
        frame.dirtyHigh = 0;
      } else if (frame.dirtyLow < dataMeta) {
        memory.bytes.fill(0, frame.dirtyLow, Math.min(frame.dirtyHigh, dataMeta));
      }
    }
    // A new frame's range starts empty (0).
    frame.dirtyHigh = Math.max(frame.dirtyHigh, end);
    for (let at = metaLength + linear; at < bytes.length; at += XDP_FRAGMENT_SIZE) {
      const region = memory.allocate(XDP_FRAGMENT_SIZE, 'packet fragment');
      const piece = bytes.subarray(at, at + XDP_FRAGMENT_SIZE);
      memory.bytes.set(piece, region.start);
      frame.fragments.push({ region, length: piece.length });
    }
    memory.bytes.set(linear === packetLength ? bytes : bytes.subarray(0, metaLength + linear), dataMeta);
    frame.dirtyLow = dataMeta;
    frame.unconfined = false;
    const v = memory.view;
    const ctx = frame.ctxRegion.start;
    v.setUint32(ctx + XdpMdOffset.data, hard + headroom, true);
    v.setUint32(ctx + XdpMdOffset.dataEnd, end, true);
    v.setUint32(ctx + XdpMdOffset.dataMeta, dataMeta, true);
    v.setUint32(ctx + XdpMdOffset.ingressIfindex, ingressIfindex, true);
    v.setUint32(ctx + XdpMdOffset.rxQueueIndex, rxQueueIndex, true);
    v.setUint32(ctx + XdpMdOffset.egressIfindex, egressIfindex, true);
    return frame;
  }

  /** Guest address of the context (`struct xdp_md`): the program's r1. */
  get ctx(): number {
    return this.ctxRegion.start;
  }

  /** First byte of the frame (Linux data_hard_start). */
  get hardStart(): number {
    return this.region.start;
  }

  /** Where the metadata key/value store begins: past the reserved xdp_frame area. */
  get storeStart(): number {
    return this.region.start + XDP_FRAME_RESERVED;
  }

  /** Lowest address data_meta (and so data) may reach: past the reserved xdp_frame area and the key/value store. */
  get headLimit(): number {
    return this.storeStart + this.storeSize;
  }

  /** bpf_xdp_kv_get. */
  kvGet(key: number, to: number, len: number): number {
    return kvGet(this, key, to, len);
  }

  /** bpf_xdp_kv_set. */
  kvSet(key: number, from: number, len: number, flags: number): number {
    const result = kvSet(this, key, from, len, flags);
    this.touched(this.storeStart, this.storeStart + this.storeSize);
    return result;
  }

  /** bpf_xdp_kv_delete. */
  kvDelete(key: number): number {
    return kvDelete(this, key);
  }

  /** The store's pairs (keys in order, then, with `hints`, the receive hints), values as unsigned integers. */
  kvEntries(hints = true): [number, bigint][] {
    return kvEntries(this, hints);
  }

  /** Makes this frame's store and hints a copy of another's (a broadcast's clones carry the store along). */
  copyStoreFrom(other: PacketFrame): void {
    this.memory.bytes.copyWithin(this.storeStart, other.storeStart, other.storeStart + other.storeSize);
    this.storeSize = other.storeSize;
    this.touched(this.storeStart, this.storeStart + this.storeSize);
    this.hints = other.hints && { ...other.hints };
  }

  /** One past the highest address data_end may reach (Linux xdp_data_hard_end). */
  get hardEnd(): number {
    return this.hardStart + this.frameSize - SKB_SHARED_INFO_TAILROOM;
  }

  get data(): number {
    return this.field(XdpMdOffset.data);
  }

  get dataEnd(): number {
    return this.field(XdpMdOffset.dataEnd);
  }

  get dataMeta(): number {
    return this.field(XdpMdOffset.dataMeta);
  }

  /** Length of the linear part (data_end - data). */
  get length(): number {
    return this.dataEnd - this.data;
  }

  /** Whether the frame has fragments (xdp_buff_has_frags). */
  get hasFragments(): boolean {
    return this.fragments.length > 0;
  }

  /** Packet length with the fragments (bpf_xdp_get_buff_len). */
  get buffLength(): number {
    let length = this.length;
    for (const f of this.fragments) length += f.length;
    return length;
  }

  /** Metadata length (data - data_meta). */
  get metaLength(): number {
    return this.data - this.dataMeta;
  }

  /** Reads the context fields. */
  read(): XdpMd {
    return {
      data: this.data,
      dataEnd: this.dataEnd,
      dataMeta: this.dataMeta,
      ingressIfindex: this.field(XdpMdOffset.ingressIfindex),
      rxQueueIndex: this.field(XdpMdOffset.rxQueueIndex),
      egressIfindex: this.field(XdpMdOffset.egressIfindex),
    };
  }

  /** Writes the context fields given. */
  write(fields: Partial<XdpMd>): void {
    const v = this.memory.view;
    const at = this.ctx;
    // Field by field: this runs once per packet, and a loop over Object.entries cost microseconds.
    if (fields.data !== undefined) v.setUint32(at + XdpMdOffset.data, fields.data, true);
    if (fields.dataEnd !== undefined) v.setUint32(at + XdpMdOffset.dataEnd, fields.dataEnd, true);
    if (fields.dataMeta !== undefined) v.setUint32(at + XdpMdOffset.dataMeta, fields.dataMeta, true);
    if (fields.ingressIfindex !== undefined) v.setUint32(at + XdpMdOffset.ingressIfindex, fields.ingressIfindex, true);
    if (fields.rxQueueIndex !== undefined) v.setUint32(at + XdpMdOffset.rxQueueIndex, fields.rxQueueIndex, true);
    if (fields.egressIfindex !== undefined) v.setUint32(at + XdpMdOffset.egressIfindex, fields.egressIfindex, true);
  }

  /** A copy of the packet: data..data_end, then the fragments' bytes. */
  packet(): Uint8Array {
    this.memory.refresh();
    const bytes = this.memory.bytes;
    if (!this.fragments.length) return bytes.slice(this.data, this.dataEnd);
    const out = new Uint8Array(this.buffLength);
    out.set(bytes.subarray(this.data, this.dataEnd));
    let at = this.length;
    for (const f of this.fragments) {
      out.set(bytes.subarray(f.region.start, f.region.start + f.length), at);
      at += f.length;
    }
    return out;
  }

  /** A copy of the metadata (data_meta..data). */
  metadata(): Uint8Array {
    this.memory.refresh();
    return this.memory.bytes.slice(this.dataMeta, this.data);
  }

  /** bpf_xdp_adjust_head: data moves by delta, the metadata moves with it; at least ETH_HLEN bytes stay. */
  adjustHead(delta: number): number {
    const { data, dataMeta, dataEnd } = this;
    const metaLength = data - dataMeta;
    const next = data + delta;
    if (next < this.headLimit + metaLength || next > dataEnd - ETH_HLEN) return -Errno.EINVAL;
    if (metaLength) this.memory.bytes.copyWithin(dataMeta + delta, dataMeta, data);
    this.write({ data: next, dataMeta: dataMeta + delta });
    this.touched(dataMeta + delta, dataEnd);
    return 0;
  }

  /** Widens the range of bytes this use may have written (see dirtyLow). */
  private touched(low: number, high: number): void {
    if (low < this.dirtyLow) this.dirtyLow = low;
    if (high > this.dirtyHigh) this.dirtyHigh = high;
  }

  /** bpf_xdp_adjust_meta: data_meta moves by delta within [headLimit, data]; the length must pass metaLengthInvalid. */
  adjustMeta(delta: number): number {
    const meta = this.dataMeta + delta;
    if (meta < this.headLimit || meta > this.data) return -Errno.EINVAL;
    if (metaLengthInvalid(this.data - meta)) return -Errno.EACCES;
    this.write({ dataMeta: meta });
    this.touched(meta, meta);
    return 0;
  }

  /**
   * bpf_xdp_adjust_tail: data_end moves by delta up to hardEnd, leaving at least ETH_HLEN bytes; growth
   * is zeroed. A multi-buffer frame grows its last fragment within its page, and shrinks from the last
   * fragment back, freeing emptied fragments and then the linear part (bpf_xdp_frags_*_tail).
   */
  adjustTail(delta: number): number {
    if (this.fragments.length) return delta < 0 ? this.shrinkFragments(-delta) : this.growLastFragment(delta);
    const { data, dataEnd } = this;
    const next = dataEnd + delta;
    if (next > this.hardEnd || next < data + ETH_HLEN) return -Errno.EINVAL;
    if (delta > 0) this.memory.bytes.fill(0, dataEnd, next);
    this.write({ dataEnd: next });
    this.touched(next, next);
    return 0;
  }

  /** bpf_xdp_load_bytes: `length` bytes from `offset` of the whole packet (fragments included) to `to`. */
  loadBytes(offset: number, to: number, length: number): number {
    return this.copy(offset, to, length, false);
  }

  /** bpf_xdp_store_bytes: `length` bytes from `from` into the packet at `offset` (fragments included). */
  storeBytes(offset: number, from: number, length: number): number {
    return this.copy(offset, from, length, true);
  }

  /** Returns the frame, its fragments and its context to the allocator. */
  free(): void {
    this.dropFragments(0);
    this.memory.free(this.region);
    this.memory.free(this.ctxRegion);
  }

  /** Copies between the packet and guest memory, across fragments (bpf_xdp_copy_buf), after bpf_xdp_pointer's checks. */
  private copy(offset: number, address: number, length: number, toPacket: boolean): number {
    // -EFAULT past 0xffff, -EINVAL past the packet.
    if (offset > 0xffff || length > 0xffff) return -Errno.EFAULT;
    if (offset + length > this.buffLength) return -Errno.EINVAL;
    const bytes = this.memory.bytes;
    const pieces = [{ start: this.data, length: this.length }, ...this.fragments.map((f) => ({ start: f.region.start, length: f.length }))];
    for (const piece of pieces) {
      if (length === 0) break;
      if (offset >= piece.length) {
        offset -= piece.length;
        continue;
      }
      const n = Math.min(length, piece.length - offset);
      if (toPacket) bytes.copyWithin(piece.start + offset, address, address + n);
      else bytes.copyWithin(address, piece.start + offset, piece.start + offset + n);
      address += n;
      length -= n;
      offset = 0;
    }
    return 0;
  }

  /** Grows the last fragment by `delta` zeroed bytes, within its page. */
  private growLastFragment(delta: number): number {
    const last = this.fragments[this.fragments.length - 1]!;
    if (delta > XDP_FRAGMENT_SIZE - last.length) return -Errno.EINVAL;
    this.memory.bytes.fill(0, last.region.start + last.length, last.region.start + last.length + delta);
    last.length += delta;
    return 0;
  }

  /** Takes `shrink` bytes off the end: from the fragments, last first, then (once none is left) the linear part. */
  private shrinkFragments(shrink: number): number {
    if (shrink > this.buffLength - ETH_HLEN) return -Errno.EINVAL;
    while (shrink > 0 && this.fragments.length) {
      const last = this.fragments[this.fragments.length - 1]!;
      const cut = Math.min(shrink, last.length);
      shrink -= cut;
      if (cut === last.length) this.dropFragments(this.fragments.length - 1);
      else {
        last.length -= cut;
        return 0;
      }
    }
    if (shrink > 0) this.write({ dataEnd: this.dataEnd - shrink });
    return 0;
  }

  /** Frees the fragments from index `from` on. */
  private dropFragments(from: number): void {
    for (const f of this.fragments.splice(from)) this.memory.free(f.region);
  }

  private field(offset: number): number {
    return this.memory.view.getUint32(this.ctx + offset, true);
  }
}
