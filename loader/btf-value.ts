// BTF-described bytes as JS values and back: decodeBtfValue gives the JSON-shaped data `bpftool map
// dump` prints for BTF-described maps (tools/bpf/bpftool/btf_dumper.c), encodeBtfValue turns such data
// (or raw bytes) into exactly sizeof(type) bytes. Layout per Documentation/bpf/btf.rst, little-endian.
//
// Rules, and where they differ from bpftool's output:
// - Integers, enums without a matching enumerator, pointers and bitfields are numbers while they are
//   safe integers (|v| <= 2^53 - 1) and bigints beyond (decimal strings with `bigint: 'string'`, so
//   JSON.stringify works). bpftool prints 128-bit integers as hex strings; here they follow the same rule.
// - Signed bitfields are sign-extended (bpftool prints every bitfield as unsigned).
// - `__be16`, `__be32` and `__be64` typedefs are read and written in network byte order, so
//   `{ port: 80 }` means port 80 (bpftool prints the little-endian reading); `networkByteOrder: false` turns this off.
// - Beyond bpftool, for hand-written values (topology files): a `__be32` also takes an IPv4 address
//   string ("10.0.0.1"), a 4- or 16-byte array of unsigned bytes an IPv4 or IPv6 address string,
//   in network byte order, and a 6-byte one a MAC address ("02:00:00:00:00:01"). They decode as
//   numbers, as bpftool prints them.
// - A char array is a string when its bytes up to a NUL within the array are printable, as bpftool
//   decides; non-ASCII UTF-8 counts as printable here (bpftool prints such arrays as numbers).
//   Bytes after the NUL are not part of the value. A lone `char` is a number.
// - Anonymous struct and union members are flattened into their parent, as C accesses them (bpftool
//   prints them under the name ""). Every member of a union is decoded.
// - Kernel-owned fields (`struct bpf_spin_lock`, `bpf_timer`, ...) are left out when decoding members;
//   when encoding they must be absent or encode to zeros (the map keeps its own lock).
import { BpfError } from '../isa/errors.js';
import { BtfIntEncoding, BtfKind, BTF_KIND_NAMES, type BtfComposite, type BtfEnum, type BtfEnum64, type BtfInt, type BtfType } from './btf-types.js';
import type { Btf } from './btf.js';

/** What decodeBtfValue returns: JSON data, except for bigints beyond 2^53 (see `bigint`). */
export type BtfJsValue = number | bigint | string | boolean | BtfJsValue[] | { [member: string]: BtfJsValue };

/** Options of decodeBtfValue and encodeBtfValue. */
export interface BtfValueOptions {
  /** The name of the whole value in error paths (default 'value'): errors say `key.port`. */
  readonly path?: string;
  /** How integers beyond Number.MAX_SAFE_INTEGER decode: 'bigint' (default) or decimal 'string'. */
  readonly bigint?: 'bigint' | 'string';
  /** Read and write `__be16`, `__be32` and `__be64` typedefs in network byte order (default true). */
  readonly networkByteOrder?: boolean;
}

/** What went wrong in an encode or decode: part of BtfValueError's code (`btf-value-<problem>`). */
export type BtfValueProblem = 'unknown-member' | 'out-of-range' | 'wrong-type' | 'too-long' | 'unknown-enumerator' | 'conflict' | 'bad-size' | 'unsupported';

/** A value that does not fit its BTF type (or a type that has no value); names the path and the type. */
export class BtfValueError extends BpfError {
  constructor(
    readonly problem: BtfValueProblem,
    /** Where in the value, as C would write the access: `key.addr[2]`. */
    readonly path: string,
    /** The C spelling of the type at that place: `__be16`, `struct port_key`, `char[16]`. */
    readonly typeName: string,
    detail: string,
  ) {
    super(`btf-value-${problem}`, `${path}: ${detail}`);
  }
}

