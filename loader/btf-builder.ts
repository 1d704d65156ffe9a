// Encodes BTF blobs programmatically, in the .BTF format of include/uapi/linux/btf.h and
// Documentation/bpf/btf.rst (little-endian, version 1): the runtime's own kernel BTF and test
// targets for CO-RE are built with it. Structs may be laid out by C's rules (natural alignment,
// System V bitfields) or with explicit offsets. parseBtf reads back what encode() writes.
import { parseBtf, BTF_MAGIC, type Btf, type BtfSource } from './btf.js';
import { BtfIntEncoding, BtfKind, BTF_KIND_NAMES, type BtfType } from './btf-types.js';

/** A type record as the builder takes it: any reader record without its id and file offset. */
export type BtfTypeInput = BtfType extends infer T ? (T extends BtfType ? Omit<T, 'id' | 'at'> : never) : never;

/** A member for struct() and union(): offsets in bits; left out, they follow C's layout rules. */
export interface BtfMemberInput {
  readonly name: string;
  readonly type: number;
  readonly bitOffset?: number;
  /** Width of a bitfield; 0 or absent for an ordinary member. */
  readonly bitfieldSize?: number;
}

/** Options of struct() and union(). */
export interface BtfCompositeOptions {
  /** The size in bytes; by default the end of the last member rounded up to the alignment. */
  readonly size?: number;
}

/** A misuse of the builder (an unknown type id, a layout that cannot be computed). */
export class BtfBuilderError extends Error {
  override readonly name = 'BtfBuilderError';
}

const HEADER_SIZE = 24;
const utf8 = new TextEncoder();

/** Builds a BTF blob type by type; each method returns the new type's id. */
export class BtfBuilder {
  private readonly records: (BtfTypeInput | undefined)[] = [undefined];
  private arrayIndexType = 0;

  /** The number of types so far (the last id). */
  get count(): number {
    return this.records.length - 1;
  }

  /** The record of type `id` (undefined for void). */
  typeById(id: number): BtfTypeInput | undefined {
    if (id < 0 || id >= this.records.length) throw new BtfBuilderError(`type id ${id} does not exist (${this.count} types)`);
    return this.records[id];
  }

  /** Adds any record as it is; the other methods are shorthands for it. */
  add(type: BtfTypeInput): number {
    this.records.push(type);
    return this.count;
  }

  /** An INT of `size` bytes (`bits` wide, default all of them). */
  int(name: string, size: number, options: { signed?: boolean; char?: boolean; bool?: boolean; bits?: number; bitOffset?: number } = {}): number {
    const encoding = (options.signed ? BtfIntEncoding.SIGNED : 0) | (options.char ? BtfIntEncoding.CHAR : 0) | (options.bool ? BtfIntEncoding.BOOL : 0);
    return this.add({ kind: BtfKind.INT, name, size, encoding, bitOffset: options.bitOffset ?? 0, bits: options.bits ?? size * 8 });
  }

  float(name: string, size: number): number {
    return this.add({ kind: BtfKind.FLOAT, name, size });
  }

  ptr(type: number): number {
    return this.add({ kind: BtfKind.PTR, name: '', type });
  }

  typedef(name: string, type: number): number {
    return this.add({ kind: BtfKind.TYPEDEF, name, type });
  }

  const(type: number): number {
    return this.add({ kind: BtfKind.CONST, name: '', type });
  }

  volatile(type: number): number {
    return this.add({ kind: BtfKind.VOLATILE, name: '', type });
  }

  restrict(type: number): number {
    return this.add({ kind: BtfKind.RESTRICT, name: '', type });
  }

  typeTag(name: string, type: number): number {
    return this.add({ kind: BtfKind.TYPE_TAG, name, type });
  }

  /** An array of `length` elements; the index type is clang's `__ARRAY_SIZE_TYPE__` unless given. */
  array(type: number, length: number, indexType?: number): number {
    if (indexType === undefined) {
      if (this.arrayIndexType === 0) this.arrayIndexType = this.int('__ARRAY_SIZE_TYPE__', 4);
      indexType = this.arrayIndexType;
    }
    return this.add({ kind: BtfKind.ARRAY, name: '', type, indexType, length });
  }

  /** A struct; without members it is a declaration to complete with setMembers (for types that point to themselves). */
  struct(name: string, members?: readonly BtfMemberInput[], options: BtfCompositeOptions = {}): number {
    const id = this.add({ kind: BtfKind.STRUCT, name, size: 0, kindFlag: false, members: [] });
    if (members) this.setMembers(id, members, options);
    return id;
  }

