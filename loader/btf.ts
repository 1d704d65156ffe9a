// The .BTF section reader: header, string table and the type records of every kind 1..19, as
// plain data, with the queries later stages need (lookup by id and name, resolve, sizeOf, member
// offsets for CO-RE). Follows include/uapi/linux/btf.h and Documentation/bpf/btf.rst; every
// malformed or truncated blob is a BtfError naming the file, the section and the byte offset.
import type { ElfFile } from './elf.js';
import { sectionByName } from './elf.js';
import {
  type BtfComposite,
  type BtfDatasec,
  type BtfEnum,
  type BtfEnum64,
  BtfError,
  type BtfHeader,
  BtfKind,
  type BtfKindNumber,
  BTF_KIND_NAMES,
  type BtfMember,
  type BtfType,
} from './btf-types.js';

/** struct btf_header's magic number. */
export const BTF_MAGIC = 0xeb9f;
const HEADER_SIZE = 24;
const TYPE_HEADER_SIZE = 12;
/** BTF_MAX_TYPE: the largest type id. */
const MAX_TYPE_ID = 0xfffff;
/** Anonymous structs and unions nest far less deeply than this in real programs; bounds the recursion. */
const MAX_ANONYMOUS_DEPTH = 1024;

/** Where a BTF blob comes from, for error messages. */
export interface BtfSource {
  /** The file name; '<memory>' when not given. */
  readonly file?: string;
  /** The section name; '.BTF' when not given. */
  readonly section?: string;
  /** Byte offset of the blob in the file, so that errors name file offsets; 0 when not given. */
  readonly offset?: number;
}

/** A field read out of a record; what path lookups return. */
export interface BtfMemberLocation {
  /** The member's type id. */
  readonly type: number;
  /** Offset from the start of the outer type, in bits. */
  readonly bitOffset: number;
  /** Width of a bitfield, 0 for an ordinary member. */
  readonly bitfieldSize: number;
}

const utf8 = new TextDecoder('utf-8');

/** Kinds that only qualify or rename another type: resolve() skips them. */
const MODIFIERS = new Set<number>([BtfKind.TYPEDEF, BtfKind.VOLATILE, BtfKind.CONST, BtfKind.RESTRICT, BtfKind.TYPE_TAG]);

/** Parsed BTF: the header, the strings and the types indexed by id (index 0, void, is undefined). */
export class Btf {
  private names: Map<string, BtfType[]> | undefined;

  constructor(
    readonly file: string,
    readonly section: string,
    readonly header: BtfHeader,
    /** The string section's bytes (a view into the input). */
    readonly strings: Uint8Array,
    /** File offset of the string section, for errors about string offsets. */
    readonly stringsAt: number,
    /** types[id]; types[0] is undefined (void). */
    readonly types: readonly (BtfType | undefined)[],
  ) {}

  /** The number of type records (the largest id). */
  get count(): number {
    return this.types.length - 1;
  }

  /** A BtfError about this blob. */
  fail(detail: string, offset?: number): never {
    throw new BtfError(this.file, detail, { section: this.section, ...(offset !== undefined && { offset }) });
  }

  /** The NUL-terminated string at `offset` in the string section; `at` is the referring field's offset, for errors. */
  stringAt(offset: number, at?: number): string {
    if (offset >= this.strings.length) this.fail(`string offset ${offset} is outside the string section (${this.strings.length} bytes)`, at);
    const end = this.strings.indexOf(0, offset);
    if (end < 0) this.fail(`string at offset ${offset} is not NUL-terminated`, at ?? this.stringsAt + offset);
    return utf8.decode(this.strings.subarray(offset, end));
  }

  /** The type with id `id`, or undefined for void (0) and ids past the last. */
  typeById(id: number): BtfType | undefined {
    return this.types[id];
  }

  /** The type with id `id`; void and unknown ids are errors. */
  type(id: number, why = 'type'): BtfType {
    const t = this.types[id];
    if (t === undefined) this.fail(id === 0 ? `${why}: void (type 0) has no record` : `${why}: type id ${id} is out of range (${this.count} types)`);
    return t;
  }

  /** Every type named `name`, of kind `kind` when given, in id order. */
  byName(name: string, kind?: BtfKindNumber): BtfType[] {
    if (!this.names) {
      this.names = new Map();
      for (const t of this.types) {
        if (t === undefined || t.name === '') continue;
        const list = this.names.get(t.name);
        if (list) list.push(t);
        else this.names.set(t.name, [t]);
      }
    }
    const all = this.names.get(name) ?? [];
    return kind === undefined ? all : all.filter((t) => t.kind === kind);
  }

