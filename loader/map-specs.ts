// Map definitions in an object, as plain specs: libbpf's legacy `maps` section (struct bpf_map_def
// records of any size), BTF-defined `.maps` (anonymous structs whose members encode the
// parameters in their types, as bpf_helpers.h's __uint/__type/__array write them), and global
// data sections, which become single-entry array maps as in libbpf.
import type { ElfFile, ElfRelocation, ElfSection } from './elf.js';
import { SectionType, SymbolType } from './elf.js';
import { BtfKind } from './btf-types.js';
import type { Btf } from './btf.js';
import { LoaderError } from './errors.js';

/** BPF_MAP_TYPE_ARRAY: what global data sections become. */
const MAP_TYPE_ARRAY = 2;
/** BPF_F_RDONLY_PROG, set on .rodata maps. */
const BPF_F_RDONLY_PROG = 1 << 7;
/** BPF_MAP_TYPE_PERF_EVENT_ARRAY and BPF_MAP_TYPE_RINGBUF, whose definitions libbpf completes. */
const MAP_TYPE_PERF_EVENT_ARRAY = 4;
const MAP_TYPE_RINGBUF = 27;
/** The page size ring buffer sizes are rounded to (x86-64). */
const PAGE_SIZE = 4096;

/** One map as the object defines it. */
export interface MapDefinition {
  readonly name: string;
  /** BPF_MAP_TYPE_* number. */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly mapExtra: bigint;
  readonly pinning: number;
  /** BTF type ids of key and value, when the definition gives types (for encoding from JS). */
  readonly keyType?: number;
  readonly valueType?: number;
  /** The inner map of a map-in-map. */
  readonly innerMap?: MapDefinition;
  /** Initial contents of a global-data map. */
  readonly data?: Uint8Array;
  /** A global-data map's variables, where its symbols put them (clang leaves DATASEC offsets 0; libbpf fixes them from the symbols). */
  readonly variables?: readonly { readonly name: string; readonly offset: number; readonly size: number }[];
  /** Initial entries by index: program names for a prog array, map names for map-in-map and devmaps. */
  readonly initialValues?: readonly (string | undefined)[];
  /** Where it was defined: 'maps', '.maps' or the data section's name. */
  readonly section: string;
  /** The symbol offset of the definition in its section (how relocations find it). */
  readonly offset: number;
}

/** Sections that hold global data: `.data`, `.rodata`, `.bss`, and their named and merged variants. */
export function isDataSection(section: ElfSection): boolean {
  return /^\.(data|rodata|bss)(\..*)?$/.test(section.name) && (section.type === SectionType.PROGBITS || section.type === SectionType.NOBITS);
}

/** Global data sections as single-entry array maps, named after their sections. */
export function dataMaps(elf: ElfFile): MapDefinition[] {
  const variables = (s: ElfSection) => elf.symbols
    .filter((sym) => sym.sectionIndex === s.index && sym.type === SymbolType.OBJECT && sym.name !== '')
    .map((sym) => ({ name: sym.name, offset: sym.value, size: sym.size }));
  return elf.sections.filter(isDataSection).map((s) => ({
    name: s.name,
    type: MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: Math.max(s.size, 1),
    maxEntries: 1,
    flags: s.name.startsWith('.rodata') ? BPF_F_RDONLY_PROG : 0,
    mapExtra: 0n,
    pinning: 0,
    data: s.type === SectionType.NOBITS ? new Uint8Array(s.size) : s.data.slice(),
    variables: variables(s),
    section: s.name,
    offset: 0,
  }));
}

/**
 * What libbpf fills in of a definition before creating the map: a ring buffer's size rounded up to
 * a power-of-two multiple of the page size (adjust_ringbuf_sz; 0 stays 0, for the kernel to refuse),
 * and a perf event array's key and value sizes, 4 when left at 0 (newer libbpf and cilium/ebpf do;
 * libbpf 1.1 leaves them, and the kernel refuses). A perf event array's max_entries 0 becomes the
 * CPU count when the map is created (runtime/map-spec.ts).
 */
export function completeDefinition(def: MapDefinition): MapDefinition {
  if (def.type === MAP_TYPE_RINGBUF) {
    const size = ringbufSize(def.maxEntries);
    return size === def.maxEntries ? def : { ...def, maxEntries: size };
  }
  if (def.type === MAP_TYPE_PERF_EVENT_ARRAY && (def.keySize === 0 || def.valueSize === 0)) {
    return { ...def, keySize: def.keySize || 4, valueSize: def.valueSize || 4 };
  }
  return def;
}

/** adjust_ringbuf_sz: the smallest page-size * 2^n above `size`, unless `size` already is one (or 0, or too close to 2^32). */
function ringbufSize(size: number): number {
  if (size === 0) return 0;
  const pages = size / PAGE_SIZE;
  if (Number.isInteger(pages) && (pages & (pages - 1)) === 0) return size;
  for (let n = PAGE_SIZE; n <= 0xffffffff; n *= 2) if (n > size) return n;
  return size;
}

/** BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS. */
const MAP_IN_MAP_TYPES = new Set([12, 13]);
/** sizeof(struct bpf_elf_map), iproute2's record: bpf_map_def's five fields, then id, pinning, inner_id, inner_idx. */
const IPROUTE2_RECORD_SIZE = 36;
/** The legacy records' u32 fields past bpf_map_def's five. */
const LegacyField = { innerMapIdx: 5, id: 5, pinning: 6, innerId: 7, innerIdx: 8 } as const;

/**
 * Maps of the legacy `maps` section: one record per symbol, all of one size, bpf_map_def's five u32
 * fields first. Map-in-maps name their inner map in one of the two layouts loaders of that era read:
 * - iproute2's `struct bpf_elf_map` (36 bytes): an outer map's `inner_id` is the `id` of its inner
 *   map, and a map with an `id` is put into each outer map naming it, at slot `inner_idx` (~0: none);
 * - the kernel samples' bpf_load.c (any other size of 24 bytes or more): `inner_map_idx`, the sixth
 *   field, is the inner map's index among the section's maps in offset order.
 * libbpf 1.0 reads neither: it refuses the `maps` section altogether.
 */
export function legacyMaps(elf: ElfFile, section: ElfSection): MapDefinition[] {
  const symbols = elf.symbols.filter((s) => s.sectionIndex === section.index && s.type !== SymbolType.SECTION && s.name !== '').sort((a, b) => a.value - b.value);
  if (symbols.length === 0) return [];
  const recordSize = Math.floor(section.size / symbols.length);
  if (recordSize < 20 || recordSize * symbols.length !== section.size) {
    throw new LoaderError(elf.fileName, section.name, 0, `${section.size} bytes do not divide into ${symbols.length} map definitions of at least 20 bytes`);
  }
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const records = symbols.map((sym) => {
    if (sym.value % recordSize !== 0 || sym.value + recordSize > section.size) {
      throw new LoaderError(elf.fileName, section.name, sym.value, `map '${sym.name}' is not on a ${recordSize}-byte record boundary`);
    }
    const u32 = (i: number) => (i * 4 + 4 <= recordSize ? view.getUint32(sym.value + i * 4, true) : 0);
    const iproute2 = recordSize === IPROUTE2_RECORD_SIZE;
    const def = completeDefinition({
      name: sym.name,
      type: u32(0), keySize: u32(1), valueSize: u32(2), maxEntries: u32(3), flags: u32(4),
      mapExtra: 0n, pinning: iproute2 ? u32(LegacyField.pinning) : 0, section: section.name, offset: sym.value,
    });
    return { def, u32, iproute2 };
  });
  const fail = (def: MapDefinition, detail: string): never => {
    throw new LoaderError(elf.fileName, section.name, def.offset, `map '${def.name}': ${detail}`);
  };
  return records.map(({ def, u32, iproute2 }) => {
    if (!MAP_IN_MAP_TYPES.has(def.type)) return def;
    if (iproute2) {
      const innerId = u32(LegacyField.innerId);
      if (innerId === 0) return def;
      const inner = records.find((r) => r.u32(LegacyField.id) === innerId && r.u32(LegacyField.innerId) === 0)
        ?? fail(def, `its inner map has id ${innerId}, and no map in the section has that id`);
      // Every map with this id and a slot goes into the outer map at that slot, as iproute2 fills them.
      const values: (string | undefined)[] = [];
      for (const r of records) {
        const slot = r.u32(LegacyField.innerIdx);
        if (r.u32(LegacyField.id) === innerId && r.u32(LegacyField.innerId) === 0 && slot !== 0xffffffff) values[slot] = r.def.name;
      }
      return { ...def, innerMap: inner.def, ...(values.length > 0 ? { initialValues: values } : {}) };
    }
    if (recordSize < 24) return def;
    const index = u32(LegacyField.innerMapIdx);
    const inner = records[index] ?? fail(def, `inner_map_idx ${index} names no map (the section has ${records.length})`);
    if (inner.def === def) fail(def, 'inner_map_idx names the map itself');
    return { ...def, innerMap: inner.def };
  });
}

/** A `.maps` member's integer: `int (*name)[N]` gives N, and an enum of one value gives that value. */
function memberInt(btf: Btf, type: number, where: () => [string, number]): bigint {
  const t = btf.type(type);
  if (t.kind === BtfKind.PTR) {
    const target = btf.type(btf.resolve(t.type));
    if (target.kind === BtfKind.ARRAY) return BigInt(target.length);
  }
  if ((t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) && t.values.length === 1) return BigInt(t.values[0]!.value);
  const [section, offset] = where();
  throw new LoaderError(btf.file, section, offset, `map field of BTF type [${type}] is neither int (*)[N] nor a one-value enum`);
}

interface BtfMapContext {
  readonly elf: ElfFile;
  readonly btf: Btf;
  readonly section: ElfSection;
  /** ABS64 relocations in the section, by byte offset. */
  readonly relocations: ReadonlyMap<number, ElfRelocation>;
}