/** Structs the kernel owns inside map values (btf_parse_fields); JS neither sees nor sets them. */
const KERNEL_FIELDS = new Set(['bpf_spin_lock', 'bpf_res_spin_lock', 'bpf_timer', 'bpf_wq', 'bpf_list_head', 'bpf_list_node', 'bpf_rb_root', 'bpf_rb_node', 'bpf_refcount']);
const BIG_ENDIAN_TYPEDEFS = new Set(['__be16', '__be32', '__be64']);
const INTEGER_TEXT = /^[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|\d+)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Decodes `bytes` (exactly sizeof(typeId) of them) as a JS value shaped like bpftool's JSON. */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array, options: BtfValueOptions = {}): BtfJsValue {
  const codec = new Codec(btf, options);
  const path = options.path ?? 'value';
  codec.checkSize(typeId, bytes.length, path);
  return codec.decode(typeId, bytes, 0, path, false);
}

/**
 * Encodes a JS value as exactly sizeof(typeId) bytes: objects by member name, arrays, strings for
 * char arrays, enumerator names, numbers, bigints and integer strings; a Uint8Array of the type's
 * size is taken as raw bytes at any level. Missing members and elements are zero. Throws BtfValueError.
 */
export function encodeBtfValue(btf: Btf, typeId: number, value: unknown, options: BtfValueOptions = {}): Uint8Array {
  const codec = new Codec(btf, options);
  const target = new Target(codec.checkSize(typeId, undefined, options.path ?? 'value'));
  codec.encode(typeId, value, target, 0, options.path ?? 'value', false);
  return target.bytes;
}

/** The C spelling of a type, for messages: `struct port_key`, `__u8[4]`, `const char *`. */
export function btfTypeName(btf: Btf, id: number, depth = 0): string {
  if (id === 0) return 'void';
  const t = btf.typeById(id);
  if (!t) return `type ${id}`;
  if (depth > 16) return '...';
  const tag = (word: string) => `${word} ${t.name || '(anon)'}`;
  switch (t.kind) {
    case BtfKind.STRUCT: return tag('struct');
    case BtfKind.UNION: return tag('union');
    case BtfKind.ENUM:
    case BtfKind.ENUM64: return tag('enum');
    case BtfKind.FWD: return tag(t.union ? 'union' : 'struct');
    case BtfKind.PTR: return `${btfTypeName(btf, t.type, depth + 1)} *`;
    case BtfKind.CONST: return `const ${btfTypeName(btf, t.type, depth + 1)}`;
    case BtfKind.VOLATILE: return `volatile ${btfTypeName(btf, t.type, depth + 1)}`;
    case BtfKind.RESTRICT: return `${btfTypeName(btf, t.type, depth + 1)} restrict`;
    case BtfKind.TYPE_TAG: return btfTypeName(btf, t.type, depth + 1);
    case BtfKind.ARRAY: {
      // int a[2][3] is an array of 2 arrays of 3: the outer length comes first.
      const dims: number[] = [];
      let elem: BtfType | undefined = t;
      while (elem?.kind === BtfKind.ARRAY && dims.length < 16) {
        dims.push(elem.length);
        elem = btf.typeById(elem.type);
      }
      return `${btfTypeName(btf, elem?.id ?? 0, depth + 1)}${dims.map((d) => `[${d}]`).join('')}`;
    }
    default: return t.name || BTF_KIND_NAMES[t.kind]!;
  }
}