  /** The one type named `name` (of kind `kind`); undefined when none, an error when several. */
  find(name: string, kind?: BtfKindNumber): BtfType | undefined {
    const found = this.byName(name, kind);
    if (found.length > 1) {
      this.fail(`${found.length} types are named '${name}'${kind ? ` of kind ${BTF_KIND_NAMES[kind]}` : ''} (ids ${found.map((t) => t.id).join(', ')})`);
    }
    return found[0];
  }

  /** The id after skipping typedef, const, volatile, restrict and type_tag; 0 for void. */
  resolve(id: number): number {
    let steps = 0;
    for (;;) {
      const t = id === 0 ? undefined : this.type(id, 'resolve');
      if (t === undefined || !MODIFIERS.has(t.kind)) return id;
      if (++steps > this.count) this.fail(`type ${id} (${BTF_KIND_NAMES[t.kind]}) is part of a cycle of modifiers`, t.at);
      id = (t as { type: number }).type;
    }
  }

  /** The size in bytes of a type, as C's sizeof: pointers are 8 bytes, arrays multiply. Iterative, so long chains cannot exhaust the stack. */
  sizeOf(id: number): number {
    const start = id;
    let factor = 1;
    for (let steps = 0; ; steps++) {
      if (id === 0) this.fail(`sizeof type ${start}: void has no size`);
      const t = this.type(id, 'sizeof');
      if (steps > this.count) this.fail(`sizeof type ${start}: the type contains itself`, t.at);
      switch (t.kind) {
        case BtfKind.INT:
        case BtfKind.ENUM:
        case BtfKind.ENUM64:
        case BtfKind.STRUCT:
        case BtfKind.UNION:
        case BtfKind.DATASEC:
        case BtfKind.FLOAT:
          return this.scaled(start, factor, t.size);
        case BtfKind.PTR:
          return this.scaled(start, factor, 8);
        case BtfKind.ARRAY:
          factor = this.scaled(start, factor, t.length);
          id = t.type;
          break;
        case BtfKind.TYPEDEF:
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG:
        case BtfKind.VAR:
          id = t.type;
          break;
        default:
          this.fail(`sizeof type ${start}: a ${BTF_KIND_NAMES[t.kind]} has no size`, t.at);
      }
    }
  }

  private scaled(id: number, factor: number, size: number): number {
    const bytes = factor * size;
    if (!Number.isSafeInteger(bytes)) this.fail(`sizeof type ${id} overflows`, this.typeById(id)?.at);
    return bytes;
  }

  /**
   * Finds a field by a C access path such as `a.b[2].c` from struct, union or array type `id`.
   * Members of anonymous struct and union members are found by their own names, as in C.
   * Returns undefined when a name is not found; other problems (indexing a non-array, void) are errors.
   */
  memberOffset(id: number, path: string | readonly (string | number)[]): BtfMemberLocation | undefined {
    const steps = typeof path === 'string' ? parseAccessPath(path, (detail) => this.fail(`access path '${path}': ${detail}`)) : path;
    let at: BtfMemberLocation = { type: id, bitOffset: 0, bitfieldSize: 0 };
    for (const step of steps) {
      const outer = this.type(this.resolve(at.type), 'member lookup');
      if (typeof step === 'number') {
        if (outer.kind !== BtfKind.ARRAY) this.fail(`cannot index type ${outer.id} (${BTF_KIND_NAMES[outer.kind]}) with [${step}]`, outer.at);
        at = { type: outer.type, bitOffset: at.bitOffset + step * this.sizeOf(outer.type) * 8, bitfieldSize: 0 };
        continue;
      }
      if (outer.kind !== BtfKind.STRUCT && outer.kind !== BtfKind.UNION) {
        this.fail(`cannot take member '${step}' of type ${outer.id} (${BTF_KIND_NAMES[outer.kind]})`, outer.at);
      }
      const found = this.findMember(outer, step, new Set());
      if (!found) return undefined;
      at = { type: found.type, bitOffset: at.bitOffset + found.bitOffset, bitfieldSize: found.bitfieldSize };
    }
    return at;
  }

