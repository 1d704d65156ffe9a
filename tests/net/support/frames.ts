// A small Ethernet/IP/L4 decoder for tests, written apart from net/packets.ts so that the
// generator's frames are checked by other code: header fields, and whether each checksum verifies.

/** What a frame holds, or why it could not be decoded. */
export interface DecodedFrame {
  vlans: number[];
  ipVersion?: 4 | 6;
  src?: string;
  dst?: string;
  proto?: number;
  ipChecksumOk?: boolean;
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  icmpType?: number;
  icmpId?: number;
  icmpSeq?: number;
  payload?: Uint8Array;
  l4ChecksumOk?: boolean;
  /** Set when the frame is malformed: what is wrong. */
  malformed?: string;
}

function sum16(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) + (i + 1 < end ? bytes[i + 1]! : 0);
  return sum;
}

function verifies(sum: number): boolean {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum === 0xffff;
}

const be16 = (b: Uint8Array, p: number) => (b[p]! << 8) | b[p + 1]!;
const be32 = (b: Uint8Array, p: number) => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;

/** Decodes an Ethernet frame. */
export function decodeFrame(f: Uint8Array): DecodedFrame {
  const out: DecodedFrame = { vlans: [] };
  if (f.length < 14) return { ...out, malformed: 'runt' };
  let p = 12;
  let type = be16(f, p);
  while (type === 0x8100) {
    out.vlans.push(be16(f, p + 2) & 0xfff);
    p += 4;
    type = be16(f, p);
  }
  const l3 = p + 2;
  let l4: number;
  let end: number;
  let pseudo: number;
  if (type === 0x0800) {
    if (f.length < l3 + 20) return { ...out, ipVersion: 4, malformed: 'truncated-ip' };
    const ihl = (f[l3]! & 0xf) * 4;
    if (ihl < 20) return { ...out, ipVersion: 4, malformed: 'bad-ihl' };
    const total = be16(f, l3 + 2);
    if (l3 + total > f.length) return { ...out, ipVersion: 4, malformed: 'bogus-total-length' };
    out.ipVersion = 4;
    out.src = [...f.subarray(l3 + 12, l3 + 16)].join('.');
    out.dst = [...f.subarray(l3 + 16, l3 + 20)].join('.');
    out.proto = f[l3 + 9]!;
    out.ipChecksumOk = verifies(sum16(f, l3, l3 + ihl));
    l4 = l3 + ihl;
    end = l3 + total;
    pseudo = sum16(f, l3 + 12, l3 + 20) + out.proto + (end - l4);
  } else if (type === 0x86dd) {
    if (f.length < l3 + 40) return { ...out, ipVersion: 6, malformed: 'truncated-ip' };
    out.ipVersion = 6;
    out.src = hex(f.subarray(l3 + 8, l3 + 24));
    out.dst = hex(f.subarray(l3 + 24, l3 + 40));
    out.proto = f[l3 + 6]!;
    l4 = l3 + 40;
    end = l4 + be16(f, l3 + 4);
    if (end > f.length) return { ...out, malformed: 'bogus-payload-length' };
    pseudo = sum16(f, l3 + 8, l3 + 40) + out.proto + (end - l4);
  } else {
    return { ...out, malformed: `ethertype 0x${type.toString(16)}` };
  }
  if (out.proto === 6) {
    out.srcPort = be16(f, l4);
    out.dstPort = be16(f, l4 + 2);
    out.seq = be32(f, l4 + 4);
    out.ack = be32(f, l4 + 8);
    out.flags = f[l4 + 13]!;
    out.payload = f.subarray(l4 + (f[l4 + 12]! >> 4) * 4, end);
    out.l4ChecksumOk = verifies(sum16(f, l4, end, pseudo));
  } else if (out.proto === 17) {
    out.srcPort = be16(f, l4);
    out.dstPort = be16(f, l4 + 2);
    if (be16(f, l4 + 4) !== end - l4) return { ...out, malformed: 'udp length' };
    out.payload = f.subarray(l4 + 8, end);
    out.l4ChecksumOk = verifies(sum16(f, l4, end, pseudo));
  } else if (out.proto === 1 || out.proto === 58) {
    out.icmpType = f[l4]!;
    out.icmpId = be16(f, l4 + 4);
    out.icmpSeq = be16(f, l4 + 6);
    out.payload = f.subarray(l4 + 8, end);
    out.l4ChecksumOk = verifies(sum16(f, l4, end, out.proto === 58 ? pseudo : 0));
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
