// A minimal reader for ELF64 little-endian BPF objects (EM_BPF), as clang writes them: file header,
// section headers and names, the symbol table and SHT_REL/SHT_RELA relocations, following the
// System V gABI (ELF-64 Object File Format 1.5). Plain data out; giving the sections a meaning
// (programs, maps, BTF) is the next stage's job. Every malformed or truncated input is an ElfError.
import type { ListingSection } from '../isa/objdump.js';
import { ElfError } from './errors.js';

/** e_machine of BPF objects. */
export const EM_BPF = 247;

/** e_type values. */
export const ElfType = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;

/** sh_type values that this reader (or the loader after it) cares about. */
export const SectionType = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  SYMTAB_SHNDX: 18,
  LLVM_ADDRSIG: 0x6fff4c03,
} as const;

/** sh_flags bits. */
export const SectionFlag = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
  MERGE: 0x10,
  STRINGS: 0x20,
  INFO_LINK: 0x40,
} as const;

/** Special section indices in st_shndx. */
export const SpecialSection = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

/** ELF64_ST_TYPE values. */
export const SymbolType = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;

/** ELF64_ST_BIND values. */
export const SymbolBind = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

/** Relocation types of EM_BPF (llvm/BinaryFormat/ELFRelocs/BPF.def). */
export const BpfRelocationType = {
  NONE: 0,
  /** lddw: the 64-bit immediate, split over the two slots (maps, global data, functions). */
  R_BPF_64_64: 1,
  /** A 64-bit data word (.BTF.ext, .maps initialisers, DWARF). */
  R_BPF_64_ABS64: 2,
  /** A 32-bit data word (DWARF, .BTF). */
  R_BPF_64_ABS32: 3,
  /** A 32-bit data word that static linking does not resolve (.BTF, .BTF.ext). */
  R_BPF_64_NODYLD32: 4,
  /** A call's 32-bit immediate (bpf-to-bpf calls, kfuncs). */
  R_BPF_64_32: 10,
} as const;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

/** The fields of the file header that matter once the identification bytes are checked. */
export interface ElfHeader {
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: number;
  readonly flags: number;
  /** Index of the section holding the section names (0 if none). */
  readonly sectionNamesIndex: number;
}

/** One section header, with its bytes. */
export interface ElfSection {
  /** Position in the section header table; 0 is the null section. */
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  /** Byte offset of the section's data in the file. */
  readonly offset: number;
  /** Size in bytes; for SHT_NOBITS (.bss) the size in memory, with no bytes in the file. */
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** A view of the section's bytes in the input (not a copy); empty for SHT_NOBITS and SHT_NULL. */
  readonly data: Uint8Array;
}

/** One symbol table entry. */
export interface ElfSymbol {
  /** Position in the symbol table; relocations refer to symbols by it. 0 is the null symbol. */
  readonly index: number;
  readonly name: string;
  /** In a relocatable object, the offset within its section. */
  readonly value: number;
  readonly size: number;
  /** ELF64_ST_TYPE: SymbolType. */
  readonly type: number;
  /** ELF64_ST_BIND: SymbolBind. */
  readonly bind: number;
  /** ELF64_ST_VISIBILITY: 0 default, 1 internal, 2 hidden, 3 protected. */
  readonly visibility: number;
  /** st_shndx: the section the symbol is defined in, or a SpecialSection value. */
  readonly sectionIndex: number;
}

/** One relocation entry. */
export interface ElfRelocation {
  /** Byte offset within the section the relocation applies to. */
  readonly offset: number;
  /** Index into the symbol table (ElfFile.symbols). */
  readonly symbol: number;
  /** Relocation type: BpfRelocationType for BPF objects. */
  readonly type: number;
  /** SHT_RELA only; BPF objects use SHT_REL, whose addend is in the relocated bytes. */
  readonly addend?: bigint;
}

/** A relocation section and the section it applies to. */
export interface ElfRelocationSection {
  /** Index of the SHT_REL or SHT_RELA section. */
  readonly section: number;
  /** Index of the section being relocated (the header's sh_info). */
  readonly target: number;
  readonly relocations: readonly ElfRelocation[];
}

/** A parsed object file: plain data, views into the input bytes. */
export interface ElfFile {
  /** The name used in error messages and listings. */
  readonly fileName: string;
  readonly header: ElfHeader;
  /** Every section header, indexed by section index (index 0 is the null section). */
  readonly sections: readonly ElfSection[];
  /** The symbol table, indexed by symbol index (index 0 is the null symbol); empty without SHT_SYMTAB. */
  readonly symbols: readonly ElfSymbol[];
  /** Every SHT_REL and SHT_RELA section, in section order. */
  readonly relocations: readonly ElfRelocationSection[];
}

