// The scalar domain: a tnum plus signed and unsigned bounds on 64 and on 32 bits, kept consistent
// with each other the way Linux's verifier does (reg_bounds_sync in kernel/bpf/verifier.c: bounds
// from the tnum, 32/64-bit and signed/unsigned cross-deduction, then the tnum from the bounds).
// 64-bit bounds are BigInts (u64 in [0, 2^64), s64 in [-2^63, 2^63)); 32-bit bounds are numbers.
import {
  tnumClearSubreg, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumRange, tnumSubreg, tnumSubregIsConst,
  TNUM_UNKNOWN, U64_MAX, type Tnum,
} from './tnum.js';

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -0x80000000;
export const S32_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;
const S32_MIN_N = BigInt(S32_MIN);
const S32_MAX_N = BigInt(S32_MAX);

/** What is known about a 64-bit value (a scalar, or a pointer's variable offset). */
export interface Bounds {
  var: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: number;
  s32max: number;
  u32min: number;
  u32max: number;
}

const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
/** Low 32 bits as u32 / s32 numbers. */
export const lowU32 = (x: bigint): number => Number(BigInt.asUintN(32, x));
export const lowS32 = (x: bigint): number => lowU32(x) | 0;
const maxB = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const minB = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Bounds of a value about which nothing is known. */
export function unknownBounds(): Bounds {
  return { var: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64_MAX, s32min: S32_MIN, s32max: S32_MAX, u32min: 0, u32max: U32_MAX };
}

/** Bounds of a known 64-bit value (any BigInt, taken modulo 2^64). */
export function constBounds(value: bigint): Bounds {
  const v = u64(value);
  return { var: tnumConst(v), smin: s64(v), smax: s64(v), umin: v, umax: v, s32min: lowS32(v), s32max: lowS32(v), u32min: lowU32(v), u32max: lowU32(v) };
}

/** Sets every field of `b` to what `from` says. */
export function assignBounds(b: Bounds, from: Bounds): void {
  b.var = from.var; b.smin = from.smin; b.smax = from.smax; b.umin = from.umin; b.umax = from.umax;
  b.s32min = from.s32min; b.s32max = from.s32max; b.u32min = from.u32min; b.u32max = from.u32max;
}

/** Marks `b` a known 64-bit value. */
export function markKnown(b: Bounds, value: bigint): void {
  assignBounds(b, constBounds(value));
}

/** Marks the low 32 bits of `b` known (the high half stays what it was). */
export function markKnown32(b: Bounds, value: number): void {
  b.var = tnumOr(tnumClearSubreg(b.var), tnumConst(BigInt(value >>> 0)));
  b.s32min = b.s32max = value | 0;
  b.u32min = b.u32max = value >>> 0;
}

/** Forgets all bounds (the tnum stays). */
export function markUnbounded(b: Bounds): void {
  markUnbounded64(b);
  markUnbounded32(b);
}

/** Forgets the 64-bit bounds. */
export function markUnbounded64(b: Bounds): void {
  b.smin = S64_MIN; b.smax = S64_MAX; b.umin = 0n; b.umax = U64_MAX;
}

/** Forgets the 32-bit bounds. */
export function markUnbounded32(b: Bounds): void {
  b.s32min = S32_MIN; b.s32max = S32_MAX; b.u32min = 0; b.u32max = U32_MAX;
}

/** Whether the value is known (on 64 bits, or on the low 32 for `is32`). */
export function isConst(b: Bounds, is32 = false): boolean {
  return is32 ? tnumSubregIsConst(b.var) : tnumIsConst(b.var);
}

/** The known value (low 32 bits, unsigned, for `is32`). */
export function constValue(b: Bounds, is32 = false): bigint {
  return is32 ? b.var.value & 0xffffffffn : b.var.value;
}

function updateBounds32(b: Bounds): void {
  const t = tnumSubreg(b.var);
  const v = Number(t.value);
  const m = Number(t.mask);
  // min signed: the sign bit set if it may be; max signed: the sign bit clear if it may be.
  b.s32min = Math.max(b.s32min, (v | (m & 0x80000000)) | 0);
  b.s32max = Math.min(b.s32max, (v | (m & 0x7fffffff)) | 0);
  b.u32min = Math.max(b.u32min, v >>> 0);
  b.u32max = Math.min(b.u32max, (v | m) >>> 0);
}

function updateBounds64(b: Bounds): void {
  const { value, mask } = b.var;
  b.smin = maxB(b.smin, s64(value | (mask & (1n << 63n))));
  b.smax = minB(b.smax, s64(value | (mask & S64_MAX)));
  b.umin = maxB(b.umin, value);
  b.umax = minB(b.umax, value | mask);
}