  private findMember(outer: BtfComposite, name: string, seen: Set<number>): BtfMemberLocation | undefined {
    if (seen.has(outer.id)) this.fail(`type ${outer.id} contains itself through anonymous members`, outer.at);
    if (seen.size > MAX_ANONYMOUS_DEPTH) this.fail(`type ${outer.id}: anonymous members nest too deeply`, outer.at);
    seen.add(outer.id);
    for (const m of outer.members) {
      if (m.name === name) return { type: m.type, bitOffset: m.bitOffset, bitfieldSize: m.bitfieldSize };
    }
    for (const m of outer.members) {
      if (m.name !== '') continue;
      const inner = this.typeById(this.resolve(m.type));
      if (inner?.kind !== BtfKind.STRUCT && inner?.kind !== BtfKind.UNION) continue;
      const found = this.findMember(inner, name, seen);
      if (found) return { ...found, bitOffset: m.bitOffset + found.bitOffset };
    }
    return undefined;
  }
}

/** Splits `a.b[2].c` into ['a', 'b', 2, 'c']. */
function parseAccessPath(path: string, fail: (detail: string) => never): (string | number)[] {
  const steps: (string | number)[] = [];
  const re = /\s*(?:\.?\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(\d+)\s*\])/y;
  let pos = 0;
  while (pos < path.length) {
    re.lastIndex = pos;
    const m = re.exec(path);
    if (!m) fail(`unexpected '${path.slice(pos)}'`);
    if (m[1] !== undefined) {
      if (steps.length > 0 && !m[0].includes('.')) fail(`missing '.' before '${m[1]}'`);
      steps.push(m[1]);
    } else {
      steps.push(Number(m[2]));
    }
    pos = re.lastIndex;
  }
  if (steps.length === 0) fail('the path is empty');
  return steps;
}

/** Bounds-checked little-endian reads over a BTF or BTF.ext blob, with errors at file offsets. */
export class BtfReader {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly section: string,
    readonly base: number,
    /** What `need` calls the span it checks against in its errors: the section, or a block of it. */
    readonly unit: 'section' | 'block' = 'section',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(detail: string, at: number): never {
    throw new BtfError(this.file, detail, { section: this.section, offset: this.base + at });
  }

  need(at: number, length: number, what: string, end = this.bytes.length): void {
    if (at + length > end) this.fail(`${what} (${length} bytes) runs past the end of its ${this.unit} (${Math.max(0, end - at)} bytes left)`, at);
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

  i32(at: number): number {
    return this.view.getInt32(at, true);
  }
}

function readHeader(r: BtfReader): BtfHeader {
  if (r.bytes.length < 8) r.fail(`${r.bytes.length} bytes is too short for a BTF header`, 0);
  const magic = r.u16(0);
  if (magic === 0x9feb) r.fail('big-endian BTF is not supported', 0);
  if (magic !== BTF_MAGIC) r.fail(`bad magic 0x${magic.toString(16)} (expected 0x${BTF_MAGIC.toString(16)})`, 0);
  const version = r.u8(2);
  if (version !== 1) r.fail(`BTF version ${version} is not supported (expected 1)`, 2);
  const hdrLen = r.u32(4);
  if (hdrLen < HEADER_SIZE) r.fail(`header length ${hdrLen} is smaller than ${HEADER_SIZE}`, 4);
  r.need(0, hdrLen, 'BTF header');
  // A longer header (from a newer kernel) is fine as long as the fields we do not know are zero.
  for (let i = HEADER_SIZE; i < hdrLen; i++) if (r.u8(i) !== 0) r.fail(`unknown header field at byte ${i} is not zero`, i);
  const header: BtfHeader = {
    magic,
    version,
    flags: r.u8(3),
    hdrLen,
    typeOff: r.u32(8),
    typeLen: r.u32(12),
    strOff: r.u32(16),
    strLen: r.u32(20),
  };
  if (header.typeOff % 4 !== 0) r.fail(`type section offset ${header.typeOff} is not 4-byte aligned`, 8);
  r.need(hdrLen + header.typeOff, header.typeLen, 'type section');
  r.need(hdrLen + header.strOff, header.strLen, 'string section');
  const typeEnd = header.typeOff + header.typeLen;
  const strEnd = header.strOff + header.strLen;
  if (header.typeLen > 0 && header.strLen > 0 && header.typeOff < strEnd && header.strOff < typeEnd) {
    r.fail('the type and string sections overlap', 8);
  }
  return header;
}

function readStrings(r: BtfReader, header: BtfHeader): Uint8Array {
  const start = header.hdrLen + header.strOff;
  const strings = r.bytes.subarray(start, start + header.strLen);
  if (strings.length === 0) r.fail('the string section is empty (it must hold at least the empty string)', 20);
  if (strings[0] !== 0) r.fail('the string section does not start with the empty string', start);
  if (strings[strings.length - 1] !== 0) r.fail('the string section does not end with a NUL byte', start + strings.length - 1);
  return strings;
}

/** Bytes that follow the 12-byte btf_type for each kind, given vlen. */
function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return vlen * 12;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return vlen * 8;
    default:
      return 0;
  }
}