/** Bounds-checked little-endian reads: every read is checked before the DataView sees it. */
class Input {
  private readonly view: DataView;

  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(detail: string, section?: string, offset?: number): never {
    throw new ElfError(this.file, detail, { ...(section !== undefined && { section }), ...(offset !== undefined && { offset }) });
  }

  /** Checks that [offset, offset + length) lies inside the file. */
  need(offset: number, length: number, what: string, section?: string): void {
    if (offset + length > this.bytes.length) {
      this.fail(`${what} (${length} bytes) runs past the end of the file (${this.bytes.length} bytes)`, section, offset);
    }
  }

  u8(at: number): number {
    return this.view.getUint8(at);
  }

  u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  /** A 64-bit field that must fit a JavaScript number (offsets, sizes, addresses). */
  u64(at: number, what: string, section?: string): number {
    const value = this.view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} 0x${value.toString(16)} is too large`, section, at);
    return Number(value);
  }

  i64(at: number): bigint {
    return this.view.getBigInt64(at, true);
  }
}

const utf8 = new TextDecoder('utf-8');

/** A NUL-terminated string at `offset` within a string table section. */
function stringAt(input: Input, table: ElfSection, offset: number, what: string, section: string, at: number): string {
  if (offset >= table.data.length) {
    input.fail(`${what}: name offset ${offset} is outside the string table ${label(table)} (${table.data.length} bytes)`, section, at);
  }
  const end = table.data.indexOf(0, offset);
  if (end < 0) input.fail(`${what}: name at offset ${offset} of ${label(table)} is not NUL-terminated`, section, at);
  return utf8.decode(table.data.subarray(offset, end));
}

function label(section: { index: number; name: string }): string {
  return section.name === '' ? `#${section.index}` : section.name;
}

/** The e_ident checks, with a precise message for each kind of foreign file. */
function readIdentification(input: Input): void {
  const b = input.bytes;
  if (b.length < 4 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    input.fail('not an ELF file (bad magic number)', undefined, 0);
  }
  input.need(0, 16, 'ELF identification');
  if (b[4] !== 2) input.fail(`ELF class ${b[4]} is not ELFCLASS64: BPF objects are 64-bit ELF`, undefined, 4);
  if (b[5] !== 1) {
    input.fail(`data encoding ${b[5]} is not little-endian (ELFDATA2LSB)${b[5] === 2 ? ': big-endian BPF objects are not supported' : ''}`, undefined, 5);
  }
  if (b[6] !== 1) input.fail(`ELF identification version ${b[6]} is not 1`, undefined, 6);
}

function readHeader(input: Input): { header: ElfHeader; shoff: number; shnum: number; shentsize: number } {
  readIdentification(input);
  input.need(0, EHDR_SIZE, 'ELF header');
  const machine = input.u16(18);
  if (machine !== EM_BPF) input.fail(`machine ${machine} is not EM_BPF (${EM_BPF})`, undefined, 18);
  const version = input.u32(20);
  if (version !== 1) input.fail(`ELF version ${version} is not 1`, undefined, 20);
  const ehsize = input.u16(52);
  if (ehsize < EHDR_SIZE) input.fail(`header size ${ehsize} is smaller than ${EHDR_SIZE}`, undefined, 52);
  return {
    header: {
      type: input.u16(16),
      machine,
      version,
      entry: input.u64(24, 'entry point'),
      flags: input.u32(48),
      sectionNamesIndex: input.u16(62),
    },
    shoff: input.u64(40, 'section header table offset'),
    shentsize: input.u16(58),
    shnum: input.u16(60),
  };
}

interface RawSection {
  index: number;
  nameOffset: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  headerAt: number;
}

function readSectionHeader(input: Input, shoff: number, index: number): RawSection {
  const at = shoff + index * SHDR_SIZE;
  const where = `#${index}`;
  return {
    index,
    nameOffset: input.u32(at),
    type: input.u32(at + 4),
    flags: input.u64(at + 8, 'section flags', where),
    addr: input.u64(at + 16, 'section address', where),
    offset: input.u64(at + 24, 'section offset', where),
    size: input.u64(at + 32, 'section size', where),
    link: input.u32(at + 40),
    info: input.u32(at + 44),
    addralign: input.u64(at + 48, 'section alignment', where),
    entsize: input.u64(at + 56, 'section entry size', where),
    headerAt: at,
  };
}

