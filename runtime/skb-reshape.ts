// The tc helpers that reshape an skb, as net/core/filter.c (and the skbuff/if_vlan code it calls) does
// them on the linear skb of a test run: bpf_skb_vlan_push/pop, bpf_skb_change_proto/type/tail/head
// and bpf_skb_adjust_room. Each returns 0 or Linux's negative errno; the helper table
// (helpers/skb-reshape.ts) updates the packet bounds afterwards, as bpf_compute_data_pointers does.
import { Errno } from '../maps/constants.js';
import type { SkbReshapeAccess } from '../helpers/skb-reshape.js';
import type { PacketBounds } from './run.js';
import { ETH_HLEN } from './packet-frame.js';
import { IpSummed, SKB_MAX_LEN, type SkbFrame } from './sk-buff.js';

/** EtherTypes as skb->protocol holds them (big-endian), read as the u16 a little-endian host sees. */
const be16 = (host: number) => ((host & 0xff) << 8) | (host >>> 8);
const ETH_P_IP = be16(0x0800);
const ETH_P_IPV6 = be16(0x86dd);
const ETH_P_8021Q = be16(0x8100);
const ETH_P_8021AD = be16(0x88a8);
const ETH_P_802_3 = be16(0x0001);
const ETH_P_802_2 = be16(0x0004);
const VLAN_HLEN = 4;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
/** PACKET_OTHERHOST: the last pkt_type bpf_skb_change_type takes (skb_pkt_type_ok). */
const PACKET_OTHERHOST = 3;

/** bpf_skb_adjust_room modes and flags (linux/bpf.h). */
export const AdjustRoomMode = { NET: 0, MAC: 1 } as const;
export const AdjustRoomFlag = {
  FIXED_GSO: 1n << 0n, ENCAP_L3_IPV4: 1n << 1n, ENCAP_L3_IPV6: 1n << 2n, ENCAP_L4_GRE: 1n << 3n, ENCAP_L4_UDP: 1n << 4n,
  NO_CSUM_RESET: 1n << 5n, ENCAP_L2_ETH: 1n << 6n, DECAP_L3_IPV4: 1n << 7n, DECAP_L3_IPV6: 1n << 8n,
} as const;
const ENCAP_L2_SHIFT = 56n;
const ENCAP_L3_MASK = AdjustRoomFlag.ENCAP_L3_IPV4 | AdjustRoomFlag.ENCAP_L3_IPV6;
const DECAP_L3_MASK = AdjustRoomFlag.DECAP_L3_IPV4 | AdjustRoomFlag.DECAP_L3_IPV6;
const ADJ_ROOM_MASK = AdjustRoomFlag.FIXED_GSO | ENCAP_L3_MASK | AdjustRoomFlag.ENCAP_L4_GRE | AdjustRoomFlag.ENCAP_L4_UDP
  | AdjustRoomFlag.ENCAP_L2_ETH | (0xffn << ENCAP_L2_SHIFT) | DECAP_L3_MASK;
/** Linux EALREADY: bpf_skb_adjust_room encapsulating an skb that already is. */
const EALREADY = 114;

/** The reshaping helpers over one skb frame. */
export class SkbReshape implements SkbReshapeAccess {
  constructor(private readonly frame: SkbFrame) {}

  bounds(): PacketBounds {
    return this.frame.bounds();
  }

  private get protocol(): number {
    return this.frame.read().protocol;
  }

  private set protocol(value: number) {
    this.frame.write({ protocol: value });
  }

  /** skb_is_gso: a test run's skb has gso_size from ctx_in, and never a TCP or UDP GSO type. */
  private get gso(): boolean {
    return this.frame.read().gsoSize !== 0;
  }

  private get macLength(): number {
    return this.frame.networkHeader - this.frame.macHeader;
  }

