// Packet dynptrs (Linux struct bpf_dynptr_kern over an xdp_buff or sk_buff): the kfuncs that make
// and slice them (net/core/filter.c bpf_dynptr_from_xdp/skb, kernel/bpf/helpers.c
// bpf_dynptr_slice[_rdwr]) and the helpers that read and write through them (bpf_dynptr_read 201,
// bpf_dynptr_write 202, bpf_dynptr_data 203), with Linux's checks and errors.
import { Errno } from '../maps/constants.js';
import { KfuncId } from './kfuncs.js';
import type { HelperCall, HelperSpec } from './table.js';

/** Linux helper ids of the dynptr helpers. */
export const DynptrHelperId = { read: 201, write: 202, data: 203 } as const;

/** Size of `struct bpf_dynptr` (Linux struct bpf_dynptr_kern: data, size and flags, offset). */
export const DYNPTR_SIZE = 16;
/** Linux enum bpf_dynptr_type, the values this runtime creates. */
export const DynptrType = { SKB: 3, XDP: 4 } as const;
const DYNPTR_SIZE_MASK = 0xffffff;
const DYNPTR_TYPE_SHIFT = 28;
const DYNPTR_RDONLY_BIT = 0x80000000;

/** What a packet dynptr reads: the linear part [start, linearEnd) in guest memory and the whole packet's length. */
export interface DynptrPacket {
  readonly start: number;
  readonly linearEnd: number;
  /** All of the packet (a multi-buffer XDP frame's fragments included: bpf_xdp_get_buff_len; skb->len). */
  readonly length: number;
  /** Copies `length` packet bytes from `offset` to the guest address `to`, fragments included; 0 or a negative errno. */
  loadBytes(offset: number, to: number, length: number): number;
  /** Copies `length` bytes from the guest address `from` to the packet at `offset` with bpf_dynptr_write's flags; 0 or a negative errno. */
  storeBytes(offset: number, from: number, length: number, flags: bigint): number;
}

/** Finds the packet behind a program context (xdp_md or __sk_buff) at a guest address. */
export type DynptrPacketLookup = (ctx: number) => DynptrPacket | undefined;

/** How one program type's dynptr kfuncs reach the packet. */
export interface DynptrBinding {
  readonly kind: 'xdp' | 'skb';
  readonly lookup: DynptrPacketLookup;
  /** skb dynptrs are read-only where the program type may not write packet data (Linux bpf_dynptr_from_skb_rdonly). */
  readonly rdonly: boolean;
}

/** The dynptr a `struct bpf_dynptr` in guest memory holds (data is the context address; 0: a null dynptr). */
function readDynptr(call: HelperCall, at: number): { ctx: number; size: number; rdonly: boolean; offset: number } {
  const v = call.memory.view;
  const sizeWord = v.getUint32(at + 8, true);
  return { ctx: v.getUint32(at, true), size: sizeWord & DYNPTR_SIZE_MASK, rdonly: (sizeWord & DYNPTR_RDONLY_BIT) !== 0, offset: v.getUint32(at + 12, true) };
}

/** Linux bpf_dynptr_init, or bpf_dynptr_set_null with `ctx` 0. */
function writeDynptr(call: HelperCall, at: number, ctx: number, type: number, size: number, rdonly: boolean): void {
  const v = call.memory.view;
  v.setBigUint64(at, BigInt(ctx), true);
  v.setUint32(at + 8, ctx === 0 ? 0 : ((size & DYNPTR_SIZE_MASK) | (type << DYNPTR_TYPE_SHIFT) | (rdonly ? DYNPTR_RDONLY_BIT : 0)) >>> 0, true);
  v.setUint32(at + 12, 0, true);
}

/**
 * bpf_dynptr_slice[_rdwr]: a pointer into the linear part when the range lies there, else the
 * buffer with a copy (NULL without one); NULL for a null dynptr or a range past its size.
 * Deviation from Linux: a range inside one fragment of a multi-buffer XDP frame is copied into the
 * buffer rather than pointed at (fragments are not addressable here); its bytes are the same.
 */
function slice(call: HelperCall, lookup: DynptrPacketLookup, rdwr: boolean): void {
  const d = readDynptr(call, call.argU32(1));
  const offset = call.argU32(2);
  const buffer = call.argU32(3);
  const len = call.argU32(4);
  if (d.ctx === 0 || (rdwr && d.rdonly) || len > d.size || offset > d.size - len) return call.returnNumber(0);
  const packet = lookup(d.ctx);
  const at = d.offset + offset;
  // The packet may have shrunk since the dynptr was made (bpf_xdp_pointer's check against the buffer's length).
  if (!packet || at + len > packet.length) return call.returnNumber(0);
  if (packet.start + at + len <= packet.linearEnd) return call.returnNumber(packet.start + at);
  if (buffer === 0) return call.returnNumber(0);
  call.returnNumber(packet.loadBytes(at, buffer, len) === 0 ? buffer : 0);
}

