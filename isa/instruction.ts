// Instructions as plain readonly records, and their binary encoding (RFC 9669 section 3).
import { BadProgramError, TruncatedLddwError, UnknownOpcodeError, InvalidInstructionError } from './errors.js';
import { SLOT_BYTES } from './fields.js';
import { findSpec, Op, specsForOpcode, type OpcodeSpec, specOf } from './opcodes.js';

/**
 * One decoded instruction. `pc` is its slot index in the program. lddw is one record of width 2:
 * `imm` holds the low 32 bits of its immediate and `immHi` the high 32 bits (the second slot's imm).
 */
export interface Instruction {
  readonly pc: number;
  readonly op: Op;
  readonly opcode: number;
  readonly dst: number;
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
  /** lddw only: the second slot's signed 32-bit immediate. */
  readonly immHi?: number;
}

/** The table row of an instruction. */
export function spec(insn: Instruction): OpcodeSpec {
  return specOf(insn.op);
}

/** Slots occupied by an instruction (2 for lddw). */
export function width(insn: Instruction): 1 | 2 {
  return insn.immHi === undefined ? 1 : 2;
}

/** The 64-bit immediate of an lddw, as an unsigned BigInt. */
export function lddwValue(insn: Instruction): bigint {
  return (BigInt(insn.immHi! >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

/** Splits a 64-bit immediate into lddw's two signed 32-bit halves. */
export function splitImm64(value: bigint): { imm: number; immHi: number } {
  const v = BigInt.asUintN(64, value);
  return { imm: Number(BigInt.asIntN(32, v)), immHi: Number(BigInt.asIntN(32, v >> 32n)) };
}

/** Raw fields of one slot, before any meaning is given to them. */
export interface Slot {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Reads the slot at index `pc` of a little-endian instruction stream. */
export function readSlot(view: DataView, pc: number): Slot {
  const at = pc * SLOT_BYTES;
  const regs = view.getUint8(at + 1);
  return {
    opcode: view.getUint8(at),
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(at + 2, true),
    imm: view.getInt32(at + 4, true),
  };
}

/**
 * Decodes a program into records. Unknown opcodes, encodings that match no row of the opcode
 * table and a truncated lddw are typed errors; the other validity rules are in validate.ts.
 */
export function decode(bytes: Uint8Array): Instruction[] {
  if (bytes.length % SLOT_BYTES !== 0) {
    throw new BadProgramError(`program length ${bytes.length} is not a multiple of ${SLOT_BYTES} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots = bytes.length / SLOT_BYTES;
  const out: Instruction[] = [];
  for (let pc = 0; pc < slots; pc++) {
    const slot = readSlot(view, pc);
    const row = findSpec(slot.opcode, slot);
    if (!row) {
      const candidates = specsForOpcode(slot.opcode);
      if (candidates.length === 0) throw new UnknownOpcodeError(pc, slot.opcode);
      const field = candidates[0]!.discriminator!;
      const show = (v: number) => (field === 'imm' ? `0x${(v >>> 0).toString(16)}` : String(v));
      const choices = candidates.map((c) => `${show(c[field] as number)} ${c.mnemonic}`).join(', ');
      throw new InvalidInstructionError('reserved-field', pc,
        `opcode 0x${slot.opcode.toString(16).padStart(2, '0')}: ${field} ${show(slot[field])} selects no instruction (valid: ${choices})`);
    }
    if (row.width === 2) {
      if (pc + 1 >= slots) throw new TruncatedLddwError(pc, 'is missing its second slot');
      const next = readSlot(view, pc + 1);
      if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        throw new TruncatedLddwError(pc, 'second slot must have opcode, registers and offset zero');
      }
      out.push({ pc, op: row.op, opcode: slot.opcode, dst: slot.dst, src: slot.src, off: slot.off, imm: slot.imm, immHi: next.imm });
      pc++;
    } else {
      out.push({ pc, op: row.op, opcode: slot.opcode, dst: slot.dst, src: slot.src, off: slot.off, imm: slot.imm });
    }
  }
  return out;
}

/** Encodes records back to bytes; the inverse of decode. */
export function encode(insns: readonly Instruction[]): Uint8Array {
  const slots = insns.reduce((n, insn) => n + width(insn), 0);
  const bytes = new Uint8Array(slots * SLOT_BYTES);
  const view = new DataView(bytes.buffer);
  let pc = 0;
  for (const insn of insns) {
    writeSlot(view, pc++, insn);
    if (insn.immHi !== undefined) writeSlot(view, pc++, { opcode: 0, dst: 0, src: 0, off: 0, imm: insn.immHi });
  }
  return bytes;
}

function writeSlot(view: DataView, pc: number, s: Slot): void {
  const at = pc * SLOT_BYTES;
  view.setUint8(at, s.opcode);
  view.setUint8(at + 1, (s.dst & 0x0f) | ((s.src & 0x0f) << 4));
  view.setInt16(at + 2, s.off, true);
  view.setInt32(at + 4, s.imm, true);
}

/** Builds an instruction record from a row of the table, for assemblers and tests. */
export function make(row: OpcodeSpec, fields: { pc?: number; dst?: number; src?: number; off?: number; imm?: number; immHi?: number }): Instruction {
  const fixed = (rule: OpcodeSpec['src'], given: number | undefined) => (typeof rule === 'number' ? rule : given ?? 0);
  const insn: Instruction = {
    pc: fields.pc ?? 0,
    op: row.op,
    opcode: row.opcode,
    dst: fixed(row.dst, fields.dst),
    src: fixed(row.src, fields.src),
    off: fixed(row.off, fields.off),
    imm: fixed(row.imm, fields.imm),
  };
  return row.width === 2 ? { ...insn, immHi: fields.immHi ?? 0 } : insn;
}