/** The output of an encode: bytes, and which bits were written by whom (to find clashing union members). */
class Target {
  readonly bytes: Uint8Array;
  private readonly written: Uint8Array;
  private readonly writers: (string | undefined)[];

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.written = new Uint8Array(size);
    this.writers = new Array<string | undefined>(size);
  }

  /** Writes `width` bits of `value` (unsigned, already in range) at bit `bit`, little-endian bit order. */
  putBits(bit: number, width: number, value: bigint, path: string, typeName: string): void {
    for (let k = 0; k < width;) {
      const at = (bit + k) >> 3;
      const shift = (bit + k) & 7;
      const n = Math.min(8 - shift, width - k);
      const chunk = Number((value >> BigInt(k)) & ((1n << BigInt(n)) - 1n)) << shift;
      this.put(at, ((1 << n) - 1) << shift, chunk, path, typeName);
      k += n;
    }
  }

  putBytes(at: number, bytes: Uint8Array, path: string, typeName: string): void {
    for (let i = 0; i < bytes.length; i++) this.put(at + i, 0xff, bytes[i]!, path, typeName);
  }

  private put(at: number, mask: number, bits: number, path: string, typeName: string): void {
    const clash = this.written[at]! & mask & (this.bytes[at]! ^ bits);
    if (clash !== 0) {
      throw new BtfValueError('conflict', path, typeName, `conflicts with ${this.writers[at]}, which shares its bytes and gives them another value`);
    }
    this.bytes[at] = (this.bytes[at]! & ~mask) | bits;
    this.written[at]! |= mask;
    this.writers[at] = path;
  }
}

/** A type with its modifiers skipped, and whether a __beNN typedef was on the way. */
interface Resolved {
  readonly t: BtfType;
  readonly bigEndian: boolean;
}

class Codec {
  private readonly networkOrder: boolean;

  constructor(
    readonly btf: Btf,
    readonly options: BtfValueOptions,
  ) {
    this.networkOrder = options.networkByteOrder ?? true;
  }

  /** sizeof(id), checked against `actual` when given. */
  checkSize(id: number, actual: number | undefined, path: string): number {
    const name = btfTypeName(this.btf, id);
    let size: number;
    try {
      size = this.btf.sizeOf(id);
    } catch (err) {
      throw new BtfValueError('unsupported', path, name, `${name} has no size, so it has no value (${(err as Error).message})`);
    }
    if (actual !== undefined && actual !== size) throw new BtfValueError('bad-size', path, name, `${name} is ${size} bytes, got ${actual}`);
    return size;
  }

  private resolve(id: number, bigEndian: boolean, path: string): Resolved {
    for (let steps = 0; ; steps++) {
      if (id === 0) throw new BtfValueError('unsupported', path, 'void', 'void has no value');
      const t = this.btf.type(id, path);
      if (steps > this.btf.count) throw new BtfValueError('unsupported', path, btfTypeName(this.btf, id), 'the type is a cycle of modifiers');
      switch (t.kind) {
        case BtfKind.TYPEDEF:
          if (this.networkOrder && BIG_ENDIAN_TYPEDEFS.has(t.name)) bigEndian = true;
          id = t.type;
          break;
        case BtfKind.CONST:
        case BtfKind.VOLATILE:
        case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG:
          id = t.type;
          break;
        default:
          return { t, bigEndian };
      }
    }
  }

  private unsupported(id: number, path: string, what: string): never {
    throw new BtfValueError('unsupported', path, btfTypeName(this.btf, id), `${btfTypeName(this.btf, id)}: ${what}`);
  }

  // ---- decoding ----

  private js(value: bigint): BtfJsValue {
    if (value >= -0x1f_ffff_ffff_ffffn && value <= 0x1f_ffff_ffff_ffffn) return Number(value);
    return this.options.bigint === 'string' ? value.toString() : value;
  }

