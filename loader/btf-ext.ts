// The .BTF.ext section reader: function info, line info and CO-RE relocation records per code
// section, as plain data (struct btf_ext_header and the info blocks of Documentation/bpf/btf.rst
// and libbpf's libbpf_internal.h). In an object file insn_off counts bytes; each record also
// carries the instruction slot (`pc` = insn_off / 8). Resolving CO-RE relocations is a later stage.
import type { Btf } from './btf.js';
import { BTF_MAGIC, BtfReader } from './btf.js';
import { formatType } from './btf-format.js';
import { BtfError, BtfKind, BTF_KIND_NAMES } from './btf-types.js';
import type { ElfFile } from './elf.js';
import { sectionByName } from './elf.js';

/** struct btf_ext_header; the CO-RE fields are 0 when the header predates them (hdr_len 24). */
export interface BtfExtHeader {
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  /** Offsets are relative to the end of the header, as in the file. */
  readonly funcInfoOff: number;
  readonly funcInfoLen: number;
  readonly lineInfoOff: number;
  readonly lineInfoLen: number;
  readonly coreReloOff: number;
  readonly coreReloLen: number;
}

/** bpf_func_info: the function that starts at an instruction. */
export interface BtfFuncInfo {
  /** Byte offset in the code section, as stored. */
  readonly insnOff: number;
  /** Instruction slot: insnOff / 8. */
  readonly pc: number;
  /** A BTF FUNC type id. */
  readonly typeId: number;
  /** The FUNC's name. */
  readonly name: string;
}

/** bpf_line_info: the source line an instruction comes from. */
export interface BtfLineInfo {
  readonly insnOff: number;
  readonly pc: number;
  /** The source file's name. */
  readonly fileName: string;
  /** The source line's text, as the compiler saw it. */
  readonly line: string;
  /** 1-based line number (line_col >> 10). */
  readonly lineNumber: number;
  /** 1-based column, 0 when unknown (line_col & 0x3ff). */
  readonly column: number;
}

/** enum bpf_core_relo_kind, indexed by number: the names llvm-objdump prints. */
export const CORE_RELO_KIND_NAMES: readonly string[] = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64',
  'local_type_id', 'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

/** bpf_core_relo_kind numbers. */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

/** bpf_core_relo: an instruction whose immediate or offset depends on the target's types. */
export interface BtfCoreRelo {
  readonly insnOff: number;
  readonly pc: number;
  /** The local (object's) root type. */
  readonly typeId: number;
  /** The access string, e.g. `0:1:2` (member indices after a first array index). */
  readonly accessString: string;
  /** The access string as numbers. */
  readonly access: readonly number[];
  /** CoreReloKind. */
  readonly kind: number;
}

/** The records of one code section. */
export interface BtfExtSection<R> {
  /** The code section's name, as in the ELF section table (e.g. `xdp`, `.text`). */
  readonly section: string;
  readonly records: readonly R[];
}

/** A parsed .BTF.ext. */
export interface BtfExt {
  readonly header: BtfExtHeader;
  readonly funcInfo: readonly BtfExtSection<BtfFuncInfo>[];
  readonly lineInfo: readonly BtfExtSection<BtfLineInfo>[];
  readonly coreRelos: readonly BtfExtSection<BtfCoreRelo>[];
}

/** Where a .BTF.ext blob comes from, for error messages. */
export interface BtfExtSource {
  readonly file?: string;
  readonly section?: string;
  /** Byte offset of the blob in the file; errors then name file offsets. */
  readonly offset?: number;
}

const HEADER_MIN = 24;
const HEADER_CORE = 32;


function readHeader(r: BtfReader): BtfExtHeader {
  if (r.bytes.length < 8) r.fail(`${r.bytes.length} bytes is too short for a BTF.ext header`, 0);
  const magic = r.view.getUint16(0, true);
  if (magic === 0x9feb) r.fail('big-endian BTF.ext is not supported', 0);
  if (magic !== BTF_MAGIC) r.fail(`bad magic 0x${magic.toString(16)} (expected 0x${BTF_MAGIC.toString(16)})`, 0);
  const version = r.view.getUint8(2);
  if (version !== 1) r.fail(`BTF.ext version ${version} is not supported (expected 1)`, 2);
  const hdrLen = r.u32(4);
  if (hdrLen < HEADER_MIN) r.fail(`header length ${hdrLen} is smaller than ${HEADER_MIN}`, 4);
  r.need(0, hdrLen, 'BTF.ext header');
  const core = hdrLen >= HEADER_CORE;
  return {
    magic,
    version,
    flags: r.view.getUint8(3),
    hdrLen,
    funcInfoOff: r.u32(8),
    funcInfoLen: r.u32(12),
    lineInfoOff: r.u32(16),
    lineInfoLen: r.u32(20),
    coreReloOff: core ? r.u32(24) : 0,
    coreReloLen: core ? r.u32(28) : 0,
  };
}

