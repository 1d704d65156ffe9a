// CO-RE: applies a program's .BTF.ext relocation records against a target BTF, with libbpf's
// semantics (tools/lib/bpf/relo_core.c): candidates by essential name (`___flavour` stripped),
// field matching through anonymous members, compatibility and `matches` rules, enumerators by
// name, ambiguity checks, and the instruction patching of bpf_core_patch_insn (ALU imm, LDX/ST/STX
// offset and size, lddw imm64). Where libbpf would poison an instruction or fail, this throws a
// CoreRelocationError; where it gives a value for a missing target (exists → 0) it does the same.
import { type Instruction, lddwValue, splitImm64 } from '../isa/instruction.js';
import { findSpec } from '../isa/opcodes.js';
import { Class } from '../isa/fields.js';
import type { Btf } from './btf.js';
import { type BtfCoreRelo, type BtfExt, CORE_RELO_KIND_NAMES, CoreReloKind } from './btf-ext.js';
import { formatType } from './btf-format.js';
import { BtfKind, BTF_KIND_NAMES, type BtfType } from './btf-types.js';
import { CoreRelocationError } from './errors.js';
import type { ProgramSpec } from './object.js';

/** BPF_CORE_SPEC_MAX_LEN: the deepest access libbpf follows. */
const MAX_SPEC_LENGTH = 64;
/** libbpf's recursion bound for the compatibility and match checks. */
const MAX_DEPTH = 32;
/** The offset of LDX/ST/STX is a signed 16-bit field (SHRT_MAX). */
const MAX_OFFSET = 0x7fff;

/** What a relocated program is made from: an ObjectSpec fits. */
export interface CoreLocalObject {
  readonly file: string;
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
}

/** One relocation as applied. */
export interface AppliedCoreRelocation {
  /** Slot in the linked program. */
  readonly pc: number;
  readonly section: string;
  /** Byte offset of the instruction in its section (insn_off). */
  readonly sectionOffset: number;
  /** CoreReloKind. */
  readonly kind: number;
  /** The access in C terms: `task_struct.real_parent`, `enum pid_type::PIDTYPE_PGID`, `struct mm_struct`. */
  readonly access: string;
  /** The value the object's own BTF gives (what the compiler put in the instruction). */
  readonly original: bigint;
  /** The value the target gives, now in the instruction. */
  readonly value: bigint;
  /** The target root type that matched (the first, when flavours agree); undefined when none did. */
  readonly target: number | undefined;
}

/** A program's instructions with every CO-RE relocation applied. */
export interface CoreRelocatedProgram {
  readonly insns: readonly Instruction[];
  readonly relocations: readonly AppliedCoreRelocation[];
  /** With `poison`: the relocations that failed, each instruction replaced by a call to CORE_POISON_HELPER_ID. */
  readonly poisoned: readonly CoreRelocationError[];
}

/** Options of applyCoreRelocations. */
export interface CoreRelocationOptions {
  /**
   * Do as libbpf does with a relocation that finds no target (or cannot resize a load): replace the
   * instruction by `call 0xbad2310` instead of failing, so that code guarded by an existence check
   * still loads; the call fails only if it runs. Off by default: such relocations are errors.
   */
  readonly poison?: boolean;
}

/** The helper id libbpf's poisoned instructions call ("bad relo"); no such helper exists in Linux. */
export const CORE_POISON_HELPER_ID = 0xbad2310;

/** A failure inside the algorithm; the caller adds where it happened. `poisonable`: libbpf would poison, not fail. */
class CoreFailure extends Error {
  constructor(message: string, readonly poisonable = false) {
    super(message);
  }
}

function failure(detail: string): never {
  throw new CoreFailure(detail);
}

// --- Type helpers -----------------------------------------------------------------------------

/** A type after typedefs and modifiers; void is id 0 with no record. */
interface Resolved {
  readonly id: number;
  readonly t: BtfType | undefined;
}

function skip(btf: Btf, id: number): Resolved {
  const resolved = btf.resolve(id);
  return { id: resolved, t: btf.typeById(resolved) };
}

const kindOf = (t: BtfType | undefined): number => t?.kind ?? 0;
const isEnum = (kind: number): boolean => kind === BtfKind.ENUM || kind === BtfKind.ENUM64;
const isComposite = (kind: number): boolean => kind === BtfKind.STRUCT || kind === BtfKind.UNION;
/** btf_kind_core_compat: the same kind, or any two enums. */
const kindsCompatible = (a: number, b: number): boolean => a === b || (isEnum(a) && isEnum(b));

