// An XDP packet frame in guest memory, laid out as Linux lays out a test-run or driver frame
// (include/net/xdp.h, net/core/filter.c): headroom, metadata growing down from data, the packet,
// and tailroom short of the skb_shared_info reservation. The frame's pointers live in its
// `struct xdp_md` in guest memory (the context a program gets in r1), so a program reads them with
// plain loads and the helpers that move them rewrite that struct.
import type { XdpFrameAccess, XdpRedirect } from '../helpers/xdp.js';
import { Errno } from '../maps/constants.js';
import type { GuestMemory, Region } from './memory.js';

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
}

/** Linux's check of a metadata length: 4-byte aligned and at most XDP_META_MAX. */
export function metaLengthInvalid(length: number): boolean {
  return length % 4 !== 0 || length > XDP_META_MAX;
}

/** One frame and its `struct xdp_md`, both in guest memory. */
export class PacketFrame implements XdpFrameAccess {
  /** The whole frame, headroom to tailroom. */
  readonly region: Region;
  /** The `struct xdp_md` a program gets as its context (read-only to programs, as in Linux). */
  readonly ctxRegion: Region;
  readonly frameSize: number;
  /** Where bpf_redirect or bpf_redirect_map sent the frame in the current run, if anywhere. */
  redirect: XdpRedirect | undefined;

  private constructor(private readonly memory: GuestMemory, frameSize: number) {
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
    const frameSize = options.frameSize ?? XDP_FRAME_SIZE;
    const headroom = options.headroom ?? XDP_PACKET_HEADROOM;
    const metaLength = options.metaLength ?? 0;
    if (metaLength > bytes.length || metaLength > headroom - XDP_FRAME_RESERVED) throw new RangeError(`metadata of ${metaLength} bytes does not fit`);
    if (headroom + bytes.length - metaLength > frameSize - SKB_SHARED_INFO_TAILROOM) {
      throw new RangeError(`a packet of ${bytes.length - metaLength} bytes does not fit a ${frameSize}-byte frame with ${headroom} bytes of headroom`);
    }
    let frame: PacketFrame;
    if (reuse && reuse.frameSize === frameSize) {
      // A recycled frame starts as zeroed as a new one.
      frame = reuse;
      memory.bytes.fill(0, frame.region.start, frame.region.end);
    } else {
      frame = new PacketFrame(memory, frameSize);
    }
    const hard = frame.hardStart;
    const dataMeta = hard + headroom - metaLength;
    memory.bytes.set(bytes, dataMeta);
    frame.write({
      data: hard + headroom,
      dataEnd: dataMeta + bytes.length,
      dataMeta,
      ingressIfindex: options.ingressIfindex ?? 0,
      rxQueueIndex: options.rxQueueIndex ?? 0,
      egressIfindex: options.egressIfindex ?? 0,
    });
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

  /** Lowest address data_meta (and so data) may reach: past the reserved xdp_frame area. */
  get headLimit(): number {
    return this.hardStart + XDP_FRAME_RESERVED;
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

  /** Packet length (data_end - data). */
  get length(): number {
    return this.dataEnd - this.data;
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

  /** A copy of the packet (data..data_end). */
  packet(): Uint8Array {
    this.memory.refresh();
    return this.memory.bytes.slice(this.data, this.dataEnd);
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
    return 0;
  }

  /** bpf_xdp_adjust_meta: data_meta moves by delta within [headLimit, data]; the length must pass metaLengthInvalid. */
  adjustMeta(delta: number): number {
    const meta = this.dataMeta + delta;
    if (meta < this.headLimit || meta > this.data) return -Errno.EINVAL;
    if (metaLengthInvalid(this.data - meta)) return -Errno.EACCES;
    this.write({ dataMeta: meta });
    return 0;
  }

  /** bpf_xdp_adjust_tail: data_end moves by delta up to hardEnd, leaving at least ETH_HLEN bytes; growth is zeroed. */
  adjustTail(delta: number): number {
    const { data, dataEnd } = this;
    const next = dataEnd + delta;
    if (next > this.hardEnd || next < data + ETH_HLEN) return -Errno.EINVAL;
    if (delta > 0) this.memory.bytes.fill(0, dataEnd, next);
    this.write({ dataEnd: next });
    return 0;
  }

  /** bpf_xdp_load_bytes. */
  loadBytes(offset: number, to: number, length: number): number {
    const error = this.checkRange(offset, length);
    if (error) return error;
    this.memory.bytes.copyWithin(to, this.data + offset, this.data + offset + length);
    return 0;
  }

  /** bpf_xdp_store_bytes. */
  storeBytes(offset: number, from: number, length: number): number {
    const error = this.checkRange(offset, length);
    if (error) return error;
    this.memory.bytes.copyWithin(this.data + offset, from, from + length);
    return 0;
  }

  /** Returns the frame and its context to the allocator. */
  free(): void {
    this.memory.free(this.region);
    this.memory.free(this.ctxRegion);
  }

  /** Linux bpf_xdp_pointer's checks for a linear frame: -EFAULT past 0xffff, -EINVAL past the packet. */
  private checkRange(offset: number, length: number): number {
    if (offset > 0xffff || length > 0xffff) return -Errno.EFAULT;
    if (offset + length > this.length) return -Errno.EINVAL;
    return 0;
  }

  private field(offset: number): number {
    return this.memory.view.getUint32(this.ctx + offset, true);
  }
}
