// Packets as named header fields, for tests that compare them: Ethernet, 802.1Q/802.1ad tags, IPv4
// (options included), IPv6, TCP, UDP, ICMP and ICMPv6, then the payload. `packetDiff` names the fields
// two packets differ in, which is what a failed packet assertion prints.
import { toHex } from '../runtime/host.js';
import { formatMacAddress } from '../runtime/netdev.js';

/** One field: its dotted name (`ipv4.ttl`), its value, and where it starts in the packet. */
export interface PacketField {
  readonly name: string;
  readonly value: number | string;
  readonly offset: number;
}

const hex16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const mac = (b: Uint8Array, at: number) => formatMacAddress(b.subarray(at, at + 6));
const ipv4 = (b: Uint8Array, at: number) => Array.from(b.subarray(at, at + 4)).join('.');
const ipv6 = (b: Uint8Array, at: number) => {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[at + i]! << 8) | b[at + i + 1]!).toString(16));
  return words.join(':');
};
const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

/**
 * The header fields of an Ethernet frame, outermost first, as far as the bytes go (a truncated
 * header ends the list with `truncated`), then `payload.length` and `payload` (its bytes in hex),
 * and `trailer` for bytes past the IP datagram's length (Ethernet padding).
 */
export function dissect(packet: Uint8Array): PacketField[] {
  const fields: PacketField[] = [];
  const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const add = (name: string, value: number | string, offset: number) => fields.push({ name, value, offset });
  const has = (at: number, n: number) => {
    if (at + n <= packet.length) return true;
    add('truncated', `${packet.length - at} of ${n} header bytes`, at);
    return false;
  };
  if (!has(0, 14)) return fields;
  add('eth.dst', mac(packet, 0), 0);
  add('eth.src', mac(packet, 6), 6);
  let at = 12;
  let type = v.getUint16(at);
  for (let tag = 0; type === 0x8100 || type === 0x88a8; tag++) {
    if (!has(at, 6)) return fields;
    add(`vlan${tag}.tpid`, hex16(type), at);
    add(`vlan${tag}.pcp`, packet[at + 2]! >> 5, at + 2);
    add(`vlan${tag}.id`, v.getUint16(at + 2) & 0xfff, at + 2);
    at += 4;
    type = v.getUint16(at);
  }
  add('eth.type', hex16(type), at);
  at += 2;
  let proto = -1;
  let end = packet.length;
  if (type === 0x0800) {
    if (!has(at, 20)) return fields;
    const ihl = (packet[at]! & 15) * 4;
    add('ipv4.version', packet[at]! >> 4, at);
    add('ipv4.ihl', ihl, at);
    add('ipv4.tos', packet[at + 1]!, at + 1);
    add('ipv4.total_length', v.getUint16(at + 2), at + 2);
    add('ipv4.id', v.getUint16(at + 4), at + 4);
    add('ipv4.flags', packet[at + 6]! >> 5, at + 6);
    add('ipv4.frag_offset', v.getUint16(at + 6) & 0x1fff, at + 6);
    add('ipv4.ttl', packet[at + 8]!, at + 8);
    add('ipv4.protocol', packet[at + 9]!, at + 9);
    add('ipv4.checksum', hex16(v.getUint16(at + 10)), at + 10);
    add('ipv4.src', ipv4(packet, at + 12), at + 12);
    add('ipv4.dst', ipv4(packet, at + 16), at + 16);
    if (ihl > 20 && has(at, ihl)) add('ipv4.options', toHex(packet.subarray(at + 20, at + ihl)), at + 20);
    proto = packet[at + 9]!;
    end = Math.min(packet.length, at + v.getUint16(at + 2));
    at += Math.max(ihl, 20);
  } else if (type === 0x86dd) {
    if (!has(at, 40)) return fields;
    const word = v.getUint32(at);
    add('ipv6.version', word >>> 28, at);
    add('ipv6.traffic_class', (word >>> 20) & 0xff, at);
    add('ipv6.flow_label', word & 0xfffff, at + 1);
    add('ipv6.payload_length', v.getUint16(at + 4), at + 4);
    add('ipv6.next_header', packet[at + 6]!, at + 6);
    add('ipv6.hop_limit', packet[at + 7]!, at + 7);
    add('ipv6.src', ipv6(packet, at + 8), at + 8);
    add('ipv6.dst', ipv6(packet, at + 24), at + 24);
    proto = packet[at + 6]!;
    end = Math.min(packet.length, at + 40 + v.getUint16(at + 4));
    at += 40;
  }
  if (proto === 6) {
    if (!has(at, 20)) return fields;
    const flags = packet[at + 13]!;
    add('tcp.src_port', v.getUint16(at), at);
    add('tcp.dst_port', v.getUint16(at + 2), at + 2);
    add('tcp.seq', v.getUint32(at + 4), at + 4);
    add('tcp.ack', v.getUint32(at + 8), at + 8);
    add('tcp.data_offset', (packet[at + 12]! >> 4) * 4, at + 12);
    add('tcp.flags', TCP_FLAG_NAMES.filter((_, i) => flags & (1 << i)).join('|') || '0', at + 13);
    add('tcp.window', v.getUint16(at + 14), at + 14);
    add('tcp.checksum', hex16(v.getUint16(at + 16)), at + 16);
    add('tcp.urgent', v.getUint16(at + 18), at + 18);
    at += Math.max(20, (packet[at + 12]! >> 4) * 4);
  } else if (proto === 17) {
    if (!has(at, 8)) return fields;
    add('udp.src_port', v.getUint16(at), at);
    add('udp.dst_port', v.getUint16(at + 2), at + 2);
    add('udp.length', v.getUint16(at + 4), at + 4);
    add('udp.checksum', hex16(v.getUint16(at + 6)), at + 6);
    at += 8;
  } else if (proto === 1 || proto === 58) {
    const name = proto === 1 ? 'icmp' : 'icmp6';
    if (!has(at, 8)) return fields;
    add(`${name}.type`, packet[at]!, at);
    add(`${name}.code`, packet[at + 1]!, at + 1);
    add(`${name}.checksum`, hex16(v.getUint16(at + 2)), at + 2);
    add(`${name}.rest`, toHex(packet.subarray(at + 4, at + 8)), at + 4);
    at += 8;
  }
  // What lies past the IP datagram's length (Ethernet padding) is a trailer, not payload.
  const payloadEnd = end >= at ? end : packet.length;
  add('payload.length', Math.max(0, payloadEnd - at), at);
  add('payload', toHex(packet.subarray(Math.min(at, packet.length), payloadEnd)), at);
  if (payloadEnd < packet.length) add('trailer', toHex(packet.subarray(payloadEnd)), payloadEnd);
  return fields;
}

