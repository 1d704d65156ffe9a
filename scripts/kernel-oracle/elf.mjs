// A minimal ELF64 EM_BPF relocatable object writer: just enough for libbpf (and so bpftool) to load
// one program: program sections, call relocations, a "license" section, .symtab and .strtab; and,
// for this project's loader, legacy map definitions (a `maps` section) that lddw instructions name.
// Layout follows the System V gABI; libbpf's requirements are noted where they shape the output.

const EM_BPF = 247;
const ET_REL = 1;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_REL = 9;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STT_OBJECT = 1;
const STT_FUNC = 2;
/** Relocation type LLVM emits for a bpf-to-bpf call to a function symbol. */
export const R_BPF_64_32 = 10;
/** Relocation type LLVM emits for an lddw of a map. */
export const R_BPF_64_64 = 1;

class StringTable {
  constructor() {
    this.bytes = [0];
    this.offsets = new Map();
  }
  add(name) {
    if (!this.offsets.has(name)) {
      this.offsets.set(name, this.bytes.length);
      this.bytes.push(...Buffer.from(name, 'utf8'), 0);
    }
    return this.offsets.get(name);
  }
  get data() {
    return Uint8Array.from(this.bytes);
  }
}

/**
 * Builds the object.
 * @param {object} spec
 * @param {{name: string, code: Uint8Array}[]} spec.programs code sections, in order ("xdp", ".text")
 * @param {{name: string, section: string, offset: number, size: number, global: boolean}[]} spec.functions
 *   STT_FUNC symbols; libbpf makes one program or subprogram of each. A global symbol outside
 *   .text is a loadable program; subprograms live in .text (libbpf insists) and may be local.
 * @param {{section: string, offset: number, symbol: string}[]} spec.calls call relocations
 * @param {string} spec.license
 * @param {{name: string, type: number, keySize: number, valueSize: number, maxEntries: number}[]} [spec.maps]
 *   legacy map definitions (struct bpf_map_def), in a `maps` section (this project's loader reads them; libbpf 1.0 does not)
 * @param {{section: string, offset: number, map: string}[]} [spec.mapRefs] lddw instructions (byte offsets) that load a map
 * @returns {Uint8Array}
 */
export function writeElf({ programs, functions, calls, license, maps = [], mapRefs = [] }) {
  const shstr = new StringTable();
  const str = new StringTable();
  /** @type {{name: string, type: number, flags: number, data: Uint8Array, link?: number, info?: number, align: number, entsize?: number}[]} */
  const sections = [];
  const indexOf = (name) => sections.findIndex((s) => s.name === name) + 1;

  for (const p of programs) {
    sections.push({ name: p.name, type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: p.code, align: 8 });
  }
  sections.push({ name: 'license', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, data: Buffer.from(`${license}\0`), align: 1 });
  if (maps.length > 0) {
    const defs = new DataView(new ArrayBuffer(20 * maps.length));
    maps.forEach((m, i) => [m.type, m.keySize, m.valueSize, m.maxEntries, 0].forEach((v, j) => defs.setUint32(20 * i + 4 * j, v, true)));
    sections.push({ name: 'maps', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(defs.buffer), align: 4 });
  }

  // Locals must precede globals; sh_info of .symtab is the index of the first global.
  const mapSymbols = maps.map((m, i) => ({ name: m.name, section: 'maps', offset: 20 * i, size: 20, global: true, object: true }));
  const ordered = [...functions.filter((f) => !f.global), ...functions.filter((f) => f.global), ...mapSymbols];
  const symtab = new DataView(new ArrayBuffer(24 * (ordered.length + 1)));
  ordered.forEach((f, i) => {
    const at = 24 * (i + 1);
    symtab.setUint32(at, str.add(f.name), true);
    symtab.setUint8(at + 4, ((f.global ? STB_GLOBAL : STB_LOCAL) << 4) | (f.object ? STT_OBJECT : STT_FUNC));
    symtab.setUint16(at + 6, indexOf(f.section), true);
    symtab.setBigUint64(at + 8, BigInt(f.offset), true);
    symtab.setBigUint64(at + 16, BigInt(f.size), true);
  });
  const symbolIndex = (name) => ordered.findIndex((f) => f.name === name) + 1;
  const firstGlobal = ordered.findIndex((f) => f.global) + 1 || ordered.length + 1;

  // One .rel<section> per program section that has calls or map references out of it.
  const relSections = [];
  for (const p of programs) {
    const mine = [
      ...calls.filter((c) => c.section === p.name).map((c) => ({ offset: c.offset, symbol: c.symbol, type: R_BPF_64_32 })),
      ...mapRefs.filter((r) => r.section === p.name).map((r) => ({ offset: r.offset, symbol: r.map, type: R_BPF_64_64 })),
    ];
    if (mine.length === 0) continue;
    const rel = new DataView(new ArrayBuffer(16 * mine.length));
    mine.forEach((c, i) => {
      rel.setBigUint64(16 * i, BigInt(c.offset), true);
      rel.setBigUint64(16 * i + 8, (BigInt(symbolIndex(c.symbol)) << 32n) | BigInt(c.type), true);
    });
    relSections.push({ name: `.rel${p.name}`, target: p.name, data: new Uint8Array(rel.buffer) });
  }
  const symtabIndex = sections.length + relSections.length + 1;
  for (const r of relSections) {
    sections.push({ name: r.name, type: SHT_REL, flags: 0, data: r.data, link: symtabIndex, info: indexOf(r.target), align: 8, entsize: 16 });
  }
  sections.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0, data: new Uint8Array(symtab.buffer), link: symtabIndex + 1, info: firstGlobal, align: 8, entsize: 24 });
  sections.push({ name: '.strtab', type: SHT_STRTAB, flags: 0, data: str.data, align: 1 });
  sections.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, data: new Uint8Array(0), align: 1 });
  const names = sections.map((s) => shstr.add(s.name));
  sections[sections.length - 1].data = shstr.data;

  // Header, then section contents (each aligned), then the section header table.
  let offset = 64;
  const offsets = sections.map((s) => {
    offset = Math.ceil(offset / s.align) * s.align;
    const at = offset;
    offset += s.data.length;
    return at;
  });
  const shoff = Math.ceil(offset / 8) * 8;
  const total = shoff + 64 * (sections.length + 1);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* little-endian */, 1 /* EV_CURRENT */], 0);
  v.setUint16(16, ET_REL, true);
  v.setUint16(18, EM_BPF, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, sections.length + 1, true);
  v.setUint16(62, sections.length, true); // e_shstrndx: .shstrtab is last
  sections.forEach((s, i) => {
    out.set(s.data, offsets[i]);
    const at = shoff + 64 * (i + 1);
    v.setUint32(at, names[i], true);
    v.setUint32(at + 4, s.type, true);
    v.setBigUint64(at + 8, BigInt(s.flags), true);
    v.setBigUint64(at + 24, BigInt(offsets[i]), true);
    v.setBigUint64(at + 32, BigInt(s.data.length), true);
    v.setUint32(at + 40, s.link ?? 0, true);
    v.setUint32(at + 44, s.info ?? 0, true);
    v.setBigUint64(at + 48, BigInt(s.align), true);
    v.setBigUint64(at + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}