/** Tightens the bounds from the tnum. */
export function updateBounds(b: Bounds): void {
  updateBounds32(b);
  updateBounds64(b);
}

/** High and low 32-bit halves of a 64-bit value (two's complement for negative BigInts). */
function halves(x: bigint): [hi: number, lo: number] {
  const u = BigInt.asUintN(64, x);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

function deduceBounds32(b: Bounds): void {
  // Each 64-bit bound split once; the rest is 32-bit arithmetic on numbers.
  const [uminHi, uminLo] = halves(b.umin);
  const [umaxHi, umaxLo] = halves(b.umax);
  const [sminHi, sminLo] = halves(b.smin);
  const [smaxHi, smaxLo] = halves(b.smax);
  // The high halves of the 64-bit range agree: its low halves form a 32-bit range.
  if (uminHi === umaxHi) {
    b.u32min = Math.max(b.u32min, uminLo);
    b.u32max = Math.min(b.u32max, umaxLo);
    if ((uminLo | 0) <= (umaxLo | 0)) {
      b.s32min = Math.max(b.s32min, uminLo | 0);
      b.s32max = Math.min(b.s32max, umaxLo | 0);
    }
  }
  if (sminHi === smaxHi) {
    if (sminLo <= smaxLo) {
      b.u32min = Math.max(b.u32min, sminLo);
      b.u32max = Math.min(b.u32max, smaxLo);
    }
    if ((sminLo | 0) <= (smaxLo | 0)) {
      b.s32min = Math.max(b.s32min, sminLo | 0);
      b.s32max = Math.min(b.s32max, smaxLo | 0);
    }
  }
  // High halves one apart, low halves crossing from negative to non-negative: still an s32 range.
  if (((uminHi + 1) >>> 0) === umaxHi && (uminLo | 0) < 0 && (umaxLo | 0) >= 0) {
    b.s32min = Math.max(b.s32min, uminLo | 0);
    b.s32max = Math.min(b.s32max, umaxLo | 0);
  }
  if (((sminHi + 1) >>> 0) === smaxHi && (sminLo | 0) < 0 && (smaxLo | 0) >= 0) {
    b.s32min = Math.max(b.s32min, sminLo | 0);
    b.s32max = Math.min(b.s32max, smaxLo | 0);
  }
  // A u32 range on one side of the sign bit is an s32 range too.
  if ((b.u32min | 0) <= (b.u32max | 0)) {
    b.s32min = Math.max(b.s32min, b.u32min | 0);
    b.s32max = Math.min(b.s32max, b.u32max | 0);
  }
  if (b.s32min >>> 0 <= b.s32max >>> 0) {
    b.u32min = Math.max(b.s32min >>> 0, b.u32min);
    b.u32max = Math.min(b.s32max >>> 0, b.u32max);
  } else if (b.u32max < b.s32min >>> 0) {
    // The u32 range overlaps only the non-negative part of the s32 range.
    b.s32min = b.u32min | 0;
    b.u32max = Math.min(b.u32max, b.s32max >>> 0);
  } else if (b.s32max >>> 0 < b.u32min) {
    // ... or only its negative part.
    b.s32max = b.u32max | 0;
    b.u32min = Math.max(b.u32min, b.s32min >>> 0);
  }
}

function deduceBounds64(b: Bounds): void {
  if (s64(b.umin) <= s64(b.umax)) {
    b.smin = maxB(b.smin, s64(b.umin));
    b.smax = minB(b.smax, s64(b.umax));
  }
  if (u64(b.smin) <= u64(b.smax)) {
    b.umin = maxB(u64(b.smin), b.umin);
    b.umax = minB(u64(b.smax), b.umax);
  } else if (b.umax < u64(b.smin)) {
    b.smin = s64(b.umin);
    b.umax = minB(b.umax, u64(b.smax));
  } else if (u64(b.smax) < b.umin) {
    b.smax = s64(b.umax);
    b.umin = maxB(b.umin, u64(b.smin));
  }
}

function deduceMixedBounds(b: Bounds): void {
  const HIGH = ~0xffffffffn;
  let nmin: bigint;
  let nmax: bigint;
  // The 32-bit bounds substituted into the low halves of the 64-bit ones (nothing to learn from a full u32 range).
  if (b.u32min !== 0 || b.u32max !== U32_MAX) {
    nmin = (b.umin & HIGH & U64_MAX) | BigInt(b.u32min);
    nmax = (b.umax & HIGH & U64_MAX) | BigInt(b.u32max);
    b.umin = maxB(b.umin, nmin);
    b.umax = minB(b.umax, nmax);
    const smin = s64((u64(b.smin) & HIGH) | BigInt(b.u32min));
    const smax = s64((u64(b.smax) & HIGH) | BigInt(b.u32max));
    b.smin = maxB(b.smin, smin);
    b.smax = minB(b.smax, smax);
  }
  let smin: bigint;
  let smax: bigint;
  if (b.s32min >>> 0 <= b.s32max >>> 0) {
    nmin = (b.umin & HIGH & U64_MAX) | BigInt(b.s32min >>> 0);
    nmax = (b.umax & HIGH & U64_MAX) | BigInt(b.s32max >>> 0);
    b.umin = maxB(b.umin, nmin);
    b.umax = minB(b.umax, nmax);
    smin = s64((u64(b.smin) & HIGH) | BigInt(b.s32min >>> 0));
    smax = s64((u64(b.smax) & HIGH) | BigInt(b.s32max >>> 0));
    b.smin = maxB(b.smin, smin);
    b.smax = minB(b.smax, smax);
  }
  // After a sign-extending load: a non-negative s32 range within [S32_MIN, S32_MAX] on 64 bits
  // means the high half cannot be all ones.
  if (b.s32min >= 0 && b.smin >= S32_MIN_N && b.smax <= S32_MAX_N) {
    b.smin = BigInt(b.s32min);
    b.smax = BigInt(b.s32max);
    b.umin = BigInt(b.s32min);
    b.umax = BigInt(b.s32max);
    b.var = tnumIntersect(b.var, tnumRange(b.smin, b.smax));
  }
}

function deduceBounds(b: Bounds): void {
  deduceBounds32(b);
  deduceBounds64(b);
  deduceMixedBounds(b);
}

function boundOffset(b: Bounds): void {
  const var64 = tnumIntersect(b.var, tnumRange(b.umin, b.umax));
  const var32 = tnumIntersect(tnumSubreg(var64), tnumRange(BigInt(b.u32min), BigInt(b.u32max)));
  b.var = tnumOr(tnumClearSubreg(var64), var32);
}

/** Makes tnum and bounds agree with each other (Linux reg_bounds_sync). */
export function syncBounds(b: Bounds): void {
  if (b.var.mask === 0n) {
    // A known value: everything follows from it (the same result, without the BigInt work).
    const v = b.var.value;
    if (b.umin <= v && v <= b.umax && b.smin <= BigInt.asIntN(64, v) && BigInt.asIntN(64, v) <= b.smax
      && b.u32min <= lowU32(v) && lowU32(v) <= b.u32max && b.s32min <= lowS32(v) && lowS32(v) <= b.s32max) {
      b.umin = b.umax = v;
      b.smin = b.smax = BigInt.asIntN(64, v);
      b.u32min = b.u32max = lowU32(v);
      b.s32min = b.s32max = lowS32(v);
      return;
    }
  }
  updateBounds(b);
  // Linux deduces three times; stopping once a round changes nothing gives the same result.
  for (let round = 0; round < 3; round++) {
    const { smin, smax, umin, umax, s32min, s32max, u32min, u32max, var: t } = b;
    deduceBounds(b);
    if (smin === b.smin && smax === b.smax && umin === b.umin && umax === b.umax && s32min === b.s32min && s32max === b.s32max
      && u32min === b.u32min && u32max === b.u32max && t === b.var) break;
  }
  boundOffset(b);
  updateBounds(b);
}

/** The bounds are contradictory: the path they describe cannot happen. */
export function boundsInvalid(b: Bounds): boolean {
  return b.umin > b.umax || b.smin > b.smax || b.u32min > b.u32max || b.s32min > b.s32max;
}

/** Linux reg_bounds_sanity_check: forgets bounds that contradict each other (impossible paths). */
export function sanitizeBounds(b: Bounds): void {
  let bad = boundsInvalid(b);
  if (!bad && tnumIsConst(b.var)) {
    const v = b.var.value;
    bad = b.umin !== v || b.umax !== v || b.smin !== s64(v) || b.smax !== s64(v);
  }
  if (!bad && tnumSubregIsConst(b.var)) {
    const v = Number(b.var.value & 0xffffffffn);
    bad = b.u32min !== v || b.u32max !== v || b.s32min !== (v | 0) || b.s32max !== (v | 0);
  }
  if (bad) markUnbounded(b);
}

/** The low 32 bits become the whole value, zero-extended (what every ALU32 op does). */
export function zext32to64(b: Bounds): void {
  b.var = tnumSubreg(b.var);
  b.umin = BigInt(b.u32min);
  b.umax = BigInt(b.u32max);
  if (b.s32min >= 0 && b.s32max >= 0) {
    b.smin = BigInt(b.s32min);
    b.smax = BigInt(b.s32max);
  } else {
    b.smin = 0n;
    b.smax = BigInt(U32_MAX);
  }
}

/** Truncates to `size` bytes (< 8), zero-extending (Linux coerce_reg_to_size). */
export function coerceToSize(b: Bounds, size: number): void {
  const mask = (1n << BigInt(size * 8)) - 1n;
  if (b.var.mask === U64_MAX && b.umin === 0n && b.umax === U64_MAX) {
    // An unknown value cut to `size` bytes (every narrow load): the same result without the work.
    b.var = { value: 0n, mask };
    b.umin = 0n; b.umax = mask; b.smin = 0n; b.smax = mask;
    if (size < 4) {
      b.u32min = 0; b.u32max = Number(mask); b.s32min = 0; b.s32max = Number(mask);
    } else {
      b.u32min = 0; b.u32max = U32_MAX; b.s32min = S32_MIN; b.s32max = S32_MAX;
    }
    return;
  }
  b.var = { value: b.var.value & mask, mask: b.var.mask & mask };
  if ((b.umin & ~mask) === (b.umax & ~mask)) {
    b.umin &= mask;
    b.umax &= mask;
  } else {
    b.umin = 0n;
    b.umax = mask;
  }
  b.smin = b.umin;
  b.smax = b.umax;
  if (size < 4) markUnbounded32(b);
  syncBounds(b);
}

const signExtend = (x: bigint, bits: number): bigint => BigInt.asIntN(bits, x);

/** Sign-extends the low `size` bytes (1, 2 or 4) to 64 bits (Linux coerce_reg_to_size_sx). */
export function coerceToSizeSx(b: Bounds, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(b.var)) {
    markKnown(b, signExtend(b.var.value, bits));
    return;
  }
  const top = (x: bigint) => (u64(x) >> BigInt(bits)) << BigInt(bits);
  if (top(b.smax) === top(b.smin)) {
    const a = signExtend(b.smax, bits);
    const c = signExtend(b.smin, bits);
    const max = maxB(a, c);
    const min = minB(a, c);
    if ((max >= 0n) === (min >= 0n)) {
      b.smin = min; b.smax = max;
      b.s32min = Number(min); b.s32max = Number(max);
      b.umin = u64(min); b.umax = u64(max);
      b.u32min = lowU32(min); b.u32max = lowU32(max);
      b.var = tnumRange(u64(min), u64(max));
      return;
    }
  }
  const lim = 1n << BigInt(bits - 1);
  b.smin = -lim; b.smax = lim - 1n;
  b.s32min = Number(-lim); b.s32max = Number(lim - 1n);
  b.umin = 0n; b.umax = U64_MAX; b.u32min = 0; b.u32max = U32_MAX;
  b.var = TNUM_UNKNOWN;
}

