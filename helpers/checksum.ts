// Internet checksum arithmetic as Linux computes it on x86-64 (include/net/checksum.h,
// arch/x86/include/asm/checksum_64.h, arch/x86/lib/csum-partial_64.c), bit for bit: which of the two
// one's-complement zeros (0 or all ones) comes out matters, because programs see these values.
// Values are in memory order: a 16-bit checksum field is read little-endian, as the kernel does on
// x86, and `from`/`to` arguments are what a program loaded from the packet. Also bpf_csum_diff (28).
import type { HelperSpec } from './table.js';

/** csum_add: 32-bit one's-complement addition (end-around carry). */
export function csumAdd(a: number, b: number): number {
  const sum = (a >>> 0) + (b >>> 0);
  return sum > 0xffffffff ? (sum - 0xffffffff) >>> 0 : sum;
}

/** csum_sub: csum_add of the complement. */
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csum_fold as the x86 kernel does it: the 16-bit complemented fold of a 32-bit sum. */
export function csumFold(sum: number): number {
  const high = (sum & 0xffff0000) >>> 0;
  const low = (sum << 16) >>> 0;
  let t = high + low;
  const carry = t > 0xffffffff ? 1 : 0;
  t = (t + 0xffff + carry) % 0x100000000;
  return (~t >>> 16) & 0xffff;
}

/** from32to16: a 32-bit sum folded to 16 bits, not complemented (what bpf_csum_diff returns). */
export function from32to16(x: number): number {
  let v = (x & 0xffff) + (x >>> 16);
  v = (v & 0xffff) + (v >>> 16);
  return v;
}

/**
 * csum_partial: the 32-bit one's-complement sum of `bytes` (little-endian words, a short tail
 * zero-padded) and `seed`. x86-64 sums 64-bit words with carries folded back in, then folds to 32
 * bits; that is the end-around sum of 32-bit words, which is 0 only when every input is 0.
 */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  let sum = seed >>> 0;
  const whole = bytes.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    sum += (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    // Keep the sum exact: fold the carries back in before it leaves the safe-integer range.
    if (sum > 0x1fffffffffff) sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  }
  let tail = 0;
  for (let i = whole; i < bytes.length; i++) tail |= bytes[i]! << (8 * (i - whole));
  sum += tail >>> 0;
  while (sum > 0xffffffff) sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  return sum;
}

/** csum_block_add: adds the sum of a block that starts at `offset`; an odd offset swaps its bytes (ror32 by 8). */
export function csumBlockAdd(sum: number, block: number, offset: number): number {
  const aligned = offset & 1 ? ((block >>> 8) | (block << 24)) >>> 0 : block >>> 0;
  return csumAdd(sum, aligned);
}

/** csum_block_sub: removes the sum of a block that starts at `offset`. */
export function csumBlockSub(sum: number, block: number, offset: number): number {
  return csumBlockAdd(sum, ~block >>> 0, offset);
}

/** csum_replace_by_diff: a 16-bit checksum updated by a 32-bit difference. */
export function csumReplaceByDiff(check: number, diff: number): number {
  return csumFold(csumAdd(diff, ~check >>> 0));
}

/** csum_replace4: a 16-bit checksum updated for a 32-bit field changing from `from` to `to`. */
export function csumReplace4(check: number, from: number, to: number): number {
  return csumFold(csumAdd(csumSub(~check >>> 0, from), to));
}

/** csum16_add: 16-bit one's-complement addition. */
function csum16Add(a: number, b: number): number {
  const sum = (a & 0xffff) + (b & 0xffff);
  return sum > 0xffff ? (sum - 0xffff) & 0xffff : sum;
}

/** csum_replace2: a 16-bit checksum updated for a 16-bit field changing from `from` to `to`, in 16-bit arithmetic. */
export function csumReplace2(check: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~check & 0xffff, ~from & 0xffff), to) & 0xffff;
}

/**
 * bpf_csum_diff's result (Linux 6.13 and later): the checksum of `to` minus that of `from`, seeded,
 * folded to 16 bits with from32to16 so that every architecture returns the same value.
 */
export function csumDiff(from: Uint8Array, to: Uint8Array, seed: number): number {
  let sum = seed >>> 0;
  if (from.length && to.length) sum = csumSub(csumPartial(to, sum), csumPartial(from, 0));
  else if (to.length) sum = csumPartial(to, sum);
  else if (from.length) sum = ~csumPartial(from, ~sum >>> 0) >>> 0;
  return from32to16(sum);
}

/** Linux helper id of bpf_csum_diff. */
export const CSUM_DIFF_HELPER_ID = 28;

/**
 * bpf_csum_diff(from, from_size, to, to_size, seed): needs no context, so XDP and tc programs share it.
 * Since Linux 6.13 sizes need not be multiples of 4 and there is no -EINVAL: the verifier bounds them.
 */
export const csumDiffHelper: HelperSpec = {
  id: CSUM_DIFF_HELPER_ID,
  name: 'bpf_csum_diff',
  proto: { ret: 'integer', args: ['ptr_to_mem_or_null', 'const_size_or_zero', 'ptr_to_mem_or_null', 'const_size_or_zero', 'anything'], packetAccess: true },
  impl: (call) => {
    const bytes = call.memory.bytes;
    const from = bytes.subarray(call.argU32(1), call.argU32(1) + call.argU32(2));
    const to = bytes.subarray(call.argU32(3), call.argU32(3) + call.argU32(4));
    call.returnNumber(csumDiff(from, to, call.argU32(5)));
  },
};
