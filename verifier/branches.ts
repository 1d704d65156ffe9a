// Conditional jumps (Linux check_cond_jmp_op): a branch whose outcome the state decides is followed
// one way only; otherwise both ways are walked, each refining what it learned: scalar bounds on
// both sides (JMP and JMP32, K and X, swapped operands), registers linked by id, NULL checks of
// maybe-NULL pointers, and packet ranges proved by comparisons with data_end.
import type { Instruction } from '../isa/instruction.js';
import { specOf } from '../isa/opcodes.js';
import { JmpCode } from '../isa/fields.js';
import { constBounds, markUnbounded, sanitizeBounds, syncBounds, type Bounds } from './bounds.js';
import type { Env } from './env.js';
import { readReg } from './alu.js';
import { MAX_PACKET_OFF } from './memory.js';
import { addBounds } from './scalar-alu.js';
import { constScalar, isPacketPointerAny, isPointer, regNotNull, RegType, withFields, type Reg } from './registers.js';
import { curFrame, forEachReg, type State } from './state.js';
import { tnumAnd, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumOverlap, tnumSubreg, tnumWithSubreg, U64_MAX } from './tnum.js';

/** Packet pointer ranges for "beyond data_end" and "at data_end" (Linux BEYOND_PKT_END, AT_PKT_END). */
const BEYOND_PKT_END = -1;
const AT_PKT_END = -2;
/** The reverse of JSET (Linux's JSET | BPF_X in rev_opcode). */
const NOT_JSET = 0x100;

const s64 = (x: bigint) => BigInt.asIntN(64, x);

function flip(op: number): number {
  switch (op) {
    case JmpCode.JGE: return JmpCode.JLE;
    case JmpCode.JGT: return JmpCode.JLT;
    case JmpCode.JLE: return JmpCode.JGE;
    case JmpCode.JLT: return JmpCode.JGT;
    case JmpCode.JSGE: return JmpCode.JSLE;
    case JmpCode.JSGT: return JmpCode.JSLT;
    case JmpCode.JSLE: return JmpCode.JSGE;
    case JmpCode.JSLT: return JmpCode.JSGT;
    default: return op;
  }
}

/** The condition that holds on the fall-through of `op` (Linux rev_opcode; JSET's reverse is NOT_JSET). */
export function reverse(op: number): number {
  switch (op) {
    case JmpCode.JEQ: return JmpCode.JNE;
    case JmpCode.JNE: return JmpCode.JEQ;
    case JmpCode.JSET: return NOT_JSET;
    case NOT_JSET: return JmpCode.JSET;
    case JmpCode.JGE: return JmpCode.JLT;
    case JmpCode.JGT: return JmpCode.JLE;
    case JmpCode.JLE: return JmpCode.JGT;
    case JmpCode.JLT: return JmpCode.JGE;
    case JmpCode.JSGE: return JmpCode.JSLT;
    case JmpCode.JSGT: return JmpCode.JSLE;
    case JmpCode.JSLE: return JmpCode.JSGT;
    default: return JmpCode.JSGE;
  }
}

function isConstReg(r: Bounds, is32: boolean): boolean {
  return is32 ? (r.var.mask & 0xffffffffn) === 0n : tnumIsConst(r.var);
}

function constOf(r: Bounds, is32: boolean): bigint {
  return is32 ? r.var.value & 0xffffffffn : r.var.value;
}