  /** skb_vlan_push: an offloaded tag already there goes into the packet first; the new tag is offloaded. */
  vlanPush(proto: number, tci: number): number {
    const f = this.frame;
    if (proto !== ETH_P_8021Q && proto !== ETH_P_8021AD) proto = ETH_P_8021Q;
    const ctx = f.read();
    if (ctx.vlanPresent) {
      // __vlan_insert_tag after the MAC addresses, with the offloaded tag's protocol and TCI.
      if (f.data !== f.macHeader) return -Errno.EINVAL;
      if (!f.pushAt(2 * 6, VLAN_HLEN)) return -Errno.ENOMEM;
      // The headers move down with the bytes before the tag (seen on Linux 6.18: the network header is then at the tag's TCI).
      f.macHeader -= VLAN_HLEN;
      f.networkHeader -= VLAN_HLEN;
      const v = f.memory.view;
      v.setUint16(f.data + 12, ctx.vlanProto, true);
      v.setUint16(f.data + 14, ctx.vlanTci, false);
      f.write({ protocol: ctx.vlanProto });
      f.postpushRcsum(f.data + 12, VLAN_HLEN);
    }
    f.write({ vlanPresent: 1, vlanProto: proto, vlanTci: tci & 0xffff });
    f.settle();
    return 0;
  }

  /** skb_vlan_pop: drops the offloaded tag, or the packet's outer one; a tag under it becomes the offloaded one. */
  vlanPop(): number {
    const f = this.frame;
    const ctx = f.read();
    const isVlan = (p: number) => p === ETH_P_8021Q || p === ETH_P_8021AD;
    if (ctx.vlanPresent) f.write({ vlanPresent: 0, vlanProto: 0, vlanTci: 0 });
    else {
      if (!isVlan(ctx.protocol)) return 0;
      const err = this.popPacketTag();
      if (err < 0) return this.finish(err);
    }
    const proto = this.protocol;
    if (!isVlan(proto)) return this.finish(0);
    const tci = this.popPacketTag();
    if (tci < 0) return this.finish(tci);
    f.write({ vlanPresent: 1, vlanProto: proto, vlanTci: tci });
    return this.finish(0);
  }

  /** __skb_vlan_pop: takes the tag after the MAC addresses out of the packet; its TCI, or an errno. */
  private popPacketTag(): number {
    const f = this.frame;
    if (f.data !== f.macHeader) return -Errno.EINVAL;
    if (f.length < ETH_HLEN + VLAN_HLEN) return -Errno.ENOMEM;
    const v = f.memory.view;
    const data = f.data;
    const tci = v.getUint16(data + ETH_HLEN, false);
    const inner = v.getUint16(data + ETH_HLEN + 2, false);
    // vlan_set_encap_proto: an EtherType, or 802.3 raw (0xffff after the tag) or 802.2 LLC.
    const protocol = inner >= 0x0600 ? be16(inner) : f.length >= ETH_HLEN + VLAN_HLEN + 2 && v.getUint16(data + ETH_HLEN + VLAN_HLEN, true) === 0xffff ? ETH_P_802_3 : ETH_P_802_2;
    f.popAt(2 * 6, VLAN_HLEN);
    f.macHeader += VLAN_HLEN;
    f.write({ protocol });
    if (f.networkHeader - f.data < ETH_HLEN) f.networkHeader = f.data + ETH_HLEN;
    return tci;
  }

  private finish(result: number): number {
    this.frame.settle();
    return result;
  }

  /** bpf_skb_change_proto: IPv4 <-> IPv6 by growing or shrinking the room after the MAC header by 20 bytes. */
  changeProto(proto: number, flags: bigint): number {
    if (flags !== 0n) return -Errno.EINVAL;
    const from = this.protocol;
    const f = this.frame;
    const off = this.macLength;
    const diff = IPV6_HLEN - IPV4_HLEN;
    if (from === ETH_P_IP && proto === ETH_P_IPV6) {
      if (!this.netHeaderPush(off, diff)) return this.finish(-Errno.ENOMEM);
    } else if (from === ETH_P_IPV6 && proto === ETH_P_IP) {
      if (!this.netHeaderPop(off, diff)) return this.finish(-Errno.ENOMEM);
    } else {
      return this.finish(-Errno.ENOTSUPP);
    }
    this.protocol = proto;
    f.clearHash();
    return this.finish(0);
  }

