// Reads a clang-compiled BPF object into a plain description, the way libbpf sees it: one pipeline
// (ELF -> BTF -> maps and global data -> programs with their subprograms linked and their
// relocations resolved to references). A Runtime turns the description into live objects.
import { decode, type Instruction } from '../isa/instruction.js';
import { CallSrc, LddwSrc } from '../isa/fields.js';
import { Op, specOf } from '../isa/opcodes.js';
import { BpfRelocationType, readElf, SectionFlag, SectionType, SpecialSection, SymbolBind, SymbolType, type ElfFile, type ElfRelocation, type ElfSection } from './elf.js';
import { LoaderError } from './errors.js';
import { readBtf, type Btf } from './btf.js';
import { readBtfExt, type BtfExt } from './btf-ext.js';
import { btfMaps, dataMaps, isDataSection, legacyMaps, type MapDefinition } from './map-specs.js';
import { programTypeOf, type AttachPoint, type ProgramType } from './program-types.js';

/** An lddw that refers to a map, or to a value inside one (global data), to be bound at load. */
export interface MapReference {
  /** Slot of the lddw in the linked program. */
  readonly pc: number;
  readonly map: string;
  /** 'map' for the map itself (a map pointer), 'value' for an address inside its (single) value. */
  readonly kind: 'map' | 'value';
  /** Byte offset into the value, for 'value'. */
  readonly offset: number;
}

/** A function linked into a program, for mapping slots back to source. */
export interface LinkedFunction {
  readonly name: string;
  readonly section: string;
  /** Slot of its first instruction in the linked program. */
  readonly pc: number;
  /** Slot of its first instruction in its section. */
  readonly sectionPc: number;
  readonly slots: number;
}

/** One program: its entry function with every subprogram it calls appended. */
export interface ProgramSpec {
  readonly name: string;
  readonly section: string;
  readonly type: ProgramType;
  readonly attach: AttachPoint;
  readonly insns: readonly Instruction[];
  readonly references: readonly MapReference[];
  /** The entry function first. */
  readonly functions: readonly LinkedFunction[];
  /**
   * Calls to kernel functions (kfuncs): `call` instructions to an extern function, which libbpf
   * turns into calls by BTF id (src_reg BPF_PSEUDO_KFUNC_CALL); here they are CallBtf with imm 0,
   * and the runtime resolves them by name.
   */
  readonly kfuncCalls?: readonly KfuncCall[];
}

/** A call to an extern (kernel) function, by the pc of its instruction in the linked program. */
export interface KfuncCall {
  readonly pc: number;
  readonly name: string;
}

/**
 * A program the object declares but that cannot be linked (its code does not decode, or it calls a
 * kernel function or refers to a symbol nothing defines). As with libbpf, one such program does not
 * stop the object's other programs from loading; asking for it gives its error.
 */
export interface ProgramFailure {
  readonly name: string;
  readonly section: string;
  readonly type: ProgramType;
  readonly error: LoaderError;
}

/** A whole object, as data. */
export interface ObjectSpec {
  readonly file: string;
  readonly license: string | undefined;
  readonly kernelVersion: number | undefined;
  readonly programs: readonly ProgramSpec[];
  /** Programs that could not be linked, with why. */
  readonly failures?: readonly ProgramFailure[];
  readonly maps: readonly MapDefinition[];
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
}

interface CodeSection {
  readonly section: ElfSection;
  readonly insns: readonly Instruction[];
  readonly byPc: ReadonlyMap<number, Instruction>;
  /** Relocations of the section, by instruction slot. */
  readonly relocations: ReadonlyMap<number, ElfRelocation>;
  /** Function symbols, by first slot. */
  readonly functions: ReadonlyMap<number, { name: string; slots: number; global: boolean }>;
}

