// Transfer functions of the ALU operations on scalars: how each op moves a scalar's tnum and
// bounds, on 64 and 32 bits (Linux adjust_scalar_min_max_vals and the scalar*_min_max_* helpers).
// Division and modulo give unknown values, as in Linux 6.12.
import {
  type Bounds, constBounds, markKnown, markKnown32, markUnbounded32, markUnbounded64, syncBounds,
  updateBounds, unknownBounds, assignBounds, zext32to64, S32_MAX, S32_MIN, S64_MAX, S64_MIN, U32_MAX,
} from './bounds.js';
import {
  tnumAdd, tnumAnd, tnumArshift, tnumIsConst, tnumLshift, tnumMul, tnumOr, tnumRshift, tnumSub, tnumSubreg,
  tnumSubregIsConst, tnumXor, U64_MAX,
} from './tnum.js';

/** The binary ALU operations the verifier tracks. */
export type AluKind = 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'mod' | 'smod' | 'or' | 'and' | 'xor' | 'lsh' | 'rsh' | 'arsh';

const S64_MIN_N = S64_MIN;
const fitsS64 = (x: bigint): boolean => x >= S64_MIN_N && x <= S64_MAX;

function add32(dst: Bounds, src: Bounds): void {
  const smin = dst.s32min + src.s32min;
  const smax = dst.s32max + src.s32max;
  if (smin < S32_MIN || smin > S32_MAX || smax < S32_MIN || smax > S32_MAX) {
    dst.s32min = S32_MIN; dst.s32max = S32_MAX;
  } else {
    dst.s32min = smin; dst.s32max = smax;
  }
  const umin = dst.u32min + src.u32min;
  const umax = dst.u32max + src.u32max;
  if (umin > U32_MAX || umax > U32_MAX) {
    dst.u32min = 0; dst.u32max = U32_MAX;
  } else {
    dst.u32min = umin; dst.u32max = umax;
  }
}

function add64(dst: Bounds, src: Bounds): void {
  const smin = dst.smin + src.smin;
  const smax = dst.smax + src.smax;
  if (!fitsS64(smin) || !fitsS64(smax)) {
    dst.smin = S64_MIN; dst.smax = S64_MAX;
  } else {
    dst.smin = smin; dst.smax = smax;
  }
  const umin = dst.umin + src.umin;
  const umax = dst.umax + src.umax;
  if (umin > U64_MAX || umax > U64_MAX) {
    dst.umin = 0n; dst.umax = U64_MAX;
  } else {
    dst.umin = umin; dst.umax = umax;
  }
}

function sub32(dst: Bounds, src: Bounds): void {
  const smin = dst.s32min - src.s32max;
  const smax = dst.s32max - src.s32min;
  if (smin < S32_MIN || smin > S32_MAX || smax < S32_MIN || smax > S32_MAX) {
    dst.s32min = S32_MIN; dst.s32max = S32_MAX;
  } else {
    dst.s32min = smin; dst.s32max = smax;
  }
  if (dst.u32min < src.u32max) {
    dst.u32min = 0; dst.u32max = U32_MAX;
  } else {
    dst.u32min -= src.u32max;
    dst.u32max -= src.u32min;
  }
}

function sub64(dst: Bounds, src: Bounds): void {
  const smin = dst.smin - src.smax;
  const smax = dst.smax - src.smin;
  if (!fitsS64(smin) || !fitsS64(smax)) {
    dst.smin = S64_MIN; dst.smax = S64_MAX;
  } else {
    dst.smin = smin; dst.smax = smax;
  }
  if (dst.umin < src.umax) {
    dst.umin = 0n; dst.umax = U64_MAX;
  } else {
    dst.umin -= src.umax;
    dst.umax -= src.umin;
  }
}

function mul32(dst: Bounds, src: Bounds): void {
  if (src.s32min < 0 || dst.s32min < 0 || src.u32max > 0xffff || dst.u32max > 0xffff) {
    markUnbounded32(dst);
    return;
  }
  dst.u32min *= src.u32min;
  dst.u32max *= src.u32max;
  if (dst.u32max > S32_MAX) {
    dst.s32min = S32_MIN; dst.s32max = S32_MAX;
  } else {
    dst.s32min = dst.u32min; dst.s32max = dst.u32max;
  }
}

function mul64(dst: Bounds, src: Bounds): void {
  if (src.smin < 0n || dst.smin < 0n || src.umax > 0xffffffffn || dst.umax > 0xffffffffn) {
    markUnbounded64(dst);
    return;
  }
  dst.umin *= src.umin;
  dst.umax *= src.umax;
  if (dst.umax > S64_MAX) {
    dst.smin = S64_MIN; dst.smax = S64_MAX;
  } else {
    dst.smin = dst.umin; dst.smax = dst.umax;
  }
}