/**
 * The fields two packets differ in, one line each (`ipv4.ttl: expected 64, got 63`); fields only
 * one of them has are listed as missing. Empty when the packets are equal byte for byte.
 */
export function packetDiff(expected: Uint8Array, actual: Uint8Array): string[] {
  if (expected.length === actual.length && expected.every((b, i) => b === actual[i])) return [];
  const a = dissect(expected);
  const b = new Map(dissect(actual).map((f) => [f.name, f]));
  const lines: string[] = [];
  for (const f of a) {
    const other = b.get(f.name);
    b.delete(f.name);
    if (!other) lines.push(`${f.name}: expected ${show(f.value)}, missing`);
    else if (other.value !== f.value) lines.push(`${f.name}: expected ${show(f.value)}, got ${show(other.value)}`);
  }
  for (const f of b.values()) lines.push(`${f.name}: not expected, got ${show(f.value)}`);
  // Equal fields and unequal bytes: a part no field covers (a trailer past the IP length) differs.
  if (lines.length === 0) lines.push(`the bytes differ at offset ${expected.findIndex((x, i) => x !== actual[i])} (lengths ${expected.length} and ${actual.length})`);
  return lines;
}

function show(value: number | string): string {
  return typeof value === 'number' ? String(value) : value.length > 48 ? `${value.slice(0, 48)}…` : value;
}