  /** A union: every member at offset 0 unless given. */
  union(name: string, members?: readonly BtfMemberInput[], options: BtfCompositeOptions = {}): number {
    const id = this.add({ kind: BtfKind.UNION, name, size: 0, kindFlag: false, members: [] });
    if (members) this.setMembers(id, members, options);
    return id;
  }

  /** Gives a struct or union its members, laying out those without offsets. */
  setMembers(id: number, members: readonly BtfMemberInput[], options: BtfCompositeOptions = {}): void {
    const t = this.typeById(id);
    if (t?.kind !== BtfKind.STRUCT && t?.kind !== BtfKind.UNION) throw new BtfBuilderError(`type ${id} is not a struct or union`);
    const union = t.kind === BtfKind.UNION;
    let bit = 0;
    let align = 1;
    let end = 0;
    const placed = members.map((m) => {
      const size = this.sizeOf(m.type);
      const a = this.alignOf(m.type);
      align = Math.max(align, a);
      const width = m.bitfieldSize ?? 0;
      let at = m.bitOffset;
      if (at === undefined) {
        if (union) at = 0;
        else if (width > 0) {
          // System V: a bitfield does not straddle a unit of its type's size.
          const unit = size * 8;
          at = Math.floor(bit / unit) === Math.floor((bit + width - 1) / unit) ? bit : Math.ceil(bit / unit) * unit;
        } else {
          at = Math.ceil(bit / (a * 8)) * a * 8;
        }
      }
      const next = at + (width > 0 ? width : size * 8);
      bit = union ? bit : next;
      end = Math.max(end, next);
      return { name: m.name, type: m.type, bitOffset: at, bitfieldSize: width };
    });
    const size = options.size ?? Math.ceil(Math.ceil(end / 8) / align) * align;
    const kindFlag = placed.some((m) => m.bitfieldSize > 0);
    this.records[id] = { ...t, size, kindFlag, members: placed };
  }

  /** A 32-bit (or smaller) enum; values are [name, value] pairs. */
  enum(name: string, values: readonly (readonly [string, number])[], options: { size?: number; signed?: boolean } = {}): number {
    const signed = options.signed ?? values.some(([, v]) => v < 0);
    return this.add({ kind: BtfKind.ENUM, name, size: options.size ?? 4, signed, values: values.map(([n, value]) => ({ name: n, value })) });
  }

  /** A 64-bit enum. */
  enum64(name: string, values: readonly (readonly [string, bigint])[], options: { size?: number; signed?: boolean } = {}): number {
    const signed = options.signed ?? values.some(([, v]) => v < 0n);
    return this.add({ kind: BtfKind.ENUM64, name, size: options.size ?? 8, signed, values: values.map(([n, value]) => ({ name: n, value })) });
  }

  fwd(name: string, union = false): number {
    return this.add({ kind: BtfKind.FWD, name, union });
  }

  funcProto(returnType: number, params: readonly { name: string; type: number }[]): number {
    return this.add({ kind: BtfKind.FUNC_PROTO, name: '', returnType, params });
  }

  func(name: string, proto: number, linkage = 1): number {
    return this.add({ kind: BtfKind.FUNC, name, type: proto, linkage });
  }

  variable(name: string, type: number, linkage = 1): number {
    return this.add({ kind: BtfKind.VAR, name, type, linkage });
  }

  datasec(name: string, size: number, vars: readonly { type: number; offset: number; size: number }[]): number {
    return this.add({ kind: BtfKind.DATASEC, name, size, vars });
  }

  declTag(name: string, type: number, componentIndex = -1): number {
    return this.add({ kind: BtfKind.DECL_TAG, name, type, componentIndex });
  }

  /** sizeof, as C computes it (pointers are 8 bytes). */
  sizeOf(id: number): number {
    const t = this.typeById(id);
    if (!t) throw new BtfBuilderError('sizeof void');
    switch (t.kind) {
      case BtfKind.INT:
      case BtfKind.FLOAT:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.DATASEC:
        return t.size;
      case BtfKind.PTR:
        return 8;
      case BtfKind.ARRAY:
        return t.length * this.sizeOf(t.type);
      case BtfKind.TYPEDEF:
      case BtfKind.CONST:
      case BtfKind.VOLATILE:
      case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG:
      case BtfKind.VAR:
        return this.sizeOf(t.type);
      default:
        throw new BtfBuilderError(`type ${id} (${BTF_KIND_NAMES[t.kind]}) has no size`);
    }
  }

