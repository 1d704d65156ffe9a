// Operand values the generator favours: the edges where engines get arithmetic wrong (sign bits,
// 32/64-bit boundaries, INT_MIN, -1, zero divisors, shift counts at and past the width).
import type { Prng } from './prng.js';

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Interesting signed 32-bit immediates. */
const INTERESTING_32: readonly number[] = [
  0, 1, -1, 2, -2, 3, 7, 8, 16, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
  INT32_MAX, INT32_MIN, INT32_MIN + 1, -0x8000, -0x80, 0x55555555, -0x55555556, 0x12345678,
];

/** Interesting 64-bit values (unsigned representation). */
const INTERESTING_64: readonly bigint[] = [
  0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  0x100000000n, 0x180000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0x8000000000000001n, 0xffffffffffffffffn,
  0xfffffffffffffffen, 0xffffffff00000000n, 0xffffffff80000000n, 0x00000000ffffffffn, 0x8000000080000000n,
  0x7fffffff7fffffffn, 0xdeadbeefcafebaben, 0x0123456789abcdefn, 0xfedcba9876543210n, 0x00000001fffffffen,
  63n, 64n, 31n, 32n,
];

/** A 32-bit immediate: mostly interesting values, sometimes small or fully random ones. */
export function imm32(rng: Prng): number {
  return rng.weighted<() => number>([
    [() => rng.pick(INTERESTING_32), 5],
    [() => rng.int(-16, 16), 3],
    [() => rng.int32(), 2],
  ])();
}

/** A 64-bit constant for lddw: interesting values, sign-extended 32-bit ones, random ones. */
export function imm64(rng: Prng): bigint {
  return rng.weighted<() => bigint>([
    [() => rng.pick(INTERESTING_64), 5],
    [() => BigInt.asUintN(64, BigInt(imm32(rng))), 2],
    [() => rng.u64(), 3],
  ])();
}

/** A shift count: usually within the operand width, often at or beyond it. */
export function shiftCount(rng: Prng, bits: 32 | 64): number {
  return rng.weighted<() => number>([
    [() => rng.int(0, bits - 1), 6],
    [() => rng.pick([bits - 1, bits, bits + 1, 2 * bits - 1, 2 * bits, 127, 255, 256]), 3],
    [() => rng.pick([-1, -bits, INT32_MAX, INT32_MIN]), 1],
  ])();
}

/** A divisor: zero and -1 deliberately often. */
export function divisor(rng: Prng): number {
  return rng.weighted<() => number>([
    [() => 0, 3],
    [() => -1, 3],
    [() => rng.pick([1, 2, 3, 7, -2, -7, 0x10000, INT32_MIN, INT32_MAX]), 3],
    [() => imm32(rng), 3],
  ])();
}

/** The minimum signed value of the operand width, as a 64-bit register value. */
export function intMin(is32: boolean): bigint {
  return is32 ? 0x80000000n : 0x8000000000000000n;
}