function sizeOf(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id);
  } catch (err) {
    throw new CoreFailure(`cannot size type [${id}] in ${btf.file}: ${(err as Error).message}`);
  }
}

/** Length of a name without its `___flavour` suffix (the last `X___Y` separator, X and Y not underscores). */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return i + 1;
  }
  return name.length;
}

/** A name without its flavour: `task_struct___v2` → `task_struct`. */
export function essentialName(name: string): string {
  return name.slice(0, essentialNameLength(name));
}

/** bpf_core_names_match: an anonymous target matches only an anonymous local; otherwise essential names. */
function namesMatch(local: string, target: string): boolean {
  if (target === '') return local === '';
  return essentialName(local) === essentialName(target);
}

// --- Access specs -----------------------------------------------------------------------------

/** A step of a spec: a named member (with the composite that holds it) or an array index (with the element type). */
interface Accessor {
  readonly typeId: number;
  readonly idx: number;
  readonly name: string | undefined;
}

/** A spec: the accessors that matter (named members, indices), every raw step, and the bit offset. */
interface Spec {
  readonly btf: Btf;
  readonly rootTypeId: number;
  readonly accessors: Accessor[];
  readonly raw: number[];
  bitOffset: number;
}

const isFieldKind = (kind: number): boolean => kind <= CoreReloKind.FIELD_RSHIFT_U64;
const isEnumvalKind = (kind: number): boolean => kind === CoreReloKind.ENUMVAL_EXISTS || kind === CoreReloKind.ENUMVAL_VALUE;
const isTypeKind = (kind: number): boolean => !isFieldKind(kind) && !isEnumvalKind(kind);

/** is_flex_arr: a zero-length array that is the last member of the struct the previous accessor named. */
function isFlexibleArray(btf: Btf, previous: Accessor | undefined, length: number): boolean {
  if (!previous || previous.name === undefined || length > 0) return false;
  const holder = btf.typeById(previous.typeId);
  return (holder?.kind === BtfKind.STRUCT || holder?.kind === BtfKind.UNION) && previous.idx === holder.members.length - 1;
}

/** bpf_core_parse_spec: the local spec of a relocation. */
function parseSpec(btf: Btf, relo: BtfCoreRelo): Spec {
  const spec: Spec = { btf, rootTypeId: relo.typeId, accessors: [], raw: [...relo.access], bitOffset: 0 };
  if (isTypeKind(relo.kind)) {
    if (relo.accessString !== '0') failure(`a type relocation's access string must be '0', not '${relo.accessString}'`);
    return spec;
  }
  if (relo.access.length > MAX_SPEC_LENGTH) failure(`the access string has more than ${MAX_SPEC_LENGTH} steps`);
  let { id, t } = skip(btf, relo.typeId);
  const first = relo.access[0]!;
  if (isEnumvalKind(relo.kind)) {
    if ((t?.kind !== BtfKind.ENUM && t?.kind !== BtfKind.ENUM64) || relo.access.length > 1 || first >= t.values.length) {
      failure(`'${relo.accessString}' names no enumerator of type [${relo.typeId}]`);
    }
    spec.accessors.push({ typeId: id, idx: first, name: t.values[first]!.name });
    return spec;
  }
  spec.accessors.push({ typeId: id, idx: first, name: undefined });
  spec.bitOffset = first * sizeOf(btf, id) * 8;
  for (let i = 1; i < relo.access.length; i++) {
    ({ id, t } = skip(btf, id));
    const index = relo.access[i]!;
    if (t?.kind === BtfKind.STRUCT || t?.kind === BtfKind.UNION) {
      const m = t.members[index];
      if (!m) failure(`step ${i} (${index}): ${formatType(btf, id)} has ${t.members.length} members`);
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.accessors.push({ typeId: id, idx: index, name: m.name });
      id = m.type;
    } else if (t?.kind === BtfKind.ARRAY) {
      const element = skip(btf, t.type).id;
      if (!isFlexibleArray(btf, spec.accessors.at(-1), t.length) && index >= t.length) {
        failure(`step ${i}: index ${index} is outside ${formatType(btf, id)}`);
      }
      spec.accessors.push({ typeId: element, idx: index, name: undefined });
      spec.bitOffset += index * sizeOf(btf, element) * 8;
      id = element;
    } else {
      failure(`step ${i} (${index}) reaches type [${id}] of kind ${BTF_KIND_NAMES[kindOf(t)]}, which has no members`);
    }
  }
  return spec;
}

