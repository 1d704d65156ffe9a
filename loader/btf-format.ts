// Text forms of BTF types: the raw dump, line for line as `bpftool btf dump file X.o` prints it,
// and C-like declarations (`struct iphdr *`, `char [16]`, `int (*)(void *)`) for messages.
import type { Btf } from './btf.js';
import { BtfKind, BTF_KIND_NAMES, type BtfType } from './btf-types.js';

const INT_ENCODINGS: Record<number, string> = { 0: '(none)', 1: 'SIGNED', 2: 'CHAR', 4: 'BOOL' };
const LINKAGES = ['static', 'global', 'extern'];

function quoted(name: string): string {
  return `'${name === '' ? '(anon)' : name}'`;
}

/** One type in bpftool's raw format: a first line, then a tab-indented line per member, value, parameter or variable. */
export function dumpType(btf: Btf, t: BtfType): string {
  let text = `[${t.id}] ${BTF_KIND_NAMES[t.kind]} ${quoted(t.name)}`;
  switch (t.kind) {
    case BtfKind.INT:
      text += ` size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${INT_ENCODINGS[t.encoding] ?? 'UNKN'}`;
      break;
    case BtfKind.PTR:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.TYPE_TAG:
      text += ` type_id=${t.type}`;
      break;
    case BtfKind.ARRAY:
      text += ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.length}`;
      break;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      text += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        text += `\n\t${quoted(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize !== 0) text += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case BtfKind.ENUM:
    case BtfKind.ENUM64: {
      // bpftool prints 64-bit values with C's suffixes.
      const suffix = t.kind === BtfKind.ENUM ? '' : t.signed ? 'LL' : 'ULL';
      text += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) text += `\n\t${quoted(v.name)} val=${v.value}${suffix}`;
      break;
    }
    case BtfKind.FWD:
      text += ` fwd_kind=${t.union ? 'union' : 'struct'}`;
      break;
    case BtfKind.FUNC:
      text += ` type_id=${t.type} linkage=${LINKAGES[t.linkage]}`;
      break;
    case BtfKind.FUNC_PROTO:
      text += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) text += `\n\t${quoted(p.name)} type_id=${p.type}`;
      break;
    case BtfKind.VAR:
      text += ` type_id=${t.type}, linkage=${LINKAGES[t.linkage]}`;
      break;
    case BtfKind.DATASEC:
      text += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        text += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        const target = btf.typeById(v.type);
        if (target) text += ` (${BTF_KIND_NAMES[target.kind]} ${quoted(target.name)})`;
      }
      break;
    case BtfKind.FLOAT:
      text += ` size=${t.size}`;
      break;
    case BtfKind.DECL_TAG:
      text += ` type_id=${t.type} component_idx=${t.componentIndex}`;
      break;
  }
  return text;
}

/** The whole blob in bpftool's raw format, one line per array element (members on their own lines). */
export function dumpBtf(btf: Btf): string[] {
  const lines: string[] = [];
  for (const t of btf.types) if (t) lines.push(...dumpType(btf, t).split('\n'));
  return lines;
}

function join(base: string, inner: string): string {
  return inner === '' ? base : `${base} ${inner}`;
}

const KEYWORDS: Partial<Record<number, string>> = {
  [BtfKind.STRUCT]: 'struct',
  [BtfKind.UNION]: 'union',
  [BtfKind.ENUM]: 'enum',
  [BtfKind.ENUM64]: 'enum',
};
/** Deeper than any real declaration; stops cycles through pointers and prototypes. */
const MAX_FORMAT_DEPTH = 256;

const QUALIFIERS: Partial<Record<number, string>> = {
  [BtfKind.CONST]: 'const',
  [BtfKind.VOLATILE]: 'volatile',
  [BtfKind.RESTRICT]: 'restrict',
};

/**
 * A C-like declaration of type `id`, declaring `name` when given: `unsigned int`, `struct ethhdr *`,
 * `char name[16]`, `int (*)(void *)`, `int f(struct __sk_buff *skb)`. Types are named, never expanded.
 */
export function formatType(btf: Btf, id: number, name = ''): string {
  return declare(btf, id, name, 0);
}

/** Builds a declaration inside out: `inner` is the declarator so far (`*p`, `buf[16]`). */
function declare(btf: Btf, id: number, inner: string, depth: number): string {
  if (depth > MAX_FORMAT_DEPTH) btf.fail(`type ${id} is too deeply nested (or part of a cycle) to format`, btf.typeById(id)?.at);
  const next = (id: number, inner: string): string => declare(btf, id, inner, depth + 1);
  if (id === 0) return join('void', inner);
  const t = btf.type(id, 'format');
  switch (t.kind) {
    case BtfKind.INT:
    case BtfKind.FLOAT:
    case BtfKind.TYPEDEF:
      return join(t.name, inner);
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.ENUM:
    case BtfKind.ENUM64:
      return join(`${KEYWORDS[t.kind]} ${t.name === '' ? '(anon)' : t.name}`, inner);
    case BtfKind.FWD:
      return join(`${t.union ? 'union' : 'struct'} ${t.name}`, inner);
    case BtfKind.PTR: {
      const target = btf.typeById(t.type);
      const wrap = target?.kind === BtfKind.ARRAY || target?.kind === BtfKind.FUNC_PROTO;
      return next(t.type, wrap ? `(*${inner})` : `*${inner}`);
    }
    case BtfKind.CONST:
    case BtfKind.VOLATILE:
    case BtfKind.RESTRICT: {
      const qualifier = QUALIFIERS[t.kind]!;
      // A qualified pointer is `T *const p`; anything else is `const T p`.
      if (btf.typeById(t.type)?.kind === BtfKind.PTR) return next(t.type, join(qualifier, inner));
      return `${qualifier} ${next(t.type, inner)}`;
    }
    case BtfKind.TYPE_TAG:
      return next(t.type, inner);
    case BtfKind.ARRAY:
      return next(t.type, `${inner}[${t.length}]`);
    case BtfKind.FUNC_PROTO: {
      const params = t.params.map((p, i) => (p.type === 0 && i === t.params.length - 1 ? '...' : next(p.type, p.name)));
      return next(t.returnType, `${inner}(${params.length === 0 ? 'void' : params.join(', ')})`);
    }
    case BtfKind.FUNC:
    case BtfKind.VAR:
      return next(t.type, inner === '' ? t.name : inner);
    case BtfKind.DATASEC:
      return join(`SEC("${t.name}")`, inner);
    case BtfKind.DECL_TAG:
      return `__attribute__((btf_decl_tag("${t.name}"))) ${next(t.type, inner)}`;
  }
}
