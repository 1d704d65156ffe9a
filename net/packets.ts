// Building test packets: Ethernet (with optional 802.1Q tags), IPv4 and IPv6, TCP, UDP, ICMP and
// ICMPv6, with correct lengths and checksums (RFC 791, 793, 768, 792, 8200, 4443, 1071), so tests,
// scripts and the traffic generator can state packets as fields instead of hex. Each packet is
// written straight into one array: the generator builds millions of them.
import { parseIpv4, parseIpv6 } from '../runtime/ip-address.js';

/** The IPv4 and IPv6 parsers, where the packet builder's users have always found them. */
export { parseIpv4, parseIpv6 };

/** TCP header flag bits (RFC 793, 3168). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
} as const;

/** ICMP (RFC 792) and ICMPv6 (RFC 4443) echo message types. */
export const IcmpType = {
  ECHO_REPLY: 0,
  ECHO_REQUEST: 8,
  V6_ECHO_REQUEST: 128,
  V6_ECHO_REPLY: 129,
} as const;

/** Fields of a packet to build; everything has a sensible default. */
export interface PacketFields {
  /** 'aa:bb:cc:dd:ee:ff', or its 6 bytes. */
  readonly dstMac?: string | Uint8Array;
  readonly srcMac?: string | Uint8Array;
  /** 802.1Q VLAN ids, outermost first. */
  readonly vlans?: readonly number[];
  /** 4 or 6 (default 4). */
  readonly ipVersion?: 4 | 6;
  /** Dotted IPv4 or colon IPv6 text, or the address's 4 or 16 bytes. */
  readonly src?: string | Uint8Array;
  readonly dst?: string | Uint8Array;
  /** 'tcp' | 'udp' | 'icmp' (ICMPv6 over IPv6), or an IP protocol number for an empty payload of that protocol. */
  readonly proto?: 'tcp' | 'udp' | 'icmp' | number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly ttl?: number;
  /** IPv4 identification (default 1). */
  readonly ipId?: number;
  /** IPv4 fragment offset field (flags and offset, host order). */
  readonly fragOff?: number;
  /** TCP flags, `TcpFlag` bits (default ACK). */
  readonly tcpFlags?: number;
  /** TCP sequence number (default 1). */
  readonly seq?: number;
  /** TCP acknowledgement number (default 0). */
  readonly ack?: number;
  /** TCP window (default 8192). */
  readonly window?: number;
  /** ICMP or ICMPv6 type (default echo request). */
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** ICMP echo identifier and sequence number (default 1 and 1). */
  readonly icmpId?: number;
  readonly icmpSeq?: number;
  readonly payload?: Uint8Array | string;
}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

/** The 6 bytes of a MAC address written 'aa:bb:cc:dd:ee:ff'. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(':').map((p) => parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => !(p >= 0 && p <= 255))) throw new RangeError(`bad MAC address '${text}'`);
  return Uint8Array.from(parts);
}

function address(value: string | Uint8Array | undefined, version: 4 | 6, fallback: string): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== (version === 4 ? 4 : 16)) throw new RangeError(`an IPv${version} address has ${version === 4 ? 4 : 16} bytes, not ${value.length}`);
    return value;
  }
  return version === 4 ? parseIpv4(value ?? fallback) : parseIpv6(value ?? fallback);
}

function macBytes(value: string | Uint8Array | undefined, fallback: string): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== 6) throw new RangeError(`a MAC address has 6 bytes, not ${value.length}`);
    return value;
  }
  return parseMac(value ?? fallback);
}

/** The ones'-complement sum of big-endian 16-bit words of `bytes[start, end)`, added to `initial`, not folded. */
export function onesSum(bytes: Uint8Array | readonly number[], start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** A ones'-complement sum folded to 16 bits and complemented: the checksum field's value. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The Internet checksum (RFC 1071) of some bytes, folded and complemented. */
export function internetChecksum(bytes: Uint8Array | number[], initial = 0): number {
  return foldChecksum(onesSum(bytes, 0, bytes.length, initial));
}

const encoder = new TextEncoder();

/**
 * Hands out zeroed byte arrays cut from large slabs. In V8 a typed array over 64 bytes gets a
 * backing store of its own from the system allocator, which costs more than building a packet;
 * views into a slab do not. A slab is never reused: it is freed when no view into it is left.
 */
export class ByteArena {
  private slab = new Uint8Array(0);
  private used = 0;

  constructor(private readonly slabSize = 1 << 18) {}

  /** `n` zeroed bytes of their own. */
  take(n: number): Uint8Array {
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(Math.max(this.slabSize, n));
      this.used = 0;
    }
    const bytes = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return bytes;
  }
}