/**
 * One `.maps` variable. `end` is where the variable ends in the section (its DATASEC size, which
 * covers the flexible `values` array's initialisers): relocations past it belong to the next map,
 * as bpf_object__collect_map_relos attributes them.
 */
function parseBtfMap(ctx: BtfMapContext, name: string, structId: number, offset: number, end: number): MapDefinition {
  const { btf, section } = ctx;
  const fail = (detail: string): never => {
    throw new LoaderError(ctx.elf.fileName, section.name, offset, `map '${name}': ${detail}`);
  };
  const def = btf.type(btf.resolve(structId));
  if (def.kind !== BtfKind.STRUCT) return fail(`its BTF type is ${def.kind === BtfKind.UNION ? 'a union' : 'not a struct'}`);
  const spec: { -readonly [K in keyof MapDefinition]?: MapDefinition[K] } = { name, section: section.name, offset, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, mapExtra: 0n, pinning: 0 };
  for (const member of def.members) {
    const at = offset + member.bitOffset / 8;
    const int = () => memberInt(btf, member.type, () => [section.name, at]);
    switch (member.name) {
      case 'type': spec.type = Number(int()); break;
      case 'max_entries': spec.maxEntries = Number(int()); break;
      case 'map_flags': spec.flags = Number(int()); break;
      case 'map_extra': spec.mapExtra = int(); break;
      case 'pinning': spec.pinning = Number(int()); break;
      case 'numa_node': break;
      case 'key_size': spec.keySize = Number(int()); break;
      case 'value_size': spec.valueSize = Number(int()); break;
      case 'key':
      case 'value': {
        const ptr = btf.type(member.type);
        if (ptr.kind !== BtfKind.PTR) return fail(`member '${member.name}' is not a pointer to the ${member.name} type`);
        const target = ptr.type;
        if (member.name === 'key') { spec.keyType = target; spec.keySize = btf.sizeOf(target); }
        else { spec.valueType = target; spec.valueSize = btf.sizeOf(target); }
        break;
      }
      case 'values': {
        const array = btf.type(member.type);
        if (array.kind !== BtfKind.ARRAY) return fail("member 'values' is not an array");
        const element = btf.type(btf.resolve(array.type));
        if (element.kind !== BtfKind.PTR) return fail("member 'values' is not an array of pointers");
        const inner = btf.type(btf.resolve(element.type));
        if (inner.kind === BtfKind.STRUCT) spec.innerMap = parseBtfMap(ctx, `${name}.inner`, inner.id, at, at);
        // Initial values: one pointer per slot after the declared struct, up to the variable's end, set by relocations.
        const slots = Math.max(array.length, Math.floor((end - at) / 8));
        const values: (string | undefined)[] = [];
        for (let i = 0; i < slots; i++) {
          const relo = ctx.relocations.get(at + i * 8);
          if (relo) values[i] = ctx.elf.symbols[relo.symbol]?.name;
        }
        spec.initialValues = values;
        break;
      }
      default:
        fail(`unknown map field '${member.name}'`);
    }
  }
  // Map-in-map and prog arrays declared with __array(values, ...) hold u32 ids, as in libbpf.
  if ((spec.innerMap || spec.initialValues) && spec.valueSize === 0) spec.valueSize = 4;
  if ((spec.innerMap || spec.initialValues) && spec.keySize === 0) spec.keySize = 4;
  return completeDefinition(spec as MapDefinition);
}

/** Maps defined in `.maps`, read from the BTF DATASEC that describes the section. */
export function btfMaps(elf: ElfFile, section: ElfSection, btf: Btf | undefined): MapDefinition[] {
  if (!btf) throw new LoaderError(elf.fileName, section.name, 0, 'BTF-defined maps need a .BTF section, and the object has none');
  const datasec = btf.find(section.name, BtfKind.DATASEC);
  if (!datasec || datasec.kind !== BtfKind.DATASEC) throw new LoaderError(elf.fileName, section.name, 0, 'no BTF DATASEC describes this section');
  const relocations = new Map<number, ElfRelocation>();
  for (const rs of elf.relocations) if (rs.target === section.index) for (const r of rs.relocations) relocations.set(r.offset, r);
  const ctx: BtfMapContext = { elf, btf, section, relocations };
  // clang leaves DATASEC offsets at 0 in object files; like libbpf, take them from the symbols.
  const symbols = new Map(elf.symbols.filter((sym) => sym.sectionIndex === section.index).map((sym) => [sym.name, sym]));
  return datasec.vars.map((info) => {
    const v = btf.type(info.type);
    if (v.kind !== BtfKind.VAR) throw new LoaderError(elf.fileName, section.name, info.offset, `DATASEC entry [${info.type}] is not a variable`);
    const sym = symbols.get(v.name);
    if (sym === undefined) throw new LoaderError(elf.fileName, section.name, info.offset, `map '${v.name}' has BTF but no symbol`);
    const size = info.size || sym.size;
    if (sym.value + size > section.size) throw new LoaderError(elf.fileName, section.name, sym.value, `map '${v.name}': its ${size} bytes run past the section's end`);
    return parseBtfMap(ctx, v.name, v.type, sym.value, sym.value + size);
  });
}
