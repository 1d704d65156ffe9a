// Building test packets: Ethernet (with optional 802.1Q tags), IPv4 and IPv6, TCP, UDP and ICMP,
// with correct lengths and checksums (RFC 791, 793, 768, 8200, 1071), so tests and scripts can state
// packets as fields instead of hex.

/** Fields of a packet to build; everything has a sensible default. */
export interface PacketFields {
  readonly dstMac?: string;
  readonly srcMac?: string;
  /** 802.1Q VLAN ids, outermost first. */
  readonly vlans?: readonly number[];
  /** 4 or 6 (default 4). */
  readonly ipVersion?: 4 | 6;
  readonly src?: string;
  readonly dst?: string;
  /** 'tcp' | 'udp' | 'icmp', or an IP protocol number for an empty payload of that protocol. */
  readonly proto?: 'tcp' | 'udp' | 'icmp' | number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly ttl?: number;
  /** IPv4 fragment offset field (flags and offset, host order). */
  readonly fragOff?: number;
  readonly payload?: Uint8Array | string;
}

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;

function mac(text: string): number[] {
  const parts = text.split(':').map((p) => parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => !(p >= 0 && p <= 255))) throw new RangeError(`bad MAC address '${text}'`);
  return parts;
}

function ipv4(text: string): number[] {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`bad IPv4 address '${text}'`);
  return parts;
}

function ipv6(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new RangeError(`bad IPv6 address '${text}'`);
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The Internet checksum (RFC 1071) of some bytes, folded and complemented. */
export function internetChecksum(bytes: Uint8Array | number[], initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

/** Builds an Ethernet frame from fields. */
export function buildPacket(fields: PacketFields = {}): Uint8Array {
  const version = fields.ipVersion ?? 4;
  const proto = fields.proto ?? 'udp';
  const protoNumber = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : proto === 'icmp' ? (version === 4 ? 1 : 58) : proto;
  const payload = typeof fields.payload === 'string' ? [...Buffer.from(fields.payload)] : [...(fields.payload ?? [])];
  const src = version === 4 ? ipv4(fields.src ?? '10.0.0.1') : ipv6(fields.src ?? 'fd00::1');
  const dst = version === 4 ? ipv4(fields.dst ?? '10.0.0.2') : ipv6(fields.dst ?? 'fd00::2');

  let l4: number[];
  if (proto === 'tcp') {
    // Data offset 5 words, flags ACK.
    l4 = [...be16(fields.srcPort ?? 1234), ...be16(fields.dstPort ?? 80), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, ...be16(8192), 0, 0, 0, 0, ...payload];
  } else if (proto === 'udp') {
    l4 = [...be16(fields.srcPort ?? 1234), ...be16(fields.dstPort ?? 53), ...be16(8 + payload.length), 0, 0, ...payload];
  } else if (proto === 'icmp') {
    l4 = [version === 4 ? 8 : 128, 0, 0, 0, 0, 1, 0, 1, ...payload];
  } else {
    l4 = payload;
  }
  // Checksums over the pseudo-header (UDP/TCP, ICMPv6) or the message (ICMPv4).
  const pseudo = version === 4
    ? [...src, ...dst, 0, protoNumber, ...be16(l4.length)]
    : [...src, ...dst, 0, 0, ...be16(l4.length), 0, 0, 0, protoNumber];
  const csumAt = proto === 'tcp' ? 16 : proto === 'udp' ? 6 : proto === 'icmp' ? 2 : -1;
  if (csumAt >= 0) {
    const c = internetChecksum(proto === 'icmp' && version === 4 ? l4 : [...pseudo, ...l4]);
    const value = proto === 'udp' && c === 0 ? 0xffff : c;
    l4[csumAt] = value >> 8;
    l4[csumAt + 1] = value & 0xff;
  }

  let l3: number[];
  if (version === 4) {
    const header = [0x45, 0, ...be16(20 + l4.length), 0, 1, ...be16(fields.fragOff ?? 0), fields.ttl ?? 64, protoNumber, 0, 0, ...src, ...dst];
    const c = internetChecksum(header);
    header[10] = c >> 8;
    header[11] = c & 0xff;
    l3 = [...header, ...l4];
  } else {
    l3 = [0x60, 0, 0, 0, ...be16(l4.length), protoNumber, fields.ttl ?? 64, ...src, ...dst, ...l4];
  }

  const eth = [...mac(fields.dstMac ?? '02:00:00:00:00:02'), ...mac(fields.srcMac ?? '02:00:00:00:00:01')];
  for (const vlan of fields.vlans ?? []) eth.push(...be16(ETH_P_8021Q), ...be16(vlan & 0xfff));
  eth.push(...be16(version === 4 ? ETH_P_IP : ETH_P_IPV6));
  return Uint8Array.from([...eth, ...l3]);
}