/** Builds an Ethernet frame from fields; with an `arena`, in bytes taken from it. */
export function buildPacket(fields: PacketFields = {}, arena?: ByteArena): Uint8Array {
  const version = fields.ipVersion ?? 4;
  const proto = fields.proto ?? 'udp';
  const protoNumber = proto === 'tcp' ? IPPROTO_TCP : proto === 'udp' ? IPPROTO_UDP : proto === 'icmp' ? (version === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) : proto;
  const payload = typeof fields.payload === 'string' ? encoder.encode(fields.payload) : fields.payload ?? new Uint8Array(0);
  const src = address(fields.src, version, version === 4 ? '10.0.0.1' : 'fd00::1');
  const dst = address(fields.dst, version, version === 4 ? '10.0.0.2' : 'fd00::2');
  const vlans = fields.vlans ?? [];

  const l3 = 14 + 4 * vlans.length;
  const l4 = l3 + (version === 4 ? 20 : 40);
  const l4HeaderLength = proto === 'tcp' ? 20 : proto === 'udp' || proto === 'icmp' ? 8 : 0;
  const l4Length = l4HeaderLength + payload.length;
  // Small fields are stored byte by byte: a DataView or `set` per field costs more than the packet.
  const out = arena === undefined ? new Uint8Array(l4 + l4Length) : arena.take(l4 + l4Length);
  copy(out, 0, macBytes(fields.dstMac, '02:00:00:00:00:02'));
  copy(out, 6, macBytes(fields.srcMac, '02:00:00:00:00:01'));
  let p = 12;
  for (const vlan of vlans) {
    put16(out, p, ETH_P_8021Q);
    put16(out, p + 2, vlan & 0xfff);
    p += 4;
  }
  put16(out, p, version === 4 ? ETH_P_IP : ETH_P_IPV6);

  if (version === 4) {
    out[l3] = 0x45;
    put16(out, l3 + 2, 20 + l4Length);
    put16(out, l3 + 4, fields.ipId ?? 1);
    put16(out, l3 + 6, fields.fragOff ?? 0);
    out[l3 + 8] = fields.ttl ?? 64;
    out[l3 + 9] = protoNumber;
    copy(out, l3 + 12, src);
    copy(out, l3 + 16, dst);
    put16(out, l3 + 10, foldChecksum(onesSum(out, l3, l4)));
  } else {
    out[l3] = 0x60;
    put16(out, l3 + 4, l4Length);
    out[l3 + 6] = protoNumber;
    out[l3 + 7] = fields.ttl ?? 64;
    copy(out, l3 + 8, src);
    copy(out, l3 + 24, dst);
  }

  let checksumAt = -1;
  if (proto === 'tcp') {
    put16(out, l4, fields.srcPort ?? 1234);
    put16(out, l4 + 2, fields.dstPort ?? 80);
    put32(out, l4 + 4, fields.seq ?? 1);
    put32(out, l4 + 8, fields.ack ?? 0);
    out[l4 + 12] = 0x50; // data offset: 5 words, no options
    out[l4 + 13] = fields.tcpFlags ?? TcpFlag.ACK;
    put16(out, l4 + 14, fields.window ?? 8192);
    checksumAt = l4 + 16;
  } else if (proto === 'udp') {
    put16(out, l4, fields.srcPort ?? 1234);
    put16(out, l4 + 2, fields.dstPort ?? 53);
    put16(out, l4 + 4, l4Length);
    checksumAt = l4 + 6;
  } else if (proto === 'icmp') {
    out[l4] = fields.icmpType ?? (version === 4 ? IcmpType.ECHO_REQUEST : IcmpType.V6_ECHO_REQUEST);
    out[l4 + 1] = fields.icmpCode ?? 0;
    put16(out, l4 + 4, fields.icmpId ?? 1);
    put16(out, l4 + 6, fields.icmpSeq ?? 1);
    checksumAt = l4 + 2;
  }
  copy(out, l4 + l4HeaderLength, payload);

  if (checksumAt >= 0) {
    // ICMPv4 sums the message alone; TCP, UDP and ICMPv6 add the pseudo-header.
    const pseudo = proto === 'icmp' && version === 4 ? 0 : pseudoHeaderSum(src, dst, protoNumber, l4Length);
    const checksum = foldChecksum(onesSum(out, l4, out.length, pseudo));
    put16(out, checksumAt, proto === 'udp' && checksum === 0 ? 0xffff : checksum);
  }
  return out;
}

/** Stores a big-endian 16-bit value. */
function put16(out: Uint8Array, p: number, value: number): void {
  out[p] = value >>> 8;
  out[p + 1] = value;
}

/** Stores a big-endian 32-bit value. */
function put32(out: Uint8Array, p: number, value: number): void {
  out[p] = value >>> 24;
  out[p + 1] = value >>> 16;
  out[p + 2] = value >>> 8;
  out[p + 3] = value;
}

/** Copies `bytes` to `out` at `p`; a loop for the short ones, where `set`'s call costs more. */
function copy(out: Uint8Array, p: number, bytes: Uint8Array): void {
  if (bytes.length > 32) {
    out.set(bytes, p);
    return;
  }
  for (let i = 0; i < bytes.length; i++) out[p + i] = bytes[i]!;
}

/** The unfolded sum of the IPv4 or IPv6 pseudo-header (the version follows from the address length). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protoNumber: number, l4Length: number): number {
  // Both layouts sum to the same words: the addresses, the protocol and the upper-layer length.
  return onesSum(src, 0, src.length, onesSum(dst, 0, dst.length, protoNumber + (l4Length & 0xffff) + Math.floor(l4Length / 0x10000)));
}
