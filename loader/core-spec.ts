// CO-RE access specs and the relations libbpf checks between local and target types
// (tools/lib/bpf/relo_core.c): parsing an access string into a spec, essential names, field and
// type compatibility, the stricter TYPE_MATCHES relation, and matching a spec to a candidate type.
import type { Btf } from './btf.js';
import { type BtfCoreRelo, CoreReloKind } from './btf-ext.js';
import { formatType } from './btf-format.js';
import { BtfKind, BTF_KIND_NAMES, type BtfType } from './btf-types.js';

/** BPF_CORE_SPEC_MAX_LEN: the deepest access libbpf follows. */
const MAX_SPEC_LENGTH = 64;
/** libbpf's recursion bound for the compatibility and match checks. */
const MAX_DEPTH = 32;

/** A failure inside the algorithm; the caller adds where it happened. `poisonable`: libbpf would poison, not fail. */
export class CoreFailure extends Error {
  constructor(message: string, readonly poisonable = false) {
    super(message);
  }
}

export function failure(detail: string): never {
  throw new CoreFailure(detail);
}

// --- Type helpers -----------------------------------------------------------------------------

/** A type after typedefs and modifiers; void is id 0 with no record. */
export interface Resolved {
  readonly id: number;
  readonly t: BtfType | undefined;
}

export function skip(btf: Btf, id: number): Resolved {
  const resolved = btf.resolve(id);
  return { id: resolved, t: btf.typeById(resolved) };
}

export const kindOf = (t: BtfType | undefined): number => t?.kind ?? 0;
export const isEnum = (kind: number): boolean => kind === BtfKind.ENUM || kind === BtfKind.ENUM64;
const isComposite = (kind: number): boolean => kind === BtfKind.STRUCT || kind === BtfKind.UNION;
/** btf_kind_core_compat: the same kind, or any two enums. */
export const kindsCompatible = (a: number, b: number): boolean => a === b || (isEnum(a) && isEnum(b));

export function sizeOf(btf: Btf, id: number): number {
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
export interface Accessor {
  readonly typeId: number;
  readonly idx: number;
  readonly name: string | undefined;
}

/** A spec: the accessors that matter (named members, indices), every raw step, and the bit offset. */
export interface Spec {
  readonly btf: Btf;
  readonly rootTypeId: number;
  readonly accessors: Accessor[];
  readonly raw: number[];
  bitOffset: number;
}

export const isFieldKind = (kind: number): boolean => kind <= CoreReloKind.FIELD_RSHIFT_U64;
export const isEnumvalKind = (kind: number): boolean => kind === CoreReloKind.ENUMVAL_EXISTS || kind === CoreReloKind.ENUMVAL_VALUE;
export const isTypeKind = (kind: number): boolean => !isFieldKind(kind) && !isEnumvalKind(kind);

/** is_flex_arr: a zero-length array that is the last member of the struct the previous accessor named. */
function isFlexibleArray(btf: Btf, previous: Accessor | undefined, length: number): boolean {
  if (!previous || previous.name === undefined || length > 0) return false;
  const holder = btf.typeById(previous.typeId);
  return (holder?.kind === BtfKind.STRUCT || holder?.kind === BtfKind.UNION) && previous.idx === holder.members.length - 1;
}

/** bpf_core_parse_spec: the local spec of a relocation. */
export function parseSpec(btf: Btf, relo: BtfCoreRelo): Spec {
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
export function describeAccess(btf: Btf, relo: BtfCoreRelo, spec: Spec | undefined): string {
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

export type EnumType = Extract<BtfType, { kind: typeof BtfKind.ENUM | typeof BtfKind.ENUM64 }>;
export type CompositeType = Extract<BtfType, { kind: typeof BtfKind.STRUCT | typeof BtfKind.UNION }>;

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
export function matchSpec(localSpec: Spec, kind: number, target: Btf, targetId: number): Spec | undefined {
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

