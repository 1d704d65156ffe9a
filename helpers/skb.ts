// skb helpers with Linux's ids and prototypes (linux/bpf.h): skb_store_bytes (9), l3_csum_replace
// (10), l4_csum_replace (11), redirect (23, the tc flavour), skb_load_bytes (26), skb_pull_data (39),
// csum_update (40), set_hash_invalid (41), get_socket_cookie (46), get_socket_uid (47),
// skb_load_bytes_relative (68), csum_level (135), get_hash_recalc (34) and set_hash (48). They find the skb frame behind the context
// pointer in r1 through a lookup the runtime provides, check flags and offsets in the order
// net/core/filter.c does, and return 0 or Linux's negative errno.
import type { HelperCall, HelperSpec } from './table.js';
import { Errno } from '../maps/constants.js';

/** What the skb helpers need from a frame; offsets count from skb->data. */
export interface SkbFrameAccess {
  /** Copies `length` bytes at `offset` to the guest address `to`; 0 or -EFAULT (with `to` zeroed). */
  loadBytes(offset: number, to: number, length: number): number;
  /** Copies `length` bytes from the guest address `from` to `offset`; 0 or -EFAULT. */
  storeBytes(offset: number, from: number, length: number, recomputeCsum: boolean, invalidateHash: boolean): number;
  /** Updates the 16-bit checksum at `offset` for a field of `size` bytes (0: `to` is a difference). */
  l3CsumReplace(offset: number, from: bigint, to: bigint, size: number): number;
  /** As l3CsumReplace, for a TCP/UDP checksum, with the mangled-zero rules of UDP and the pseudo-header's share of skb->csum. */
  l4CsumReplace(offset: number, from: bigint, to: bigint, size: number, flags: { markMangled0: boolean; markEnforce: boolean; pseudoHeader: boolean; ipv6: boolean }): number;
  /** As loadBytes, with `offset` counted from the MAC (0) or network (1) header; -EFAULT for other starts. */
  loadBytesRelative(offset: number, to: number, length: number, startHeader: number): number;
  /** Makes the first `length` bytes (all of the linear part for 0) directly accessible; 0 or -ENOMEM. */
  pullData(length: number): number;
  /** bpf_csum_update: adds to skb->csum under CHECKSUM_COMPLETE; -ENOTSUPP otherwise. */
  csumUpdate(csum: number): number;
  /** bpf_csum_level: queries or changes the CHECKSUM_UNNECESSARY level. */
  csumLevel(level: bigint): number;
  /** The cookie of the skb's socket, 0 without one. */
  socketCookie(): bigint;
  /** The owner uid of the skb's socket; the overflow uid (65534) without one. */
  socketUid(): number;
  /** Records the target of bpf_redirect. */
  setRedirect(ifindex: number, flags: bigint): void;
  /** skb_clear_hash: skb->hash is 0 until computed again. */
  clearHash(): void;
  /** bpf_set_hash: sets skb->hash. */
  setHash(hash: number): void;
  /** bpf_get_hash_recalc: skb->hash, computed from the flow if not valid. */
  hashRecalc(): number;
}

/** Finds the frame whose `struct __sk_buff` is at a guest address. */
export type SkbFrameLookup = (ctx: number) => SkbFrameAccess | undefined;

/** Linux helper ids of the skb helpers. */
export const SkbHelperId = {
  storeBytes: 9, l3CsumReplace: 10, l4CsumReplace: 11, redirect: 23, loadBytes: 26, pullData: 39, csumUpdate: 40, setHashInvalid: 41,
  getSocketCookie: 46, getSocketUid: 47, loadBytesRelative: 68, csumLevel: 135, getHashRecalc: 34, setHash: 48,
} as const;

/** bpf_skb_store_bytes flags. */
export const BPF_F_RECOMPUTE_CSUM = 1n;
export const BPF_F_INVALIDATE_HASH = 2n;
/** bpf_l3/l4_csum_replace: the low 4 bits of flags give the field size (0, 2 or 4). */
export const BPF_F_HDR_FIELD_MASK = 0xfn;
/** bpf_l4_csum_replace flags. */
export const BPF_F_PSEUDO_HDR = 1n << 4n;
export const BPF_F_MARK_MANGLED_0 = 1n << 5n;
export const BPF_F_MARK_ENFORCE = 1n << 6n;
export const BPF_F_IPV6 = 1n << 7n;
/** bpf_redirect flag: deliver on the target's ingress instead of its egress. */
export const BPF_F_INGRESS = 1n;

/** tc verdicts (linux/pkt_cls.h) the helpers return. */
export const TcAction = { UNSPEC: -1, OK: 0, RECLASSIFY: 1, SHOT: 2, PIPE: 3, STOLEN: 4, QUEUED: 5, REPEAT: 6, REDIRECT: 7 } as const;

