// 64-bit arithmetic on (hi, lo) pairs of signed 32-bit halves, for the interpreter's hot path:
// no BigInt except for the rare division by a divisor of 2^32 or more.
// Results go to registers `lo[d]`, `hi[d]` of the caller's register arrays.

/** High 32 bits of the unsigned 64-bit product of two u32 values, as an int32. */
export function mulHighU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t0 = a0 * b0;
  const t1 = a1 * b0 + (t0 >>> 16);
  const t2 = a0 * b1 + (t1 & 0xffff);
  return (a1 * b1 + (t1 >>> 16) + (t2 >>> 16)) | 0;
}

/**
 * lo[d]:hi[d] += (bh:bl) modulo 2^64. The carry out of the low half is the unsigned sum wrapping
 * below an operand; all in int32, which V8 keeps unboxed.
 */
export function add64(lo: Int32Array, hi: Int32Array, d: number, bl: number, bh: number): void {
  const l = lo[d]!;
  const t = (l + bl) | 0;
  lo[d] = t;
  hi[d] = (hi[d]! + bh + (t >>> 0 < l >>> 0 ? 1 : 0)) | 0;
}

/** lo[d]:hi[d] -= (bh:bl) modulo 2^64; the borrow is the minuend's low half below the subtrahend's. */
export function sub64(lo: Int32Array, hi: Int32Array, d: number, bl: number, bh: number): void {
  const l = lo[d]!;
  lo[d] = (l - bl) | 0;
  hi[d] = (hi[d]! - bh - (l >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
}

/** lo[d]:hi[d] = (ah:al) * (bh:bl) modulo 2^64. */
export function mul64(lo: Int32Array, hi: Int32Array, d: number, al: number, ah: number, bl: number, bh: number): void {
  hi[d] = (mulHighU32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  lo[d] = Math.imul(al, bl);
}

function toBig(l: number, h: number): bigint {
  return (BigInt(h) << 32n) | BigInt(l >>> 0);
}

function setBig(lo: Int32Array, hi: Int32Array, d: number, v: bigint): void {
  lo[d] = Number(BigInt.asIntN(32, v));
  hi[d] = Number(BigInt.asIntN(32, v >> 32n));
}

/** Writes a safe integer into lo[d]:hi[d] as a 64-bit two's complement value. */
export function setNumber(lo: Int32Array, hi: Int32Array, d: number, v: number): void {
  lo[d] = v | 0;
  hi[d] = Math.floor(v / 4294967296) | 0;
}

/** Unsigned 64-bit division and modulo; by zero: quotient 0, remainder the dividend (RFC 9669 4.1). */
export function udivmod64(lo: Int32Array, hi: Int32Array, d: number, al: number, ah: number, bl: number, bh: number, modulo: boolean): void {
  if (bl === 0 && bh === 0) {
    if (!modulo) lo[d] = hi[d] = 0;
    return;
  }
  const b = bl >>> 0;
  // Small enough for V8 to inline into the interpreter's loop: the common divisors here, the rest
  // in udivmod64Wide.
  if (bh !== 0 || b >= 0x200000) {
    udivmod64Wide(lo, hi, d, al, ah, bl, bh, modulo);
    return;
  }
  const a1 = ah >>> 0;
  if (a1 === 0) {
    const a = al >>> 0;
    // Both u32: V8 divides in integers when the quotient is truncated to 32 bits.
    lo[d] = modulo ? a % b : (a / b) >>> 0;
    hi[d] = 0;
    return;
  }
  // Long division, the dividend's high word, then its low word. A partial dividend below 2^53
  // divides exactly in doubles (the quotient cannot round up across an integer, being at least 1/b
  // from the next one) and leaves an exact remainder: with b below 2^21, r * 2^32 + low is.
  const qh = Math.floor(a1 / b);
  const t = (a1 - qh * b) * 4294967296 + (al >>> 0);
  const q = Math.floor(t / b);
  if (modulo) {
    lo[d] = t - q * b;
    hi[d] = 0;
  } else {
    lo[d] = q;
    hi[d] = qh;
  }
}

/** udivmod64 by a non-zero divisor of 2^21 or more. */
function udivmod64Wide(lo: Int32Array, hi: Int32Array, d: number, al: number, ah: number, bl: number, bh: number, modulo: boolean): void {
  if (bh !== 0) {
    // A divisor of 2^32 or more: rare enough in programs to leave to BigInt.
    const a = BigInt.asUintN(64, toBig(al, ah));
    const b = BigInt.asUintN(64, toBig(bl, bh));
    setBig(lo, hi, d, modulo ? a % b : a / b);
    return;
  }
  // As in udivmod64, with the low word in two 16-bit digits: each partial dividend is below
  // b * 2^16 < 2^48.
  const b = bl >>> 0;
  const a1 = ah >>> 0;
  const qh = Math.floor(a1 / b);
  let t = (a1 - qh * b) * 65536 + (al >>> 16);
  const q1 = Math.floor(t / b);
  t = (t - q1 * b) * 65536 + (al & 0xffff);
  const q0 = Math.floor(t / b);
  if (modulo) {
    lo[d] = t - q0 * b;
    hi[d] = 0;
  } else {
    lo[d] = q1 * 65536 + q0;
    hi[d] = qh;
  }
}

/**
 * Signed 64-bit division and modulo, truncating toward zero (RFC 9669 4.1): by zero, quotient 0
 * and remainder the dividend; INT64_MIN / -1 is INT64_MIN and INT64_MIN % -1 is 0.
 */
export function sdivmod64(lo: Int32Array, hi: Int32Array, d: number, al: number, ah: number, bl: number, bh: number, modulo: boolean): void {
  if (bl === 0 && bh === 0) {
    if (!modulo) lo[d] = hi[d] = 0;
    return;
  }
  if (ah === al >> 31 && bh === bl >> 31) {
    // Both fit in int32: the exact result fits in a double (2^31 at most in magnitude).
    setNumber(lo, hi, d, modulo ? (al % bl) | 0 : Math.trunc(al / bl));
    return;
  }
  // Divide the magnitudes; the quotient is negative when the signs differ, the remainder takes the
  // dividend's sign. |INT64_MIN| is 2^63 as an unsigned value, and 2^63 negated wraps back to INT64_MIN.
  const negativeA = ah < 0;
  const negativeB = bh < 0;
  if (negativeA) { ah = (~ah + (al === 0 ? 1 : 0)) | 0; al = -al | 0; }
  if (negativeB) { bh = (~bh + (bl === 0 ? 1 : 0)) | 0; bl = -bl | 0; }
  udivmod64(lo, hi, d, al, ah, bl, bh, modulo);
  if (modulo ? negativeA : negativeA !== negativeB) {
    const l = lo[d]!;
    lo[d] = -l;
    hi[d] = ~hi[d]! + (l === 0 ? 1 : 0);
  }
}

/** Unsigned 32-bit division and modulo into lo[d] with hi[d] = 0; modulo by zero keeps the low half. */
export function udivmod32(lo: Int32Array, hi: Int32Array, d: number, a: number, b: number, modulo: boolean): void {
  const bu = b >>> 0;
  if (bu === 0) {
    if (!modulo) lo[d] = 0;
  } else {
    const au = a >>> 0;
    lo[d] = modulo ? au % bu : (au / bu) >>> 0;
  }
  hi[d] = 0;
}

/** Signed 32-bit division and modulo into lo[d] with hi[d] = 0; INT32_MIN / -1 is INT32_MIN. */
export function sdivmod32(lo: Int32Array, hi: Int32Array, d: number, a: number, b: number, modulo: boolean): void {
  if (b === 0) {
    if (!modulo) lo[d] = 0;
  } else {
    lo[d] = modulo ? (a % b) | 0 : Math.trunc(a / b) | 0;
  }
  hi[d] = 0;
}

/** Reverses the bytes of a 32-bit value. */
export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** Reverses the bytes of the low 16 bits. */
export function bswap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** lo[d]:hi[d] <<= n (n already masked to 0..63). */
export function lsh64(lo: Int32Array, hi: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    hi[d] = (hi[d]! << n) | (lo[d]! >>> (32 - n));
    lo[d] = lo[d]! << n;
  } else {
    hi[d] = lo[d]! << (n - 32);
    lo[d] = 0;
  }
}

/** lo[d]:hi[d] >>= n, logical (n masked to 0..63). */
export function rsh64(lo: Int32Array, hi: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    lo[d] = (lo[d]! >>> n) | (hi[d]! << (32 - n));
    hi[d] = hi[d]! >>> n;
  } else {
    lo[d] = hi[d]! >>> (n - 32);
    hi[d] = 0;
  }
}

/** lo[d]:hi[d] >>= n, arithmetic (n masked to 0..63). */
export function arsh64(lo: Int32Array, hi: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    lo[d] = (lo[d]! >>> n) | (hi[d]! << (32 - n));
    hi[d] = hi[d]! >> n;
  } else {
    lo[d] = hi[d]! >> (n - 32);
    hi[d] = hi[d]! >> 31;
  }
}

/** Unsigned 64-bit a > b. */
export function gtU64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah === bh ? al >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0;
}

/** Signed 64-bit a > b. */
export function gtS64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah === bh ? al >>> 0 > bl >>> 0 : ah > bh;
}