/** Kinds whose vlen must be 0 (FUNC uses vlen for its linkage). */
const NO_VLEN = new Set<number>([
  BtfKind.INT, BtfKind.PTR, BtfKind.ARRAY, BtfKind.FWD, BtfKind.TYPEDEF, BtfKind.VOLATILE, BtfKind.CONST,
  BtfKind.RESTRICT, BtfKind.VAR, BtfKind.FLOAT, BtfKind.DECL_TAG, BtfKind.TYPE_TAG,
]);

/** Kinds whose kind_flag has a meaning. */
const KIND_FLAG = new Set<number>([BtfKind.STRUCT, BtfKind.UNION, BtfKind.ENUM, BtfKind.FWD, BtfKind.ENUM64]);

function readType(r: BtfReader, btf: { name: (offset: number, at: number) => string }, id: number, at: number, end: number): { type: BtfType; next: number } {
  r.need(at, TYPE_HEADER_SIZE, `type ${id} header`, end);
  const info = r.u32(at + 4);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kindFlag = info >>> 31 === 1;
  if (kind < BtfKind.INT || kind > BtfKind.ENUM64) r.fail(`type ${id} has unknown kind ${kind}`, at + 4);
  if ((info & 0x60ff0000) !== 0) r.fail(`type ${id} (${BTF_KIND_NAMES[kind]}): reserved bits of info 0x${info.toString(16)} are set`, at + 4);
  if (NO_VLEN.has(kind) && vlen !== 0) r.fail(`type ${id} (${BTF_KIND_NAMES[kind]}): vlen ${vlen} must be 0`, at + 4);
  if (kindFlag && !KIND_FLAG.has(kind)) r.fail(`type ${id} (${BTF_KIND_NAMES[kind]}): kind_flag must not be set`, at + 4);
  const extra = extraSize(kind, vlen);
  r.need(at + TYPE_HEADER_SIZE, extra, `type ${id} (${BTF_KIND_NAMES[kind]}) data`, end);
  const name = btf.name(r.u32(at), at);
  const sizeOrType = r.u32(at + 8);
  const body = at + TYPE_HEADER_SIZE;
  const common = { id, name, at: r.base + at };
  const next = body + extra;
  switch (kind) {
    case BtfKind.INT: {
      const word = r.u32(body);
      const encoding = (word >>> 24) & 0xf;
      const bitOffset = (word >>> 16) & 0xff;
      const bits = word & 0xff;
      if ((word & 0xf000_ff00) !== 0) r.fail(`type ${id} (INT): reserved bits of 0x${word.toString(16)} are set`, body);
      if (![1, 2, 4, 8, 16].includes(sizeOrType)) r.fail(`type ${id} (INT): size ${sizeOrType} is not 1, 2, 4, 8 or 16`, at + 8);
      if (bits === 0 || bits > 128 || bitOffset + bits > sizeOrType * 8) {
        r.fail(`type ${id} (INT): ${bits} bits at bit ${bitOffset} do not fit ${sizeOrType} bytes`, body);
      }
      if (encoding !== 0 && encoding !== 1 && encoding !== 2 && encoding !== 4) r.fail(`type ${id} (INT): encoding ${encoding} is not one of SIGNED, CHAR, BOOL`, body);
      return { type: { ...common, kind, size: sizeOrType, encoding, bitOffset, bits }, next };
    }
    case BtfKind.PTR:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.TYPE_TAG:
      return { type: { ...common, kind, type: sizeOrType }, next };
    case BtfKind.ARRAY:
      return { type: { ...common, kind, type: r.u32(body), indexType: r.u32(body + 4), length: r.u32(body + 8) }, next };
    case BtfKind.STRUCT:
    case BtfKind.UNION: {
      const members: BtfMember[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = body + i * 12;
        const offset = r.u32(m + 8);
        members.push({
          name: btf.name(r.u32(m), m),
          type: r.u32(m + 4),
          bitOffset: kindFlag ? offset & 0xffffff : offset,
          bitfieldSize: kindFlag ? offset >>> 24 : 0,
        });
      }
      return { type: { ...common, kind, size: sizeOrType, kindFlag, members }, next };
    }
    case BtfKind.ENUM: {
      const values = [];
      for (let i = 0; i < vlen; i++) {
        const e = body + i * 8;
        values.push({ name: btf.name(r.u32(e), e), value: kindFlag ? r.i32(e + 4) : r.u32(e + 4) });
      }
      checkEnumSize(r, id, sizeOrType, at);
      return { type: { ...common, kind, size: sizeOrType, signed: kindFlag, values } satisfies BtfEnum, next };
    }
    case BtfKind.ENUM64: {
      const values = [];
      for (let i = 0; i < vlen; i++) {
        const e = body + i * 12;
        const raw = (BigInt(r.u32(e + 8)) << 32n) | BigInt(r.u32(e + 4));
        values.push({ name: btf.name(r.u32(e), e), value: kindFlag ? BigInt.asIntN(64, raw) : raw });
      }
      checkEnumSize(r, id, sizeOrType, at);
      return { type: { ...common, kind, size: sizeOrType, signed: kindFlag, values } satisfies BtfEnum64, next };
    }
    case BtfKind.FWD:
      return { type: { ...common, kind, union: kindFlag }, next };
    case BtfKind.FUNC:
      if (vlen > 2) r.fail(`type ${id} (FUNC): linkage ${vlen} is not static, global or extern`, at + 4);
      return { type: { ...common, kind, type: sizeOrType, linkage: vlen }, next };
    case BtfKind.FUNC_PROTO: {
      const params = [];
      for (let i = 0; i < vlen; i++) {
        const p = body + i * 8;
        params.push({ name: btf.name(r.u32(p), p), type: r.u32(p + 4) });
      }
      return { type: { ...common, kind, returnType: sizeOrType, params }, next };
    }
    case BtfKind.VAR: {
      const linkage = r.u32(body);
      if (linkage > 2) r.fail(`type ${id} (VAR): linkage ${linkage} is not static, global or extern`, body);
      return { type: { ...common, kind, type: sizeOrType, linkage }, next };
    }
    case BtfKind.DATASEC: {
      const vars = [];
      for (let i = 0; i < vlen; i++) {
        const v = body + i * 12;
        vars.push({ type: r.u32(v), offset: r.u32(v + 4), size: r.u32(v + 8) });
      }
      return { type: { ...common, kind, size: sizeOrType, vars } satisfies BtfDatasec, next };
    }
    case BtfKind.FLOAT:
      if (![2, 4, 8, 12, 16].includes(sizeOrType)) r.fail(`type ${id} (FLOAT): size ${sizeOrType} is not 2, 4, 8, 12 or 16`, at + 8);
      return { type: { ...common, kind, size: sizeOrType }, next };
    case BtfKind.DECL_TAG: {
      const componentIndex = r.i32(body);
      if (componentIndex < -1) r.fail(`type ${id} (DECL_TAG): component index ${componentIndex} is negative`, body);
      return { type: { ...common, kind, type: sizeOrType, componentIndex }, next };
    }
    default:
      return r.fail(`type ${id} has unknown kind ${kind}`, at + 4);
  }
}

