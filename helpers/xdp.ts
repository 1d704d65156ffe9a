// XDP packet helpers with Linux's ids and prototypes (linux/bpf.h): adjust_head (44), adjust_meta
// (54), adjust_tail (65), xdp_load_bytes (189) and xdp_store_bytes (190). They find the packet frame
// behind the context pointer in r1 through a lookup the runtime provides, and return 0 or Linux's
// negative errno, as net/core/filter.c does.
import type { HelperCall, HelperSpec } from './table.js';
import { Errno } from '../maps/constants.js';

/** Linux errno values the XDP helpers and test runs return (negated). */

/** What the XDP helpers need from a packet frame; each returns 0 or a negative errno. */
export interface XdpFrameAccess {
  /** Moves `data` by `delta` bytes (negative grows the packet at the front), carrying the metadata along. */
  adjustHead(delta: number): number;
  /** Moves `data_meta` by `delta` bytes (negative grows the metadata). */
  adjustMeta(delta: number): number;
  /** Moves `data_end` by `delta` bytes (positive grows the packet, zero-filled). */
  adjustTail(delta: number): number;
  /** Copies `length` packet bytes from `offset` (relative to data) to the guest address `to`. */
  loadBytes(offset: number, to: number, length: number): number;
  /** Copies `length` bytes from the guest address `from` to the packet at `offset`. */
  storeBytes(offset: number, from: number, length: number): number;
}

/** Finds the frame whose `struct xdp_md` is at a guest address. */
export type XdpFrameLookup = (ctx: number) => XdpFrameAccess | undefined;

/** Linux helper ids of the XDP helpers. */
export const XdpHelperId = { adjustHead: 44, adjustMeta: 54, adjustTail: 65, loadBytes: 189, storeBytes: 190 } as const;

/** The XDP helpers, bound to a frame lookup (one per runtime or runner). */
export function xdpHelpers(lookup: XdpFrameLookup): HelperSpec[] {
  // Deviation from Linux: a ctx that is no live frame cannot happen after the verifier; we return -EINVAL.
  const withFrame = (call: HelperCall, act: (frame: XdpFrameAccess) => number) => {
    const frame = lookup(call.argU32(1));
    call.returnNumber(frame ? act(frame) : -Errno.EINVAL);
  };
  // `int offset` arguments are the low 32 bits, signed; u32 offsets and lengths unsigned.
  const s32 = (call: HelperCall, i: number) => call.argU32(i) | 0;
  return [
    {
      id: XdpHelperId.adjustHead,
      name: 'bpf_xdp_adjust_head',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.adjustHead(s32(call, 2))),
    },
    {
      id: XdpHelperId.adjustMeta,
      name: 'bpf_xdp_adjust_meta',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.adjustMeta(s32(call, 2))),
    },
    {
      id: XdpHelperId.adjustTail,
      name: 'bpf_xdp_adjust_tail',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.adjustTail(s32(call, 2))),
    },
    {
      id: XdpHelperId.loadBytes,
      name: 'bpf_xdp_load_bytes',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'] },
      impl: (call) => withFrame(call, (f) => f.loadBytes(call.argU32(2), call.argU32(3), call.argU32(4))),
    },
    {
      id: XdpHelperId.storeBytes,
      name: 'bpf_xdp_store_bytes',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size'] },
      impl: (call) => withFrame(call, (f) => f.storeBytes(call.argU32(2), call.argU32(3), call.argU32(4))),
    },
  ];
}