/**
 * Walks one info block: a u32 record size, then per code section a (name offset, count) pair and
 * `count` records of that size. `read` gets each record's offset.
 */
function readBlock<R>(
  r: BtfReader,
  btf: Btf,
  what: string,
  off: number,
  len: number,
  minRecord: number,
  read: (at: number) => R,
): BtfExtSection<R>[] {
  if (len === 0) return [];
  const start = r.u32(4) + off;
  r.need(start, len, `${what} block`);
  const end = start + len;
  if (off % 4 !== 0) r.fail(`${what} block offset ${off} is not 4-byte aligned`, start);
  r.need(start, 4, `${what} record size`, end);
  const recordSize = r.u32(start);
  if (recordSize < minRecord || recordSize % 4 !== 0) {
    r.fail(`${what} record size ${recordSize} is not a multiple of 4 of at least ${minRecord}`, start);
  }
  const sections: BtfExtSection<R>[] = [];
  for (let at = start + 4; at < end;) {
    r.need(at, 8, `${what} section header`, end);
    const section = sectionName(r, btf, r.u32(at), at);
    const count = r.u32(at + 4);
    if (count === 0) r.fail(`${what} for section ${section} has no records`, at + 4);
    at += 8;
    r.need(at, count * recordSize, `${count} ${what} records for section ${section}`, end);
    const records: R[] = [];
    for (let i = 0; i < count; i++, at += recordSize) records.push(read(at));
    sections.push({ section, records });
  }
  return sections;
}

function sectionName(r: BtfReader, btf: Btf, offset: number, at: number): string {
  const name = btfString(r, btf, offset, at, 'section name');
  if (name === '') r.fail('section name is empty', at);
  return name;
}

function btfString(r: BtfReader, btf: Btf, offset: number, at: number, what: string): string {
  if (offset >= btf.strings.length) r.fail(`${what} offset ${offset} is outside the .BTF string section (${btf.strings.length} bytes)`, at);
  return btf.stringAt(offset);
}

function instruction(r: BtfReader, insnOff: number, at: number): number {
  if (insnOff % 8 !== 0) r.fail(`instruction offset ${insnOff} is not a multiple of 8 bytes`, at);
  return insnOff / 8;
}

/** Records in a section must come in instruction order, each instruction at most once. */
function checkOrder<R extends { insnOff: number }>(r: BtfReader, what: string, blocks: BtfExtSection<R>[], blockAt: number, strict: boolean): void {
  for (const block of blocks) {
    for (let i = 1; i < block.records.length; i++) {
      const prev = block.records[i - 1]!.insnOff;
      const cur = block.records[i]!.insnOff;
      if (cur < prev || (strict && cur === prev)) {
        r.fail(`${what} for section ${block.section}: record ${i} at instruction offset ${cur} follows offset ${prev}`, blockAt);
      }
    }
  }
}

/**
 * Parses a .BTF.ext blob; strings and type ids refer to `btf`, the object's .BTF. Throws BtfError
 * naming the file, the section and the byte offset for anything malformed or truncated.
 */