function checkEnumSize(r: BtfReader, id: number, size: number, at: number): void {
  if (![1, 2, 4, 8].includes(size)) r.fail(`type ${id} (enum): size ${size} is not 1, 2, 4 or 8`, at + 8);
}

/** The type ids a record refers to, with what each is, for the range checks. */
function references(t: BtfType): { id: number; what: string; voidOk: boolean }[] {
  switch (t.kind) {
    case BtfKind.PTR:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.TYPE_TAG:
      return [{ id: t.type, what: 'referenced type', voidOk: true }];
    case BtfKind.ARRAY:
      return [{ id: t.type, what: 'element type', voidOk: false }, { id: t.indexType, what: 'index type', voidOk: false }];
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      return t.members.map((m, i) => ({ id: m.type, what: `member ${i} ('${m.name}') type`, voidOk: false }));
    case BtfKind.FUNC:
      return [{ id: t.type, what: 'prototype', voidOk: false }];
    case BtfKind.FUNC_PROTO:
      return [
        { id: t.returnType, what: 'return type', voidOk: true },
        ...t.params.map((p, i) => ({ id: p.type, what: `parameter ${i} type`, voidOk: i === t.params.length - 1 && p.name === '' })),
      ];
    case BtfKind.VAR:
      return [{ id: t.type, what: 'variable type', voidOk: false }];
    case BtfKind.DATASEC:
      return t.vars.map((v, i) => ({ id: v.type, what: `variable ${i}`, voidOk: false }));
    case BtfKind.DECL_TAG:
      return [{ id: t.type, what: 'tagged type', voidOk: false }];
    default:
      return [];
  }
}

