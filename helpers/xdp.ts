// XDP packet helpers with Linux's ids and prototypes (linux/bpf.h): adjust_head (44), adjust_meta
// (54), adjust_tail (65), xdp_get_buff_len (188), xdp_load_bytes (189) and xdp_store_bytes (190). They find the packet frame
// behind the context pointer in r1 through a lookup the runtime provides, and return 0 or Linux's
// negative errno, as net/core/filter.c does.
import type { HelperCall, HelperSpec } from './table.js';
import { Errno, MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import type { RedirectTarget } from '../maps/redirect-target.js';

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
  /** The packet's length, fragments of a multi-buffer frame included. */
  readonly buffLength: number;
  /** The metadata key/value store (extension): 0 or a negative errno, as runtime/metadata-store.ts documents. */
  kvGet(key: number, to: number, len: number): number;
  kvSet(key: number, from: number, len: number, flags: number): number;
  kvDelete(key: number): number;
}

/** Where a program asked its frame to go (Linux keeps it in the per-CPU bpf_redirect_info). */
export interface XdpRedirect {
  /** bpf_redirect's ifindex, or bpf_redirect_map's key. */
  readonly target: number;
  /** The map bpf_redirect_map named (its name), or undefined for bpf_redirect. */
  readonly map?: string;
  /** That map's id in the runtime (what the datapath carries the redirect out through). */
  readonly mapId?: number;
  /** bpf_redirect_map's flags (BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS). */
  readonly flags: number;
}

/** Finds the frame whose `struct xdp_md` is at a guest address. */
export type XdpFrameLookup = (ctx: number) => XdpFrameAccess | undefined;

/** Linux helper ids of the XDP helpers. */
export const XdpHelperId = { adjustHead: 44, adjustMeta: 54, adjustTail: 65, getBuffLen: 188, loadBytes: 189, storeBytes: 190 } as const;
/** This runtime's extension helpers for the XDP metadata key/value store (DESIGN.md; numbers fixed once shipped). */
export const XdpKvHelperId = { get: 0x10001, set: 0x10002, delete: 0x10003 } as const;

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
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => f.adjustHead(s32(call, 2))),
    },
    {
      id: XdpHelperId.adjustMeta,
      name: 'bpf_xdp_adjust_meta',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => f.adjustMeta(s32(call, 2))),
    },
    {
      id: XdpHelperId.adjustTail,
      name: 'bpf_xdp_adjust_tail',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'], changesPacket: true },
      impl: (call) => withFrame(call, (f) => f.adjustTail(s32(call, 2))),
    },
    {
      id: XdpHelperId.getBuffLen,
      name: 'bpf_xdp_get_buff_len',
      proto: { ret: 'integer', args: ['ptr_to_ctx'] },
      impl: (call) => withFrame(call, (f) => f.buffLength),
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
    {
      id: XdpKvHelperId.get,
      name: 'bpf_xdp_kv_get',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'] },
      impl: (call) => withFrame(call, (f) => f.kvGet(u64Key(call, 2), call.argU32(3), call.argU32(4))),
    },
    {
      id: XdpKvHelperId.set,
      name: 'bpf_xdp_kv_set',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size', 'anything'] },
      // Flags other than 0 are refused; any bit set, low or high, makes them non-zero.
      impl: (call) => withFrame(call, (f) => f.kvSet(u64Key(call, 2), call.argU32(3), call.argU32(4), call.argU32(5) | call.argHighU32(5))),
    },
    {
      id: XdpKvHelperId.delete,
      name: 'bpf_xdp_kv_delete',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => withFrame(call, (f) => f.kvDelete(u64Key(call, 2))),
    },
  ];
}

/** A u64 key argument as a number without a BigInt: exact below 2^53, and -1 (no key) above, where no valid key is. */
function u64Key(call: HelperCall, i: number): number {
  const high = call.argHighU32(i);
  return high >= 0x200000 ? -1 : high * 0x100000000 + call.argU32(i);
}

/** BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS (linux/bpf.h), for bpf_redirect_map on devmaps. */
export const BPF_F_BROADCAST = 1 << 3;
export const BPF_F_EXCLUDE_INGRESS = 1 << 4;

/** XDP verdicts the redirect helpers return. */
const XDP_ABORTED = 0;
const XDP_REDIRECT = 4;
/** The verdicts bpf_redirect_map may take from its flags as the fallback of a failed lookup. */
const FALLBACK_ACTIONS = 3;

/** What the redirect helpers need: the map behind a map pointer, and where the current run's frame records its target. */
export interface XdpRedirectEnvironment {
  mapAt(address: number): BpfMap | undefined;
  /** The runtime's id of a map. */
  mapId(map: BpfMap): number;
  /** Records (or clears) the redirect of the frame the current run is on. */
  setRedirect(redirect: XdpRedirect | undefined): void;
}

/** A map kind bpf_redirect_map can use, with the flags it takes beyond the fallback action. */
function redirectMap(map: BpfMap | undefined): { targetAt(key: number): RedirectTarget | undefined; flags: number } | undefined {
  if (!map || !('targetAt' in map)) return undefined;
  const flags = map.type === MapType.DEVMAP || map.type === MapType.DEVMAP_HASH ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0;
  return { targetAt: (key) => (map as unknown as { targetAt(k: number): RedirectTarget | undefined }).targetAt(key), flags };
}

/**
 * XDP's bpf_redirect (23) and bpf_redirect_map (51), as net/core/filter.c has them: they record the
 * target and return XDP_REDIRECT; the redirect itself happens after the program (in a test run, not
 * at all). bpf_redirect takes no flags (XDP_ABORTED otherwise). bpf_redirect_map returns the action
 * in the low flag bits when the key has no target, unless broadcasting; other flags the map kind
 * does not take give XDP_ABORTED. Deviation: a map that is no redirect map gives XDP_ABORTED (Linux's
 * verifier refuses the program).
 */
export function xdpRedirectHelpers(env: XdpRedirectEnvironment): HelperSpec[] {
  return [
    {
      id: 23,
      name: 'bpf_redirect',
      proto: { ret: 'integer', args: ['anything', 'anything'] },
      impl: (call) => {
        if (call.argU32(2) !== 0 || call.argHighU32(2) !== 0) return call.returnNumber(XDP_ABORTED);
        env.setRedirect({ target: call.argU32(1), flags: 0 });
        call.returnNumber(XDP_REDIRECT);
      },
    },
    {
      id: 51,
      name: 'bpf_redirect_map',
      proto: { ret: 'integer', args: ['const_map_ptr', 'anything', 'anything'], mapTypes: [MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP] },
      impl: (call) => {
        const map = env.mapAt(call.argU32(1));
        const kind = redirectMap(map);
        const key = call.argU32(2);
        const flags = call.argU32(3);
        if (!kind || call.argHighU32(3) !== 0 || (flags & ~(FALLBACK_ACTIONS | kind.flags)) !== 0) return call.returnNumber(XDP_ABORTED);
        if (!kind.targetAt(key) && !(flags & BPF_F_BROADCAST)) {
          env.setRedirect(undefined);
          return call.returnNumber(flags & FALLBACK_ACTIONS);
        }
        env.setRedirect({ target: key, map: map!.name, mapId: env.mapId(map!), flags: flags & kind.flags });
        call.returnNumber(XDP_REDIRECT);
      },
    },
  ];
}
