// Builds what the verifier needs from a loaded object's plain description (loader/): each map's
// layout and special fields (spin lock, timer) from its BTF, read-only global data with its frozen
// contents, the lddw instructions that refer to maps, and the source line of every pc.
import type { HelperTable } from '../helpers/table.js';
import type { Instruction } from '../isa/instruction.js';
import { BtfKind } from '../loader/btf-types.js';
import type { Btf } from '../loader/btf.js';
import { lineAt } from '../loader/btf-ext.js';
import type { MapDefinition } from '../loader/map-specs.js';
import type { ObjectSpec, ProgramSpec } from '../loader/object.js';
import type { MapReferenceInfo, SourceLine, VerifierInput, VerifierOptions } from './env.js';
import type { MapInfo } from './registers.js';

/** BPF_F_RDONLY_PROG. */
const RDONLY_PROG = 0x80;
/** Map types whose values programs may only read (devmap and cpumap entries are set from user space). */
const READ_ONLY_VALUES = new Set([14, 16, 25]);
const ARRAY_OF_MAPS = 12;
const HASH_OF_MAPS = 13;

/** Byte offset of a top-level member of struct type `name` in a value type. */
function memberOfType(btf: Btf, typeId: number, name: string): number | undefined {
  const t = btf.type(btf.resolve(typeId));
  if (t.kind !== BtfKind.STRUCT) return undefined;
  for (const m of t.members) {
    const mt = btf.type(btf.resolve(m.type));
    if (mt.kind === BtfKind.STRUCT && mt.name === name) return m.bitOffset / 8;
  }
  return undefined;
}

/** A map definition as the verifier sees it. */
export function mapInfoOf(def: MapDefinition, btf: Btf | undefined): MapInfo {
  const spinLockOffset = btf && def.valueType !== undefined ? memberOfType(btf, def.valueType, 'bpf_spin_lock') : undefined;
  const timerOffset = btf && def.valueType !== undefined ? memberOfType(btf, def.valueType, 'bpf_timer') : undefined;
  const dataReadOnly = (def.flags & RDONLY_PROG) !== 0;
  const isMapInMap = def.type === ARRAY_OF_MAPS || def.type === HASH_OF_MAPS;
  return {
    name: def.name,
    type: def.type,
    keySize: def.keySize,
    valueSize: def.valueSize,
    maxEntries: def.maxEntries,
    flags: def.flags | (READ_ONLY_VALUES.has(def.type) ? RDONLY_PROG : 0),
    readOnly: dataReadOnly || READ_ONLY_VALUES.has(def.type),
    ...(dataReadOnly && def.data ? { frozen: padded(def.data, def.valueSize) } : {}),
    ...(spinLockOffset !== undefined ? { spinLockOffset } : {}),
    ...(timerOffset !== undefined ? { timerOffset } : {}),
    ...(isMapInMap && def.innerMap ? { inner: mapInfoOf(def.innerMap, btf) } : {}),
  };
}

function padded(data: Uint8Array, size: number): Uint8Array {
  if (data.length >= size) return data;
  const out = new Uint8Array(size);
  out.set(data);
  return out;
}

/** The source line of each pc of a linked program, from the object's BTF line info. */
export function sourceLinesOf(spec: ObjectSpec, program: ProgramSpec): (pc: number) => SourceLine | undefined {
  const ext = spec.btfExt;
  if (!ext) return () => undefined;
  const fns = [...program.functions].sort((a, b) => a.pc - b.pc);
  return (pc) => {
    let fn: (typeof fns)[number] | undefined;
    for (const f of fns) if (f.pc <= pc) fn = f;
    if (!fn || pc >= fn.pc + fn.slots) return undefined;
    const rec = lineAt(ext, fn.section, fn.sectionPc + (pc - fn.pc));
    if (!rec) return undefined;
    return { file: rec.fileName.split('/').pop() ?? rec.fileName, line: rec.lineNumber, column: rec.column, text: rec.line };
  };
}

/**
 * Whether BTF func info says the function at `sectionPc` of `section` returns an integer or an enum
 * (Linux btf_type_is_small_int or an enum); undefined without func info for it.
 */
function returnsInt(spec: ObjectSpec, section: string, sectionPc: number): boolean | undefined {
  const btf = spec.btf;
  const record = spec.btfExt?.funcInfo.find((s) => s.section === section)?.records.find((r) => r.pc === sectionPc);
  if (!btf || !record) return undefined;
  const func = btf.typeById(record.typeId);
  const proto = func?.kind === BtfKind.FUNC ? btf.typeById(func.type) : undefined;
  if (proto?.kind !== BtfKind.FUNC_PROTO) return undefined;
  const ret = proto.returnType === 0 ? undefined : btf.typeById(btf.resolve(proto.returnType));
  return (ret?.kind === BtfKind.INT && ret.size <= 8) || ret?.kind === BtfKind.ENUM || ret?.kind === BtfKind.ENUM64;
}

/** The verifier's input for one program of an object. */
export function verifierInputOf(
  spec: ObjectSpec,
  program: ProgramSpec,
  insns: readonly Instruction[],
  helpers: HelperTable,
  options: VerifierOptions = {},
): VerifierInput {
  const infos = new Map(spec.maps.map((def) => [def.name, mapInfoOf(def, spec.btf)]));
  const maps = new Map<number, MapReferenceInfo>();
  for (const ref of program.references) {
    const map = infos.get(ref.map);
    if (map) maps.set(ref.pc, { map, kind: ref.kind, offset: ref.offset });
  }
  return {
    name: program.name,
    type: program.type,
    attach: program.attach,
    insns,
    helpers,
    maps,
    functions: program.functions.map((f) => ({ name: f.name, pc: f.pc, returnsInt: returnsInt(spec, f.section, f.sectionPc) })),
    source: sourceLinesOf(spec, program),
    options,
  };
}