/** Checks that every reference names an existing type of a fitting kind. */
function checkReferences(btf: Btf): void {
  for (const t of btf.types) {
    if (t === undefined) continue;
    for (const ref of references(t)) {
      if (ref.id === 0 && !ref.voidOk) btf.fail(`type ${t.id} (${BTF_KIND_NAMES[t.kind]}): ${ref.what} is void`, t.at);
      if (ref.id > btf.count) btf.fail(`type ${t.id} (${BTF_KIND_NAMES[t.kind]}): ${ref.what} ${ref.id} is out of range (${btf.count} types)`, t.at);
    }
    if (t.kind === BtfKind.FUNC && btf.types[t.type]!.kind !== BtfKind.FUNC_PROTO) {
      btf.fail(`type ${t.id} (FUNC '${t.name}'): prototype ${t.type} is a ${BTF_KIND_NAMES[btf.types[t.type]!.kind]}, not a FUNC_PROTO`, t.at);
    }
    if (t.kind === BtfKind.DATASEC) {
      for (const v of t.vars) {
        const target = btf.types[v.type]!;
        if (target.kind !== BtfKind.VAR && target.kind !== BtfKind.FUNC) {
          btf.fail(`type ${t.id} (DATASEC '${t.name}'): entry type ${v.type} is a ${BTF_KIND_NAMES[target.kind]}, not a VAR`, t.at);
        }
      }
    }
    if (t.kind === BtfKind.DECL_TAG && t.componentIndex >= 0) {
      const target = btf.types[t.type]!;
      const count = target.kind === BtfKind.STRUCT || target.kind === BtfKind.UNION ? target.members.length
        : target.kind === BtfKind.FUNC ? paramCount(btf.types[target.type]) : -1;
      if (t.componentIndex >= count) btf.fail(`type ${t.id} (DECL_TAG): component ${t.componentIndex} does not exist in type ${t.type}`, t.at);
    }
  }
}

function paramCount(t: BtfType | undefined): number {
  return t?.kind === BtfKind.FUNC_PROTO ? t.params.length : -1;
}

/**
 * Parses a .BTF blob. `data` may be a view; the result keeps views into it. Throws BtfError naming
 * the file, the section and the byte offset (a file offset when `source.offset` is given).
 */
export function parseBtf(data: Uint8Array, source: BtfSource = {}): Btf {
  const file = source.file ?? '<memory>';
  const section = source.section ?? '.BTF';
  const r = new BtfReader(data, file, section, source.offset ?? 0);
  const header = readHeader(r);
  const strings = readStrings(r, header);
  const stringsStart = header.hdrLen + header.strOff;
  const name = (offset: number, at: number): string => {
    if (offset >= strings.length) r.fail(`name offset ${offset} is outside the string section (${strings.length} bytes)`, at);
    return utf8.decode(strings.subarray(offset, strings.indexOf(0, offset)));
  };
  const types: (BtfType | undefined)[] = [undefined];
  const start = header.hdrLen + header.typeOff;
  const end = start + header.typeLen;
  for (let at = start; at < end;) {
    if (types.length > MAX_TYPE_ID) r.fail(`more than ${MAX_TYPE_ID} types`, at);
    const { type, next } = readType(r, { name }, types.length, at, end);
    types.push(type);
    at = next;
  }
  const btf = new Btf(file, section, header, strings, r.base + stringsStart, types);
  checkReferences(btf);
  return btf;
}

/** The object's .BTF section parsed, or undefined when it has none. */
export function readBtf(elf: ElfFile): Btf | undefined {
  const section = sectionByName(elf, '.BTF');
  if (!section) return undefined;
  return parseBtf(section.data, { file: elf.fileName, section: section.name, offset: section.offset });
}
