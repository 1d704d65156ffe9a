// The stack as the verifier sees it (Linux check_stack_{read,write}_{fixed,var}_off and
// check_stack_range_initialized): 8-byte slots holding spilled registers, initialised bytes
// (known zero or not) or never-written bytes. As for a privileged Linux loader, reading bytes never
// written gives an unknown value rather than a rejection (allow_uninit_stack): it is a value leak
// at worst, never a memory error, and Linux accepts such programs from root.
import { boundsWidth, coerceToSize, coerceToSizeSx } from './bounds.js';
import type { Env } from './env.js';
import { reject } from './reject.js';
import { constScalar, isPointer, RegType, unknownScalar, withFields, type Reg } from './registers.js';
import { EMPTY_SLOT, type Frame, isSpilled, slotAt, StackByte, type Slot } from './state.js';
import { formatTnum, tnumIsConst } from './tnum.js';

/** Linux MAX_BPF_STACK. */
export const STACK_BYTES = 512;
/** Linux BPF_MAX_VAR_OFF: variable offsets beyond this are treated as unbounded. */
export const MAX_VAR_OFF = 1 << 29;

/** Slot index and byte index (Linux's slot_type order) of the byte at frame offset `off` (< 0). */
function locate(off: number): { spi: number; k: number } {
  const slot = -off - 1;
  return { spi: Math.floor(slot / 8), k: slot % 8 };
}

function setByte(types: string, k: number, c: string): string {
  return types.slice(0, k) + c + types.slice(k + 1);
}

function growDepth(env: Env, frame: Frame, bytes: number): void {
  if (bytes > frame.stackDepth) {
    frame.stackDepth = bytes;
    env.noteStackDepth(frame.subprog, bytes);
  }
}

/** The stack frame a stack pointer points into. */
export function frameOf(env: Env, ptr: Reg): Frame {
  return env.state.frames[ptr.frameNo]!;
}

/**
 * Checks [ptr + off, + size) is inside the frame (Linux check_stack_access_within_bounds) and
 * returns the lowest and highest offsets touched. `access` names it in messages.
 */
export function stackBounds(env: Env, regno: number, ptr: Reg, off: number, size: number, access: 'read from' | 'write to' | 'indirect access to'): { min: number; max: number } {
  let min: number;
  let max: number;
  if (tnumIsConst(ptr.var)) {
    min = Number(BigInt.asIntN(64, ptr.var.value)) + off;
    max = min + size;
  } else {
    if (ptr.smax >= BigInt(MAX_VAR_OFF) || ptr.smin <= -BigInt(MAX_VAR_OFF)) {
      reject('stack-range', `invalid unbounded variable-offset ${access} stack R${regno}`);
    }
    min = Number(ptr.smin) + off;
    max = Number(ptr.smax) + off + size;
  }
  if (min < -STACK_BYTES || min > -1 || max > 0 || size < 0) {
    if (tnumIsConst(ptr.var)) reject('stack-range', `invalid ${access} stack R${regno} off=${off} size=${size}`);
    reject('stack-range', `invalid variable-offset ${access} stack R${regno} var_off=${formatTnum(ptr.var)} off=${off} size=${size}`);
  }
  growDepth(env, frameOf(env, ptr), -min);
  return { min, max };
}

/** Bits needed to hold a scalar's largest value (Linux get_reg_width). */
function width(reg: Reg): number {
  return boundsWidth(reg);
}

/** Gives a scalar an id before it is copied, so both copies learn from later checks (assign_scalar_id_before_mov). */
export function linkForCopy(env: Env, reg: Reg): Reg {
  if (reg.type !== RegType.Scalar) return reg;
  let r = reg;
  if (r.addConst) r = withFields(r, { id: 0, off: 0, addConst: false });
  if (!r.id && !tnumIsConst(r.var)) r = withFields(r, { id: env.nextId() });
  return r;
}