  /** _Alignof, as x86-64 and BPF lay out C. */
  alignOf(id: number): number {
    const t = this.typeById(id);
    if (!t) throw new BtfBuilderError('alignof void');
    switch (t.kind) {
      case BtfKind.INT:
      case BtfKind.FLOAT:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return Math.min(t.size, 16);
      case BtfKind.PTR:
        return 8;
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        return t.members.reduce((a, m) => Math.max(a, this.alignOf(m.type)), 1);
      case BtfKind.ARRAY:
      case BtfKind.TYPEDEF:
      case BtfKind.CONST:
      case BtfKind.VOLATILE:
      case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG:
        return this.alignOf(t.type);
      default:
        throw new BtfBuilderError(`type ${id} (${BTF_KIND_NAMES[t.kind]}) has no alignment`);
    }
  }

  /** The blob: header, type section, string section (strings deduplicated, the empty string first). */
  encode(): Uint8Array {
    const strings = new Map<string, number>([['', 0]]);
    const stringBytes: Uint8Array[] = [new Uint8Array(1)];
    let stringLength = 1;
    const str = (s: string): number => {
      let at = strings.get(s);
      if (at === undefined) {
        at = stringLength;
        const bytes = utf8.encode(`${s}\0`);
        strings.set(s, at);
        stringBytes.push(bytes);
        stringLength += bytes.length;
      }
      return at;
    };
    const words: number[] = [];
    const head = (t: BtfTypeInput, vlen: number, kindFlag: boolean, sizeOrType: number) => {
      if (vlen > 0xffff) throw new BtfBuilderError(`${BTF_KIND_NAMES[t.kind]} '${t.name}' has ${vlen} entries (at most 65535)`);
      words.push(str(t.name), ((kindFlag ? 1 : 0) << 31) | (t.kind << 24) | vlen, sizeOrType);
    };
    for (const t of this.records) {
      if (!t) continue;
      switch (t.kind) {
        case BtfKind.INT:
          head(t, 0, false, t.size);
          words.push((t.encoding << 24) | (t.bitOffset << 16) | t.bits);
          break;
        case BtfKind.PTR:
        case BtfKind.TYPEDEF:
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG:
          head(t, 0, false, t.type);
          break;
        case BtfKind.ARRAY:
          head(t, 0, false, 0);
          words.push(t.type, t.indexType, t.length);
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION: {
          const kindFlag = t.kindFlag || t.members.some((m) => m.bitfieldSize > 0);
          head(t, t.members.length, kindFlag, t.size);
          for (const m of t.members) words.push(str(m.name), m.type, kindFlag ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset);
          break;
        }
        case BtfKind.ENUM:
          head(t, t.values.length, t.signed, t.size);
          for (const v of t.values) words.push(str(v.name), v.value);
          break;
        case BtfKind.ENUM64:
          head(t, t.values.length, t.signed, t.size);
          for (const v of t.values) {
            const raw = BigInt.asUintN(64, v.value);
            words.push(str(v.name), Number(raw & 0xffffffffn), Number(raw >> 32n));
          }
          break;
        case BtfKind.FWD:
          head(t, 0, t.union, 0);
          break;
        case BtfKind.FUNC:
          head(t, t.linkage, false, t.type);
          break;
        case BtfKind.FUNC_PROTO:
          head(t, t.params.length, false, t.returnType);
          for (const p of t.params) words.push(str(p.name), p.type);
          break;
        case BtfKind.VAR:
          head(t, 0, false, t.type);
          words.push(t.linkage);
          break;
        case BtfKind.DATASEC:
          head(t, t.vars.length, false, t.size);
          for (const v of t.vars) words.push(v.type, v.offset, v.size);
          break;
        case BtfKind.FLOAT:
          head(t, 0, false, t.size);
          break;
        case BtfKind.DECL_TAG:
          head(t, 0, false, t.type);
          words.push(t.componentIndex);
          break;
      }
    }
    const typeLength = words.length * 4;
    const out = new Uint8Array(HEADER_SIZE + typeLength + stringLength);
    const view = new DataView(out.buffer);
    view.setUint16(0, BTF_MAGIC, true);
    view.setUint8(2, 1);
    view.setUint8(3, 0);
    view.setUint32(4, HEADER_SIZE, true);
    view.setUint32(8, 0, true);
    view.setUint32(12, typeLength, true);
    view.setUint32(16, typeLength, true);
    view.setUint32(20, stringLength, true);
    words.forEach((w, i) => view.setUint32(HEADER_SIZE + i * 4, w >>> 0, true));
    let at = HEADER_SIZE + typeLength;
    for (const s of stringBytes) {
      out.set(s, at);
      at += s.length;
    }
    return out;
  }

  /** The blob parsed back: a Btf for the queries and for CO-RE. */
  build(source: BtfSource = {}): Btf {
    return parseBtf(this.encode(), { file: '<built>', ...source });
  }
}