/** Reads the section header table, resolving the gABI's extended numbering (counts kept in section 0). */
function readSectionHeaders(input: Input, shoff: number, shnum: number, shentsize: number, namesIndex: number): { raws: RawSection[]; namesIndex: number } {
  if (shoff === 0) {
    if (shnum !== 0) input.fail(`${shnum} sections declared but no section header table`, undefined, 60);
    return { raws: [], namesIndex: 0 };
  }
  if (shentsize !== SHDR_SIZE) input.fail(`section header size ${shentsize} is not ${SHDR_SIZE}`, undefined, 58);
  input.need(shoff, SHDR_SIZE, 'section header table');
  const first = readSectionHeader(input, shoff, 0);
  const count = shnum === 0 ? first.size : shnum;
  if (count === 0) input.fail('the section header table is empty', undefined, 60);
  input.need(shoff, count * SHDR_SIZE, `section header table of ${count} entries`);
  if (namesIndex === SpecialSection.XINDEX) namesIndex = first.link;
  const raws = [first];
  for (let i = 1; i < count; i++) raws.push(readSectionHeader(input, shoff, i));
  if (namesIndex >= count) input.fail(`section name table index ${namesIndex} is out of range (${count} sections)`, undefined, 62);
  return { raws, namesIndex };
}

function sectionData(input: Input, raw: RawSection): Uint8Array {
  if (raw.type === SectionType.NOBITS || raw.type === SectionType.NULL) return new Uint8Array(0);
  input.need(raw.offset, raw.size, 'section data', `#${raw.index}`);
  return input.bytes.subarray(raw.offset, raw.offset + raw.size);
}

function readSections(input: Input, raws: RawSection[], namesIndex: number): ElfSection[] {
  const unnamed = raws.map((raw): ElfSection => ({
    index: raw.index,
    name: '',
    type: raw.type,
    flags: raw.flags,
    addr: raw.addr,
    offset: raw.offset,
    size: raw.size,
    link: raw.link,
    info: raw.info,
    addralign: raw.addralign,
    entsize: raw.entsize,
    data: sectionData(input, raw),
  }));
  if (namesIndex === SpecialSection.UNDEF) return unnamed;
  const names = unnamed[namesIndex]!;
  if (names.type !== SectionType.STRTAB) {
    input.fail(`section name table has type ${names.type}, not SHT_STRTAB`, `#${namesIndex}`, raws[namesIndex]!.headerAt + 4);
  }
  // The name table's own name first, so that errors about the other names can say which table.
  const own = raws[namesIndex]!.nameOffset;
  const ownEnd = own < names.data.length ? names.data.indexOf(0, own) : -1;
  const named = ownEnd > own ? { ...names, name: utf8.decode(names.data.subarray(own, ownEnd)) } : names;
  return unnamed.map((s, i) => ({
    ...s,
    name: stringAt(input, named, raws[i]!.nameOffset, 'section name', `#${i}`, raws[i]!.headerAt),
  }));
}

/** Checks a table section's entry size and that it holds a whole number of entries. */
function checkTable(input: Input, section: ElfSection, entrySize: number, what: string, headerAt: number): number {
  if (section.entsize !== entrySize) {
    input.fail(`${what} entry size ${section.entsize} is not ${entrySize}`, label(section), headerAt + 56);
  }
  if (section.size % entrySize !== 0) {
    input.fail(`${what} size ${section.size} is not a multiple of ${entrySize}`, label(section), headerAt + 32);
  }
  return section.size / entrySize;
}

function linkedSection(input: Input, sections: readonly ElfSection[], from: ElfSection, index: number, type: number, what: string, headerAt: number): ElfSection {
  const target = index > 0 ? sections[index] : undefined;
  if (!target) input.fail(`${what} index ${index} is out of range (${sections.length} sections)`, label(from), headerAt);
  if (target.type !== type) input.fail(`${what} ${label(target)} has type ${target.type}, expected ${type}`, label(from), headerAt);
  return target;
}

