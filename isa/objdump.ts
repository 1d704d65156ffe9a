// A second disassembly syntax: the C-like one of llvm-objdump -d (LLVM 19's BPF instruction
// printer), byte for byte, including its listing layout and its decoder's quirks, so that our
// listings can be diffed against the toolchain's. Every rendering derives from the opcode table.
import { AluCode, AtomicOp, JmpCode, Mode, SLOT_BYTES } from './fields.js';
import { type Instruction, readSlot } from './instruction.js';
import { findSpec, type OpcodeSpec, specOf } from './opcodes.js';

/** How llvm-objdump was asked to decode. */
export interface ObjdumpOptions {
  /**
   * Decode as `llvm-objdump -d --mattr=+alu32` (or `--mcpu=v3`/`v4`) does: 32-bit loads, stores and
   * atomics name w registers. Off by default, like plain `llvm-objdump -d`, whose decoder then
   * shows sub-64-bit loads and stores with r registers, prints 32-bit fetch-add as a plain
   * `lock ... +=` and cannot decode the other 32-bit atomics (`<unknown>`).
   */
  readonly alu32?: boolean;
}

/** What llvm-objdump prints for bytes it cannot decode. */
export const OBJDUMP_UNKNOWN = '<unknown>';

/** LLVM's formatImm in hex mode: signed, `-0x5`, `0x0`. */
function hex(value: number | bigint): string {
  const v = BigInt(value);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** A branch displacement in slots: `+0x4`, `-0x4`, `+0x0`. */
function displacement(slots: number): string {
  return slots < 0 ? `-0x${(-slots).toString(16)}` : `+0x${slots.toString(16)}`;
}

/** A memory operand's register and offset: `r10 - 0x8`, `r1 + 0x0`. */
function address(reg: number, off: number): string {
  return off < 0 ? `r${reg} - 0x${(-off).toString(16)}` : `r${reg} + 0x${off.toString(16)}`;
}

const ALU_OPERATORS: Readonly<Record<number, string>> = {
  [AluCode.ADD]: '+', [AluCode.SUB]: '-', [AluCode.MUL]: '*', [AluCode.DIV]: '/', [AluCode.OR]: '|',
  [AluCode.AND]: '&', [AluCode.LSH]: '<<', [AluCode.RSH]: '>>', [AluCode.MOD]: '%', [AluCode.XOR]: '^',
  [AluCode.ARSH]: 's>>',
};

const CONDITIONS: Readonly<Record<number, string>> = {
  [JmpCode.JEQ]: '==', [JmpCode.JGT]: '>', [JmpCode.JGE]: '>=', [JmpCode.JSET]: '&', [JmpCode.JNE]: '!=',
  [JmpCode.JSGT]: 's>', [JmpCode.JSGE]: 's>=', [JmpCode.JLT]: '<', [JmpCode.JLE]: '<=', [JmpCode.JSLT]: 's<',
  [JmpCode.JSLE]: 's<=',
};

/** The operation of an atomic row (its imm discriminator without the FETCH bit) as C-like text. */
const ATOMIC_OPERATORS: Readonly<Record<number, { operator: string; name: string }>> = {
  [AtomicOp.ADD]: { operator: '+', name: 'add' },
  [AtomicOp.OR]: { operator: '|', name: 'or' },
  [AtomicOp.AND]: { operator: '&', name: 'and' },
  [AtomicOp.XOR]: { operator: '^', name: 'xor' },
};

const operation = (row: OpcodeSpec): number => row.opcode & 0xf0;

/** `u8`..`u64`, or `s8`..`s32` for the sign-extending loads. */
function memoryType(row: OpcodeSpec): string {
  const signed = (row.opcode & 0xe0) === Mode.MEMSX;
  return `${signed ? 's' : 'u'}${row.size! * 8}`;
}

function formatAlu(insn: Instruction, row: OpcodeSpec): string {
  const reg = row.is32 ? 'w' : 'r';
  const dst = `${reg}${insn.dst}`;
  const operand = row.src === 'reg' ? `${reg}${insn.src}` : hex(insn.imm);
  switch (operation(row)) {
    case AluCode.MOV:
      // Sign-extending moves carry the source width in the table's off rule (8, 16 or 32).
      return typeof row.off === 'number' && row.off !== 0 && row.src === 'reg' ? `${dst} = (s${row.off})${operand}` : `${dst} = ${operand}`;
    case AluCode.NEG:
      return `${dst} = -${dst}`;
    case AluCode.END:
      // le16/be32/bswap64...: LLVM prints the table's own mnemonic, always on the 64-bit register.
      return `r${insn.dst} = ${row.mnemonic} r${insn.dst}`;
    default: {
      // sdiv and smod are the rows whose off discriminator is 1.
      const signed = row.discriminator === 'off' && row.off === 1 ? 's' : '';
      return `${dst} ${signed}${ALU_OPERATORS[operation(row)]}= ${operand}`;
    }
  }
}

function formatAtomic(insn: Instruction, row: OpcodeSpec, alu32: boolean): string {
  const wide = row.size === 8;
  const type = `u${row.size! * 8}`;
  const imm = row.imm as number;
  const fetch = (imm & AtomicOp.FETCH) !== 0;
  const at = address(insn.dst, insn.off);
  if (!wide && !alu32) {
    // Without alu32 LLVM 19 only knows the legacy 32-bit XADD, and decodes it ignoring the FETCH bit.
    return imm === AtomicOp.ADD || imm === (AtomicOp.ADD | AtomicOp.FETCH) ? `lock *(${type} *)(${at}) += r${insn.src}` : OBJDUMP_UNKNOWN;
  }
  const reg = wide ? 'r' : 'w';
  const src = `${reg}${insn.src}`;
  if (imm === AtomicOp.XCHG) return `${src} = ${wide ? 'xchg_64' : 'xchg32_32'}(${at}, ${src})`;
  if (imm === AtomicOp.CMPXCHG) return `${reg}0 = ${wide ? 'cmpxchg_64' : 'cmpxchg32_32'}(${at}, ${reg}0, ${src})`;
  const op = ATOMIC_OPERATORS[imm & ~AtomicOp.FETCH]!;
  return fetch ? `${src} = atomic_fetch_${op.name}((${type} *)(${at}), ${src})` : `lock *(${type} *)(${at}) ${op.operator}= ${src}`;
}

function formatLddw(insn: Instruction, row: OpcodeSpec): string {
  if (row.src === 0) {
    const value = BigInt.asIntN(64, (BigInt(insn.immHi ?? 0) << 32n) | BigInt(insn.imm >>> 0));
    return `r${insn.dst} = ${hex(value)} ll`;
  }
  // LLVM has no syntax for the pseudo sources: its ld_pseudo shows the source and the low word only.
  return `ld_pseudo\tr${insn.dst}, ${hex(insn.src)}, 0x${(insn.imm >>> 0).toString(16)}`;
}

/**
 * One instruction in llvm-objdump's syntax, without the `<symbol+offset>` annotation that a
 * listing adds to jumps: `r0 = *(u32 *)(r1 + 0x4)`, `if r1 > 0x2 goto +0x1`, `r1 = 0x0 ll`.
 */
export function formatObjdump(insn: Instruction, options: ObjdumpOptions = {}): string {
  const row = specOf(insn.op);
  const alu32 = options.alu32 ?? false;
  switch (row.form) {
    case 'alu':
    case 'unary':
      return formatAlu(insn, row);
    case 'ldx': {
      const reg = alu32 && row.size !== 8 && (row.opcode & 0xe0) === Mode.MEM ? 'w' : 'r';
      return `${reg}${insn.dst} = *(${memoryType(row)} *)(${address(insn.src, insn.off)})`;
    }
    case 'st':
      return `*(${memoryType(row)} *)(${address(insn.dst, insn.off)}) = ${hex(insn.imm)}`;
    case 'stx': {
      const reg = alu32 && row.size !== 8 ? 'w' : 'r';
      return `*(${memoryType(row)} *)(${address(insn.dst, insn.off)}) = ${reg}${insn.src}`;
    }
    case 'atomic':
      return formatAtomic(insn, row, alu32);
    case 'lddw':
      return formatLddw(insn, row);
    case 'ja':
      return `goto ${displacement(insn.off)}`;
    case 'ja32':
      return `gotol ${displacement(insn.imm)}`;
    case 'jcc': {
      const reg = row.is32 ? 'w' : 'r';
      const operand = row.src === 'reg' ? `${reg}${insn.src}` : hex(insn.imm);
      return `if ${reg}${insn.dst} ${CONDITIONS[operation(row)]} ${operand} goto ${displacement(insn.off)}`;
    }
    case 'call':
    case 'calllocal':
    case 'callbtf':
      return `call ${hex(insn.imm)}`;
    case 'callx':
      return `callx r${insn.dst}`;
    case 'exit':
      return 'exit';
    case 'ldabs':
      return `r0 = *(${memoryType(row)} *)skb[${hex(insn.imm)}]`;
    case 'ldind':
      return `r0 = *(${memoryType(row)} *)skb[r${insn.src}]`;
    case 'maygoto':
      return `may_goto ${displacement(insn.off)}`;
  }
}

/** The slot a jump lands on, as llvm-objdump's branch evaluation computes it; undefined for non-jumps. */
function jumpTarget(insn: Instruction, row: OpcodeSpec): number | undefined {
  if (row.form === 'ja' || row.form === 'jcc' || row.form === 'maygoto') return insn.pc + 1 + insn.off;
  if (row.form === 'ja32') return insn.pc + 1 + insn.imm;
  return undefined;
}

/** A label in a code section: a function, or any other named symbol defined there. */
export interface ListingSymbol {
  readonly name: string;
  /** Byte offset within the section. */
  readonly offset: number;
}

/** One code section to list. */
export interface ListingSection {
  readonly name: string;
  readonly data: Uint8Array;
  readonly symbols: readonly ListingSymbol[];
  /** Source annotations by instruction slot (from BTF line info), each printed as a `; ` line before its instruction. */
  readonly source?: ReadonlyMap<number, string>;
}

/**
 * The labels llvm-objdump uses in a section: sorted by offset then name (for several symbols at
 * one offset it shows the last; LLVM compares names bytewise, JS by code unit: the same for ASCII),
 * with the section's name standing in at offset 0 when no symbol is there.
 */
function listingLabels(section: ListingSection): ListingSymbol[] {
  const labels = [...section.symbols].sort((a, b) => a.offset - b.offset || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (labels.length === 0 || labels[0]!.offset !== 0) labels.unshift({ name: section.name, offset: 0 });
  return labels;
}

/** `<name>` or `<name+0x18>` for a byte address, from the last label at or before it (64-bit wrap, as LLVM). */
function annotate(labels: readonly ListingSymbol[], target: bigint): string {
  let found: ListingSymbol | undefined;
  for (const label of labels) {
    if (BigInt(label.offset) <= target) found = label;
    else break;
  }
  if (!found) return '';
  const delta = target - BigInt(found.offset);
  return delta === 0n ? ` <${found.name}>` : ` <${found.name}+0x${delta.toString(16)}>`;
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Decodes one slot as LLVM's disassembler would: a record, or undefined where it prints `<unknown>`. */
function decodeAt(view: DataView, pc: number, slots: number): Instruction | undefined {
  const slot = readSlot(view, pc);
  const row = findSpec(slot.opcode, slot);
  if (!row) return undefined;
  const base = { pc, op: row.op, opcode: slot.opcode, dst: slot.dst, src: slot.src, off: slot.off, imm: slot.imm };
  if (row.width === 1) return base;
  // LLVM reads only the imm of lddw's second slot.
  return pc + 1 < slots ? { ...base, immHi: readSlot(view, pc + 1).imm } : undefined;
}

/** The lines of one instruction or undecodable slot: `     12:\t<bytes>\t<text>`. */
function listingLine(view: DataView, data: Uint8Array, pc: number, slots: number, labels: readonly ListingSymbol[], options: ObjdumpOptions): { line: string; width: number } {
  const insn = decodeAt(view, pc, slots);
  const index = `${pc}`.padStart(8);
  if (!insn) return { line: `${index}:\t${hexBytes(data.subarray(pc * SLOT_BYTES, (pc + 1) * SLOT_BYTES))}\t${OBJDUMP_UNKNOWN}`, width: 1 };
  const width = insn.immHi === undefined ? 1 : 2;
  const row = specOf(insn.op);
  let text = formatObjdump(insn, options);
  const target = jumpTarget(insn, row);
  if (target !== undefined && text !== OBJDUMP_UNKNOWN) text += annotate(labels, BigInt.asUintN(64, BigInt(target) * BigInt(SLOT_BYTES)));
  return { line: `${index}:\t${hexBytes(data.subarray(pc * SLOT_BYTES, (pc + width) * SLOT_BYTES))}\t${text}`, width };
}

/**
 * One section as `llvm-objdump -d` lists it: the `Disassembly of section` header, then for each
 * label its `<name>:` header and the instructions up to the next label. Lines are joined with
 * `\n`; the text starts with the blank line that precedes the header. Empty sections give ''.
 */
export function objdumpSection(section: ListingSection, options: ObjdumpOptions = {}): string {
  const { data } = section;
  if (data.length === 0) return '';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const slots = Math.floor(data.length / SLOT_BYTES);
  const labels = listingLabels(section);
  const lines = ['', `Disassembly of section ${section.name}:`];
  let pc = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    // Of several labels at one offset only the last is shown.
    if (i + 1 < labels.length && labels[i + 1]!.offset === label.offset) continue;
    const end = Math.min(i + 1 < labels.length ? labels[i + 1]!.offset : data.length, data.length) / SLOT_BYTES;
    lines.push('', `${label.offset.toString(16).padStart(16, '0')} <${label.name}>:`);
    pc = Math.max(pc, Math.ceil(label.offset / SLOT_BYTES));
    while (pc < end && pc < slots) {
      const note = section.source?.get(pc);
      if (note !== undefined) lines.push(`; ${note}`);
      const { line, width } = listingLine(view, data, pc, slots, labels, options);
      lines.push(line);
      pc += width;
    }
  }
  return lines.join('\n');
}

/** A whole `llvm-objdump -d FILE` listing for the given code sections, ending with a newline. */
export function objdumpListing(fileName: string, sections: readonly ListingSection[], options: ObjdumpOptions = {}): string {
  const parts = ['', `${fileName}:\tfile format elf64-bpf`];
  for (const section of sections) {
    const text = objdumpSection(section, options);
    if (text !== '') parts.push(text);
  }
  return `${parts.join('\n')}\n`;
}