/** The access in C terms, as libbpf's bpf_core_format_spec shows it (without the raw numbers). */
function describeAccess(btf: Btf, relo: BtfCoreRelo, spec: Spec | undefined): string {
  const root = btf.typeById(relo.typeId);
  if (isTypeKind(relo.kind) || !spec) return formatType(btf, relo.typeId);
  if (isEnumvalKind(relo.kind)) return `${formatType(btf, relo.typeId)}::${spec.accessors[0]!.name}`;
  let text = root?.name || '<anon>';
  spec.accessors.forEach((a, i) => {
    if (a.name !== undefined) text += `.${a.name}`;
    else if (i > 0 || a.idx > 0) text += `[${a.idx}]`;
  });
  return text;
}

// --- Compatibility ----------------------------------------------------------------------------

/** bpf_core_fields_are_compat: may a local field's type be relocated to a target field's type. */
function fieldsAreCompatible(local: Btf, localId: number, target: Btf, targetId: number): boolean {
  for (let depth = 0; ; depth++) {
    if (depth > MAX_DEPTH) failure('field types nest too deeply');
    const l = skip(local, localId).t;
    const t = skip(target, targetId).t;
    const lk = kindOf(l);
    const tk = kindOf(t);
    if (isComposite(lk) && isComposite(tk)) return true;
    if (!kindsCompatible(lk, tk)) return false;
    switch (lk) {
      case BtfKind.PTR:
      case BtfKind.FLOAT:
        return true;
      case BtfKind.FWD:
      case BtfKind.ENUM:
      case BtfKind.ENUM64: {
        // One of them anonymous, or both with the same name after flavours.
        const ln = essentialName(l!.name);
        const tn = essentialName(t!.name);
        return ln === '' || tn === '' || ln === tn;
      }
      case BtfKind.INT:
        // Deprecated bitfield-like integers are refused; other integers are compatible whatever their size and sign.
        return (l as { bitOffset: number }).bitOffset === 0 && (t as { bitOffset: number }).bitOffset === 0;
      case BtfKind.ARRAY:
        localId = (l as { type: number }).type;
        targetId = (t as { type: number }).type;
        break;
      default:
        return false;
    }
  }
}

/** bpf_core_types_are_compat: what TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET require of a candidate. */
function typesAreCompatible(local: Btf, localId: number, target: Btf, targetId: number, level = MAX_DEPTH): boolean {
  if (!kindsCompatible(kindOf(local.typeById(localId)), kindOf(target.typeById(targetId)))) return false;
  for (let depth = 0; ; depth++) {
    if (depth > MAX_DEPTH) failure('types nest too deeply');
    const l = skip(local, localId);
    const t = skip(target, targetId);
    localId = l.id;
    targetId = t.id;
    const lk = kindOf(l.t);
    if (!kindsCompatible(lk, kindOf(t.t))) return false;
    switch (lk) {
      case 0:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FWD:
        return true;
      case BtfKind.INT:
        return (l.t as { bitOffset: number }).bitOffset === 0 && (t.t as { bitOffset: number }).bitOffset === 0;
      case BtfKind.PTR:
      case BtfKind.ARRAY:
        localId = (l.t as { type: number }).type;
        targetId = (t.t as { type: number }).type;
        break;
      case BtfKind.FUNC_PROTO: {
        const lp = l.t as Extract<BtfType, { kind: typeof BtfKind.FUNC_PROTO }>;
        const tp = t.t as typeof lp;
        if (lp.params.length !== tp.params.length) return false;
        for (let i = 0; i < lp.params.length; i++) {
          if (level <= 0) failure('function prototypes nest too deeply');
          const a = skip(local, lp.params[i]!.type).id;
          const b = skip(target, tp.params[i]!.type).id;
          if (!typesAreCompatible(local, a, target, b, level - 1)) return false;
        }
        localId = lp.returnType;
        targetId = tp.returnType;
        break;
      }
      default:
        return false;
    }
  }
}