/** The signed range [umin, umax] gives, or the whole s32 range when it crosses the sign bit. */
function signedFromUnsigned32(dst: Bounds): void {
  if ((dst.u32min | 0) <= (dst.u32max | 0)) {
    dst.s32min = dst.u32min | 0; dst.s32max = dst.u32max | 0;
  } else {
    dst.s32min = S32_MIN; dst.s32max = S32_MAX;
  }
}

function signedFromUnsigned64(dst: Bounds): void {
  if (BigInt.asIntN(64, dst.umin) <= BigInt.asIntN(64, dst.umax)) {
    dst.smin = BigInt.asIntN(64, dst.umin); dst.smax = BigInt.asIntN(64, dst.umax);
  } else {
    dst.smin = S64_MIN; dst.smax = S64_MAX;
  }
}

function and32(dst: Bounds, src: Bounds): void {
  const t = tnumSubreg(dst.var);
  if (tnumSubregIsConst(src.var) && tnumSubregIsConst(dst.var)) {
    markKnown32(dst, Number(t.value));
    return;
  }
  dst.u32min = Number(t.value);
  dst.u32max = Math.min(dst.u32max, src.u32max);
  signedFromUnsigned32(dst);
}

function and64(dst: Bounds, src: Bounds): void {
  if (tnumIsConst(src.var) && tnumIsConst(dst.var)) {
    markKnown(dst, dst.var.value);
    return;
  }
  dst.umin = dst.var.value;
  dst.umax = dst.umax < src.umax ? dst.umax : src.umax;
  signedFromUnsigned64(dst);
  updateBounds(dst);
}

function or32(dst: Bounds, src: Bounds): void {
  const t = tnumSubreg(dst.var);
  if (tnumSubregIsConst(src.var) && tnumSubregIsConst(dst.var)) {
    markKnown32(dst, Number(t.value));
    return;
  }
  dst.u32min = Math.max(dst.u32min, src.u32min);
  dst.u32max = Number(t.value | t.mask);
  signedFromUnsigned32(dst);
}

function or64(dst: Bounds, src: Bounds): void {
  if (tnumIsConst(src.var) && tnumIsConst(dst.var)) {
    markKnown(dst, dst.var.value);
    return;
  }
  dst.umin = dst.umin > src.umin ? dst.umin : src.umin;
  dst.umax = dst.var.value | dst.var.mask;
  signedFromUnsigned64(dst);
  updateBounds(dst);
}

function xor32(dst: Bounds, src: Bounds): void {
  const t = tnumSubreg(dst.var);
  if (tnumSubregIsConst(src.var) && tnumSubregIsConst(dst.var)) {
    markKnown32(dst, Number(t.value));
    return;
  }
  dst.u32min = Number(t.value);
  dst.u32max = Number(t.value | t.mask);
  signedFromUnsigned32(dst);
}

function xor64(dst: Bounds, src: Bounds): void {
  if (tnumIsConst(src.var) && tnumIsConst(dst.var)) {
    markKnown(dst, dst.var.value);
    return;
  }
  dst.umin = dst.var.value;
  dst.umax = dst.var.value | dst.var.mask;
  signedFromUnsigned64(dst);
  updateBounds(dst);
}

function lsh32Bounds(dst: Bounds, umin: number, umax: number): void {
  dst.s32min = S32_MIN;
  dst.s32max = S32_MAX;
  if (umax > 31 || dst.u32max > 2 ** (31 - umax)) {
    dst.u32min = 0; dst.u32max = U32_MAX;
  } else {
    dst.u32min = dst.u32min * 2 ** umin;
    dst.u32max = dst.u32max * 2 ** umax;
  }
}

function lsh32(dst: Bounds, src: Bounds): void {
  const sub = tnumSubreg(dst.var);
  lsh32Bounds(dst, src.u32min, src.u32max);
  dst.var = tnumSubreg(tnumLshift(sub, src.u32min));
  markUnbounded64(dst);
  updateBounds(dst);
}

function lsh64(dst: Bounds, src: Bounds): void {
  const umin = Number(src.umin);
  const umax = Number(src.umax);
  if (umin === 32 && umax === 32) {
    dst.smax = BigInt(dst.s32max) << 32n;
    dst.smin = BigInt(dst.s32min) << 32n;
  } else {
    dst.smax = S64_MAX; dst.smin = S64_MIN;
  }
  if (dst.umax > 1n << BigInt(63 - umax)) {
    dst.umin = 0n; dst.umax = U64_MAX;
  } else {
    dst.umin <<= BigInt(umin);
    dst.umax <<= BigInt(umax);
  }
  lsh32Bounds(dst, umin, umax);
  dst.var = tnumLshift(dst.var, umin);
  updateBounds(dst);
}

