// tc helpers for tunnel metadata, with Linux's ids and prototypes (linux/bpf.h; net/core/filter.c):
// skb_get_tunnel_key (20), skb_set_tunnel_key (21), skb_get_tunnel_opt (29) and skb_set_tunnel_opt
// (30). Setting a key attaches tunnel metadata to the skb (Linux: its per-CPU metadata dst), which
// the get helpers and a tunnel device read; the runtime keeps it in guest memory (runtime/skb-tunnel.ts).
import { Errno } from '../maps/constants.js';
import type { HelperCall, HelperSpec } from './table.js';

/** What the tunnel helpers need from an skb; each returns 0 (get_opt: the options' length) or a negative errno. */
export interface SkbTunnelAccess {
  getKey(to: number, size: number, flags: bigint): number;
  setKey(from: number, size: number, flags: bigint): number;
  getOpt(to: number, size: number): number;
  setOpt(from: number, size: number): number;
}

/** Linux helper ids of the tunnel helpers. */
export const SkbTunnelHelperId = { getKey: 20, setKey: 21, getOpt: 29, setOpt: 30 } as const;

/** The tunnel helpers, bound to a lookup of the skb behind a context. */
export function skbTunnelHelpers(lookup: (ctx: number) => SkbTunnelAccess | undefined): HelperSpec[] {
  // Deviation from Linux: a ctx that is no live frame cannot happen after the verifier; we return -EINVAL.
  const withSkb = (call: HelperCall, act: (skb: SkbTunnelAccess) => number) => {
    const skb = lookup(call.argU32(1));
    call.returnNumber(skb ? act(skb) : -Errno.EINVAL);
  };
  const u64 = (call: HelperCall, i: number) => BigInt.asUintN(64, call.arg(i));
  return [
    {
      id: SkbTunnelHelperId.getKey, name: 'bpf_skb_get_tunnel_key',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'ptr_to_uninit_mem', 'const_size', 'anything'] },
      impl: (call) => withSkb(call, (skb) => skb.getKey(call.argU32(2), call.argU32(3), u64(call, 4))),
    },
    {
      id: SkbTunnelHelperId.setKey, name: 'bpf_skb_set_tunnel_key',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything'] },
      impl: (call) => withSkb(call, (skb) => skb.setKey(call.argU32(2), call.argU32(3), u64(call, 4))),
    },
    {
      id: SkbTunnelHelperId.getOpt, name: 'bpf_skb_get_tunnel_opt',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'ptr_to_uninit_mem', 'const_size'] },
      impl: (call) => withSkb(call, (skb) => skb.getOpt(call.argU32(2), call.argU32(3))),
    },
    {
      id: SkbTunnelHelperId.setOpt, name: 'bpf_skb_set_tunnel_opt',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'ptr_to_mem', 'const_size'] },
      impl: (call) => withSkb(call, (skb) => skb.setOpt(call.argU32(2), call.argU32(3))),
    },
  ];
}
