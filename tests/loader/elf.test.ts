// loader/elf.ts against llvm-readobj-19 on every committed fixture, plus one test per kind of
// malformed input, each checking that the ElfError names the file, the section and the offset.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BpfError } from '../../isa/index.js';
import {
  BpfRelocationType,
  codeSections,
  ElfError,
  type ElfFile,
  readElf,
  SectionType,
  sectionByName,
  SymbolBind,
  SymbolType,
} from '../../loader/index.js';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
const load = (object: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, object)));

/** Our reading in build.sh's golden line format (see tests/fixtures/build.sh). */
function readobjLines(elf: ElfFile): string[] {
  const lines: string[] = [];
  for (const s of elf.sections) {
    lines.push(`section ${JSON.stringify([s.index, s.name, s.type, s.flags, s.offset, s.size, s.link, s.info, s.addralign, s.entsize])}`);
  }
  for (const sym of elf.symbols) {
    // llvm-readobj shows a section symbol (which has no name of its own) under its section's name.
    const name = sym.type === SymbolType.SECTION && sym.name === '' ? elf.sections[sym.sectionIndex]!.name : sym.name;
    lines.push(`symbol ${JSON.stringify([name, sym.value, sym.size, sym.bind, sym.type, sym.visibility, sym.sectionIndex])}`);
  }
  for (const rel of elf.relocations) {
    for (const r of rel.relocations) lines.push(`reloc ${JSON.stringify([rel.section, r.offset, r.type, r.symbol])}`);
  }
  return lines;
}

/** The golden lines, with st_other reduced to the visibility bits that ElfSymbol keeps. */
function goldenLines(object: string): string[] {
  const text = readFileSync(join(FIXTURES, 'golden', object.replace(/\.o$/, '.readobj')), 'utf8');
  return text.trimEnd().split('\n').map((line) => {
    if (!line.startsWith('symbol ')) return line;
    const fields = JSON.parse(line.slice('symbol '.length)) as (string | number)[];
    fields[5] = (fields[5] as number) & 3;
    return `symbol ${JSON.stringify(fields)}`;
  });
}

test('the fixture glob finds objects', () => {
  expect(objects.length).toBeGreaterThanOrEqual(8);
});

describe('reads every fixture as llvm-readobj does', () => {
  test.each(objects)('%s', (object) => {
    const bytes = load(object);
    const elf = readElf(bytes, object);
    expect(readobjLines(elf)).toEqual(goldenLines(object));
    expect(elf.header.machine).toBe(247);
    for (const s of elf.sections) {
      if (s.type === SectionType.NOBITS || s.type === SectionType.NULL) {
        expect(s.data.length).toBe(0);
      } else {
        expect(s.data.buffer).toBe(bytes.buffer);
        expect(s.data.byteOffset - bytes.byteOffset).toBe(s.offset);
        expect(s.data.length).toBe(s.size);
      }
    }
  });
});

test.each(objects)('%s: code relocations land on lddw and call instructions', (object) => {
  const elf = readElf(load(object), object);
  for (const rel of elf.relocations) {
    const target = elf.sections[rel.target]!;
    if (!codeSections(elf).some((c) => c.index === target.index)) continue;
    for (const r of rel.relocations) {
      expect(r.offset % 8).toBe(0);
      const opcode = target.data[r.offset];
      if (r.type === BpfRelocationType.R_BPF_64_64) expect(opcode).toBe(0x18);
      else expect([r.type, opcode]).toEqual([BpfRelocationType.R_BPF_64_32, 0x85]);
    }
  }
});

test('global data sections, symbols and relocations of global_data.o', () => {
  const elf = readElf(load('global_data.o'), 'global_data.o');
  for (const name of ['.rodata', '.data', '.bss', '.data.custom', '.rodata.str1.1', '.BTF', '.BTF.ext']) {
    expect(sectionByName(elf, name), name).toBeDefined();
  }
  const bss = sectionByName(elf, '.bss')!;
  expect(bss.type).toBe(SectionType.NOBITS);
  expect(bss.size).toBeGreaterThan(0);
  const packets = elf.symbols.find((s) => s.name === 'packets')!;
  expect(packets).toMatchObject({ type: SymbolType.OBJECT, bind: SymbolBind.GLOBAL, size: 8, sectionIndex: sectionByName(elf, '.data')!.index });
  const strings = sectionByName(elf, '.rodata.str1.1')!;
  expect(new TextDecoder().decode(strings.data).split('\0')).toContain('veth');
  // What the code refers to, through section symbols (static data) or named ones (globals, functions).
  const referenced = (section: string) => {
    const index = sectionByName(elf, section)!.index;
    const rel = elf.relocations.find((r) => r.target === index)!;
    return new Set(rel.relocations.map((r) => elf.sections[elf.symbols[r.symbol]!.sectionIndex]!.name));
  };
  expect(referenced('cgroup_skb/egress')).toEqual(new Set(['.rodata', '.rodata.cst16', '.data', '.bss', '.data.custom', '.text']));
  expect(referenced('.text')).toEqual(new Set(['.rodata.str1.1']));
});