  decode(id: number, bytes: Uint8Array, bit: number, path: string, bigEndian: boolean): BtfJsValue {
    const { t, bigEndian: be } = this.resolve(id, bigEndian, path);
    switch (t.kind) {
      case BtfKind.INT: {
        const width = t.bits;
        const start = bit + t.bitOffset;
        const raw = readBits(bytes, start, width, be && isWholeBytes(start, width));
        if (t.encoding & BtfIntEncoding.BOOL) return raw !== 0n;
        return this.js(t.encoding & BtfIntEncoding.SIGNED ? BigInt.asIntN(width, raw) : raw);
      }
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return this.decodeEnum(t, readBits(bytes, bit, t.size * 8, be));
      case BtfKind.PTR:
        return this.js(readBits(bytes, bit, 64, false));
      case BtfKind.FLOAT:
        if (bit % 8 !== 0) this.unsupported(t.id, path, 'a float at a bit offset');
        return readFloat(bytes, bit / 8, t.size, be) ?? this.unsupported(t.id, path, `${t.size}-byte floats are not supported`);
      case BtfKind.ARRAY: {
        const elemSize = this.btf.sizeOf(t.type);
        if (this.isCharArray(t.type) && bit % 8 === 0) {
          const text = cString(bytes.subarray(bit / 8, bit / 8 + t.length));
          if (text !== undefined) return text;
        }
        const out: BtfJsValue[] = [];
        for (let i = 0; i < t.length; i++) out.push(this.decode(t.type, bytes, bit + i * elemSize * 8, `${path}[${i}]`, be));
        return out;
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const out: { [member: string]: BtfJsValue } = {};
        this.decodeMembers(t, bytes, bit, path, out);
        return out;
      }
      default:
        return this.unsupported(t.id, path, `a ${BTF_KIND_NAMES[t.kind]} has no value`);
    }
  }

  private decodeMembers(t: BtfComposite, bytes: Uint8Array, bit: number, path: string, out: { [member: string]: BtfJsValue }): void {
    for (const m of t.members) {
      const at = bit + m.bitOffset;
      const inner = this.resolve(m.type, false, path).t;
      if (m.name === '') {
        // Anonymous struct or union: its members are the parent's, as in C. Unnamed padding is skipped.
        if (inner.kind === BtfKind.STRUCT || inner.kind === BtfKind.UNION) this.decodeMembers(inner, bytes, at, path, out);
        continue;
      }
      if (isKernelField(inner)) continue;
      const memberPath = `${path}.${m.name}`;
      out[m.name] = m.bitfieldSize > 0 ? this.decodeBitfield(inner, bytes, at, m.bitfieldSize, memberPath) : this.decode(m.type, bytes, at, memberPath, false);
    }
  }

  private decodeBitfield(base: BtfType, bytes: Uint8Array, bit: number, width: number, path: string): BtfJsValue {
    const raw = readBits(bytes, bit, width, false);
    if (base.kind === BtfKind.ENUM || base.kind === BtfKind.ENUM64) return this.decodeEnum(base, raw, width);
    if (base.kind !== BtfKind.INT) this.unsupported(base.id, path, `a bitfield of a ${BTF_KIND_NAMES[base.kind]}`);
    if (base.encoding & BtfIntEncoding.BOOL) return raw !== 0n;
    return this.js(base.encoding & BtfIntEncoding.SIGNED ? BigInt.asIntN(width, raw) : raw);
  }

  /** The enumerator's name when one has this value, as bpftool prints; the number otherwise. */
  private decodeEnum(t: BtfEnum | BtfEnum64, raw: bigint, width = t.size * 8): BtfJsValue {
    const value = t.signed ? BigInt.asIntN(width, raw) : raw;
    const found = (t.values as readonly { name: string; value: number | bigint }[]).find((e) => BigInt(e.value) === value);
    return found ? found.name : this.js(value);
  }

  /** Whether array elements are one unsigned byte (__u8, unsigned char), what address arrays are made of. */
  private isByteArray(elem: number): boolean {
    const t = this.btf.typeById(this.btf.resolve(elem));
    return t?.kind === BtfKind.INT && t.size === 1 && (t.encoding & BtfIntEncoding.SIGNED) === 0;
  }

  /** bpftool's rule: elements (modifiers skipped, typedefs not) are 1-byte ints named `char` or CHAR-encoded. */
  private isCharArray(elem: number): boolean {
    let t = this.btf.typeById(elem);
    while (t && (t.kind === BtfKind.CONST || t.kind === BtfKind.VOLATILE || t.kind === BtfKind.RESTRICT || t.kind === BtfKind.TYPE_TAG)) t = this.btf.typeById(t.type);
    return t?.kind === BtfKind.INT && t.size === 1 && ((t.encoding & BtfIntEncoding.CHAR) !== 0 || t.name === 'char');
  }