function rsh32(dst: Bounds, src: Bounds): void {
  const sub = tnumSubreg(dst.var);
  dst.s32min = S32_MIN; dst.s32max = S32_MAX;
  dst.var = tnumRshift(sub, src.u32min);
  dst.u32min = dst.u32min >>> src.u32max;
  dst.u32max = dst.u32max >>> src.u32min;
  markUnbounded64(dst);
  updateBounds(dst);
}

function rsh64(dst: Bounds, src: Bounds): void {
  dst.smin = S64_MIN; dst.smax = S64_MAX;
  dst.var = tnumRshift(dst.var, Number(src.umin));
  dst.umin >>= src.umax;
  dst.umax >>= src.umin;
  markUnbounded32(dst);
  updateBounds(dst);
}

function arsh32(dst: Bounds, src: Bounds): void {
  const shift = src.u32min;
  dst.s32min = dst.s32min >> shift;
  dst.s32max = dst.s32max >> shift;
  dst.var = tnumArshift(tnumSubreg(dst.var), shift, 32);
  dst.u32min = 0; dst.u32max = U32_MAX;
  markUnbounded64(dst);
  updateBounds(dst);
}

function arsh64(dst: Bounds, src: Bounds): void {
  const shift = src.umin;
  dst.smin >>= shift;
  dst.smax >>= shift;
  dst.var = tnumArshift(dst.var, Number(shift), 64);
  dst.umin = 0n; dst.umax = U64_MAX;
  markUnbounded32(dst);
  updateBounds(dst);
}

/** `dst += src` on the bounds and tnum, without re-syncing them (Linux sync_linked_regs's delta). */
export function addBounds(dst: Bounds, src: Bounds): void {
  add32(dst, src);
  add64(dst, src);
  dst.var = tnumAdd(dst.var, src.var);
}

/** Whether the result of `op` can be tracked for this source (Linux is_safe_to_compute_dst_reg_range). */
export function computable(op: AluKind, src: Bounds, is32: boolean): boolean {
  switch (op) {
    case 'add': case 'sub': case 'and': case 'xor': case 'or': case 'mul':
      return true;
    case 'lsh': case 'rsh': case 'arsh': {
      const known = is32
        ? tnumSubregIsConst(src.var) && src.s32min === src.s32max && src.u32min === src.u32max
        : tnumIsConst(src.var) && src.smin === src.smax && src.umin === src.umax;
      return known && (is32 ? src.u32max < 32 : src.umax < 64n);
    }
    default:
      return false;
  }
}

/** `dst op= src` on scalars, in place; 32-bit ops zero-extend. */
export function scalarAlu(dst: Bounds, src: Bounds, op: AluKind, is32: boolean): void {
  if (!computable(op, src, is32)) {
    assignBounds(dst, unknownBounds());
    return;
  }
  switch (op) {
    case 'add':
      add32(dst, src); add64(dst, src);
      dst.var = tnumAdd(dst.var, src.var);
      break;
    case 'sub':
      sub32(dst, src); sub64(dst, src);
      dst.var = tnumSub(dst.var, src.var);
      break;
    case 'mul':
      dst.var = tnumMul(dst.var, src.var);
      mul32(dst, src); mul64(dst, src);
      break;
    case 'and':
      dst.var = tnumAnd(dst.var, src.var);
      and32(dst, src); and64(dst, src);
      break;
    case 'or':
      dst.var = tnumOr(dst.var, src.var);
      or32(dst, src); or64(dst, src);
      break;
    case 'xor':
      dst.var = tnumXor(dst.var, src.var);
      xor32(dst, src); xor64(dst, src);
      break;
    case 'lsh':
      if (is32) lsh32(dst, src); else lsh64(dst, src);
      break;
    case 'rsh':
      if (is32) rsh32(dst, src); else rsh64(dst, src);
      break;
    case 'arsh':
      if (is32) arsh32(dst, src); else arsh64(dst, src);
      break;
    default:
      break;
  }
  if (is32) zext32to64(dst);
  syncBounds(dst);
}

/** Bounds for an immediate operand: 64-bit ops sign-extend imm, 32-bit ops see its low 32 bits. */
export function immBounds(imm: number): Bounds {
  return constBounds(BigInt(imm));
}

