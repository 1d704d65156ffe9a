// Hashing and comparing byte strings that sit in guest memory, without creating JS objects:
// MurmurHash3 (x86, 32-bit) over the bytes, read as little-endian words straight from the
// memory's DataView (word reads measured ~1.5x faster than byte reads here).

/** MurmurHash3_x86_32 of [at, at + length) in `view`, as an unsigned 32-bit integer. */
export function hashBytes(view: DataView, at: number, length: number, seed: number): number {
  let h = seed | 0;
  const whole = length & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    let k = view.getInt32(at + i, true);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest !== 0) {
    let k = view.getUint8(at + i);
    if (rest > 1) k |= view.getUint8(at + i + 1) << 8;
    if (rest > 2) k |= view.getUint8(at + i + 2) << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether [a, a + length) equals [b, b + length) in `view`. */
export function equalBytes(view: DataView, a: number, b: number, length: number): boolean {
  const whole = length & ~3;
  let i = 0;
  for (; i < whole; i += 4) if (view.getInt32(a + i, true) !== view.getInt32(b + i, true)) return false;
  for (; i < length; i++) if (view.getUint8(a + i) !== view.getUint8(b + i)) return false;
  return true;
}
