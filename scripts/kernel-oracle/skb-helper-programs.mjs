// The tc programs and packets of the skb helper oracle (skb-helpers.mjs), shared with the tests that
// run the same cases without a kernel (tests/helpers/skb-reshape.test.ts). Assembler text; r6 = ctx.

/** SKF_LL_OFF and SKF_NET_OFF: legacy loads from the MAC and network headers. */
const LL = -0x200000;
const NET = -0x100000;

/**
 * A tc program that makes helper calls in order (each [id, ...args]; an arg 'stack' is r10 - 64,
 * where a 64-byte buffer starts zeroed), stops at the first that fails, and reports: r0 = the last
 * result; cb[0] = it too; cb[1] = skb->protocol; cb[2] = vlan_present | vlan_tci << 8; cb[3] =
 * vlan_proto | pkt_type << 16; cb[4] = len. With `dump`, the 64-byte buffer goes into the packet
 * at offset 14 (bpf_skb_store_bytes), for data_out. With `loads`, cb[1] and cb[2] are instead a
 * legacy load of the MAC header's byte 12 and the network header's first byte.
 */
export function calls(list, { dump = false, loads = false } = {}) {
  const lines = ['mov %r6, %r1', 'mov %r1, 0'];
  for (let i = -64; i < 0; i += 8) lines.push(`stxdw [%r10${i}], %r1`);
  for (const [id, ...args] of list) {
    lines.push('mov %r1, %r6');
    args.forEach((a, i) => {
      if (a === 'stack') lines.push(`mov %r${i + 2}, %r10`, `add %r${i + 2}, -64`);
      else lines.push(`lddw %r${i + 2}, ${a}`);
    });
    lines.push(`call ${id}`, 'mov %r7, %r0', 'jne %r0, 0, done');
  }
  lines.push('done:');
  if (dump) {
    lines.push('mov %r1, %r6', 'mov %r2, 14', 'mov %r3, %r10', 'add %r3, -64', 'mov %r4, 64', 'mov %r5, 0', 'call 9');
  }
  lines.push('stxw [%r6+48], %r7');
  if (loads) {
    lines.push('mov %r8, %r7', `ldabsb ${LL + 12}`, 'stxw [%r6+52], %r0', `ldabsb ${NET}`, 'stxw [%r6+56], %r0', 'mov %r7, %r8');
  } else {
    lines.push('ldxw %r1, [%r6+16]', 'stxw [%r6+52], %r1');
    lines.push('ldxw %r1, [%r6+20]', 'ldxw %r2, [%r6+24]', 'lsh %r2, 8', 'or %r1, %r2', 'stxw [%r6+56], %r1');
  }
  lines.push('ldxw %r1, [%r6+28]', 'ldxw %r2, [%r6+4]', 'lsh %r2, 16', 'or %r1, %r2', 'stxw [%r6+60], %r1');
  lines.push('ldxw %r1, [%r6+0]', 'stxw [%r6+64], %r1');
  lines.push('mov %r0, %r7', 'exit');
  return lines.join('\n');
}

/** One's-complement checksum of 16-bit big-endian words. */
function inetChecksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const MACS = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];

/** Ethernet (with VLAN tags, outer first, each [tpid, tci]) + IPv4 + UDP + `payload` bytes. */
export function ipv4({ tags = [], payload = 26 } = {}) {
  const ip = new Uint8Array(20 + 8 + payload);
  ip.set([0x45, 0, 0, ip.length >> 8, ip.length & 0xff, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  const check = inetChecksum(ip.subarray(0, 20));
  ip[10] = check >> 8;
  ip[11] = check & 0xff;
  ip.set([0x30, 0x39, 0x00, 0x35, 0, 8 + payload, 0, 0], 20);
  for (let i = 0; i < payload; i++) ip[28 + i] = (i * 13 + 5) & 0xff;
  return frame(tags, 0x0800, ip);
}

/** Ethernet (with VLAN tags) + IPv6 + UDP + `payload` bytes. */
export function ipv6({ tags = [], payload = 26 } = {}) {
  const ip = new Uint8Array(40 + 8 + payload);
  ip.set([0x60, 0, 0, 0, 0, 8 + payload, 17, 64]);
  ip[8 + 15] = 1;
  ip[24 + 15] = 2;
  ip.set([0x30, 0x39, 0x00, 0x35, 0, 8 + payload, 0, 0], 40);
  for (let i = 0; i < payload; i++) ip[48 + i] = (i * 11 + 3) & 0xff;
  return frame(tags, 0x86dd, ip);
}

/** Ethernet with a given EtherType (and tags) and `length` bytes after the header. */
export function ether(proto, length, tags = []) {
  return frame(tags, proto, Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0xff));
}

function frame(tags, proto, body) {
  const head = [...MACS];
  for (const [tpid, tci] of tags) head.push(tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff);
  head.push(proto >> 8, proto & 0xff);
  return Uint8Array.from([...head, ...body]);
}

/** EtherTypes as bpf_htons gives them on a little-endian host (what the helpers take). */
export const BE = { ip: 0x0008, ipv6: 0xdd86, q: 0x0081, ad: 0xa888, arp: 0x0608 };
