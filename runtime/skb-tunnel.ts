// Tunnel metadata of skbs, as bpf_skb_{get,set}_tunnel_{key,opt} (net/core/filter.c) see it: one
// metadata block (Linux's per-CPU metadata dst, an ip_tunnel_info and its options) that
// bpf_skb_set_tunnel_key fills and attaches to the skb; the get helpers read it while it is
// attached. The block lives in guest memory, so `both` replays its changes. Deviation: one block per
// runner rather than one per CPU.
import { Errno } from '../maps/constants.js';
import type { SkbTunnelAccess } from '../helpers/skb-tunnel.js';
import type { GuestMemory, Region } from './memory.js';
import type { SkbFrame } from './sk-buff.js';

/** sizeof(struct bpf_tunnel_key), and the shorter layouts older programs pass (offsets of its later fields). */
export const BPF_TUNNEL_KEY_SIZE = 44;
const COMPAT_SIZES = [28, 24, 22, 8];
/** bpf_tunnel_key offsets. */
const Key = { id: 0, remote: 4, tos: 20, ttl: 21, ext: 22, label: 24, local: 28 } as const;

/** Helper flags (linux/bpf.h). */
export const TunnelFlag = { IPV6: 1n, ZERO_CSUM_TX: 1n << 1n, DONT_FRAGMENT: 1n << 2n, SEQ_NUMBER: 1n << 3n, NO_TUNNEL_KEY: 1n << 4n, TUNINFO_FLAGS: 1n << 4n } as const;
/** IP_TUNNEL_*_BIT of ip_tunnel_key.tun_flags. */
const TunBit = { CSUM: 0, KEY: 2, SEQ: 3, DONT_FRAGMENT: 8, GENEVE_OPT: 11, VXLAN_OPT: 12, NOCACHE: 13, ERSPAN_OPT: 14, GTP_OPT: 15 } as const;
/** ip_tunnel_set_options_present: every kind of options. */
const OPTIONS_PRESENT = (1 << TunBit.GENEVE_OPT) | (1 << TunBit.VXLAN_OPT) | (1 << TunBit.ERSPAN_OPT) | (1 << TunBit.GTP_OPT);
/** IP_TUNNEL_OPTS_MAX: options_len is a u8. */
const OPTIONS_MAX = 255;
const IPV6_FLOWLABEL_MASK = 0xfffff;
/** Linux EPROTO: the key's address family is not the one asked for. */
const EPROTO = 71;

/** The metadata block's layout: mode (bit 0: IPv6), tos, ttl, options_len, tun_flags, tun_id, label, src, dst, options. */
const Md = { mode: 0, tos: 1, ttl: 2, optionsLength: 3, flags: 4, id: 8, label: 12, src: 16, dst: 32, options: 48 } as const;
const MD_SIZE = Md.options + OPTIONS_MAX;

/** The tunnel metadata block of a runner, allocated when a tunnel helper first runs. */
export class TunnelMetadata {
  private region: Region | undefined;

  constructor(private readonly memory: GuestMemory) {}

  /** The helpers' view of one skb with this block. */
  of(frame: SkbFrame): SkbTunnelAccess {
    this.region ??= this.memory.allocate(MD_SIZE, 'tunnel metadata (md_dst)', { writable: false });
    return new SkbTunnel(this.memory, this.region.start, frame);
  }
}

class SkbTunnel implements SkbTunnelAccess {
  constructor(private readonly memory: GuestMemory, private readonly md: number, private readonly frame: SkbFrame) {}

  /** bpf_skb_get_tunnel_key: the key as set, remote and local seen from the receiving side (the set key's source is the remote). */
  getKey(to: number, size: number, flags: bigint): number {
    const { bytes, view } = this.memory;
    const clear = (err: number) => {
      bytes.fill(0, to, to + size);
      return err;
    };
    if (!this.frame.tunnelDst || flags & ~(TunnelFlag.IPV6 | TunnelFlag.TUNINFO_FLAGS)) return clear(-Errno.EINVAL);
    const md = this.md;
    const ipv6 = (bytes[md + Md.mode]! & 1) !== 0;
    if (ipv6 !== ((flags & TunnelFlag.IPV6) !== 0n)) return clear(-EPROTO);
    if (size !== BPF_TUNNEL_KEY_SIZE && (!COMPAT_SIZES.includes(size) || (size === 8 && ipv6))) return clear(-Errno.EINVAL);
    const key = new Uint8Array(BPF_TUNNEL_KEY_SIZE);
    const k = new DataView(key.buffer);
    k.setUint32(Key.id, view.getUint32(md + Md.id, true), true);
    key[Key.tos] = bytes[md + Md.tos]!;
    key[Key.ttl] = bytes[md + Md.ttl]!;
    // tunnel_flags is a __be16 of the tun_flags bits below 16.
    if (flags & TunnelFlag.TUNINFO_FLAGS) k.setUint16(Key.ext, view.getUint32(md + Md.flags, true) & 0xffff, false);
    if (ipv6) {
      key.set(bytes.subarray(md + Md.src, md + Md.src + 16), Key.remote);
      key.set(bytes.subarray(md + Md.dst, md + Md.dst + 16), Key.local);
      k.setUint32(Key.label, view.getUint32(md + Md.label, true), true);
    } else {
      k.setUint32(Key.remote, view.getUint32(md + Md.src, true), true);
      k.setUint32(Key.local, view.getUint32(md + Md.dst, true), true);
    }
    bytes.set(key.subarray(0, size), to);
    return 0;
  }