test('the statically initialised prog array of tail_calls.o is relocated against the stage functions', () => {
  const elf = readElf(load('tail_calls.o'), 'tail_calls.o');
  const maps = sectionByName(elf, '.maps')!;
  const rel = elf.relocations.find((r) => r.target === maps.index)!;
  expect(rel.relocations.map((r) => [elf.symbols[r.symbol]!.name, r.type])).toEqual([
    ['stage_ipv4', BpfRelocationType.R_BPF_64_ABS64],
    ['stage_ipv6', BpfRelocationType.R_BPF_64_ABS64],
    ['stage_final', BpfRelocationType.R_BPF_64_ABS64],
  ]);
});

// --- Malformed input ------------------------------------------------------------------------

/** A copy of a fixture, parsed, with a DataView to patch it. */
function patchable(object = 'socket_filter.o') {
  const bytes = load(object).slice();
  const elf = readElf(bytes, object);
  const view = new DataView(bytes.buffer);
  const shoff = Number(view.getBigUint64(40, true));
  const header = (name: string) => shoff + sectionByName(elf, name)!.index * 64;
  return { bytes, elf, view, shoff, header };
}

function expectElfError(bytes: Uint8Array, match: { message: RegExp; section?: string; offset?: number }): ElfError {
  let caught: unknown;
  try {
    readElf(bytes, 'broken.o');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ElfError);
  const err = caught as ElfError;
  expect(err).toBeInstanceOf(BpfError);
  expect(err.file).toBe('broken.o');
  expect(err.message).toMatch(/^broken\.o: /);
  expect(err.message).toMatch(match.message);
  if ('section' in match) expect(err.section).toBe(match.section);
  if ('offset' in match) expect(err.offset).toBe(match.offset);
  return err;
}