function readSymbols(input: Input, sections: readonly ElfSection[], raws: RawSection[]): { symbols: ElfSymbol[]; symtab?: ElfSection } {
  const tables = sections.filter((s) => s.type === SectionType.SYMTAB);
  if (tables.length === 0) return { symbols: [] };
  if (tables.length > 1) input.fail(`more than one symbol table (${tables.map(label).join(', ')})`, label(tables[1]!), raws[tables[1]!.index]!.headerAt);
  const symtab = tables[0]!;
  const headerAt = raws[symtab.index]!.headerAt;
  const count = checkTable(input, symtab, SYM_SIZE, 'symbol table', headerAt);
  const strtab = linkedSection(input, sections, symtab, symtab.link, SectionType.STRTAB, 'string table', headerAt + 40);
  const where = label(symtab);
  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < count; index++) {
    const at = symtab.offset + index * SYM_SIZE;
    const info = input.u8(at + 4);
    const sectionIndex = input.u16(at + 6);
    if (sectionIndex === SpecialSection.XINDEX) {
      input.fail(`symbol ${index} uses an extended section index (SHT_SYMTAB_SHNDX), which is not supported`, where, at + 6);
    }
    if (sectionIndex !== SpecialSection.UNDEF && sectionIndex < SpecialSection.LORESERVE && sectionIndex >= sections.length) {
      input.fail(`symbol ${index}: section index ${sectionIndex} is out of range (${sections.length} sections)`, where, at + 6);
    }
    symbols.push({
      index,
      name: stringAt(input, strtab, input.u32(at), `symbol ${index}`, where, at),
      value: input.u64(at + 8, `symbol ${index} value`, where),
      size: input.u64(at + 16, `symbol ${index} size`, where),
      type: info & 0xf,
      bind: info >> 4,
      visibility: input.u8(at + 5) & 0x3,
      sectionIndex,
    });
  }
  return { symbols, symtab };
}

function readRelocations(input: Input, sections: readonly ElfSection[], raws: RawSection[], symbols: readonly ElfSymbol[], symtab: ElfSection | undefined): ElfRelocationSection[] {
  const out: ElfRelocationSection[] = [];
  for (const section of sections) {
    if (section.type !== SectionType.REL && section.type !== SectionType.RELA) continue;
    const rela = section.type === SectionType.RELA;
    const headerAt = raws[section.index]!.headerAt;
    const where = label(section);
    const count = checkTable(input, section, rela ? RELA_SIZE : REL_SIZE, 'relocation table', headerAt);
    if (!symtab) input.fail('relocations but no symbol table', where, headerAt + 40);
    if (section.link !== symtab.index) {
      input.fail(`linked to section ${section.link}, not to the symbol table (section ${symtab.index})`, where, headerAt + 40);
    }
    const target = sections[section.info];
    if (section.info === 0 || !target) {
      input.fail(`target section index ${section.info} is out of range (${sections.length} sections)`, where, headerAt + 44);
    }
    const relocations: ElfRelocation[] = [];
    for (let i = 0; i < count; i++) {
      const at = section.offset + i * (rela ? RELA_SIZE : REL_SIZE);
      const offset = input.u64(at, `relocation ${i} offset`, where);
      const symbol = input.u32(at + 12);
      const type = input.u32(at + 8);
      if (symbol >= symbols.length) {
        input.fail(`relocation ${i}: symbol index ${symbol} is out of range (${symbols.length} symbols)`, where, at + 12);
      }
      if (offset >= target.size) {
        input.fail(`relocation ${i}: offset 0x${offset.toString(16)} is outside ${label(target)} (${target.size} bytes)`, where, at);
      }
      relocations.push(rela ? { offset, symbol, type, addend: input.i64(at + 16) } : { offset, symbol, type });
    }
    out.push({ section: section.index, target: target.index, relocations });
  }
  return out;
}

/**
 * Parses an ELF64 little-endian EM_BPF object. The sections' `data` are views into `bytes`, which
 * the caller must not modify afterwards. Throws ElfError naming `fileName`, the section and the
 * byte offset for anything malformed or truncated.
 */
export function readElf(bytes: Uint8Array, fileName = '<memory>'): ElfFile {
  const input = new Input(fileName, bytes);
  const { header, shoff, shnum, shentsize } = readHeader(input);
  const { raws, namesIndex } = readSectionHeaders(input, shoff, shnum, shentsize, header.sectionNamesIndex);
  const sections = readSections(input, raws, namesIndex);
  const { symbols, symtab } = readSymbols(input, sections, raws);
  const relocations = readRelocations(input, sections, raws, symbols, symtab);
  return { fileName, header: { ...header, sectionNamesIndex: namesIndex }, sections, symbols, relocations };
}

/** The first section with a given name. */
export function sectionByName(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** A code section (SHF_EXECINSTR) with its labels: the named symbols defined in it, sections and files aside. */
export interface CodeSection extends ListingSection {
  readonly index: number;
}

/** The code sections in section order, each with its labels, ready for a disassembly listing. */
export function codeSections(elf: ElfFile): CodeSection[] {
  return elf.sections
    .filter((s) => (s.flags & SectionFlag.EXECINSTR) !== 0 && s.type !== SectionType.NOBITS)
    .map((s) => ({
      index: s.index,
      name: s.name,
      data: s.data,
      symbols: elf.symbols
        .filter((sym) => sym.sectionIndex === s.index && sym.name !== '' && sym.type !== SymbolType.SECTION && sym.type !== SymbolType.FILE)
        .map((sym) => ({ name: sym.name, offset: sym.value })),
    }));
}