  // ---- encoding ----

  encode(id: number, value: unknown, target: Target, bit: number, path: string, bigEndian: boolean): void {
    if (value === undefined) return;
    if (value instanceof Uint8Array) {
      const name = btfTypeName(this.btf, id);
      this.checkSize(id, value.length, path);
      if (bit % 8 !== 0) throw new BtfValueError('wrong-type', path, name, `${name} is not byte-aligned here, so it cannot take raw bytes`);
      target.putBytes(bit / 8, value, path, name);
      return;
    }
    const { t, bigEndian: be } = this.resolve(id, bigEndian, path);
    const name = btfTypeName(this.btf, id);
    switch (t.kind) {
      case BtfKind.INT: {
        const start = bit + t.bitOffset;
        if (be && t.size === 4 && typeof value === 'string' && IPV4_TEXT.test(value)) value = ipv4Number(value, path, name);
        const raw = this.intValue(t, t.bits, value, path, name);
        target.putBits(start, t.bits, be && isWholeBytes(start, t.bits) ? byteSwap(raw, t.bits / 8) : raw, path, name);
        return;
      }
      case BtfKind.ENUM:
      case BtfKind.ENUM64: {
        const raw = this.enumValue(t, t.size * 8, value, path, name);
        target.putBits(bit, t.size * 8, be ? byteSwap(raw, t.size) : raw, path, name);
        return;
      }
      case BtfKind.PTR:
        target.putBits(bit, 64, checkRange(toInteger(value, path, name, 'an address'), 64, false, path, name), path, name);
        return;
      case BtfKind.FLOAT: {
        if (typeof value !== 'number') throw wrongType(path, name, 'a number', value);
        const bytes = writeFloat(value, t.size, be);
        if (!bytes) this.unsupported(t.id, path, `${t.size}-byte floats are not supported`);
        if (bytes === 'overflow') throw new BtfValueError('out-of-range', path, name, `${value} is out of range for ${name}`);
        if (bit % 8 !== 0) this.unsupported(t.id, path, 'a float at a bit offset');
        target.putBytes(bit / 8, bytes, path, name);
        return;
      }
      case BtfKind.ARRAY:
        this.encodeArray(t.type, t.length, value, target, bit, path, name, be);
        return;
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(path, name, 'an object', value);
        const record = value as Record<string, unknown>;
        const used = new Set<string>();
        this.encodeMembers(t, record, target, bit, path, used);
        for (const key of Object.keys(record)) {
          if (used.has(key) || record[key] === undefined) continue;
          throw new BtfValueError('unknown-member', `${path}.${key}`, name, `${name} has no member '${key}' (it has ${listNames(this.memberNames(t))})`);
        }
        return;
      }
      default:
        this.unsupported(t.id, path, `a ${BTF_KIND_NAMES[t.kind]} has no value`);
    }
  }

  private encodeArray(elem: number, length: number, value: unknown, target: Target, bit: number, path: string, name: string, be: boolean): void {
    if (typeof value === 'string' && (length === 4 || length === 16) && this.isByteArray(elem) && (IPV4_TEXT.test(value) || value.includes(':'))) {
      const bytes = ipAddressBytes(value);
      if (!bytes || bytes.length !== length) throw new BtfValueError('wrong-type', path, name, `'${value}' is not an ${length === 4 ? 'IPv4' : 'IPv6'} address for ${name}`);
      target.putBytes(bit / 8, bytes, path, name);
      return;
    }
    if (typeof value === 'string' && length === 6 && this.isByteArray(elem) && MAC_TEXT.test(value)) {
      target.putBytes(bit / 8, Uint8Array.from(value.split(':').map((b) => parseInt(b, 16))), path, name);
      return;
    }
    if (typeof value === 'string') {
      if (!this.isCharArray(elem)) throw wrongType(path, name, 'an array', value);
      if (/[\x00-\x1f\x7f]/.test(value)) {
        throw new BtfValueError('wrong-type', path, name, `a string for ${name} must not hold NUL or control characters (give an array of numbers for raw bytes)`);
      }
      const text = utf8Encoder.encode(value);
      if (text.length > length - 1) {
        throw new BtfValueError('too-long', path, name, `the string is ${text.length} bytes, but ${name} holds at most ${Math.max(0, length - 1)} and its NUL`);
      }
      target.putBytes(bit / 8, text, path, name);
      return;
    }
    if (!Array.isArray(value)) throw wrongType(path, name, this.isCharArray(elem) ? 'a string or an array' : 'an array', value);
    if (value.length > length) throw new BtfValueError('too-long', path, name, `${value.length} elements do not fit ${name}`);
    const elemBits = this.btf.sizeOf(elem) * 8;
    value.forEach((v: unknown, i) => this.encode(elem, v, target, bit + i * elemBits, `${path}[${i}]`, be));
  }

  private encodeMembers(t: BtfComposite, record: Record<string, unknown>, target: Target, bit: number, path: string, used: Set<string>): void {
    for (const m of t.members) {
      const at = bit + m.bitOffset;
      const inner = this.resolve(m.type, false, path).t;
      if (m.name === '') {
        if (inner.kind === BtfKind.STRUCT || inner.kind === BtfKind.UNION) this.encodeMembers(inner, record, target, at, path, used);
        continue;
      }
      used.add(m.name);
      const value = Object.hasOwn(record, m.name) ? record[m.name] : undefined;
      if (value === undefined) continue;
      const memberPath = `${path}.${m.name}`;
      if (isKernelField(inner)) {
        this.checkKernelField(m.type, value, memberPath);
      } else if (m.bitfieldSize > 0) {
        this.encodeBitfield(inner, m.type, value, target, at, m.bitfieldSize, memberPath);
      } else {
        this.encode(m.type, value, target, at, memberPath, false);
      }
    }
  }

  /** A kernel-owned field may only be given as 0 or as something that encodes to zeros (bpftool's `{"val": 0}`). */
  private checkKernelField(id: number, value: unknown, path: string): void {
    if (value === 0) return;
    const name = btfTypeName(this.btf, id);
    const scratch = new Target(this.btf.sizeOf(id));
    let zero: boolean;
    try {
      this.encode(id, value, scratch, 0, path, false);
      zero = scratch.bytes.every((b) => b === 0);
    } catch (err) {
      if (!(err instanceof BtfValueError)) throw err;
      zero = false;
    }
    if (!zero) throw new BtfValueError('out-of-range', path, name, `${name} belongs to the kernel and cannot be set from JS (leave it out or give 0)`);
  }

  private encodeBitfield(base: BtfType, id: number, value: unknown, target: Target, bit: number, width: number, path: string): void {
    const name = `${btfTypeName(this.btf, id)}:${width}`;
    let raw: bigint;
    if (base.kind === BtfKind.ENUM || base.kind === BtfKind.ENUM64) raw = this.enumValue(base, width, value, path, name);
    else if (base.kind === BtfKind.INT) raw = this.intValue(base, width, value, path, name);
    else this.unsupported(base.id, path, `a bitfield of a ${BTF_KIND_NAMES[base.kind]}`);
    target.putBits(bit, width, raw, path, name);
  }

  /** An INT's value (or a bitfield of `width` bits of it) as unsigned bits. */
  private intValue(t: BtfInt, width: number, value: unknown, path: string, name: string): bigint {
    const signed = (t.encoding & BtfIntEncoding.SIGNED) !== 0;
    if (t.encoding & BtfIntEncoding.BOOL) {
      if (typeof value === 'boolean') return value ? 1n : 0n;
      const v = toInteger(value, path, name, 'a boolean');
      return checkRange(v, width, signed, path, name);
    }
    if (typeof value === 'string' && t.size === 1 && ((t.encoding & BtfIntEncoding.CHAR) !== 0 || t.name === 'char') && !INTEGER_TEXT.test(value)) {
      // A lone char may be given as a one-character string.
      if (value.length !== 1 || value.charCodeAt(0) > 0xff) throw wrongType(path, name, 'an integer or a one-byte character', value);
      return BigInt(value.charCodeAt(0));
    }
    return checkRange(toInteger(value, path, name, 'an integer'), width, signed, path, name);
  }

  /** An enumerator name or a number in the enum's range (or a bitfield's `width` bits). */
  private enumValue(t: BtfEnum | BtfEnum64, width: number, value: unknown, path: string, name: string): bigint {
    if (typeof value === 'string' && !INTEGER_TEXT.test(value)) {
      const found = (t.values as readonly { name: string; value: number | bigint }[]).find((e) => e.name === value);
      if (!found) {
        throw new BtfValueError('unknown-enumerator', path, name, `${name} has no enumerator '${value}' (it has ${listNames(t.values.map((e) => e.name))})`);
      }
      return checkRange(BigInt(found.value), width, t.signed, path, name);
    }
    return checkRange(toInteger(value, path, name, 'an enumerator name or an integer'), width, t.signed, path, name);
  }

  /** Member names as C reaches them: anonymous members' own names included. */
  private memberNames(t: BtfComposite): string[] {
    return t.members.flatMap((m) => {
      if (m.name !== '') return [m.name];
      const inner = this.btf.typeById(this.btf.resolve(m.type));
      return inner?.kind === BtfKind.STRUCT || inner?.kind === BtfKind.UNION ? this.memberNames(inner) : [];
    });
  }
}