  /** bpf_skb_change_type: only between PACKET_HOST and PACKET_OTHERHOST, from a pkt_type in that range. */
  changeType(pktType: number): number {
    const f = this.frame;
    if (f.read().pktType > PACKET_OTHERHOST || pktType > PACKET_OTHERHOST) return -Errno.EINVAL;
    f.write({ pktType });
    return 0;
  }

  /** bpf_skb_change_tail: grows (zero-filled) or trims the skb to `newLen`, not below its headers. */
  changeTail(newLen: number, flags: bigint): number {
    const f = this.frame;
    let minLen = 0;
    const networkOffset = f.networkHeader - f.data;
    if (networkOffset > 0) minLen = networkOffset;
    if (f.transportHeader !== 0 && f.transportHeader - f.data > 0) minLen = f.transportHeader - f.data;
    if (flags !== 0n || newLen > SKB_MAX_LEN || newLen < minLen) return this.finish(-Errno.EINVAL);
    if (f.encapsulation) return this.finish(-Errno.ENOTSUPP);
    if (newLen !== f.length) {
      // __skb_grow_rcsum and __skb_trim_rcsum give up on CHECKSUM_COMPLETE.
      if (f.ipSummed === IpSummed.COMPLETE) f.ipSummed = IpSummed.NONE;
      if (!f.setLength(newLen)) return this.finish(-Errno.ENOMEM);
    }
    if (this.gso) f.write({ gsoSize: 0, gsoSegs: 0 });
    return this.finish(0);
  }

  /** bpf_skb_change_head: `headRoom` zeroed bytes before the packet, which become the MAC header. */
  changeHead(headRoom: number, flags: bigint): number {
    const f = this.frame;
    const newLen = f.length + headRoom;
    if (flags !== 0n || (!this.gso && newLen > SKB_MAX_LEN) || newLen > 0xffffffff) return this.finish(-Errno.EINVAL);
    if (!f.pushAt(0, headRoom)) return this.finish(-Errno.ENOMEM);
    f.macHeader = f.data;
    return this.finish(0);
  }

  /** bpf_skb_adjust_room: room at the MAC header's end or after the network header, with Linux's checks in its order. */
  adjustRoom(lenDiff: number, mode: number, flags: bigint): number {
    const f = this.frame;
    const diff = Math.abs(lenDiff);
    const shrink = lenDiff < 0;
    if (flags & ~(ADJ_ROOM_MASK | AdjustRoomFlag.NO_CSUM_RESET)) return this.finish(-Errno.EINVAL);
    if (diff > 0xfff) return this.finish(-Errno.EFAULT);
    const proto = this.protocol;
    if (proto !== ETH_P_IP && proto !== ETH_P_IPV6) return this.finish(-Errno.ENOTSUPP);
    const baseLen = proto === ETH_P_IP ? IPV4_HLEN : IPV6_HLEN;
    let off = this.macLength;
    if (mode === AdjustRoomMode.NET) off += baseLen;
    else if (mode !== AdjustRoomMode.MAC) return this.finish(-Errno.ENOTSUPP);
    let minLen = baseLen;
    if (flags & DECAP_L3_MASK) {
      if (!shrink) return this.finish(-Errno.EINVAL);
      const decap = flags & DECAP_L3_MASK;
      if (decap === AdjustRoomFlag.DECAP_L3_IPV4) minLen = IPV4_HLEN;
      else if (decap === AdjustRoomFlag.DECAP_L3_IPV6) minLen = IPV6_HLEN;
      else return this.finish(-Errno.EINVAL);
    }
    const current = f.length - (f.networkHeader - f.data);
    if ((shrink && (diff >= current || current - diff < minLen)) || (!shrink && f.length + diff > SKB_MAX_LEN && !this.gso)) return this.finish(-Errno.ENOTSUPP);
    const result = shrink ? this.netShrink(off, diff, flags) : this.netGrow(off, diff, flags);
    // __skb_reset_checksum_unnecessary.
    if (result === 0 && !(flags & AdjustRoomFlag.NO_CSUM_RESET) && f.ipSummed === IpSummed.UNNECESSARY) {
      f.ipSummed = IpSummed.NONE;
      f.csumLevelValue = 0;
    }
    return this.finish(result);
  }

