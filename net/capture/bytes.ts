// Unsigned reads from byte arrays in either byte order: the capture formats store their fields in
// the byte order of the machine that wrote them, and the reader learns it from the magic.

/** The unsigned 16-bit value at `p`. */
export function u16(buf: Uint8Array, p: number, littleEndian: boolean): number {
  return littleEndian ? buf[p]! | (buf[p + 1]! << 8) : (buf[p]! << 8) | buf[p + 1]!;
}

/** The unsigned 32-bit value at `p`. */
export function u32(buf: Uint8Array, p: number, littleEndian: boolean): number {
  return littleEndian
    ? (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0
    : ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
}

/** `n` rounded up to a multiple of 4 (pcapng pads data and options to 32 bits). */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** A number as 0x-prefixed hex of 8 digits, for messages about magic numbers. */
export function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