/** Names for a message, the first 16 of a long list. */
function listNames(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  return names.length > 16 ? `${names.slice(0, 16).join(', ')}, ... (${names.length} in all)` : names.join(', ');
}

function isKernelField(t: BtfType): boolean {
  return t.kind === BtfKind.STRUCT && KERNEL_FIELDS.has(t.name);
}

function isWholeBytes(bit: number, width: number): boolean {
  return bit % 8 === 0 && width % 8 === 0;
}

/** A short description of a JS value for messages. */
function describe(value: unknown): string {
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'bigint') return `${value}n`;
  return `${typeof value} ${String(value)}`;
}

function wrongType(path: string, name: string, expected: string, value: unknown): BtfValueError {
  return new BtfValueError('wrong-type', path, name, `${name} takes ${expected}, not ${describe(value)}`);
}

const IPV4_TEXT = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const MAC_TEXT = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;

/** An IPv4 address string as the number whose big-endian bytes it is. */
function ipv4Number(text: string, path: string, name: string): number {
  const bytes = ipAddressBytes(text);
  if (!bytes) throw new BtfValueError('wrong-type', path, name, `'${text}' is not an IPv4 address`);
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** The bytes of an IPv4 ("10.0.0.1") or IPv6 ("2001:db8::1", "::ffff:1.2.3.4") address, or undefined. */
export function ipAddressBytes(text: string): Uint8Array | undefined {
  if (IPV4_TEXT.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  }
  let body = text;
  let tail: number[] = [];
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipAddressBytes(v4[1]!);
    if (!b) return undefined;
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    // "64:ff9b::1.2.3.4" leaves "64:ff9b:", whose "::" the colon before the IPv4 part completes.
    body = text.slice(0, v4.index);
    if (body.endsWith(':')) body += ':';
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const fill = 8 - tail.length - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const words = [...head.map((g) => parseInt(g, 16)), ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest.map((g) => parseInt(g, 16)), ...tail];
  return Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff]));
}