  /** bpf_skb_net_grow. */
  private netGrow(off: number, diff: number, flags: bigint): number {
    const f = this.frame;
    // A test run's skb has no GSO type, so any GSO skb is one whose datagrams this cannot keep apart.
    if (this.gso) return -Errno.ENOTSUPP;
    const encap = (flags & ENCAP_L3_MASK) !== 0n;
    const innerMacLength = Number(flags >> ENCAP_L2_SHIFT) & 0xff;
    let macLength = 0;
    if (encap) {
      if ((flags & ENCAP_L3_MASK) === ENCAP_L3_MASK) return -Errno.EINVAL;
      if ((flags & AdjustRoomFlag.ENCAP_L4_GRE) && (flags & AdjustRoomFlag.ENCAP_L4_UDP)) return -Errno.EINVAL;
      if ((flags & AdjustRoomFlag.ENCAP_L2_ETH) && innerMacLength < ETH_HLEN) return -Errno.EINVAL;
      if (f.encapsulation) return -EALREADY;
      macLength = this.macLength;
      if (innerMacLength > diff) return -Errno.EINVAL;
    }
    if (!this.netHeaderPush(off, diff)) return -Errno.ENOMEM;
    if (encap) {
      f.encapsulation = true;
      f.networkHeader = f.data + macLength;
      if (flags & (AdjustRoomFlag.ENCAP_L4_GRE | AdjustRoomFlag.ENCAP_L4_UDP)) {
        f.transportHeader = f.networkHeader + (flags & AdjustRoomFlag.ENCAP_L3_IPV6 ? IPV6_HLEN : IPV4_HLEN);
      }
      const proto = this.protocol;
      if (proto === ETH_P_IP && (flags & AdjustRoomFlag.ENCAP_L3_IPV6)) this.protocol = ETH_P_IPV6;
      else if (proto === ETH_P_IPV6 && (flags & AdjustRoomFlag.ENCAP_L3_IPV4)) this.protocol = ETH_P_IP;
    }
    return 0;
  }

  /** bpf_skb_net_shrink. */
  private netShrink(off: number, diff: number, flags: bigint): number {
    if (flags & ~(AdjustRoomFlag.FIXED_GSO | DECAP_L3_MASK | AdjustRoomFlag.NO_CSUM_RESET)) return -Errno.EINVAL;
    if (this.gso) return -Errno.ENOTSUPP;
    if (!this.netHeaderPop(off, diff)) return -Errno.ENOMEM;
    const proto = this.protocol;
    if (proto === ETH_P_IP && (flags & AdjustRoomFlag.DECAP_L3_IPV6)) this.protocol = ETH_P_IPV6;
    else if (proto === ETH_P_IPV6 && (flags & AdjustRoomFlag.DECAP_L3_IPV4)) this.protocol = ETH_P_IP;
    return 0;
  }

  /** bpf_skb_net_hdr_push: zeroed room at `off`; the MAC and network headers move with the bytes before it. */
  private netHeaderPush(off: number, len: number): boolean {
    const f = this.frame;
    const transportSame = f.transportHeader === f.networkHeader;
    if (!f.pushAt(off, len)) return false;
    f.macHeader -= len;
    f.networkHeader -= len;
    if (transportSame) f.transportHeader = f.networkHeader;
    return true;
  }

  /** bpf_skb_net_hdr_pop: `len` bytes at `off` removed; -ENOMEM (false) when the skb is too short. */
  private netHeaderPop(off: number, len: number): boolean {
    const f = this.frame;
    const transportSame = f.transportHeader === f.networkHeader;
    if (!f.popAt(off, len)) return false;
    f.macHeader += len;
    f.networkHeader += len;
    if (transportSame) f.transportHeader = f.networkHeader;
    return true;
  }
}
