// Tristate numbers: what the verifier knows about each bit of a 64-bit value (Linux kernel/bpf/tnum.c).
// A bit is known when its mask bit is 0 (its value is then the value bit) and unknown when its mask
// bit is 1 (the value bit is then 0). Values are unsigned 64-bit BigInts.

/** A tristate number: `value` holds the known bits, `mask` marks the unknown ones. */
export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

/** 2^64 - 1. */
export const U64_MAX = 0xffffffffffffffffn;
/** 2^32 - 1. */
export const U32_MAX_N = 0xffffffffn;

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** A tnum from its parts (value bits under the mask are cleared). */
export function tnum(value: bigint, mask: bigint): Tnum {
  return { value: u64(value) & ~u64(mask) & U64_MAX, mask: u64(mask) };
}

/** Linux fls64: the position of the highest set bit, 1-based (0 for 0). */
export function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const high = Number(x >> 32n);
  if (high !== 0) return 64 - Math.clz32(high);
  return 32 - Math.clz32(Number(x & 0xffffffffn));
}

/** Every bit unknown. */
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64_MAX };

/** A known 64-bit value. */
export function tnumConst(value: bigint): Tnum {
  return { value: u64(value), mask: 0n };
}

/** The smallest tnum holding every value of [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = bitLength(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta, mask: delta };
}

/** Whether every bit is known. */
export function tnumIsConst(a: Tnum): boolean {
  return a.mask === 0n;
}

/** Whether the tnum is the known value `v`. */
export function tnumEqualsConst(a: Tnum, v: bigint): boolean {
  return a.mask === 0n && a.value === u64(v);
}

/** Whether every bit is unknown. */
export function tnumIsUnknown(a: Tnum): boolean {
  return a.mask === U64_MAX;
}

/** Shift left by a known amount (bits shifted out are lost). */
export function tnumLshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: u64(a.value << s), mask: u64(a.mask << s) };
}

/** Logical shift right by a known amount. */
export function tnumRshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: a.value >> s, mask: a.mask >> s };
}

/** Arithmetic shift right by a known amount, on 32 or 64 bits. */
export function tnumArshift(a: Tnum, shift: number, bits: 32 | 64): Tnum {
  const s = BigInt(shift);
  if (bits === 32) {
    return {
      value: BigInt.asUintN(32, BigInt.asIntN(32, a.value) >> s),
      mask: BigInt.asUintN(32, BigInt.asIntN(32, a.mask) >> s),
    };
  }
  return { value: u64(BigInt.asIntN(64, a.value) >> s), mask: u64(BigInt.asIntN(64, a.mask) >> s) };
}

/** Sum of two tnums. */
export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = a.mask + b.mask;
  const sv = a.value + b.value;
  const sigma = u64(sm + sv);
  const chi = sigma ^ u64(sv);
  const mu = chi | a.mask | b.mask;
  return { value: u64(sv) & ~mu & U64_MAX, mask: mu };
}

/** Difference of two tnums. */
export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64_MAX, mask: mu };
}

/** Bitwise and. */
export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64_MAX };
}

/** Bitwise or. */
export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64_MAX };
}

/** Bitwise xor. */
export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** Product of two tnums (shift-and-add over the bits of `a`). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.value * b.value);
  let accM: Tnum = { value: 0n, mask: 0n };
  while (a.value !== 0n || a.mask !== 0n) {
    if ((a.value & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: b.mask });
    else if ((a.mask & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: b.value | b.mask });
    a = tnumRshift(a, 1);
    b = tnumLshift(b, 1);
  }
  return tnumAdd({ value: accV, mask: 0n }, accM);
}

/** Whether two tnums can hold a common value. */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const mu = ~a.mask & ~b.mask & U64_MAX;
  return (a.value & mu) === (b.value & mu);
}

/** The bits known in either (both must describe the same value). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** The low `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  if (size >= 8) return a;
  const m = (1n << BigInt(size * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** Whether every value is a multiple of `size` (a power of two). */
export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (size === 0) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

/** Whether every value `b` may hold, `a` may hold too (b is within a). */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if ((b.mask & ~a.mask & U64_MAX) !== 0n) return false;
  return a.value === (b.value & ~a.mask & U64_MAX);
}

/** The low `bits` bits (16, 32 or 64) with their bytes reversed: a byte swap moves known bits with their bytes. */
export function tnumByteSwap(a: Tnum, bits: number): Tnum {
  const swap = (x: bigint): bigint => {
    let out = 0n;
    for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  return { value: swap(a.value), mask: swap(a.mask) };
}

/** The low 32 bits. */
export function tnumSubreg(a: Tnum): Tnum {
  return tnumCast(a, 4);
}

/** The value with its low 32 bits cleared. */
export function tnumClearSubreg(a: Tnum): Tnum {
  return tnumLshift(tnumRshift(a, 32), 32);
}

/** `reg`'s high 32 bits with `subreg`'s low 32 bits. */
export function tnumWithSubreg(reg: Tnum, subreg: Tnum): Tnum {
  return tnumOr(tnumClearSubreg(reg), tnumSubreg(subreg));
}

/** Whether the low 32 bits are known. */
export function tnumSubregIsConst(a: Tnum): boolean {
  return (a.mask & U32_MAX_N) === 0n;
}

/** Two tnums describe the same set. */
export function tnumEquals(a: Tnum, b: Tnum): boolean {
  return a.value === b.value && a.mask === b.mask;
}

/** Linux's notation (tnum_strn): a known value as a number, otherwise (value; mask) in hex. */
export function formatTnum(a: Tnum): string {
  if (a.mask === 0n) return a.value <= 65535n ? a.value.toString() : `0x${a.value.toString(16)}`;
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}