function nulTerminated(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function codeSection(elf: ElfFile, section: ElfSection): CodeSection {
  let insns: Instruction[];
  try {
    insns = decode(section.data);
  } catch (err) {
    throw new LoaderError(elf.fileName, section.name, ((err as { pc?: number }).pc ?? 0) * 8, (err as Error).message);
  }
  const relocations = new Map<number, ElfRelocation>();
  for (const rs of elf.relocations) {
    if (rs.target !== section.index) continue;
    for (const r of rs.relocations) {
      if (r.offset % 8 !== 0) throw new LoaderError(elf.fileName, section.name, r.offset, 'relocation is not on an instruction boundary');
      relocations.set(r.offset / 8, r);
    }
  }
  const functions = new Map<number, { name: string; slots: number; global: boolean }>();
  for (const sym of elf.symbols) {
    if (sym.sectionIndex !== section.index || sym.type !== SymbolType.FUNC) continue;
    functions.set(sym.value / 8, { name: sym.name, slots: Math.max(1, sym.size / 8), global: sym.bind !== SymbolBind.LOCAL });
  }
  return { section, insns, byPc: new Map(insns.map((i) => [i.pc, i])), relocations, functions };
}

/** Reads an object file into a description. Malformed input is a typed error naming file, section and offset. */
export function loadObjectSpec(bytes: Uint8Array, fileName = '<object>'): ObjectSpec {
  const elf = readElf(bytes, fileName);
  const btf = readBtf(elf);
  const btfExt = readBtfExt(elf, btf);
  const license = elf.sections.find((s) => s.name === 'license');
  const version = elf.sections.find((s) => s.name === 'version');

  // Maps: legacy definitions, BTF definitions, global data. Each keyed by (section, offset) for relocations.
  const maps: MapDefinition[] = [];
  for (const s of elf.sections) {
    if (s.name === 'maps') maps.push(...legacyMaps(elf, s));
    else if (s.name === '.maps') maps.push(...btfMaps(elf, s, btf));
  }
  maps.push(...dataMaps(elf));
  const mapSections = new Set(maps.map((m) => m.section));

  // A code section that does not decode fails the programs that live in it or call into it, no others.
  const code = new Map<number, CodeSection>();
  const broken = new Map<number, LoaderError>();
  for (const s of elf.sections) {
    if ((s.flags & SectionFlag.EXECINSTR) === 0 || s.type !== SectionType.PROGBITS || s.size === 0) continue;
    try {
      code.set(s.index, codeSection(elf, s));
    } catch (err) {
      if (!(err instanceof LoaderError)) throw err;
      broken.set(s.index, err);
    }
  }

  const programs: ProgramSpec[] = [];
  const failures: ProgramFailure[] = [];
  for (const s of elf.sections) {
    const error = broken.get(s.index);
    if (!error || s.name === '.text') continue;
    const { type } = programTypeOf(s.name);
    for (const sym of elf.symbols) {
      if (sym.sectionIndex === s.index && sym.type === SymbolType.FUNC && sym.bind !== SymbolBind.LOCAL) failures.push({ name: sym.name, section: s.name, type, error });
    }
  }
  for (const cs of code.values()) {
    if (cs.section.name === '.text') continue;
    const { type, attach } = programTypeOf(cs.section.name);
    for (const [entry, fn] of cs.functions) {
      if (!fn.global) continue;
      try {
        programs.push({ ...link(elf, code, broken, cs, entry, fn.name, maps, mapSections), section: cs.section.name, type, attach });
      } catch (err) {
        if (!(err instanceof LoaderError)) throw err;
        failures.push({ name: fn.name, section: cs.section.name, type, error: err });
      }
    }
  }
  return {
    file: fileName,
    license: license ? nulTerminated(license.data) : undefined,
    kernelVersion: version && version.size >= 4 ? new DataView(version.data.buffer, version.data.byteOffset).getUint32(0, true) : undefined,
    programs,
    ...(failures.length > 0 ? { failures } : {}),
    maps,
    btf,
    btfExt,
  };
}

/** Lays out a program's entry function and, after it, every function it reaches through calls or function pointers. */
function link(
  elf: ElfFile,
  code: ReadonlyMap<number, CodeSection>,
  broken: ReadonlyMap<number, LoaderError>,
  home: CodeSection,
  entry: number,
  name: string,
  maps: readonly MapDefinition[],
  mapSections: ReadonlySet<string>,
): Pick<ProgramSpec, 'name' | 'insns' | 'references' | 'functions' | 'kfuncCalls'> {
  const functions: LinkedFunction[] = [];
  const placed = new Map<string, number>();
  const out: Instruction[] = [];
  const references: MapReference[] = [];
  const kfuncCalls: KfuncCall[] = [];
  const pending: { section: CodeSection; start: number }[] = [];
  // Calls and function pointers to patch once every function has its place: [out index, section, target slot].
  const fixups: { at: number; section: CodeSection; target: number }[] = [];
  const fail = (cs: CodeSection, slot: number, detail: string): never => {
    throw new LoaderError(elf.fileName, cs.section.name, slot * 8, detail);
  };

  const place = (cs: CodeSection, start: number): void => {
    const key = `${cs.section.index}:${start}`;
    if (placed.has(key)) return;
    const fn = cs.functions.get(start);
    const slots = fn?.slots ?? (cs.insns.at(-1)!.pc + 1 - start);
    const pc = out.length === 0 ? 0 : out.at(-1)!.pc + (out.at(-1)!.immHi === undefined ? 1 : 2);
    placed.set(key, pc);
    functions.push({ name: fn?.name ?? `${cs.section.name}+${start}`, section: cs.section.name, pc, sectionPc: start, slots });
    for (let slot = start; slot < start + slots; ) {
      const insn = cs.byPc.get(slot) ?? fail(cs, slot, 'function boundary falls inside an lddw');
      const newPc = pc + (slot - start);
      const relo = cs.relocations.get(slot);
      let out1: Instruction = { ...insn, pc: newPc };
      const callee = insn.op === Op.CallLocal && relo ? elf.symbols[relo.symbol] : undefined;
      if (callee && callee.sectionIndex === SpecialSection.UNDEF) {
        // An extern function: a kfunc, which libbpf resolves against the kernel's BTF.
        out1 = { ...out1, op: Op.CallBtf, src: CallSrc.BTF_ID, imm: 0 };
        kfuncCalls.push({ pc: newPc, name: callee.name });
      } else if (insn.op === Op.CallLocal) {
        // libbpf: with a relocation the target is the symbol's slot + imm + 1; without, it is relative.
        const target = relo ? symbolSlot(elf, cs, relo, slot) + insn.imm + 1 : slot + insn.imm + 1;
        fixups.push({ at: out.length, section: relo ? sectionOfSymbol(elf, code, broken, cs, relo, slot) : cs, target });
      } else if (specOf(insn.op).form === 'lddw' && relo && relo.type !== BpfRelocationType.R_BPF_64_ABS64) {
        const sym = elf.symbols[relo.symbol] ?? fail(cs, slot, `relocation names symbol ${relo.symbol}, which does not exist`);
        const targetSection = elf.sections[sym.sectionIndex];
        const failed = broken.get(sym.sectionIndex);
        if (failed) throw failed;
        if (targetSection && code.has(targetSection.index) && (targetSection.flags & SectionFlag.EXECINSTR) !== 0) {
          // A function pointer (a bpf_loop callback, callx): imm holds a byte offset from the symbol.
          out1 = { ...out1, op: Op.LddwFunc, src: LddwSrc.FUNC };
          fixups.push({ at: out.length, section: code.get(targetSection.index)!, target: (sym.value + insn.imm) / 8 });
        } else if (targetSection && mapSections.has(targetSection.name)) {
          const inData = isDataSection(targetSection);
          const offset = sym.type === SymbolType.SECTION ? insn.imm : sym.value + insn.imm;
          const map = inData
            ? maps.find((m) => m.section === targetSection.name)
            : maps.find((m) => m.section === targetSection.name && m.offset === (sym.type === SymbolType.SECTION ? insn.imm : sym.value));
          if (!map) fail(cs, slot, `no map is defined at ${targetSection.name}+${offset}`);
          references.push({ pc: newPc, map: map!.name, kind: inData ? 'value' : 'map', offset: inData ? offset : 0 });
        } else {
          fail(cs, slot, `lddw refers to '${sym.name || targetSection?.name || relo.symbol}', which is neither a map, global data nor a function`);
        }
      } else if (relo && relo.type !== BpfRelocationType.NONE && !(insn.op === Op.CallHelper)) {
        fail(cs, slot, `relocation of type ${relo.type} on ${specOf(insn.op).mnemonic} is not supported`);
      }
      out.push(out1);
      slot += insn.immHi === undefined ? 1 : 2;
    }
  };

  place(home, entry);
  for (let i = 0; i < fixups.length || pending.length; i++) {
    if (i >= fixups.length) break;
    const f = fixups[i]!;
    if (!f.section.functions.has(f.target) && !f.section.byPc.has(f.target)) fail(f.section, f.target, 'call or function pointer to a slot that holds no instruction');
    place(f.section, f.target);
  }
  // Patch the relative immediates now that every function has its slot.
  for (const f of fixups) {
    const target = placed.get(`${f.section.section.index}:${f.target}`)!;
    const insn = out[f.at]!;
    out[f.at] = { ...insn, imm: target - (insn.pc + 1) };
  }
  return { name, insns: out, references, functions, ...(kfuncCalls.length > 0 ? { kfuncCalls } : {}) };
}

/** Slot of the symbol a relocation names, in its own section. */
function symbolSlot(elf: ElfFile, cs: CodeSection, relo: ElfRelocation, slot: number): number {
  const sym = elf.symbols[relo.symbol];
  if (!sym) throw new LoaderError(elf.fileName, cs.section.name, slot * 8, `relocation names symbol ${relo.symbol}, which does not exist`);
  return sym.value / 8;
}

function sectionOfSymbol(elf: ElfFile, code: ReadonlyMap<number, CodeSection>, broken: ReadonlyMap<number, LoaderError>, cs: CodeSection, relo: ElfRelocation, slot: number): CodeSection {
  const sym = elf.symbols[relo.symbol]!;
  const failed = broken.get(sym.sectionIndex);
  if (failed) throw failed;
  const target = code.get(sym.sectionIndex);
  if (!target) throw new LoaderError(elf.fileName, cs.section.name, slot * 8, `call to '${sym.name}', which is not in a code section`);
  return target;
}