  /** bpf_skb_set_tunnel_key: fills the metadata block from the key and attaches it to the skb. */
  setKey(from: number, size: number, flags: bigint): number {
    const { bytes, view } = this.memory;
    if (flags & ~(TunnelFlag.IPV6 | TunnelFlag.ZERO_CSUM_TX | TunnelFlag.DONT_FRAGMENT | TunnelFlag.SEQ_NUMBER | TunnelFlag.NO_TUNNEL_KEY)) return -Errno.EINVAL;
    if (size !== BPF_TUNNEL_KEY_SIZE && !COMPAT_SIZES.includes(size)) return -Errno.EINVAL;
    // Shorter layouts are zero-padded to the full key.
    const key = new Uint8Array(BPF_TUNNEL_KEY_SIZE);
    key.set(bytes.subarray(from, from + size));
    const k = new DataView(key.buffer);
    const ipv6 = (flags & TunnelFlag.IPV6) !== 0n;
    if ((!ipv6 && k.getUint32(Key.label, true) !== 0) || k.getUint16(Key.ext, true) !== 0) return -Errno.EINVAL;
    const md = this.md;
    // memset(info, 0, sizeof(*info)): the options' length goes, their bytes (after the info) stay.
    bytes.fill(0, md, md + Md.options);
    bytes[md + Md.mode] = ipv6 ? 1 : 0;
    let tunFlags = 1 << TunBit.NOCACHE;
    if (flags & TunnelFlag.DONT_FRAGMENT) tunFlags |= 1 << TunBit.DONT_FRAGMENT;
    if (!(flags & TunnelFlag.ZERO_CSUM_TX)) tunFlags |= 1 << TunBit.CSUM;
    if (flags & TunnelFlag.SEQ_NUMBER) tunFlags |= 1 << TunBit.SEQ;
    if (!(flags & TunnelFlag.NO_TUNNEL_KEY)) tunFlags |= 1 << TunBit.KEY;
    view.setUint32(md + Md.flags, tunFlags, true);
    view.setUint32(md + Md.id, k.getUint32(Key.id, true), true);
    bytes[md + Md.tos] = key[Key.tos]!;
    bytes[md + Md.ttl] = key[Key.ttl]!;
    if (ipv6) {
      bytes.set(key.subarray(Key.remote, Key.remote + 16), md + Md.dst);
      bytes.set(key.subarray(Key.local, Key.local + 16), md + Md.src);
      view.setUint32(md + Md.label, k.getUint32(Key.label, true) & IPV6_FLOWLABEL_MASK, true);
    } else {
      view.setUint32(md + Md.dst, k.getUint32(Key.remote, true), true);
      view.setUint32(md + Md.src, k.getUint32(Key.local, true), true);
    }
    this.frame.tunnelDst = true;
    return 0;
  }

  /** bpf_skb_get_tunnel_opt: the options (zero-padded to `size`); their length, or an errno with `to` zeroed. */
  getOpt(to: number, size: number): number {
    const { bytes, view } = this.memory;
    const md = this.md;
    const length = bytes[md + Md.optionsLength]!;
    let err = 0;
    if (!this.frame.tunnelDst || !(view.getUint32(md + Md.flags, true) & OPTIONS_PRESENT)) err = -Errno.ENOENT;
    else if (size < length) err = -Errno.ENOMEM;
    if (err) {
      bytes.fill(0, to, to + size);
      return err;
    }
    bytes.copyWithin(to, md + Md.options, md + Md.options + length);
    bytes.fill(0, to + length, to + size);
    return length;
  }

  /** bpf_skb_set_tunnel_opt: only on metadata bpf_skb_set_tunnel_key attached; a multiple of 4 bytes, at most 255. */
  setOpt(from: number, size: number): number {
    const { bytes, view } = this.memory;
    if (!this.frame.tunnelDst || size & 3) return -Errno.EINVAL;
    if (size > OPTIONS_MAX) return -Errno.ENOMEM;
    const md = this.md;
    bytes[md + Md.optionsLength] = size;
    if (size > 0) {
      bytes.copyWithin(md + Md.options, from, from + size);
      view.setUint32(md + Md.flags, view.getUint32(md + Md.flags, true) | OPTIONS_PRESENT, true);
    }
    return 0;
  }
}