/** bpf_core_types_match: the stricter relation TYPE_MATCHES asks for (same layout shape by name). */
function typesMatch(local: Btf, localId: number, target: Btf, targetId: number, behindPointer: boolean, level: number): boolean {
  if (level <= 0) failure('types nest too deeply');
  for (let depth = 0; ; depth++) {
    if (depth > MAX_DEPTH) failure('types nest too deeply');
    const l = skip(local, localId).t;
    const t = skip(target, targetId).t;
    if (!namesMatch(l?.name ?? '', t?.name ?? '')) return false;
    const lk = kindOf(l);
    const tk = kindOf(t);
    switch (lk) {
      case 0:
        return tk === 0;
      case BtfKind.FWD: {
        const localUnion = (l as { union: boolean }).union;
        if (tk === BtfKind.FWD) return localUnion === (t as { union: boolean }).union;
        return behindPointer && ((tk === BtfKind.STRUCT && !localUnion) || (tk === BtfKind.UNION && localUnion));
      }
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return isEnum(tk) && enumsMatch(l as EnumType, t as EnumType);
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        if (behindPointer) {
          if (lk === tk) return true;
          return tk === BtfKind.FWD && (lk === BtfKind.UNION) === (t as { union: boolean }).union;
        }
        return lk === tk && compositesMatch(local, l as CompositeType, target, t as CompositeType, behindPointer, level);
      case BtfKind.INT: {
        if (tk !== lk) return false;
        const li = l as Extract<BtfType, { kind: typeof BtfKind.INT }>;
        const ti = t as typeof li;
        return li.size === ti.size && (li.encoding & 1) === (ti.encoding & 1);
      }
      case BtfKind.PTR:
        if (tk !== lk) return false;
        behindPointer = true;
        localId = (l as { type: number }).type;
        targetId = (t as { type: number }).type;
        break;
      case BtfKind.ARRAY: {
        if (tk !== lk) return false;
        const la = l as Extract<BtfType, { kind: typeof BtfKind.ARRAY }>;
        const ta = t as typeof la;
        if (la.length !== ta.length) return false;
        localId = la.type;
        targetId = ta.type;
        break;
      }
      case BtfKind.FUNC_PROTO: {
        if (tk !== lk) return false;
        const lp = l as Extract<BtfType, { kind: typeof BtfKind.FUNC_PROTO }>;
        const tp = t as typeof lp;
        if (lp.params.length !== tp.params.length) return false;
        for (let i = 0; i < lp.params.length; i++) {
          if (!typesMatch(local, lp.params[i]!.type, target, tp.params[i]!.type, behindPointer, level - 1)) return false;
        }
        localId = lp.returnType;
        targetId = tp.returnType;
        break;
      }
      default:
        return false;
    }
  }
}

type EnumType = Extract<BtfType, { kind: typeof BtfKind.ENUM | typeof BtfKind.ENUM64 }>;
type CompositeType = Extract<BtfType, { kind: typeof BtfKind.STRUCT | typeof BtfKind.UNION }>;

/** Same size, and every local enumerator has a target enumerator of the same essential name (values may differ). */
function enumsMatch(local: EnumType, target: EnumType): boolean {
  if (local.size !== target.size || local.values.length > target.values.length) return false;
  return local.values.every((lv) => target.values.some((tv) => namesMatch(lv.name, tv.name)));
}

/** Every local member has a target member of the same name whose type matches. */
function compositesMatch(local: Btf, l: CompositeType, target: Btf, t: CompositeType, behindPointer: boolean, level: number): boolean {
  if (l.members.length > t.members.length) return false;
  return l.members.every((lm) =>
    t.members.some((tm) => namesMatch(lm.name, tm.name) && typesMatch(local, lm.type, target, tm.type, behindPointer, level - 1)));
}

// --- Matching a spec to a candidate -----------------------------------------------------------

/** bpf_core_match_member: finds a local named member in a target composite, through anonymous members. */
function matchMember(local: Btf, accessor: Accessor, target: Btf, targetId: number, spec: Spec): { found: boolean; next: number } {
  const { id, t } = skip(target, targetId);
  if (t?.kind !== BtfKind.STRUCT && t?.kind !== BtfKind.UNION) return { found: false, next: 0 };
  const localMember = (local.typeById(accessor.typeId) as CompositeType).members[accessor.idx]!;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (spec.raw.length >= MAX_SPEC_LENGTH) failure(`the target access is deeper than ${MAX_SPEC_LENGTH} steps`);
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const inner = matchMember(local, accessor, target, m.type, spec);
      if (inner.found) return inner;
    } else if (m.name === localMember.name) {
      if (!fieldsAreCompatible(local, localMember.type, target, m.type)) return { found: false, next: 0 };
      spec.accessors.push({ typeId: id, idx: i, name: m.name });
      return { found: true, next: m.type };
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return { found: false, next: 0 };
}