/** How the skb helpers reach frames: by context address, and the frame the current run is on (for bpf_redirect, which has no ctx argument). */
export interface SkbHelperBinding {
  readonly lookup: SkbFrameLookup;
  readonly current: () => SkbFrameAccess | undefined;
}

/** The skb helpers, bound to a runner's frames. */
export function skbHelpers({ lookup, current }: SkbHelperBinding): HelperSpec[] {
  // Deviation from Linux: a ctx that is no live frame cannot happen after the verifier; we return -EINVAL.
  const withFrame = (call: HelperCall, act: (frame: SkbFrameAccess) => number) => {
    const frame = lookup(call.argU32(1));
    call.returnNumber(frame ? act(frame) : -Errno.EINVAL);
  };
  const u64 = (call: HelperCall, i: number) => BigInt.asUintN(64, call.arg(i));
  return [
    {
      id: SkbHelperId.storeBytes,
      name: 'bpf_skb_store_bytes',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => {
        const flags = u64(call, 5);
        if (flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return -Errno.EINVAL;
        return f.storeBytes(call.argU32(2), call.argU32(3), call.argU32(4), (flags & BPF_F_RECOMPUTE_CSUM) !== 0n, (flags & BPF_F_INVALIDATE_HASH) !== 0n);
      }),
    },
    {
      id: SkbHelperId.l3CsumReplace,
      name: 'bpf_l3_csum_replace',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => {
        const flags = u64(call, 5);
        if (flags & ~BPF_F_HDR_FIELD_MASK) return -Errno.EINVAL;
        return f.l3CsumReplace(call.argU32(2), u64(call, 3), u64(call, 4), Number(flags & BPF_F_HDR_FIELD_MASK));
      }),
    },
    {
      id: SkbHelperId.l4CsumReplace,
      name: 'bpf_l4_csum_replace',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => {
        const flags = u64(call, 5);
        if (flags & ~(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_IPV6 | BPF_F_HDR_FIELD_MASK)) return -Errno.EINVAL;
        const size = Number(flags & BPF_F_HDR_FIELD_MASK);
        return f.l4CsumReplace(call.argU32(2), u64(call, 3), u64(call, 4), size, {
          markMangled0: (flags & BPF_F_MARK_MANGLED_0) !== 0n,
          markEnforce: (flags & BPF_F_MARK_ENFORCE) !== 0n,
          pseudoHeader: (flags & BPF_F_PSEUDO_HDR) !== 0n,
          ipv6: (flags & BPF_F_IPV6) !== 0n,
        });
      }),
    },
    {
      id: SkbHelperId.redirect,
      name: 'bpf_redirect',
      proto: { ret: 'integer', args: ['anything', 'anything'] },
      impl: (call) => {
        // tc flavour: unknown flags give TC_ACT_SHOT; otherwise the target is recorded and carried out after the program.
        const flags = u64(call, 2);
        if (flags & ~BPF_F_INGRESS) return call.returnNumber(TcAction.SHOT);
        current()?.setRedirect(call.argU32(1), flags);
        call.returnNumber(TcAction.REDIRECT);
      },
    },
    {
      id: SkbHelperId.loadBytes,
      name: 'bpf_skb_load_bytes',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'] },
      impl: (call) => withFrame(call, (f) => f.loadBytes(call.argU32(2), call.argU32(3), call.argU32(4))),
    },
    {
      id: SkbHelperId.pullData,
      name: 'bpf_skb_pull_data',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => f.pullData(call.argU32(2))),
    },
    {
      id: SkbHelperId.csumUpdate,
      name: 'bpf_csum_update',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.csumUpdate(call.argU32(2))),
    },
    {
      id: SkbHelperId.setHashInvalid,
      name: 'bpf_set_hash_invalid',
      proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => {
        lookup(call.argU32(1))?.clearHash();
        call.returnNumber(0);
      },
    },
    {
      id: SkbHelperId.getHashRecalc,
      name: 'bpf_get_hash_recalc',
      proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => withFrame(call, (f) => f.hashRecalc()),
    },
    {
      id: SkbHelperId.setHash,
      name: 'bpf_set_hash',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => {
        f.setHash(call.argU32(2));
        return 0;
      }),
    },
    {
      id: SkbHelperId.getSocketCookie,
      name: 'bpf_get_socket_cookie',
      proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => {
        const frame = lookup(call.argU32(1));
        call.returnBigInt(frame ? frame.socketCookie() : 0n);
      },
    },
    {
      id: SkbHelperId.getSocketUid,
      name: 'bpf_get_socket_uid',
      proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => withFrame(call, (f) => f.socketUid()),
    },
    {
      id: SkbHelperId.loadBytesRelative,
      name: 'bpf_skb_load_bytes_relative',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.loadBytesRelative(call.argU32(2), call.argU32(3), call.argU32(4), call.argU32(5))),
    },
    {
      id: SkbHelperId.csumLevel,
      name: 'bpf_csum_level',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.csumLevel(u64(call, 2))),
    },
  ];
}