export function parseBtfExt(data: Uint8Array, btf: Btf, source: BtfExtSource = {}): BtfExt {
  const r = new BtfReader(data, source.file ?? btf.file, source.section ?? '.BTF.ext', source.offset ?? 0, 'block');
  const header = readHeader(r);
  const checkType = (id: number, at: number, what: string): void => {
    if (id === 0 || id > btf.count) r.fail(`${what} type id ${id} is out of range (${btf.count} types)`, at);
  };
  const funcInfo = readBlock(r, btf, 'func info', header.funcInfoOff, header.funcInfoLen, 8, (at): BtfFuncInfo => {
    const insnOff = r.u32(at);
    const typeId = r.u32(at + 4);
    checkType(typeId, at + 4, 'func info');
    const func = btf.types[typeId]!;
    if (func.kind !== BtfKind.FUNC) r.fail(`func info type ${typeId} is a ${BTF_KIND_NAMES[func.kind]}, not a FUNC`, at + 4);
    return { insnOff, pc: instruction(r, insnOff, at), typeId, name: func.name };
  });
  checkOrder(r, 'func info', funcInfo, header.hdrLen + header.funcInfoOff, true);
  const lineInfo = readBlock(r, btf, 'line info', header.lineInfoOff, header.lineInfoLen, 16, (at): BtfLineInfo => {
    const insnOff = r.u32(at);
    const lineCol = r.u32(at + 12);
    return {
      insnOff,
      pc: instruction(r, insnOff, at),
      fileName: btfString(r, btf, r.u32(at + 4), at + 4, 'file name'),
      line: btfString(r, btf, r.u32(at + 8), at + 8, 'line'),
      lineNumber: lineCol >>> 10,
      column: lineCol & 0x3ff,
    };
  });
  checkOrder(r, 'line info', lineInfo, header.hdrLen + header.lineInfoOff, false);
  const coreRelos = readBlock(r, btf, 'CO-RE relocation', header.coreReloOff, header.coreReloLen, 16, (at): BtfCoreRelo => {
    const insnOff = r.u32(at);
    const typeId = r.u32(at + 4);
    checkType(typeId, at + 4, 'CO-RE relocation');
    const accessString = btfString(r, btf, r.u32(at + 8), at + 8, 'access string');
    if (!/^\d+(:\d+)*$/.test(accessString)) r.fail(`CO-RE access string '${accessString}' is not a list of numbers`, at + 8);
    const access = accessString.split(':').map(Number);
    if (access.some((n) => !Number.isSafeInteger(n))) r.fail(`CO-RE access string '${accessString}' holds a number too large`, at + 8);
    const kind = r.u32(at + 12);
    if (kind >= CORE_RELO_KIND_NAMES.length) r.fail(`CO-RE relocation kind ${kind} is unknown`, at + 12);
    return { insnOff, pc: instruction(r, insnOff, at), typeId, accessString, access, kind };
  });
  return { header, funcInfo, lineInfo, coreRelos };
}

/** The object's .BTF.ext parsed against its .BTF, or undefined when it has none. */
export function readBtfExt(elf: ElfFile, btf: Btf | undefined): BtfExt | undefined {
  const section = sectionByName(elf, '.BTF.ext');
  if (!section) return undefined;
  if (!btf) throw new BtfError(elf.fileName, 'the object has .BTF.ext but no .BTF', { section: section.name, offset: section.offset });
  return parseBtfExt(section.data, btf, { file: elf.fileName, section: section.name, offset: section.offset });
}

/** The line info record that covers instruction slot `pc` of `section`: the last one at or before it. */
export function lineAt(ext: BtfExt, section: string, pc: number): BtfLineInfo | undefined {
  const records = ext.lineInfo.find((s) => s.section === section)?.records;
  if (!records) return undefined;
  let found: BtfLineInfo | undefined;
  for (const rec of records) {
    if (rec.pc > pc) break;
    found = rec;
  }
  return found;
}

/**
 * What a CO-RE relocation refers to, as llvm-objdump -r prints it: `<byte_off> [21] struct
 * task_struct::pid (0:0)`, `<type_size> [24] struct mm_struct`, `<enumval_value> [25] enum pid_type::PIDTYPE_PGID = 2`.
 */
export function describeCoreRelo(btf: Btf, relo: BtfCoreRelo): string {
  const head = `<${CORE_RELO_KIND_NAMES[relo.kind]}> [${relo.typeId}] ${formatType(btf, relo.typeId)}`;
  if (relo.kind === CoreReloKind.ENUMVAL_EXISTS || relo.kind === CoreReloKind.ENUMVAL_VALUE) {
    const t = btf.type(btf.resolve(relo.typeId), 'CO-RE relocation');
    const value = (t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) ? t.values[relo.access[0]!] : undefined;
    if (!value) btf.fail(`CO-RE enum value ${relo.access[0]} does not exist in type ${relo.typeId}`, t.at);
    return `${head}::${value.name} = ${value.value}`;
  }
  if (relo.kind > CoreReloKind.FIELD_RSHIFT_U64) return head;
  let text = relo.access[0] === 0 ? '' : `[${relo.access[0]}]`;
  let type = relo.typeId;
  for (let i = 1; i < relo.access.length; i++) {
    const index = relo.access[i]!;
    const t = btf.type(btf.resolve(type), 'CO-RE relocation');
    if (t.kind === BtfKind.ARRAY) {
      text += `[${index}]`;
      type = t.type;
    } else if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) {
      const m = t.members[index];
      if (!m) btf.fail(`CO-RE access ${relo.accessString}: member ${index} does not exist in type ${t.id}`, t.at);
      text += `${i === 1 ? '' : '.'}${m.name === '' ? `<anon ${index}>` : m.name}`;
      type = m.type;
    } else {
      btf.fail(`CO-RE access ${relo.accessString}: type ${t.id} (${BTF_KIND_NAMES[t.kind]}) has no members`, t.at);
    }
  }
  return `${head}::${text} (${relo.accessString})`;
}
