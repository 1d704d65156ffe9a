// ALU instructions (Linux check_alu_op, adjust_reg_min_max_vals, adjust_ptr_min_max_vals): moves,
// sign extension, negation and byte swaps, scalar arithmetic through scalar-alu.ts, and the rules
// of pointer arithmetic (which pointers may move, by what, and what they become). Privileged
// semantics: combining pointers in ways Linux refuses only to unprivileged loaders gives a scalar.
import { AluCode } from '../isa/fields.js';
import type { Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import {
  coerceSubregToSizeSx, coerceToSize, coerceToSizeSx, markKnown, markKnown32, markUnbounded32, sanitizeBounds, syncBounds,
  zext32to64, S64_MAX, S64_MIN,
} from './bounds.js';
import type { Env } from './env.js';
import { regAt, setReg } from './memory.js';
import { reject } from './reject.js';
import { constScalar, isPacketPointer, isPointer, RegType, typeName, unknownScalar, withFields, type Reg } from './registers.js';
import { scalarAlu, type AluKind } from './scalar-alu.js';
import { linkForCopy, MAX_VAR_OFF } from './stack.js';
import { tnumAdd, tnumByteSwap, tnumCast, tnumIsConst, tnumSub, U64_MAX } from './tnum.js';

const ALU_NAMES: Record<number, string> = {
  [AluCode.ADD]: 'add', [AluCode.SUB]: 'sub', [AluCode.MUL]: 'mul', [AluCode.DIV]: 'div', [AluCode.OR]: 'or', [AluCode.AND]: 'and',
  [AluCode.LSH]: 'lsh', [AluCode.RSH]: 'rsh', [AluCode.NEG]: 'neg', [AluCode.MOD]: 'mod', [AluCode.XOR]: 'xor', [AluCode.MOV]: 'mov',
  [AluCode.ARSH]: 'arsh', [AluCode.END]: 'endian',
};

/** The tracked operation of a binary ALU instruction. */
function kindOf(insn: Instruction): AluKind {
  const code = insn.opcode & 0xf0;
  const signed = insn.off === 1;
  switch (code) {
    case AluCode.ADD: return 'add';
    case AluCode.SUB: return 'sub';
    case AluCode.MUL: return 'mul';
    case AluCode.DIV: return signed ? 'sdiv' : 'div';
    case AluCode.MOD: return signed ? 'smod' : 'mod';
    case AluCode.OR: return 'or';
    case AluCode.AND: return 'and';
    case AluCode.XOR: return 'xor';
    case AluCode.LSH: return 'lsh';
    case AluCode.RSH: return 'rsh';
    default: return 'arsh';
  }
}

/** Reads a source register: it must hold a value (Linux check_reg_arg SRC_OP). */
export function readReg(env: Env, regno: number): Reg {
  if (regno > 10) reject('bad-insn', `R${regno} is invalid`);
  const reg = regAt(env, regno);
  if (reg.type === RegType.NotInit) reject('uninit-reg', `R${regno} !read_ok`, [regno]);
  return reg;
}

/** Checks a register may be written (Linux check_reg_arg DST_OP). */
export function checkWritable(regno: number): void {
  if (regno > 10) reject('bad-insn', `R${regno} is invalid`);
  if (regno === 10) reject('frame-pointer', 'frame pointer is read only');
}

/** Linux check_reg_sane_offset: offsets a pointer may carry. */
function saneOffset(reg: Reg, type: string): void {
  const known = tnumIsConst(reg.var);
  const val = BigInt.asIntN(64, reg.var.value);
  const limit = BigInt(MAX_VAR_OFF);
  if (known && (val >= limit || val <= -limit)) reject('pointer-arith', `math between ${type} pointer and ${val} is not allowed`);
  if (reg.off >= MAX_VAR_OFF || reg.off <= -MAX_VAR_OFF) reject('pointer-arith', `${type} pointer offset ${reg.off} is not allowed`);
  if (reg.smin === S64_MIN) reject('pointer-arith', `math between ${type} pointer and register with unbounded min value is not allowed`);
  if (reg.smin >= limit || reg.smin <= -limit) reject('pointer-arith', `value ${reg.smin} makes ${type} pointer be out of bounds`);
}

const fitsS32 = (v: number): boolean => v === (v | 0);

/** pointer op= scalar (Linux adjust_ptr_min_max_vals). */
function pointerArithmetic(env: Env, insn: Instruction, ptr: Reg, off: Reg, dstIsPtr: boolean): Reg {
  const dst = insn.dst;
  const code = insn.opcode & 0xf0;
  const known = tnumIsConst(off.var);
  if ((known && (off.smin !== off.smax || off.umin !== off.umax)) || off.smin > off.smax || off.umin > off.umax) return unknownScalar();
  if (specOf(insn.op).is32) {
    if (code === AluCode.SUB) return unknownScalar();
    reject('pointer-arith', `R${dst} 32-bit pointer arithmetic prohibited`, [dst]);
  }
  const type = typeName(ptr);
  if (ptr.nullable) reject('pointer-arith', `R${dst} pointer arithmetic on ${type} prohibited, null-check it first`, [dst]);
  switch (ptr.type) {
    case RegType.Ctx: case RegType.MapValue: case RegType.MapKey: case RegType.Stack: case RegType.PacketMeta: case RegType.Packet:
    case RegType.BtfId: case RegType.Mem: case RegType.Func:
      break;
    default:
      // map_ptr += 0 is the only arithmetic a map pointer allows.
      if (ptr.type === RegType.ConstMap && known && off.smin === 0n && code === AluCode.ADD) break;
      reject('pointer-arith', `R${dst} pointer arithmetic on ${type} prohibited`, [dst]);
  }
  saneOffset(off, type);
  saneOffset(ptr, type);
  let result: Reg;
  if (code === AluCode.ADD) {
    const fixed = ptr.off + Number(off.smin);
    if (known && fitsS32(fixed)) {
      result = withFields(ptr, { off: fixed });
    } else {
      const smin = ptr.smin + off.smin;
      const smax = ptr.smax + off.smax;
      const umin = ptr.umin + off.umin;
      const umax = ptr.umax + off.umax;
      const wrapS = smin < S64_MIN || smin > S64_MAX || smax < S64_MIN || smax > S64_MAX;
      const wrapU = umin > U64_MAX || umax > U64_MAX;
      result = withFields(ptr, {
        smin: wrapS ? S64_MIN : smin, smax: wrapS ? S64_MAX : smax, umin: wrapU ? 0n : umin, umax: wrapU ? U64_MAX : umax,
        var: tnumAdd(ptr.var, off.var),
      });
      // A packet pointer moved by an unknown amount is a new object with nothing proved about it yet.
      if (isPacketPointer(ptr)) result = withFields(result, { id: env.nextId(), range: 0 });
    }
  } else if (code === AluCode.SUB) {
    if (!dstIsPtr) reject('pointer-arith', `R${dst} tried to subtract pointer from scalar`, [dst]);
    if (ptr.type === RegType.Stack) reject('pointer-arith', `R${dst} subtraction from stack pointer prohibited`, [dst]);
    const fixed = ptr.off - Number(off.smin);
    if (known && fitsS32(fixed)) {
      result = withFields(ptr, { off: fixed });
    } else {
      const smin = ptr.smin - off.smax;
      const smax = ptr.smax - off.smin;
      const wrapS = smin < S64_MIN || smin > S64_MAX || smax < S64_MIN || smax > S64_MAX;
      const wrapU = ptr.umin < off.umax;
      result = withFields(ptr, {
        smin: wrapS ? S64_MIN : smin, smax: wrapS ? S64_MAX : smax,
        umin: wrapU ? 0n : ptr.umin - off.umax, umax: wrapU ? U64_MAX : ptr.umax - off.umin,
        var: tnumSub(ptr.var, off.var),
      });
      if (isPacketPointer(ptr)) result = withFields(result, { id: env.nextId(), ...(off.smin < 0n ? { range: 0 } : {}) });
    }
  } else if (code === AluCode.AND || code === AluCode.OR || code === AluCode.XOR) {
    reject('pointer-arith', `R${dst} bitwise operator ${ALU_NAMES[code]} on pointer prohibited`, [dst]);
  } else {
    reject('pointer-arith', `R${dst} pointer arithmetic with ${ALU_NAMES[code]} operator prohibited`, [dst]);
  }
  saneOffset(result, type);
  // Pointers carry no 32-bit bounds.
  const r = withFields(result, {});
  markUnbounded32(r);
  syncBounds(r);
  return r;
}

/** `dst &= c` or `dst |= c` on a dst in [-1, 0]: explores 0 and -1 apart (Linux maybe_fork_scalars). */
function forkMinusOneOrZero(env: Env, insn: Instruction, dst: Reg): Reg {
  let is32: boolean;
  if (dst.smin === -1n && dst.smax === 0n) is32 = false;
  else if (dst.s32min === -1 && dst.s32max === 0) is32 = true;
  else return dst;
  const zero = withFields(dst, {});
  const minusOne = withFields(dst, {});
  if (is32) {
    markKnown32(zero, 0);
    markKnown32(minusOne, -1);
  } else {
    markKnown(zero, 0n);
    markKnown(minusOne, -1n);
  }
  // The other path runs this instruction again with dst known zero.
  env.fork(insn.pc, (s) => { s.frames[s.frames.length - 1]!.regs[insn.dst] = zero; });
  return minusOne;
}

/** A binary ALU op on two scalars, with the linked-register bookkeeping of Linux 6.11+. */
function scalarOp(env: Env, insn: Instruction, dst: Reg, src: Reg, srcIsDst: boolean): Reg {
  const is32 = specOf(insn.op).is32;
  const code = insn.opcode & 0xf0;
  let d = dst;
  if ((code === AluCode.AND || code === AluCode.OR) && tnumIsConst(src.var)) d = forkMinusOneOrZero(env, insn, d);
  const out = withFields(d, {});
  scalarAlu(out, src, kindOf(insn), is32);
  sanitizeBounds(out);
  // r1 = r2; r1 += 8: remember the delta, so a later check of r2 also bounds r1.
  const constSrc = tnumIsConst(src.var);
  if (code === AluCode.ADD && !is32 && d.id && constSrc && !srcIsDst) {
    const val = src.var.value;
    if (d.addConst || val > 0x7fffffffn) return withFields(out, { id: 0, off: 0, addConst: false });
    return withFields(out, { addConst: true, off: Number(val) });
  }
  return withFields(out, { id: 0, off: 0, addConst: false });
}

/**
 * le/be/bswap on a scalar: on this little-endian machine a to-little conversion truncates, the others
 * reverse the bytes of the low 16, 32 or 64 bits. Linux 6.18 tracks these; the bits move with their bytes.
 */
function byteOrder(insn: Instruction, d: Reg): Reg {
  const bits = insn.imm;
  const out = withFields(d, { id: 0 });
  if (insn.op === Op.Le64) return out;
  if (insn.op === Op.Le16 || insn.op === Op.Le32) {
    coerceToSize(out, bits / 8);
    return out;
  }
  const swapped = unknownScalar();
  swapped.var = tnumByteSwap(tnumCast(d.var, bits / 8), bits);
  syncBounds(swapped);
  return swapped;
}

/** Checks and applies one ALU or ALU64 instruction to the current state. */
export function checkAlu(env: Env, insn: Instruction): void {
  const row = specOf(insn.op);
  const code = insn.opcode & 0xf0;
  const x = (insn.opcode & 0x08) !== 0;
  const is32 = row.is32;

  if (row.form === 'unary') {
    readReg(env, insn.dst);
    checkWritable(insn.dst);
    const d = regAt(env, insn.dst);
    // neg is not tracked (Linux 6.12); a pointer becomes a number.
    if (insn.op === Op.Neg64 || insn.op === Op.Neg32 || d.type !== RegType.Scalar) return setReg(env, insn.dst, unknownScalar());
    setReg(env, insn.dst, byteOrder(insn, d));
    return;
  }

  if (code === AluCode.MOV) {
    if (x) readReg(env, insn.src);
    checkWritable(insn.dst);
    if (!x) {
      setReg(env, insn.dst, constScalar(is32 ? BigInt(insn.imm >>> 0) : BigInt(insn.imm)));
      return;
    }
    const src = regAt(env, insn.src);
    const ext = insn.off; // 0, or the sign-extension width of movsx
    if (!is32 && ext === 0) {
      const linked = linkForCopy(env, src);
      setReg(env, insn.src, linked);
      setReg(env, insn.dst, linked);
      return;
    }
    if (src.type !== RegType.Scalar) {
      // Part of a pointer is a number (privileged Linux); a 32-bit move zero-extends it.
      const out = unknownScalar();
      if (is32) {
        zext32to64(out);
        syncBounds(out);
      }
      setReg(env, insn.dst, out);
      return;
    }
    if (!is32) {
      const keepsId = src.umax < 1n << BigInt(ext - 1);
      const s = keepsId ? linkForCopy(env, src) : src;
      if (keepsId) setReg(env, insn.src, s);
      const out = withFields(s, keepsId ? {} : { id: 0 });
      coerceToSizeSx(out, ext >> 3);
      setReg(env, insn.dst, out);
      return;
    }
    // w1 = w2, or w1 = (s8/s16) w2: keeps the link only when the value already fits.
    const fits = ext === 0 ? src.umax <= 0xffffffffn : src.umax < 1n << BigInt(ext - 1);
    const s = fits ? linkForCopy(env, src) : src;
    if (fits) setReg(env, insn.src, s);
    const out = withFields(s, fits ? {} : { id: 0 });
    if (ext !== 0) coerceSubregToSizeSx(out, ext >> 3);
    zext32to64(out);
    syncBounds(out);
    setReg(env, insn.dst, out);
    return;
  }

  // Binary operations.
  if (x) readReg(env, insn.src);
  readReg(env, insn.dst);
  if ((code === AluCode.MOD || code === AluCode.DIV) && !x && insn.imm === 0) reject('div-by-zero', 'div by zero');
  if ((code === AluCode.LSH || code === AluCode.RSH || code === AluCode.ARSH) && !x && (insn.imm < 0 || insn.imm >= (is32 ? 32 : 64))) {
    reject('bad-shift', `invalid shift ${insn.imm}`);
  }
  checkWritable(insn.dst);
  const dst = regAt(env, insn.dst);
  const src = x ? regAt(env, insn.src) : constScalar(BigInt(insn.imm));
  if (isPointer(dst) && isPointer(src)) {
    // Pointer minus pointer is a number (privileged); every other combination is refused.
    if (code === AluCode.SUB) return setReg(env, insn.dst, unknownScalar());
    reject('pointer-arith', `R${insn.dst} pointer ${ALU_NAMES[code]} pointer prohibited`, [insn.dst, insn.src]);
  }
  if (isPointer(dst)) return setReg(env, insn.dst, pointerArithmetic(env, insn, dst, src, true));
  if (isPointer(src)) return setReg(env, insn.dst, pointerArithmetic(env, insn, src, dst, false));
  setReg(env, insn.dst, scalarOp(env, insn, dst, src, x && insn.src === insn.dst));
}