function saveRegister(frame: Frame, spi: number, reg: Reg, size: number): void {
  let types = slotAt(frame, spi).types;
  // The value sits at the slot's base: Linux's bytes 8-size..7; the bytes above it stay what they
  // were, except that spilled-register bytes become ordinary data.
  for (let k = 0; k < 8; k++) {
    if (k >= 8 - size) types = setByte(types, k, StackByte.SPILL);
    else if (types[k] !== StackByte.ZERO && types[k] !== StackByte.INVALID) types = setByte(types, k, StackByte.MISC);
  }
  frame.stack[spi] = { types, spill: reg };
}

/**
 * A store of `size` bytes at a constant frame offset (Linux check_stack_write_fixed_off).
 * `value` is the stored register, or the immediate of a BPF_ST. Returns the updated source register
 * when the spill linked it (it then shares an id with the slot).
 */
export function stackWriteFixed(env: Env, frame: Frame, off: number, size: number, value: { reg: Reg } | { imm: number }): Reg | undefined {
  const { spi, k } = locate(off);
  const aligned = off % 8 === 0;
  if ('reg' in value && aligned && value.reg.type === RegType.Scalar) {
    const fits = width(value.reg) <= size * 8;
    const linked = fits ? linkForCopy(env, value.reg) : value.reg;
    saveRegister(frame, spi, fits ? linked : withFields(linked, { id: 0 }), size);
    return linked;
  }
  if ('imm' in value && aligned) {
    saveRegister(frame, spi, constScalar(BigInt(value.imm)), size);
    return undefined;
  }
  if ('reg' in value && isPointer(value.reg)) {
    if (size !== 8) reject('stack-fill', 'invalid size of register spill');
    if (value.reg.type === RegType.Stack && frame !== env.state.frames[env.state.frames.length - 1]) {
      reject('stack-fill', 'cannot spill pointers to stack into stack frame of the caller');
    }
    saveRegister(frame, spi, value.reg, size);
    return undefined;
  }
  // Plain data: destroys any spilled register in the slot.
  const slot = slotAt(frame, spi);
  let types = slot.types;
  if (isSpilled(slot) || types.includes(StackByte.SPILL)) {
    for (let i = 0; i < 8; i++) if (types[i] !== StackByte.INVALID) types = setByte(types, i, StackByte.MISC);
  }
  const zero = 'reg' in value ? value.reg.type === RegType.Scalar && tnumIsConst(value.reg.var) && value.reg.var.value === 0n : value.imm === 0;
  const byte = zero ? StackByte.ZERO : StackByte.MISC;
  for (let i = 0; i < size; i++) types = setByte(types, (k - i + 8) % 8, byte);
  frame.stack[spi] = { types, spill: undefined };
  return undefined;
}

/** A store at a variable offset (Linux check_stack_write_var_off): every byte it may touch becomes data. */
export function stackWriteVar(frame: Frame, min: number, max: number, zero: boolean): void {
  for (let off = min; off < max; off++) {
    const { spi, k } = locate(off);
    const slot = slotAt(frame, spi);
    // A zero written over a spilled zero keeps the spill.
    if (zero && isSpilled(slot) && slot.spill!.type === RegType.Scalar && tnumIsConst(slot.spill!.var) && slot.spill!.var.value === 0n) continue;
    let types = slot.types;
    if (slot.spill) for (let i = 0; i < 8; i++) if (types[i] === StackByte.SPILL) types = setByte(types, i, StackByte.MISC);
    types = setByte(types, k, zero && types[k] === StackByte.ZERO ? StackByte.ZERO : StackByte.MISC);
    frame.stack[spi] = { types, spill: undefined };
  }
}