/** Linux bpf_dynptr_check_off_len: [offset, offset + len) inside the dynptr. */
function inRange(size: number, offset: number, len: number): boolean {
  return len <= size && offset <= size - len;
}

/** The dynptr kfuncs and helpers of one program type: its dynptr constructor, the slices, read, write and data. */
export function dynptrHelpers(binding: DynptrBinding): HelperSpec[] {
  const { kind, lookup, rdonly } = binding;
  const from: HelperSpec = {
    id: kind === 'xdp' ? KfuncId.dynptrFromXdp : KfuncId.dynptrFromSkb,
    name: kind === 'xdp' ? 'bpf_dynptr_from_xdp' : 'bpf_dynptr_from_skb',
    proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_dynptr'], dynptr: kind, kfunc: true },
    impl: (call) => {
      const ptr = call.argU32(3);
      // Flags are reserved: any bit set, low or high, is -EINVAL and a null dynptr.
      const packet = call.argU32(2) | call.argHighU32(2) ? undefined : lookup(call.argU32(1));
      if (!packet) {
        writeDynptr(call, ptr, 0, 0, 0, false);
        return call.returnNumber(-Errno.EINVAL);
      }
      writeDynptr(call, ptr, call.argU32(1), kind === 'xdp' ? DynptrType.XDP : DynptrType.SKB, packet.length, kind === 'skb' && rdonly);
      call.returnNumber(0);
    },
  };
  return [
    from,
    {
      id: KfuncId.dynptrSlice,
      name: 'bpf_dynptr_slice',
      proto: { ret: 'dynptr_slice_or_null', args: ['ptr_to_dynptr', 'anything', 'ptr_to_buffer_or_null', 'const_size_known'], kfunc: true },
      impl: (call) => slice(call, lookup, false),
    },
    {
      id: KfuncId.dynptrSliceRdwr,
      name: 'bpf_dynptr_slice_rdwr',
      proto: { ret: 'dynptr_slice_rdwr_or_null', args: ['ptr_to_dynptr', 'anything', 'ptr_to_buffer_or_null', 'const_size_known'], kfunc: true },
      impl: (call) => slice(call, lookup, true),
    },
    {
      // long bpf_dynptr_read(void *dst, u32 len, const struct bpf_dynptr *src, u32 offset, u64 flags): __bpf_dynptr_read.
      id: DynptrHelperId.read,
      name: 'bpf_dynptr_read',
      proto: { ret: 'integer', args: ['ptr_to_uninit_mem', 'const_size_or_zero', 'ptr_to_dynptr', 'anything', 'anything'] },
      impl: (call) => {
        const d = readDynptr(call, call.argU32(3));
        const len = call.argU32(2);
        const offset = call.argU32(4);
        if (d.ctx === 0 || call.argU32(5) | call.argHighU32(5)) return call.returnNumber(-Errno.EINVAL);
        if (!inRange(d.size, offset, len)) return call.returnNumber(-Errno.E2BIG);
        const packet = lookup(d.ctx);
        call.returnNumber(packet ? packet.loadBytes(d.offset + offset, call.argU32(1), len) : -Errno.EINVAL);
      },
    },
    {
      // long bpf_dynptr_write(const struct bpf_dynptr *dst, u32 offset, void *src, u32 len, u64 flags): __bpf_dynptr_write.
      // An skb write may move the packet's data (Linux: changes_data for skb dynptrs); an XDP one does not.
      id: DynptrHelperId.write,
      name: 'bpf_dynptr_write',
      proto: { ret: 'integer', args: ['ptr_to_dynptr', 'anything', 'ptr_to_mem', 'const_size_or_zero', 'anything'], changesPacket: kind === 'skb' },
      impl: (call) => {
        const d = readDynptr(call, call.argU32(1));
        const offset = call.argU32(2);
        const len = call.argU32(4);
        if (d.ctx === 0 || d.rdonly) return call.returnNumber(-Errno.EINVAL);
        if (!inRange(d.size, offset, len)) return call.returnNumber(-Errno.E2BIG);
        const packet = lookup(d.ctx);
        call.returnNumber(packet ? packet.storeBytes(d.offset + offset, call.argU32(3), len, BigInt.asUintN(64, call.arg(5))) : -Errno.EINVAL);
      },
    },
    {
      // void *bpf_dynptr_data(const struct bpf_dynptr *ptr, u32 offset, u32 len): NULL for skb and xdp dynptrs
      // (the only kinds here), which Linux points to bpf_dynptr_slice instead; the checks come first, as in Linux.
      id: DynptrHelperId.data,
      name: 'bpf_dynptr_data',
      proto: { ret: 'ptr_to_mem_or_null', args: ['ptr_to_dynptr', 'anything', 'const_alloc_size_or_zero'] },
      impl: (call) => call.returnNumber(0),
    },
  ];
}