/** bpf_core_spec_match: the target spec of candidate `targetId`, or undefined when it does not match. */
function matchSpec(localSpec: Spec, kind: number, target: Btf, targetId: number): Spec | undefined {
  const local = localSpec.btf;
  const spec: Spec = { btf: target, rootTypeId: targetId, accessors: [], raw: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    const ok = kind === CoreReloKind.TYPE_MATCHES
      ? typesMatch(local, localSpec.rootTypeId, target, targetId, false, MAX_DEPTH)
      : typesAreCompatible(local, localSpec.rootTypeId, target, targetId);
    return ok ? spec : undefined;
  }
  if (isEnumvalKind(kind)) {
    const { id, t } = skip(target, targetId);
    if (t?.kind !== BtfKind.ENUM && t?.kind !== BtfKind.ENUM64) return undefined;
    const want = essentialName(localSpec.accessors[0]!.name!);
    const i = t.values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return undefined;
    spec.accessors.push({ typeId: id, idx: i, name: t.values[i]!.name });
    spec.raw.push(i);
    return spec;
  }
  let id = targetId;
  for (let i = 0; i < localSpec.accessors.length; i++) {
    const la = localSpec.accessors[i]!;
    const t = skip(target, id);
    id = t.id;
    if (la.name !== undefined) {
      const m = matchMember(local, la, target, id, spec);
      if (!m.found) return undefined;
      id = m.next;
      continue;
    }
    if (i > 0) {
      if (t.t?.kind !== BtfKind.ARRAY) return undefined;
      if (!isFlexibleArray(target, spec.accessors.at(-1), t.t.length) && la.idx >= t.t.length) return undefined;
      id = skip(target, t.t.type).id;
    }
    if (spec.raw.length >= MAX_SPEC_LENGTH) failure(`the target access is deeper than ${MAX_SPEC_LENGTH} steps`);
    spec.accessors.push({ typeId: id, idx: la.idx, name: undefined });
    spec.raw.push(la.idx);
    spec.bitOffset += la.idx * sizeOf(target, id) * 8;
  }
  return spec;
}

// --- Values -----------------------------------------------------------------------------------

/** What one side (local or target) gives for a relocation. */
interface SideValue {
  readonly value: bigint;
  /** For FIELD_BYTE_OFFSET of a non-bitfield: the field's size and (skipped) type, for load/store size changes. */
  readonly fieldSize: number;
  readonly fieldType: number;
  /** Whether the instruction must hold exactly the local value (false where the compiler's value is not reliable). */
  readonly validate: boolean;
}

/** Marks a relocation libbpf would poison: no target, where the kind has no value for that. */
const POISON = Symbol('poison');

/** bpf_core_calc_field_relo. */
function fieldValue(kind: number, spec: Spec | undefined): SideValue | typeof POISON {
  const plain = (value: number | bigint, validate = true, fieldSize = 0, fieldType = 0): SideValue =>
    ({ value: BigInt(value), validate, fieldSize, fieldType });
  if (kind === CoreReloKind.FIELD_EXISTS) return plain(spec ? 1 : 0);
  if (!spec) return POISON;
  const acc = spec.accessors.at(-1)!;
  if (acc.name === undefined) {
    // An array element (or the root itself): only its offset and size can be relocated.
    const size = sizeOf(spec.btf, acc.typeId);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) return plain(spec.bitOffset / 8, true, size, acc.typeId);
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return plain(size);
    failure(`a ${CORE_RELO_KIND_NAMES[kind]} relocation cannot apply to an array element`);
  }
  const holder = spec.btf.typeById(acc.typeId) as CompositeType;
  const member = holder.members[acc.idx]!;
  const { id: fieldType, t: mt } = skip(spec.btf, member.type);
  const bitOffset = spec.bitOffset;
  let bits = member.bitfieldSize;
  const bitfield = bits > 0;
  let byteSize: number;
  let byteOffset: number;
  if (bitfield) {
    // The smallest aligned load of at least the member's type size that holds every bit.
    byteSize = (mt as { size: number }).size;
    byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    while (bitOffset + bits - byteOffset * 8 > byteSize * 8) {
      if (byteSize >= 8) failure('the bitfield cannot be read with one 64-bit load');
      byteSize *= 2;
      byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOf(spec.btf, fieldType);
    byteOffset = bitOffset / 8;
    bits = byteSize * 8;
  }
  // For bitfields every aspect but signedness and the right shift is ambiguous: the compiler may differ.
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return bitfield ? plain(byteOffset, false) : plain(byteOffset, true, byteSize, fieldType);
    case CoreReloKind.FIELD_BYTE_SIZE:
      return plain(byteSize, !bitfield);
    case CoreReloKind.FIELD_SIGNED: {
      const signed = (isEnum(kindOf(mt)) && (mt as EnumType).signed) || (mt?.kind === BtfKind.INT && (mt.encoding & 1) !== 0);
      return plain(signed ? 1 : 0);
    }
    case CoreReloKind.FIELD_LSHIFT_U64:
      // Little-endian: shift the field's top bit up to bit 63.
      return plain(64 - (bitOffset + bits - byteOffset * 8), !bitfield);
    case CoreReloKind.FIELD_RSHIFT_U64:
      return plain(64 - bits);
    default:
      return failure(`relocation kind ${kind} is not a field relocation`);
  }
}