/** Sign-extends the low `size` bytes (1 or 2) to 32 bits (Linux coerce_subreg_to_size_sx). */
export function coerceSubregToSizeSx(b: Bounds, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(b.var)) {
    const v = Number(signExtend(b.var.value, bits));
    b.var = tnumConst(u64(BigInt(v)));
    b.s32min = b.s32max = v | 0;
    b.u32min = b.u32max = v >>> 0;
    return;
  }
  const top = (x: number) => ((x >>> bits) << bits) >>> 0;
  if (top(b.s32max) === top(b.s32min)) {
    const a = Number(signExtend(BigInt(b.s32max), bits));
    const c = Number(signExtend(BigInt(b.s32min), bits));
    const max = Math.max(a, c);
    const min = Math.min(a, c);
    if ((max >= 0) === (min >= 0)) {
      b.s32min = min; b.s32max = max;
      b.u32min = min >>> 0; b.u32max = max >>> 0;
      b.var = tnumSubreg(tnumRange(BigInt(min >>> 0), BigInt(max >>> 0)));
      return;
    }
  }
  const lim = 1 << (bits - 1);
  b.s32min = -lim; b.s32max = lim - 1;
  b.u32min = 0; b.u32max = U32_MAX;
  b.var = tnumSubreg(TNUM_UNKNOWN);
}

/** Whether every value `cur` may hold, `old` may hold too. */
export function boundsWithin(old: Bounds, cur: Bounds): boolean {
  return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin && old.smax >= cur.smax
    && old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max
    && (cur.var.mask & ~old.var.mask & U64_MAX) === 0n && old.var.value === (cur.var.value & ~old.var.mask & U64_MAX);
}

/** Whether two bound sets are identical. */
export function boundsEqual(a: Bounds, b: Bounds): boolean {
  return a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax && a.u32min === b.u32min
    && a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max && a.var.value === b.var.value && a.var.mask === b.var.mask;
}

/** Bits needed to hold every value (64 unless the high bits are known zero). */
export function boundsWidth(b: Bounds): number {
  const top = b.umax;
  return top === 0n ? 0 : top.toString(2).length;
}