test.for([
  ['empty input', () => new Uint8Array(0), { message: /not an ELF file/, offset: 0 }],
  ['bad magic', () => { const p = patchable(); p.bytes[1] = 0x46; return p.bytes; }, { message: /bad magic/, offset: 0 }],
  ['ELFCLASS32', () => { const p = patchable(); p.bytes[4] = 1; return p.bytes; }, { message: /class 1 is not ELFCLASS64/, offset: 4 }],
  ['big-endian', () => { const p = patchable(); p.bytes[5] = 2; return p.bytes; }, { message: /big-endian/, offset: 5 }],
  ['x86-64 machine', () => { const p = patchable(); p.view.setUint16(18, 62, true); return p.bytes; }, { message: /machine 62 is not EM_BPF/, offset: 18 }],
  ['truncated header', () => patchable().bytes.slice(0, 40), { message: /ELF header \(64 bytes\) runs past the end/, offset: 0 }],
  ['section table past the end', () => { const p = patchable(); return p.bytes.slice(0, p.shoff + 100); }, { message: /section header table of \d+ entries/ }],
  ['bad section header size', () => { const p = patchable(); p.view.setUint16(58, 40, true); return p.bytes; }, { message: /section header size 40/, offset: 58 }],
  ['names table index out of range', () => { const p = patchable(); p.view.setUint16(62, 200, true); return p.bytes; }, { message: /section name table index 200/, offset: 62 }],
  ['section data past the end', () => { const p = patchable(); p.view.setBigUint64(p.header('socket') + 32, 1n << 40n, true); return p.bytes; }, { message: /section data .* runs past the end/, section: '#3' }],
  ['section size beyond 2^53', () => { const p = patchable(); p.view.setBigUint64(p.header('socket') + 32, 1n << 60n, true); return p.bytes; }, { message: /section size 0x1000000000000000 is too large/, section: '#3' }],
  ['name offset outside the names table', () => { const p = patchable(); p.view.setUint32(p.header('socket'), 0xffff, true); return p.bytes; }, { message: /name offset 65535 is outside the string table \.strtab/, section: '#3' }],
  ['names table of the wrong type', () => { const p = patchable(); p.view.setUint32(p.header('.strtab') + 4, SectionType.PROGBITS, true); return p.bytes; }, { message: /section name table has type 1/ }],
  ['symbol table entry size', () => { const p = patchable(); p.view.setBigUint64(p.header('.symtab') + 56, 16n, true); return p.bytes; }, { message: /symbol table entry size 16 is not 24/, section: '.symtab' }],
  ['symbol table size', () => { const p = patchable(); const at = p.header('.symtab') + 32; p.view.setBigUint64(at, p.view.getBigUint64(at, true) - 1n, true); return p.bytes; }, { message: /not a multiple of 24/, section: '.symtab' }],
  ['symbol table linked to a non-string table', () => { const p = patchable(); p.view.setUint32(p.header('.symtab') + 40, sectionByName(p.elf, 'socket')!.index, true); return p.bytes; }, { message: /string table socket has type 1, expected 3/, section: '.symtab' }],
  ['symbol section index out of range', () => { const p = patchable(); const sym = sectionByName(p.elf, '.symtab')!.offset + 12 * 24; p.view.setUint16(sym + 6, 500, true); return p.bytes; }, { message: /symbol 12: section index 500 is out of range/, section: '.symtab' }],
  ['symbol name outside the string table', () => { const p = patchable(); const sym = sectionByName(p.elf, '.symtab')!.offset + 12 * 24; p.view.setUint32(sym, 1 << 20, true); return p.bytes; }, { message: /symbol 12: name offset 1048576 is outside the string table/, section: '.symtab' }],
  ['extended symbol section index', () => { const p = patchable(); const sym = sectionByName(p.elf, '.symtab')!.offset + 12 * 24; p.view.setUint16(sym + 6, 0xffff, true); return p.bytes; }, { message: /SHT_SYMTAB_SHNDX/ }],
  ['relocation symbol out of range', () => { const p = patchable(); const rel = sectionByName(p.elf, '.relsocket')!.offset; p.view.setUint32(rel + 12, 999, true); return p.bytes; }, { message: /relocation 0: symbol index 999 is out of range \(15 symbols\)/, section: '.relsocket' }],
  ['relocation offset outside its target', () => { const p = patchable(); const rel = sectionByName(p.elf, '.relsocket')!.offset; p.view.setBigUint64(rel, 4096n, true); return p.bytes; }, { message: /relocation 0: offset 0x1000 is outside socket/, section: '.relsocket' }],
  ['relocation target out of range', () => { const p = patchable(); p.view.setUint32(p.header('.relsocket') + 44, 77, true); return p.bytes; }, { message: /target section index 77/, section: '.relsocket' }],
  ['relocation table entry size', () => { const p = patchable(); p.view.setBigUint64(p.header('.relsocket') + 56, 24n, true); return p.bytes; }, { message: /relocation table entry size 24 is not 16/, section: '.relsocket' }],
  ['relocations not linked to the symbol table', () => { const p = patchable(); p.view.setUint32(p.header('.relsocket') + 40, 1, true); return p.bytes; }, { message: /linked to section 1, not to the symbol table/, section: '.relsocket' }],
  ['two symbol tables', () => { const p = patchable(); p.view.setUint32(p.header('.BTF') + 4, SectionType.SYMTAB, true); return p.bytes; }, { message: /more than one symbol table/ }],
] as const)('%s', ([, build, match]) => {
  expectElfError(build(), match);
});

test('errors name the file, the section and the offset in their message', () => {
  const p = patchable();
  const at = sectionByName(p.elf, '.relsocket')!.offset;
  p.view.setUint32(at + 12, 999, true);
  const err = expectElfError(p.bytes, { message: /symbol index 999/ });
  expect(err.message).toBe(`broken.o: section .relsocket: offset 0x${(at + 12).toString(16)}: relocation 0: symbol index 999 is out of range (15 symbols)`);
  expect(err.code).toBe('bad-elf');
});

test('extended section numbering (counts kept in section 0) reads the same', () => {
  const p = patchable();
  const count = p.elf.sections.length;
  const names = p.elf.header.sectionNamesIndex;
  p.view.setUint16(60, 0, true); // e_shnum = 0: the count is section 0's sh_size
  p.view.setUint16(62, 0xffff, true); // e_shstrndx = SHN_XINDEX: the index is section 0's sh_link
  p.view.setBigUint64(p.shoff + 32, BigInt(count), true);
  p.view.setUint32(p.shoff + 40, names, true);
  const elf = readElf(p.bytes, 'extended.o');
  expect(elf.sections.map((s) => s.name)).toEqual(p.elf.sections.map((s) => s.name));
  expect(elf.header.sectionNamesIndex).toBe(names);
});

test('an object without sections reads as empty', () => {
  const p = patchable();
  p.view.setBigUint64(40, 0n, true);
  p.view.setUint16(60, 0, true);
  p.view.setUint16(62, 0, true);
  expect(readElf(p.bytes)).toMatchObject({ sections: [], symbols: [], relocations: [] });
});