/** bpf_core_calc_type_relo: a missing target gives 0 for every type relocation. */
function typeValue(kind: number, spec: Spec | undefined): SideValue {
  const v = (value: number, validate = true): SideValue => ({ value: BigInt(value), validate, fieldSize: 0, fieldType: 0 });
  if (!spec) return v(0);
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      // Type ids change when objects are linked: the compiler's value is not checked.
      return v(spec.rootTypeId, false);
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return v(1);
    case CoreReloKind.TYPE_SIZE:
      return v(sizeOf(spec.btf, spec.rootTypeId));
    default:
      return failure(`relocation kind ${kind} is not a type relocation`);
  }
}

/** bpf_core_calc_enumval_relo. 32-bit enumerators are sign-extended to 64 bits, as libbpf reads them (s32). */
function enumValue(kind: number, spec: Spec | undefined): SideValue | typeof POISON {
  const v = (value: bigint): SideValue => ({ value, validate: true, fieldSize: 0, fieldType: 0 });
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return v(spec ? 1n : 0n);
  if (!spec) return POISON;
  const acc = spec.accessors[0]!;
  const t = spec.btf.typeById(acc.typeId) as EnumType;
  const value = t.values[acc.idx]!.value;
  return v(t.kind === BtfKind.ENUM ? BigInt.asUintN(64, BigInt((value as number) | 0)) : BigInt.asUintN(64, value as bigint));
}

/** bpf_core_relo_res: the decision for one relocation. */
interface Resolution {
  readonly original: SideValue;
  readonly target: SideValue | typeof POISON;
  /** A load or store would change size in a way that changes the value read (libbpf poisons it). */
  readonly badSizeChange: boolean;
}

/** bpf_core_calc_relo: local and target values for one candidate (or none). */
function calculate(kind: number, local: Spec, target: Spec | undefined): Resolution {
  if (isFieldKind(kind)) {
    const original = fieldValue(kind, local);
    if (original === POISON) return failure('the local type does not hold the field');
    const value = fieldValue(kind, target);
    let badSizeChange = false;
    if (value !== POISON && original.fieldSize !== value.fieldSize) {
      // Safe only between pointers, or between unsigned integers (zero extension keeps the value).
      const a = local.btf.typeById(original.fieldType);
      const b = target!.btf.typeById(value.fieldType);
      const unsignedInts = a?.kind === BtfKind.INT && b?.kind === BtfKind.INT && a.encoding !== 1 && b.encoding !== 1;
      badSizeChange = !(a?.kind === BtfKind.PTR && b?.kind === BtfKind.PTR) && !unsignedInts;
    }
    return { original, target: value, badSizeChange };
  }
  if (isTypeKind(kind)) return { original: typeValue(kind, local), target: typeValue(kind, target), badSizeChange: false };
  const original = enumValue(kind, local);
  if (original === POISON) return failure('the local enum has no such enumerator');
  return { original, target: enumValue(kind, target), badSizeChange: false };
}

// --- Patching ---------------------------------------------------------------------------------

const SIZE_BITS: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const SIZE_OF_BITS = [4, 2, 1, 8];

