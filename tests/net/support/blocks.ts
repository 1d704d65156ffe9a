// Hand assembly of pcap and pcapng bytes for reader tests, written apart from the library's
// writers so that reading is not only checked against our own writing. Fields are stated in
// the order the formats lay them out.

/** Little- or big-endian byte assembly. */
export class Bytes {
  private readonly parts: number[] = [];

  constructor(readonly littleEndian = true) {}

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.littleEndian ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }

  u32(v: number): this {
    return this.littleEndian ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }

  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i]!);
    return this;
  }

  /** Zero bytes up to a multiple of 4. */
  pad(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }

  get length(): number {
    return this.parts.length;
  }

  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Concatenates byte arrays. */
export function concat(...arrays: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** A pcap file header. */
export function pcapHeader(o: { le?: boolean; nano?: boolean; snap?: number; linkType?: number; major?: number } = {}): Uint8Array {
  return new Bytes(o.le ?? true).u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(o.major ?? 2).u16(4).u32(0).u32(0).u32(o.snap ?? 65535).u32(o.linkType ?? 1).done();
}

/** A pcap record. */
export function pcapRecord(data: Uint8Array, o: { le?: boolean; sec?: number; frac?: number; orig?: number; caplen?: number } = {}): Uint8Array {
  return new Bytes(o.le ?? true).u32(o.sec ?? 0).u32(o.frac ?? 0).u32(o.caplen ?? data.length).u32(o.orig ?? data.length).raw(data).done();
}

/** A pcapng option: code, length, value padded. */
export interface Option {
  code: number;
  value: Uint8Array | string;
}

const utf8 = new TextEncoder();

/** A pcapng block of `type` with `body` and options; `length` overrides the computed total length, `trailer` the trailer. */
export function block(type: number, body: (b: Bytes) => void, o: { le?: boolean; options?: Option[]; length?: number; trailer?: number; endOfOptions?: boolean } = {}): Uint8Array {
  const le = o.le ?? true;
  const inner = new Bytes(le);
  body(inner);
  inner.pad();
  for (const option of o.options ?? []) {
    const value = typeof option.value === 'string' ? utf8.encode(option.value) : option.value;
    inner.u16(option.code).u16(value.length).raw(value).pad();
  }
  if ((o.options?.length ?? 0) > 0 && o.endOfOptions !== false) inner.u32(0);
  const total = 12 + inner.length;
  return new Bytes(le).u32(type).u32(o.length ?? total).raw(inner.done()).u32(o.trailer ?? o.length ?? total).done();
}

/** A section header block. */
export function shb(o: { le?: boolean; major?: number; options?: Option[] } = {}): Uint8Array {
  return block(0x0a0d0d0a, (b) => b.u32(0x1a2b3c4d).u16(o.major ?? 1).u16(0).u32(0xffffffff).u32(0xffffffff), o);
}

/** An interface description block. */
export function idb(o: { le?: boolean; linkType?: number; snap?: number; options?: Option[] } = {}): Uint8Array {
  return block(1, (b) => b.u16(o.linkType ?? 1).u16(0).u32(o.snap ?? 0), o);
}

/** An enhanced packet block. */
export function epb(data: Uint8Array, o: { le?: boolean; iface?: number; hi?: number; lo?: number; orig?: number; caplen?: number; options?: Option[]; length?: number; trailer?: number } = {}): Uint8Array {
  return block(6, (b) => b.u32(o.iface ?? 0).u32(o.hi ?? 0).u32(o.lo ?? 0).u32(o.caplen ?? data.length).u32(o.orig ?? data.length).raw(data), o);
}

/** A simple packet block. */
export function spb(data: Uint8Array, o: { le?: boolean; orig?: number } = {}): Uint8Array {
  return block(3, (b) => b.u32(o.orig ?? data.length).raw(data), o);
}

/** An obsolete packet block. */
export function opb(data: Uint8Array, o: { le?: boolean; iface?: number; hi?: number; lo?: number; options?: Option[] } = {}): Uint8Array {
  return block(2, (b) => b.u16(o.iface ?? 0).u16(0).u32(o.hi ?? 0).u32(o.lo ?? 0).u32(data.length).u32(data.length).raw(data), o);
}

/** `n` bytes 0, 1, 2, ... (mod 256), a recognisable packet body. */
export function counting(n: number, from = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}