/** The value a load of `size` bytes at a constant frame offset gives (Linux check_stack_read_fixed_off). */
export function stackReadFixed(frame: Frame, off: number, size: number, ldsx: boolean): Reg {
  const { spi, k } = locate(off);
  const slot = slotAt(frame, spi);
  if (isSpilled(slot)) {
    const spill = slot.spill!;
    let spillSize = 1;
    while (spillSize < 8 && slot.types[7 - spillSize] === StackByte.SPILL) spillSize++;
    if (size === 8 && spillSize === 8) return spill;
    if (spill.type !== RegType.Scalar) reject('stack-fill', 'invalid size of register fill');
    if (size <= spillSize && off % 8 === 0) {
      // A narrowing fill of the spilled scalar's low bytes.
      const r = width(spill) > size * 8 ? withFields(spill, { id: 0 }) : withFields(spill, {});
      return coerce(r, size, ldsx);
    }
    let spills = 0;
    let zeros = 0;
    for (let i = 0; i < size; i++) {
      const t = slot.types[(k - i + 8) % 8];
      if (t === StackByte.SPILL) spills++;
      else if (t === StackByte.ZERO) zeros++;
    }
    if ((spills === size && tnumIsConst(spill.var) && spill.var.value === 0n) || zeros === size) return constScalar(0n);
    return coerce(unknownScalar(), size, ldsx);
  }
  let zeros = 0;
  for (let i = 0; i < size; i++) if (slot.types[(k - i + 8) % 8] === StackByte.ZERO) zeros++;
  return zeros === size ? constScalar(0n) : coerce(unknownScalar(), size, ldsx);
}

/** A load at a variable offset (Linux check_stack_read_var_off): known zero if every byte is, else unknown. */
export function stackReadVar(frame: Frame, min: number, max: number, size: number, ldsx: boolean): Reg {
  for (let off = min; off < max; off++) {
    const { spi, k } = locate(off);
    const slot = slotAt(frame, spi);
    const t = slot.types[k];
    const zeroSpill = t === StackByte.SPILL && slot.spill?.type === RegType.Scalar && tnumIsConst(slot.spill.var) && slot.spill.var.value === 0n;
    if (t !== StackByte.ZERO && !zeroSpill) return coerce(unknownScalar(), size, ldsx);
  }
  return constScalar(0n);
}

function coerce(reg: Reg, size: number, ldsx: boolean): Reg {
  if (size >= 8 || reg.type !== RegType.Scalar) return reg;
  const r = withFields(reg, {});
  if (ldsx) coerceToSizeSx(r, size);
  else coerceToSize(r, size);
  return r;
}

/**
 * A helper reads or writes [min, max) of a frame (Linux check_stack_range_initialized, privileged).
 * A write leaves data there: spilled registers and zero bytes in range become unknown.
 */
export function stackHelperAccess(frame: Frame, min: number, max: number, write: boolean): void {
  if (!write) return;
  for (let off = min; off < max; off++) {
    const { spi, k } = locate(off);
    const slot = slotAt(frame, spi);
    if (isSpilled(slot)) {
      let types = slot.types;
      for (let i = 0; i < 8; i++) if (types[i] !== StackByte.INVALID) types = setByte(types, i, StackByte.MISC);
      frame.stack[spi] = { types, spill: undefined };
      continue;
    }
    const t = slot.types[k];
    if (t === StackByte.ZERO || t === StackByte.INVALID) frame.stack[spi] = { types: setByte(slot.types, k, StackByte.MISC), spill: slot.spill };
  }
}

/** Marks [off, off + size) written as data, byte by byte (what a helper's uninitialised-memory argument gets). */
export function stackMarkWritten(frame: Frame, off: number, size: number): void {
  for (let i = 0; i < size; i++) {
    const { spi, k } = locate(off + i);
    const slot: Slot = frame.stack[spi] ?? EMPTY_SLOT;
    let types = slot.types;
    if (slot.spill) for (let j = 0; j < 8; j++) if (types[j] !== StackByte.INVALID) types = setByte(types, j, StackByte.MISC);
    frame.stack[spi] = { types: setByte(types, k, StackByte.MISC), spill: undefined };
  }
}

/** Linux's rendering of a frame's stack slots: ` fp-8=mmmmmmmm fp-16=map_value(...)`. */
export function formatStack(frame: Frame, formatSpill: (reg: Reg) => string): string {
  let out = '';
  for (let spi = 0; spi < frame.stack.length; spi++) {
    const slot = frame.stack[spi];
    if (!slot || slot.types === EMPTY_SLOT.types) continue;
    if (isSpilled(slot)) {
      const first = slot.types.indexOf(StackByte.SPILL);
      out += ` fp${-(spi + 1) * 8}=${slot.types.slice(0, first)}${formatSpill(slot.spill!)}`;
    } else {
      out += ` fp${-(spi + 1) * 8}=${slot.types}`;
    }
  }
  return out;
}