/** bpf_core_patch_insn: writes the target value into the instruction, checking it held the local one. */
function patch(insn: Instruction, kind: number, res: Resolution): Instruction {
  if (res.target === POISON) {
    throw new CoreFailure(isEnumvalKind(kind) ? 'the target has no matching enumerator' : 'no type in the target BTF has this field', true);
  }
  const original = res.original.value;
  const value = res.target.value;
  const check = (held: bigint, what: string) => {
    if (res.original.validate && held !== original) {
      failure(`the instruction's ${what} is ${held}, but the object's BTF gives ${original}: the object's BTF and code disagree`);
    }
  };
  const cls = insn.opcode & 0x07;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      if ((insn.opcode & 0x08) !== 0) failure('the instruction at the relocation takes a register, not an immediate');
      check(BigInt.asUintN(64, BigInt(insn.imm)), 'immediate');
      return { ...insn, imm: Number(BigInt.asIntN(32, value)) };
    }
    case Class.LDX:
    case Class.ST:
    case Class.STX: {
      check(BigInt.asUintN(64, BigInt(insn.off)), 'offset');
      if (value > BigInt(MAX_OFFSET)) failure(`offset ${value} does not fit the instruction's 16-bit offset`);
      if (res.badSizeChange) {
        throw new CoreFailure('the field changes size and is neither a pointer nor an unsigned integer, so the load or store cannot be resized', true);
      }
      let out: Instruction = { ...insn, off: Number(value) };
      const from = res.original.fieldSize;
      const to = res.target.fieldSize;
      if (from !== to) {
        const bytes = SIZE_OF_BITS[(insn.opcode >> 3) & 0x03]!;
        if (bytes !== from) failure(`the instruction accesses ${bytes} bytes, but the field is ${from} bytes`);
        if (SIZE_BITS[to] === undefined) failure(`the target field is ${to} bytes, which no load or store accesses`);
        const opcode = (insn.opcode & ~0x18) | SIZE_BITS[to]!;
        const row = findSpec(opcode, insn) ?? failure(`no instruction accesses ${to} bytes like this one`);
        out = { ...out, opcode, op: row.op };
      }
      return out;
    }
    case Class.LD: {
      if (insn.immHi === undefined || insn.src !== 0 || insn.off !== 0) failure('the instruction at the relocation is not a plain 64-bit immediate load');
      check(lddwValue(insn), '64-bit immediate');
      return { ...insn, ...splitImm64(value) };
    }
    default:
      return failure(`cannot relocate an instruction of opcode 0x${insn.opcode.toString(16)}`);
  }
}

/** bpf_core_poison_insn: a call to a helper that does not exist (an lddw keeps its width, as two poisoned slots do). */
function poisonCall(pc: number): Instruction {
  const row = findSpec(0x85, { src: 0, off: 0, imm: CORE_POISON_HELPER_ID })!;
  return { pc, op: row.op, opcode: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON_HELPER_ID };
}

// --- The pass ---------------------------------------------------------------------------------

/** Candidate target types per local root type, pruned as relocations match (libbpf's cand_cache). */
type CandidateCache = Map<number, number[]>;

/** bpf_core_find_cands: target types of a compatible kind whose essential name is the local one's. */
function candidates(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId, 'CO-RE root');
  const name = essentialName(lt.name);
  const found: number[] = [];
  for (const t of target.types) {
    if (t && t.name !== '' && kindsCompatible(t.kind, lt.kind) && essentialName(t.name) === name) found.push(t.id);
  }
  return found;
}