/** Linux is_scalar_branch_taken: 1 taken, 0 not taken, -1 unknown. */
function scalarBranchTaken(r1: Bounds, r2: Bounds, op: number, is32: boolean): number {
  const t1 = is32 ? tnumSubreg(r1.var) : r1.var;
  const t2 = is32 ? tnumSubreg(r2.var) : r2.var;
  const umin1 = is32 ? BigInt(r1.u32min) : r1.umin;
  const umax1 = is32 ? BigInt(r1.u32max) : r1.umax;
  const smin1 = is32 ? BigInt(r1.s32min) : r1.smin;
  const smax1 = is32 ? BigInt(r1.s32max) : r1.smax;
  const umin2 = is32 ? BigInt(r2.u32min) : r2.umin;
  const umax2 = is32 ? BigInt(r2.u32max) : r2.umax;
  const smin2 = is32 ? BigInt(r2.s32min) : r2.smin;
  const smax2 = is32 ? BigInt(r2.s32max) : r2.smax;
  switch (op) {
    case JmpCode.JEQ: case JmpCode.JNE: {
      const eq = op === JmpCode.JEQ;
      if (tnumIsConst(t1) && tnumIsConst(t2)) return (t1.value === t2.value) === eq ? 1 : 0;
      const differ = !tnumOverlap(t1, t2) || umin1 > umax2 || umax1 < umin2 || smin1 > smax2 || smax1 < smin2
        || (!is32 && (r1.u32min > r2.u32max || r1.u32max < r2.u32min || r1.s32min > r2.s32max || r1.s32max < r2.s32min));
      if (differ) return eq ? 0 : 1;
      return -1;
    }
    case JmpCode.JSET: {
      let a = t1;
      let b = t2;
      if (!isConstReg(r2, is32)) {
        if (!isConstReg(r1, is32)) return -1;
        [a, b] = [t2, t1];
      }
      if (((~a.mask & a.value) & b.value) !== 0n) return 1;
      if (((a.mask | a.value) & b.value) === 0n) return 0;
      return -1;
    }
    case JmpCode.JGT: return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
    case JmpCode.JSGT: return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
    case JmpCode.JLT: return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
    case JmpCode.JSLT: return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
    case JmpCode.JGE: return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
    case JmpCode.JSGE: return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
    case JmpCode.JLE: return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
    case JmpCode.JSLE: return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
    default: return -1;
  }
}

/** Linux is_pkt_ptr_branch_taken: a pointer known beyond or at data_end decides some comparisons. */
function packetBranchTaken(dst: Reg, src: Reg, op: number): number {
  let pkt: Reg;
  let o = op;
  if (src.type === RegType.PacketEnd) pkt = dst;
  else if (dst.type === RegType.PacketEnd) {
    pkt = src;
    o = flip(op);
  } else return -1;
  if (pkt.range >= 0) return -1;
  switch (o) {
    case JmpCode.JLE: case JmpCode.JGT:
      return pkt.range === BEYOND_PKT_END ? (o === JmpCode.JGT ? 1 : 0) : -1;
    case JmpCode.JLT: case JmpCode.JGE:
      return pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END ? (o === JmpCode.JGE ? 1 : 0) : -1;
    default: return -1;
  }
}

/** Linux is_branch_taken: 1 when `r1 op r2` is true for every value, 0 when for none, -1 otherwise. */
export function branchTaken(r1: Reg, r2: Reg, op: number, is32: boolean): number {
  if (isPacketPointerAny(r1) && isPacketPointerAny(r2) && !is32) return packetBranchTaken(r1, r2, op);
  if (isPointer(r1) || isPointer(r2)) {
    // A valid pointer is never 0; its low 32 bits may be.
    if (is32) return -1;
    let p = r1;
    let c = r2;
    let o = op;
    if (!isConstReg(c, false)) {
      o = flip(o);
      [p, c] = [r2, r1];
    }
    if (!isConstReg(c, false) || c.type !== RegType.Scalar || !regNotNull(p) || constOf(c, false) !== 0n) return -1;
    return o === JmpCode.JEQ ? 0 : o === JmpCode.JNE ? 1 : -1;
  }
  return scalarBranchTaken(r1, r2, op, is32);
}

const maxN = (a: number, b: number) => (a > b ? a : b);
const minN = (a: number, b: number) => (a < b ? a : b);
const maxB = (a: bigint, b: bigint) => (a > b ? a : b);
const minB = (a: bigint, b: bigint) => (a < b ? a : b);

