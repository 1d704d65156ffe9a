// The lowering of single BPF instructions to WebAssembly expressions (jit/lower.ts builds the
// functions, control flow and calls around them): registers as i64 locals, ALU, byte swaps,
// memory and atomic accesses, 64-bit immediates. Each keeps the interpreter's semantics, noted where
// WebAssembly differs: division by zero and INT_MIN / -1 (WebAssembly traps, BPF does not), byte
// swaps (no wasm instruction).
import type { Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { branchTarget } from '../isa/validate.js';
import { FUNCTION_POINTER_TAG } from '../isa/abi.js';
import type { Binaryen, Expr, WasmModule, WasmType } from './binaryen.js';
import { TRAP_IMPORT, TrapCode } from './abi.js';

// Locals of every lowered function. Params: r1..r5, the frame pointer (i32) and the call depth.
export const FP = 5;
export const DEPTH = 6;
export const T0 = 13; // i64 scratch
export const ADDR = 14; // i32 scratch: addresses, divisors, table indexes, the pc of a back edge out of budget
export const LABEL = 15; // the Relooper's label helper
export const T32 = 16; // i32 scratch
export const MAY_GOTO = 17; // i32: what is left of this call's may_goto budget (functions with may_goto only)
export const FRAME_POINTER_REGISTER = 10;
/** Local index of each BPF register r0..r10. */
export const REG = [7, 0, 1, 2, 3, 4, 8, 9, 10, 11, 12];

/** The instruction lowerings, over the locals above. */
export abstract class InstructionLowering {
  protected readonly i64: WasmType;
  protected readonly i32: WasmType;

  constructor(
    protected readonly b: Binaryen,
    protected readonly m: WasmModule,
  ) {
    this.i64 = b.i64;
    this.i32 = b.i32;
  }

  protected get(r: number): Expr {
    return this.m.local.get(REG[r]!, this.i64);
  }

  protected set(r: number, value: Expr): Expr {
    return this.m.local.set(REG[r]!, value);
  }

  protected get32(r: number): Expr {
    return this.m.i32.wrap(this.get(r));
  }

  /** A 64-bit constant from its signed 32-bit halves. */
  protected c64(lo: number, hi: number): Expr {
    return this.m.i64.const(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0)));
  }

  /** The immediate sign-extended to 64 bits, as BPF's 64-bit K operands are. */
  protected k64(imm: number): Expr {
    return this.c64(imm, imm >> 31);
  }

  protected source64(insn: Instruction): Expr {
    return (insn.opcode & 0x08) !== 0 ? this.get(insn.src) : this.k64(insn.imm);
  }

  protected source32(insn: Instruction): Expr {
    return (insn.opcode & 0x08) !== 0 ? this.get32(insn.src) : this.m.i32.const(insn.imm);
  }

  protected zext(value32: Expr): Expr {
    return this.m.i64.extend_u(value32);
  }

  /** reg + off, as a 32-bit guest address (guest pointers are zero-extended 32-bit offsets). */
  protected address(reg: number, off: number): Expr {
    return this.m.i32.add(this.get32(reg), this.m.i32.const(off));
  }

  protected trap(code: TrapCode, pc: number, value: Expr): Expr {
    return this.m.block(null, [this.m.call(TRAP_IMPORT, [this.m.i32.const(code), this.m.i32.const(pc), value], this.b.none), this.m.unreachable()]);
  }

  protected bswap16(x: Expr): Expr {
    const { m } = this;
    // (x & 0xff) << 8 | (x >> 8) & 0xff, on a value used once: take it through a scratch local.
    return m.block(null, [
      m.local.set(T32, x),
      m.i32.or(
        m.i32.shl(m.i32.and(m.local.get(T32, this.i32), m.i32.const(0xff)), m.i32.const(8)),
        m.i32.and(m.i32.shr_u(m.local.get(T32, this.i32), m.i32.const(8)), m.i32.const(0xff)),
      ),
    ], this.i32);
  }

  protected bswap32(x: Expr): Expr {
    const { m } = this;
    // rotl(x, 8) keeps bytes 0 and 2 in place of 1 and 3; rotr(x, 8) the others.
    return m.block(null, [
      m.local.set(T32, x),
      m.i32.or(
        m.i32.and(m.i32.rotl(m.local.get(T32, this.i32), m.i32.const(8)), m.i32.const(0x00ff00ff)),
        m.i32.and(m.i32.rotr(m.local.get(T32, this.i32), m.i32.const(8)), m.i32.const(0xff00ff00 | 0)),
      ),
    ], this.i32);
  }

  protected bswap64(r: number): Expr {
    const { m } = this;
    return m.block(null, [
      m.local.set(T0, this.get(r)),
      this.set(r, m.i64.or(
        m.i64.shl(this.zext(this.bswap32(m.i32.wrap(m.local.get(T0, this.i64)))), this.c64(32, 0)),
        this.zext(this.bswap32(m.i32.wrap(m.i64.shr_u(m.local.get(T0, this.i64), this.c64(32, 0))))),
      )),
    ]);
  }

  /**
   * `dst <<= 32` then `dst >>= 32` (or `dst s>>= 32`) in one block, clang's way of zero- (sign-)
   * extending a register's low half, as one extension: V8 would shift twice.
   */
  protected extension32(insn: Instruction, next: Instruction | undefined): Expr | undefined {
    if (insn.op !== Op.Lsh64K || insn.imm !== 32 || next?.dst !== insn.dst || next.imm !== 32) return undefined;
    if (next.op === Op.Rsh64K) return this.set(insn.dst, this.zext(this.get32(insn.dst)));
    if (next.op === Op.Arsh64K) return this.set(insn.dst, this.m.i64.extend32_s(this.get(insn.dst)));
    return undefined;
  }

  protected alu64(insn: Instruction): Expr {
    const { m } = this;
    const d = insn.dst;
    const a = () => this.get(d);
    const x = (insn.opcode & 0x08) !== 0;
    const k = insn.imm;
    const set = (v: Expr) => this.set(d, v);
    // A register divisor goes through T0 so it is read once, and the code tests it; a constant
    // divisor is tested here, leaving only the operation that applies.
    const divisor = () => (x ? m.local.get(T0, this.i64) : this.k64(k));
    const division = (ifZero: () => Expr, divide: () => Expr, ifMinusOne?: () => Expr): Expr => {
      if (!x) return set(k === 0 ? ifZero() : k === -1 && ifMinusOne ? ifMinusOne() : divide());
      const nonZero = ifMinusOne ? m.if(m.i64.eq(divisor(), this.c64(-1, -1)), ifMinusOne(), divide()) : divide();
      return m.block(null, [m.local.set(T0, this.get(insn.src)), set(m.if(m.i64.eqz(divisor()), ifZero(), nonZero))]);
    };
    switch (insn.op) {
      case Op.Add64K: case Op.Add64X: return set(m.i64.add(a(), this.source64(insn)));
      case Op.Sub64K: case Op.Sub64X: return set(m.i64.sub(a(), this.source64(insn)));
      case Op.Mul64K: case Op.Mul64X: return set(m.i64.mul(a(), this.source64(insn)));
      case Op.Or64K: case Op.Or64X: return set(m.i64.or(a(), this.source64(insn)));
      case Op.And64K: case Op.And64X: return set(m.i64.and(a(), this.source64(insn)));
      case Op.Xor64K: case Op.Xor64X: return set(m.i64.xor(a(), this.source64(insn)));
      // Shift counts are masked to 6 bits by both BPF and WebAssembly.
      case Op.Lsh64K: case Op.Lsh64X: return set(m.i64.shl(a(), this.source64(insn)));
      case Op.Rsh64K: case Op.Rsh64X: return set(m.i64.shr_u(a(), this.source64(insn)));
      case Op.Arsh64K: case Op.Arsh64X: return set(m.i64.shr_s(a(), this.source64(insn)));
      case Op.Mov64K: case Op.Mov64X: return set(this.source64(insn));
      case Op.Movsx64_8: return set(m.i64.extend8_s(this.get(insn.src)));
      case Op.Movsx64_16: return set(m.i64.extend16_s(this.get(insn.src)));
      case Op.Movsx64_32: return set(m.i64.extend32_s(this.get(insn.src)));
      case Op.Neg64: return set(m.i64.sub(this.c64(0, 0), a()));
      // dst / 0 = 0.
      case Op.Div64K: case Op.Div64X: return division(() => this.c64(0, 0), () => m.i64.div_u(a(), divisor()));
      // dst % 0 = dst.
      case Op.Mod64K: case Op.Mod64X: return division(a, () => m.i64.rem_u(a(), divisor()));
      // Signed: / 0 = 0, and / -1 is a negation (INT64_MIN / -1 = INT64_MIN; wasm would trap).
      case Op.Sdiv64K: case Op.Sdiv64X:
        return division(() => this.c64(0, 0), () => m.i64.div_s(a(), divisor()), () => m.i64.sub(this.c64(0, 0), a()));
      // Signed % 0 = dst; wasm's rem_s already gives INT64_MIN % -1 = 0.
      case Op.Smod64K: case Op.Smod64X: return division(a, () => m.i64.rem_s(a(), divisor()));
    }
    throw new Error(`pc ${insn.pc}: no 64-bit ALU lowering for ${specOf(insn.op).mnemonic}`);
  }

  protected alu32(insn: Instruction): Expr {
    const { m } = this;
    const a = () => this.get32(insn.dst);
    const x = (insn.opcode & 0x08) !== 0;
    // 32-bit results are zero-extended into the 64-bit register.
    const set = (v32: Expr) => this.set(insn.dst, this.zext(v32));
    // As in alu64, with T32 holding a register divisor.
    const k = insn.imm;
    const divisor = () => (x ? m.local.get(T32, this.i32) : m.i32.const(k));
    const division = (ifZero: () => Expr, divide: () => Expr, ifMinusOne?: () => Expr): Expr => {
      if (!x) return set(k === 0 ? ifZero() : k === -1 && ifMinusOne ? ifMinusOne() : divide());
      const nonZero = ifMinusOne ? m.if(m.i32.eq(divisor(), m.i32.const(-1)), ifMinusOne(), divide()) : divide();
      return m.block(null, [m.local.set(T32, this.get32(insn.src)), set(m.if(m.i32.eqz(divisor()), ifZero(), nonZero))]);
    };
    switch (insn.op) {
      case Op.Add32K: case Op.Add32X: return set(m.i32.add(a(), this.source32(insn)));
      case Op.Sub32K: case Op.Sub32X: return set(m.i32.sub(a(), this.source32(insn)));
      case Op.Mul32K: case Op.Mul32X: return set(m.i32.mul(a(), this.source32(insn)));
      case Op.Or32K: case Op.Or32X: return set(m.i32.or(a(), this.source32(insn)));
      case Op.And32K: case Op.And32X: return set(m.i32.and(a(), this.source32(insn)));
      case Op.Xor32K: case Op.Xor32X: return set(m.i32.xor(a(), this.source32(insn)));
      case Op.Lsh32K: case Op.Lsh32X: return set(m.i32.shl(a(), this.source32(insn)));
      case Op.Rsh32K: case Op.Rsh32X: return set(m.i32.shr_u(a(), this.source32(insn)));
      case Op.Arsh32K: case Op.Arsh32X: return set(m.i32.shr_s(a(), this.source32(insn)));
      case Op.Mov32K: case Op.Mov32X: return set(this.source32(insn));
      case Op.Movsx32_8: return set(m.i32.extend8_s(this.get32(insn.src)));
      case Op.Movsx32_16: return set(m.i32.extend16_s(this.get32(insn.src)));
      case Op.Neg32: return set(m.i32.sub(m.i32.const(0), a()));
      case Op.Div32K: case Op.Div32X: return division(() => m.i32.const(0), () => m.i32.div_u(a(), divisor()));
      // % 0 keeps the low half of dst, zero-extended.
      case Op.Mod32K: case Op.Mod32X: return division(a, () => m.i32.rem_u(a(), divisor()));
      case Op.Sdiv32K: case Op.Sdiv32X:
        return division(() => m.i32.const(0), () => m.i32.div_s(a(), divisor()), () => m.i32.sub(m.i32.const(0), a()));
      case Op.Smod32K: case Op.Smod32X: return division(a, () => m.i32.rem_s(a(), divisor()));
    }
    throw new Error(`pc ${insn.pc}: no 32-bit ALU lowering for ${specOf(insn.op).mnemonic}`);
  }

  protected unary(insn: Instruction): Expr {
    const { m } = this;
    const d = insn.dst;
    switch (insn.op) {
      case Op.Neg64: return this.alu64(insn);
      case Op.Neg32: return this.alu32(insn);
      // To little-endian on a little-endian machine: truncate and zero-extend.
      case Op.Le16: return this.set(d, m.i64.and(this.get(d), this.c64(0xffff, 0)));
      case Op.Le32: return this.set(d, this.zext(this.get32(d)));
      case Op.Le64: return m.nop();
      case Op.Be16: case Op.Bswap16: return this.set(d, this.zext(this.bswap16(this.get32(d))));
      case Op.Be32: case Op.Bswap32: return this.set(d, this.zext(this.bswap32(this.get32(d))));
      case Op.Be64: case Op.Bswap64: return this.bswap64(d);
    }
    throw new Error(`pc ${insn.pc}: no lowering for ${specOf(insn.op).mnemonic}`);
  }

  protected memory(insn: Instruction): Expr {
    const { m } = this;
    // A non-negative offset goes in the access's offset immediate. Past 4 GiB WebAssembly traps,
    // where the interpreter reports the address outside guest memory.
    const base = (reg: number) => (insn.off >= 0 ? this.get32(reg) : this.address(reg, insn.off));
    const offset = Math.max(insn.off, 0);
    const from = () => base(insn.src);
    const to = () => base(insn.dst);
    const value = () => ((insn.opcode & 0x07) === 0x03 ? this.get(insn.src) : this.k64(insn.imm));
    // Unaligned accesses are allowed (alignment hint 1), as in BPF.
    switch (insn.op) {
      case Op.Ldxb: return this.set(insn.dst, m.i64.load8_u(offset, 1, from()));
      case Op.Ldxh: return this.set(insn.dst, m.i64.load16_u(offset, 1, from()));
      case Op.Ldxw: return this.set(insn.dst, m.i64.load32_u(offset, 1, from()));
      case Op.Ldxdw: return this.set(insn.dst, m.i64.load(offset, 1, from()));
      case Op.Ldxsb: return this.set(insn.dst, m.i64.load8_s(offset, 1, from()));
      case Op.Ldxsh: return this.set(insn.dst, m.i64.load16_s(offset, 1, from()));
      case Op.Ldxsw: return this.set(insn.dst, m.i64.load32_s(offset, 1, from()));
      case Op.Stb: case Op.Stxb: return m.i64.store8(offset, 1, to(), value());
      case Op.Sth: case Op.Stxh: return m.i64.store16(offset, 1, to(), value());
      case Op.Stw: case Op.Stxw: return m.i64.store32(offset, 1, to(), value());
      case Op.Stdw: case Op.Stxdw: return m.i64.store(offset, 1, to(), value());
    }
    throw new Error(`pc ${insn.pc}: no memory lowering for ${specOf(insn.op).mnemonic}`);
  }

  protected atomic(insn: Instruction): Expr {
    const { m } = this;
    const row = specOf(insn.op);
    const size = row.size!;
    const wide = size === 8;
    const addr = () => m.local.get(ADDR, this.i32);
    const old = () => m.local.get(T0, this.i64);
    const src = () => this.get(insn.src);
    // The old value, zero-extended for the 32-bit forms.
    const load = wide ? m.i64.load(0, 8, addr()) : m.i64.load32_u(0, 4, addr());
    const store = (v: Expr) => (wide ? m.i64.store(0, 8, addr(), v) : m.i64.store32(0, 4, addr(), v));
    const fetch = (insn.imm & 1) !== 0;
    let update: Expr;
    switch (insn.op) {
      case Op.AtomicAdd32: case Op.AtomicFetchAdd32: case Op.AtomicAdd64: case Op.AtomicFetchAdd64: update = store(m.i64.add(old(), src())); break;
      case Op.AtomicOr32: case Op.AtomicFetchOr32: case Op.AtomicOr64: case Op.AtomicFetchOr64: update = store(m.i64.or(old(), src())); break;
      case Op.AtomicAnd32: case Op.AtomicFetchAnd32: case Op.AtomicAnd64: case Op.AtomicFetchAnd64: update = store(m.i64.and(old(), src())); break;
      case Op.AtomicXor32: case Op.AtomicFetchXor32: case Op.AtomicXor64: case Op.AtomicFetchXor64: update = store(m.i64.xor(old(), src())); break;
      case Op.AtomicXchg32: case Op.AtomicXchg64: update = store(src()); break;
      // cmpxchg compares with r0 (its low half for the 32-bit form) and always loads the old value into r0.
      case Op.AtomicCmpxchg64:
        update = m.block(null, [m.if(m.i64.eq(old(), this.get(0)), store(src())), this.set(0, old())]);
        break;
      case Op.AtomicCmpxchg32:
        update = m.block(null, [m.if(m.i32.eq(m.i32.wrap(old()), this.get32(0)), store(src())), this.set(0, old())]);
        break;
      default:
        throw new Error(`pc ${insn.pc}: no atomic lowering for ${row.mnemonic}`);
    }
    const isCmpxchg = insn.op === Op.AtomicCmpxchg32 || insn.op === Op.AtomicCmpxchg64;
    return m.block(null, [
      m.local.set(ADDR, this.address(insn.dst, insn.off)),
      // Atomics must be naturally aligned, as in Linux.
      m.if(m.i32.and(addr(), m.i32.const(size - 1)), this.trap(TrapCode.MisalignedAtomic, insn.pc, addr())),
      m.local.set(T0, load),
      update,
      ...(fetch && !isCmpxchg ? [this.set(insn.src, old())] : []),
    ]);
  }

  protected lddw(insn: Instruction): Expr {
    const { m } = this;
    switch (insn.op) {
      case Op.Lddw: return this.set(insn.dst, this.c64(insn.imm, insn.immHi!));
      // A function pointer: the tag in the high half, the function's first slot in the low half.
      case Op.LddwFunc: return this.set(insn.dst, this.c64(branchTarget(insn)!, FUNCTION_POINTER_TAG));
      default: return this.trap(TrapCode.UnresolvedLddw, insn.pc, m.i32.const(insn.src));
    }
  }
}