/** A number (a safe integer), a bigint, or an integer string (decimal, 0x, 0o, 0b; what `bigint: 'string'` gives). */
function toInteger(value: unknown, path: string, name: string, expected: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new BtfValueError('wrong-type', path, name, `${name} takes an integer, not ${value}`);
    if (!Number.isSafeInteger(value)) throw new BtfValueError('wrong-type', path, name, `${value} is beyond 2^53 and may have lost precision; give ${name} a bigint or an integer string`);
    return BigInt(value);
  }
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    const negative = value.startsWith('-');
    const digits = value.replace(/^[+-]/, '');
    return negative ? -BigInt(digits) : BigInt(digits);
  }
  throw wrongType(path, name, expected, value);
}

/** `value` as `width` unsigned bits, after checking it is in the signed or unsigned range. */
function checkRange(value: bigint, width: number, signed: boolean, path: string, name: string): bigint {
  const min = signed ? -(1n << BigInt(width - 1)) : 0n;
  const max = signed ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  if (value < min || value > max) throw new BtfValueError('out-of-range', path, name, `${value} is out of range for ${name} (${min}..${max})`);
  return BigInt.asUintN(width, value);
}

/** `width` bits at bit `bit` as an unsigned bigint; `bigEndian` reads whole bytes in network order. */
function readBits(bytes: Uint8Array, bit: number, width: number, bigEndian: boolean): bigint {
  const first = bit >> 3;
  const last = (bit + width - 1) >> 3;
  let v = 0n;
  if (bigEndian) {
    for (let i = first; i <= last; i++) v = (v << 8n) | BigInt(bytes[i]!);
    return v;
  }
  for (let i = last; i >= first; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return (v >> BigInt(bit & 7)) & ((1n << BigInt(width)) - 1n);
}

function byteSwap(value: bigint, size: number): bigint {
  let out = 0n;
  for (let i = 0; i < size; i++) out = (out << 8n) | ((value >> BigInt(i * 8)) & 0xffn);
  return out;
}

/** The first NUL-terminated run of an array as a string, when it is printable UTF-8 (see the file comment). */
function cString(bytes: Uint8Array): string | undefined {
  const end = bytes.indexOf(0);
  if (end < 0) return undefined;
  const run = bytes.subarray(0, end);
  if (run.some((b) => b < 0x20 || b === 0x7f)) return undefined;
  try {
    return utf8.decode(run);
  } catch {
    return undefined;
  }
}

function readFloat(bytes: Uint8Array, at: number, size: number, bigEndian: boolean): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, size);
  switch (size) {
    case 2: return halfToNumber(view.getUint16(0, !bigEndian));
    case 4: return view.getFloat32(0, !bigEndian);
    case 8: return view.getFloat64(0, !bigEndian);
    default: return undefined;
  }
}

/** The bytes of a float of `size` bytes; 'overflow' when a finite number becomes infinite. */
function writeFloat(value: number, size: number, bigEndian: boolean): Uint8Array | 'overflow' | undefined {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  switch (size) {
    case 2: view.setUint16(0, numberToHalf(value), !bigEndian); break;
    case 4: view.setFloat32(0, value, !bigEndian); break;
    case 8: view.setFloat64(0, value, !bigEndian); break;
    default: return undefined;
  }
  const back = readFloat(out, 0, size, bigEndian)!;
  return Number.isFinite(value) && !Number.isFinite(back) ? 'overflow' : out;
}

/** IEEE 754 binary16 bits to a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A number rounded to the nearest binary16 (ties to even), as bits. */
function numberToHalf(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const x = Math.abs(value);
  if (Number.isNaN(x)) return 0x7e00;
  if (x === Infinity) return sign | 0x7c00;
  if (x === 0) return sign;
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e--;
  else if (2 ** (e + 1) <= x) e++;
  // Subnormals count in units of 2^-24; a result of 1024 is the smallest normal, which the bits express as well.
  if (e < -14) return sign | roundHalfEven(x * 2 ** 24);
  let m = roundHalfEven((x / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}