/** bpf_core_calc_relo_insn: the decision for one relocation, over every candidate. */
function resolve(local: Btf, relo: BtfCoreRelo, spec: Spec, target: Btf, cache: CandidateCache): { res: Resolution; matched: number | undefined } {
  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    const v: SideValue = { value: BigInt(relo.typeId), validate: false, fieldSize: 0, fieldType: 0 };
    return { res: { original: v, target: v, badSizeChange: false }, matched: undefined };
  }
  if (local.type(relo.typeId).name === '') failure('libbpf does not relocate anonymous types');
  let cands = cache.get(relo.typeId);
  if (!cands) {
    cands = candidates(local, relo.typeId, target);
    cache.set(relo.typeId, cands);
  }
  let chosen: { res: Resolution; spec: Spec; id: number } | undefined;
  const kept: number[] = [];
  for (const id of cands) {
    const cand = matchSpec(spec, relo.kind, target, id);
    if (!cand) continue;
    const res = calculate(relo.kind, spec, cand);
    if (!chosen) {
      chosen = { res, spec: cand, id };
    } else if (cand.bitOffset !== chosen.spec.bitOffset) {
      failure(`ambiguous target: candidates [${chosen.id}] ${formatType(target, chosen.id)} and [${id}] ${formatType(target, id)} ` +
        `place the field at different offsets (bit ${chosen.spec.bitOffset} and ${cand.bitOffset})`);
    } else if ((res.target === POISON) !== (chosen.res.target === POISON) ||
      (res.target !== POISON && chosen.res.target !== POISON && res.target.value !== chosen.res.target.value)) {
      const show = (r: Resolution) => (r.target === POISON ? 'failure' : String(r.target.value));
      failure(`ambiguous target: candidates [${chosen.id}] ${formatType(target, chosen.id)} and [${id}] ${formatType(target, id)} ` +
        `give different values (${show(chosen.res)} and ${show(res)})`);
    }
    kept.push(id);
  }
  // Later relocations of the same root only consider the candidates that matched so far.
  if (kept.length > 0) cache.set(relo.typeId, kept);
  if (chosen) return { res: chosen.res, matched: chosen.id };
  return { res: calculate(relo.kind, spec, undefined), matched: undefined };
}

/**
 * Applies every CO-RE relocation of `program` against `target` (a kernel's BTF; see
 * runtime/kernel-btf.ts) and returns the patched instructions with what each relocation did.
 * Relocations are resolved in the order of the object's .BTF.ext, with libbpf's candidate pruning
 * shared across the whole object; those outside the program's linked functions are resolved for
 * that pruning but not reported. Throws CoreRelocationError naming the file, section, offset and access.
 */
export function applyCoreRelocations(program: ProgramSpec, object: CoreLocalObject, target: Btf, options: CoreRelocationOptions = {}): CoreRelocatedProgram {
  const ext = object.btfExt;
  if (!ext || ext.coreRelos.length === 0) return { insns: program.insns, relocations: [], poisoned: [] };
  const local = object.btf!;
  const insns = [...program.insns];
  const byPc = new Map(insns.map((insn, i) => [insn.pc, i]));
  const applied: AppliedCoreRelocation[] = [];
  const poisoned: CoreRelocationError[] = [];
  /** Poisoned lddws become two calls, as in libbpf: the second slot's call, by the lddw's index. */
  const secondSlots = new Map<number, Instruction>();
  const cache: CandidateCache = new Map();
  for (const block of ext.coreRelos) {
    const functions = program.functions.filter((f) => f.section === block.section);
    for (const relo of block.records) {
      const fn = functions.find((f) => relo.pc >= f.sectionPc && relo.pc < f.sectionPc + f.slots);
      if (!fn) {
        // Another program's instruction: resolved only so that candidate pruning follows libbpf.
        try {
          resolve(local, relo, parseSpec(local, relo), target, cache);
        } catch (err) {
          if (!(err instanceof CoreFailure)) throw err;
        }
        continue;
      }
      let spec: Spec | undefined;
      let index: number | undefined;
      try {
        spec = parseSpec(local, relo);
        const { res, matched } = resolve(local, relo, spec, target, cache);
        const pc = fn.pc + (relo.pc - fn.sectionPc);
        index = byPc.get(pc) ?? failure('the relocation does not point at the start of an instruction');
        insns[index] = patch(insns[index]!, relo.kind, res);
        applied.push({
          pc,
          section: block.section,
          sectionOffset: relo.insnOff,
          kind: relo.kind,
          access: describeAccess(local, relo, spec),
          original: res.original.value,
          value: (res.target as SideValue).value,
          target: matched,
        });
      } catch (err) {
        if (!(err instanceof CoreFailure)) throw err;
        const access = describeAccess(local, relo, spec);
        const error = new CoreRelocationError(object.file, block.section, relo.insnOff, CORE_RELO_KIND_NAMES[relo.kind]!, access, err.message, { cause: err });
        if (!options.poison || !err.poisonable || index === undefined) throw error;
        const held = insns[index]!;
        insns[index] = poisonCall(held.pc);
        if (held.immHi !== undefined) secondSlots.set(index, poisonCall(held.pc + 1));
        poisoned.push(error);
      }
    }
  }
  const out = secondSlots.size === 0 ? insns : insns.flatMap((insn, i) => (secondSlots.has(i) ? [insn, secondSlots.get(i)!] : [insn]));
  return { insns: out, relocations: applied, poisoned };
}
