// tc helpers that reshape an skb, with Linux's ids and prototypes (linux/bpf.h; net/core/filter.c):
// skb_vlan_push (18), skb_vlan_pop (19), skb_change_proto (31), skb_change_type (32),
// skb_change_tail (38), skb_change_head (43) and skb_adjust_room (50). All but change_type move or
// resize the packet, so the verifier drops packet pointers after them and the legacy loads see the
// new bounds. The runtime (runtime/skb-reshape.ts) does the work on the frame behind r1.
import { Errno } from '../maps/constants.js';
import type { PacketBounds } from '../runtime/run.js';
import type { HelperCall, HelperProto, HelperSpec } from './table.js';

/** What the reshaping helpers need from an skb; each returns 0 or a negative errno. */
export interface SkbReshapeAccess {
  /** `proto` and `tci` as the helper takes them: a big-endian EtherType (as a little-endian u16) and a host-order TCI. */
  vlanPush(proto: number, tci: number): number;
  vlanPop(): number;
  changeProto(proto: number, flags: bigint): number;
  changeType(pktType: number): number;
  changeTail(newLen: number, flags: bigint): number;
  changeHead(headRoom: number, flags: bigint): number;
  adjustRoom(lenDiff: number, mode: number, flags: bigint): number;
  /** The packet's bounds after the change, for the legacy loads. */
  bounds(): PacketBounds;
}

/** Linux helper ids of the reshaping helpers. */
export const SkbReshapeHelperId = {
  vlanPush: 18, vlanPop: 19, changeProto: 31, changeType: 32, changeTail: 38, changeHead: 43, adjustRoom: 50,
} as const;

/** The reshaping helpers, bound to a lookup of the skb behind a context. */
export function skbReshapeHelpers(lookup: (ctx: number) => SkbReshapeAccess | undefined): HelperSpec[] {
  // Deviation from Linux: a ctx that is no live frame cannot happen after the verifier; we return -EINVAL.
  const reshape = (call: HelperCall, act: (skb: SkbReshapeAccess) => number) => {
    const skb = lookup(call.argU32(1));
    if (!skb) return call.returnNumber(-Errno.EINVAL);
    const result = act(skb);
    // bpf_compute_data_pointers: data and data_end moved, and so do the legacy loads' bounds.
    call.setPacket(skb.bounds());
    call.returnNumber(result);
  };
  const u64 = (call: HelperCall, i: number) => BigInt.asUintN(64, call.arg(i));
  const proto = (args: number): HelperProto => ({ ret: 'integer', args: ['ptr_to_ctx', ...Array<'anything'>(args).fill('anything')], changesPacket: true });
  return [
    {
      id: SkbReshapeHelperId.vlanPush, name: 'bpf_skb_vlan_push', proto: proto(2),
      impl: (call) => reshape(call, (skb) => skb.vlanPush(call.argU32(2) & 0xffff, call.argU32(3) & 0xffff)),
    },
    {
      id: SkbReshapeHelperId.vlanPop, name: 'bpf_skb_vlan_pop', proto: proto(0),
      impl: (call) => reshape(call, (skb) => skb.vlanPop()),
    },
    {
      id: SkbReshapeHelperId.changeProto, name: 'bpf_skb_change_proto', proto: proto(2),
      impl: (call) => reshape(call, (skb) => skb.changeProto(call.argU32(2) & 0xffff, u64(call, 3))),
    },
    {
      // Not in Linux's bpf_helper_changes_pkt_data: pkt_type is no packet pointer.
      id: SkbReshapeHelperId.changeType, name: 'bpf_skb_change_type', proto: { ret: 'integer', args: ['ptr_to_ctx', 'anything'] },
      impl: (call) => {
        const skb = lookup(call.argU32(1));
        call.returnNumber(skb ? skb.changeType(call.argU32(2)) : -Errno.EINVAL);
      },
    },
    {
      id: SkbReshapeHelperId.changeTail, name: 'bpf_skb_change_tail', proto: proto(2),
      impl: (call) => reshape(call, (skb) => skb.changeTail(call.argU32(2), u64(call, 3))),
    },
    {
      id: SkbReshapeHelperId.changeHead, name: 'bpf_skb_change_head', proto: proto(2),
      impl: (call) => reshape(call, (skb) => skb.changeHead(call.argU32(2), u64(call, 3))),
    },
    {
      id: SkbReshapeHelperId.adjustRoom, name: 'bpf_skb_adjust_room', proto: proto(3),
      impl: (call) => reshape(call, (skb) => skb.adjustRoom(call.argU32(2) | 0, call.argU32(3), u64(call, 4))),
    },
  ];
}