/** Linux regs_refine_cond_op: what `r1 op r2` being true says about both (mutates copies). */
function refine(a: Bounds, b: Bounds, opcode: number, is32: boolean): void {
  let r1 = a;
  let r2 = b;
  let op = opcode;
  if (op === JmpCode.JGE || op === JmpCode.JGT || op === JmpCode.JSGE || op === JmpCode.JSGT) {
    op = flip(op);
    [r1, r2] = [r2, r1];
  }
  switch (op) {
    case JmpCode.JEQ:
      if (is32) {
        r1.u32min = maxN(r1.u32min, r2.u32min); r1.u32max = minN(r1.u32max, r2.u32max);
        r1.s32min = maxN(r1.s32min, r2.s32min); r1.s32max = minN(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min; r2.u32max = r1.u32max; r2.s32min = r1.s32min; r2.s32max = r1.s32max;
        const t = tnumIntersect(tnumSubreg(r1.var), tnumSubreg(r2.var));
        r1.var = tnumWithSubreg(r1.var, t);
        r2.var = tnumWithSubreg(r2.var, t);
      } else {
        r1.umin = maxB(r1.umin, r2.umin); r1.umax = minB(r1.umax, r2.umax);
        r1.smin = maxB(r1.smin, r2.smin); r1.smax = minB(r1.smax, r2.smax);
        r2.umin = r1.umin; r2.umax = r1.umax; r2.smin = r1.smin; r2.smax = r1.smax;
        r1.var = tnumIntersect(r1.var, r2.var);
        r2.var = r1.var;
      }
      break;
    case JmpCode.JNE: {
      if (!isConstReg(r2, is32)) [r1, r2] = [r2, r1];
      if (!isConstReg(r2, is32)) break;
      // A constant at the edge of the range moves the edge.
      const v = constOf(r2, is32);
      if (is32) {
        const u = Number(v);
        if (r1.u32min === u) r1.u32min++;
        if (r1.u32max === u) r1.u32max--;
        if (r1.s32min === (u | 0)) r1.s32min++;
        if (r1.s32max === (u | 0)) r1.s32max--;
      } else {
        if (r1.umin === v) r1.umin++;
        if (r1.umax === v) r1.umax--;
        if (r1.smin === s64(v)) r1.smin++;
        if (r1.smax === s64(v)) r1.smax--;
      }
      break;
    }
    case JmpCode.JSET: {
      if (!isConstReg(r2, is32)) [r1, r2] = [r2, r1];
      if (!isConstReg(r2, is32)) break;
      const v = constOf(r2, is32);
      // Only a single tested bit is known set.
      if (v === 0n || (v & (v - 1n)) !== 0n) break;
      r1.var = is32 ? tnumWithSubreg(r1.var, tnumOr(tnumSubreg(r1.var), tnumConst(v))) : tnumOr(r1.var, tnumConst(v));
      break;
    }
    case NOT_JSET: {
      if (!isConstReg(r2, is32)) [r1, r2] = [r2, r1];
      if (!isConstReg(r2, is32)) break;
      const v = constOf(r2, is32);
      markUnbounded(r1);
      r1.var = is32 ? tnumWithSubreg(r1.var, tnumAnd(tnumSubreg(r1.var), tnumConst(~v & U64_MAX))) : tnumAnd(r1.var, tnumConst(~v & U64_MAX));
      break;
    }
    case JmpCode.JLE:
      if (is32) {
        r1.u32max = minN(r1.u32max, r2.u32max);
        r2.u32min = maxN(r1.u32min, r2.u32min);
      } else {
        r1.umax = minB(r1.umax, r2.umax);
        r2.umin = maxB(r1.umin, r2.umin);
      }
      break;
    case JmpCode.JLT:
      if (is32) {
        r1.u32max = minN(r1.u32max, (r2.u32max - 1) >>> 0);
        r2.u32min = maxN((r1.u32min + 1) >>> 0, r2.u32min);
      } else {
        r1.umax = minB(r1.umax, BigInt.asUintN(64, r2.umax - 1n));
        r2.umin = maxB(BigInt.asUintN(64, r1.umin + 1n), r2.umin);
      }
      break;
    case JmpCode.JSLE:
      if (is32) {
        r1.s32max = minN(r1.s32max, r2.s32max);
        r2.s32min = maxN(r1.s32min, r2.s32min);
      } else {
        r1.smax = minB(r1.smax, r2.smax);
        r2.smin = maxB(r1.smin, r2.smin);
      }
      break;
    case JmpCode.JSLT:
      if (is32) {
        r1.s32max = minN(r1.s32max, (r2.s32max - 1) | 0);
        r2.s32min = maxN((r1.s32min + 1) | 0, r2.s32min);
      } else {
        r1.smax = minB(r1.smax, s64(r2.smax - 1n));
        r2.smin = maxB(s64(r1.smin + 1n), r2.smin);
      }
      break;
    default:
      break;
  }
}

/** Both scalars refined for one direction of the branch (`r1 op r2` holds), made consistent. */
export function refined(r1: Reg, r2: Reg, op: number, is32: boolean, needSecond: boolean): [Reg, Reg] {
  const a = withFields(r1, {});
  const b = withFields(r2, {});
  refine(a, b, op, is32);
  syncBounds(a);
  sanitizeBounds(a);
  // An immediate operand's refinement is of no use to anyone.
  if (needSecond) {
    syncBounds(b);
    sanitizeBounds(b);
  }
  return [a, b];
}

/** Copies what is now known about `known` to every scalar linked to it (Linux sync_linked_regs). */
function syncLinked(state: State, known: Reg): void {
  if (known.type !== RegType.Scalar || !known.id) return;
  forEachReg(state, (reg, set) => {
    if (reg === known || reg.type !== RegType.Scalar || reg.id !== known.id) return;
    if ((!reg.addConst && !known.addConst) || reg.off === known.off) {
      set(withFields(known, { addConst: reg.addConst, off: reg.off }));
    } else {
      // reg = known + (reg.off - known.off), keeping reg's own link.
      const out = withFields(known, { id: reg.id, off: reg.off, addConst: reg.addConst });
      addBounds(out, constBounds(BigInt((reg.off | 0) - (known.off | 0))));
      set(out);
    }
  });
}

/** Linux mark_ptr_or_null_regs: after `ptr == 0` / `ptr != 0`, every copy of the pointer learns it. */
function markNullness(state: State, id: number, refObjId: number, isNull: boolean): void {
  if (!id) return;
  if (isNull && refObjId && refObjId === id) state.refs = state.refs.filter((r) => r.id !== id);
  forEachReg(state, (reg, set) => {
    if (!reg.nullable || reg.id !== id) return;
    if (isNull) {
      set(constScalar(0n));
      return;
    }
    set(notNull(reg));
  });
}

/** The pointer a non-NULL check leaves (Linux mark_ptr_not_null_reg). */
export function notNull(reg: Reg): Reg {
  if (reg.type === RegType.MapValue && reg.map) {
    // A map-in-map lookup gives the inner map; the map value id stays for spin locks.
    if (reg.map.inner) return withFields(reg, { type: RegType.ConstMap, map: reg.map.inner, nullable: false, id: 0 });
    // An XSKMAP holds AF_XDP sockets; a sockmap or sockhash, sockets.
    if (reg.map.type === 17) return withFields(reg, { type: RegType.XdpSock, nullable: false, id: 0 });
    if (reg.map.type === 15 || reg.map.type === 18) return withFields(reg, { type: RegType.Sock, nullable: false, id: 0 });
    const keepsId = reg.map.spinLockOffset !== undefined;
    return withFields(reg, { nullable: false, id: keepsId ? reg.id : 0 });
  }
  return withFields(reg, { nullable: false, id: 0 });
}

/** Linux find_good_pkt_pointers: `dst` (a packet pointer) compared with data_end proves a range for its id. */
function goodPacketPointers(state: State, dst: Reg, rightOpen: boolean): void {
  if (dst.off < 0 || (dst.off === 0 && rightOpen)) return;
  if (dst.umax > BigInt(MAX_PACKET_OFF) || dst.umax + BigInt(dst.off) > BigInt(MAX_PACKET_OFF)) return;
  const range = dst.off + (rightOpen ? 1 : 0);
  forEachReg(state, (reg, set) => {
    if (reg.type === dst.type && reg.id === dst.id && reg.range < range) set(withFields(reg, { range }));
  });
}

/** Linux mark_pkt_end: a packet pointer known to be past (or at) data_end. */
function markPacketEnd(state: State, regno: number, rightOpen: boolean): void {
  const regs = curFrame(state).regs;
  const reg = regs[regno]!;
  if (reg.type !== RegType.Packet) return;
  regs[regno] = withFields(reg, { range: rightOpen ? BEYOND_PKT_END : AT_PKT_END });
}

/** Whether the register is a packet pointer straight from the context (Linux reg_is_init_pkt_pointer). */
function initialPacketPointer(reg: Reg, type: RegType): boolean {
  return reg.type === type && reg.id === 0 && reg.off === 0 && tnumIsConst(reg.var) && reg.var.value === 0n;
}

/** Linux try_match_pkt_pointers: the eight shapes of `pkt op pkt_end` and `pkt_meta op pkt`. */
function matchPacketPointers(insn: Instruction, dst: Reg, src: Reg, fallthrough: State, taken: State): boolean {
  if ((insn.opcode & 0x08) === 0 || specOf(insn.op).is32) return false;
  const op = insn.opcode & 0xf0;
  const dstFirst = (dst.type === RegType.Packet && src.type === RegType.PacketEnd)
    || (dst.type === RegType.PacketMeta && initialPacketPointer(src, RegType.Packet));
  const srcFirst = (dst.type === RegType.PacketEnd && src.type === RegType.Packet)
    || (initialPacketPointer(dst, RegType.Packet) && src.type === RegType.PacketMeta);
  if (!dstFirst && !srcFirst) return false;
  const ptr = dstFirst ? dst : src;
  const ptrRegno = dstFirst ? insn.dst : insn.src;
  // In the normalized form `ptr OP end`: which branch has ptr below end, and whether the bound is strict.
  let o = op;
  if (srcFirst) o = flip(op);
  switch (o) {
    case JmpCode.JGT: // ptr > end: the fall-through has ptr <= end
      goodPacketPointers(fallthrough, ptr, false);
      markPacketEnd(taken, ptrRegno, true);
      return true;
    case JmpCode.JLT: // ptr < end: the taken branch has ptr < end
      goodPacketPointers(taken, ptr, true);
      markPacketEnd(fallthrough, ptrRegno, false);
      return true;
    case JmpCode.JGE: // ptr >= end: the fall-through has ptr < end
      goodPacketPointers(fallthrough, ptr, true);
      markPacketEnd(taken, ptrRegno, false);
      return true;
    case JmpCode.JLE: // ptr <= end: the taken branch has ptr <= end
      goodPacketPointers(taken, ptr, false);
      markPacketEnd(fallthrough, ptrRegno, true);
      return true;
    default:
      return false;
  }
}

/** Checks one conditional jump and sets up both ways. Returns the pc to continue at. */
export function checkConditionalJump(env: Env, insn: Instruction): number {
  const row = specOf(insn.op);
  const op = insn.opcode & 0xf0;
  const is32 = row.is32;
  const x = (insn.opcode & 0x08) !== 0;
  const target = insn.pc + 1 + insn.off;
  const dst = readReg(env, insn.dst);
  const src = x ? readReg(env, insn.src) : constScalar(BigInt(insn.imm));

  const pred = branchTaken(dst, src, op, is32);
  if (pred !== -1) {
    // The values decided the branch: loop widening keeps them (pruning.ts widenScalars).
    if (dst.type === RegType.Scalar) dst.precise = true;
    if (src.type === RegType.Scalar) src.precise = true;
    return pred === 1 ? target : insn.pc + 1;
  }

  const fallthrough = env.state;
  const taken = env.fork(target);
  const takenRegs = curFrame(taken).regs;
  const fallRegs = curFrame(fallthrough).regs;

  if (dst.type === RegType.Scalar && src.type === RegType.Scalar) {
    const [t1, t2] = refined(dst, src, op, is32, x);
    const [f1, f2] = refined(dst, src, reverse(op), is32, x);
    // A contradiction means the branch cannot go that way at run time; the bounds say so (Linux forgets them).
    takenRegs[insn.dst] = t1;
    fallRegs[insn.dst] = f1;
    if (x) {
      takenRegs[insn.src] = t2;
      fallRegs[insn.src] = f2;
      syncLinked(taken, t2);
      syncLinked(fallthrough, f2);
    }
    syncLinked(taken, takenRegs[insn.dst]!);
    syncLinked(fallthrough, fallRegs[insn.dst]!);
  }

  // Two pointers compared equal, only one of them maybe NULL: where they are equal, neither is.
  if (!is32 && x && isPointer(src) && isPointer(dst) && src.type !== RegType.BtfId && dst.type !== RegType.BtfId
    && src.nullable !== dst.nullable) {
    const eq = op === JmpCode.JEQ ? takenRegs : op === JmpCode.JNE ? fallRegs : undefined;
    if (eq && src.nullable) eq[insn.src] = notNull(eq[insn.src]!);
    if (eq && dst.nullable) eq[insn.dst] = notNull(eq[insn.dst]!);
  }

  if (!is32 && !x && insn.imm === 0 && (op === JmpCode.JEQ || op === JmpCode.JNE) && dst.nullable && isPointer(dst)) {
    markNullness(fallthrough, dst.id, dst.refObjId, op === JmpCode.JNE);
    markNullness(taken, dst.id, dst.refObjId, op === JmpCode.JEQ);
  } else {
    matchPacketPointers(insn, dst, src, fallthrough, taken);
  }
  return insn.pc + 1;
}

