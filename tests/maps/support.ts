// Small builders for map tests: little-endian keys and values, and a guest block for the helper path.
import { GuestMemory } from '../../runtime/memory.js';
import { createMap, type BpfMap, type MapOpError, type MapOptions, type MapSpec } from '../../maps/index.js';

/** A u32 in little-endian bytes. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** A u64 in little-endian bytes. */
export function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** Reads a little-endian u32 at `offset`. */
export function readU32(b: Uint8Array, offset = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, true);
}

/** A fresh guest memory, a map in it, and a scratch block standing in for a program's stack. */
export function setup(spec: MapSpec, options: MapOptions = {}): { memory: GuestMemory; map: BpfMap; stack: number; put: (bytes: Uint8Array, offset?: number) => number } {
  const memory = new GuestMemory();
  const map = createMap(memory, spec, options);
  const stack = memory.allocate(512, 'test stack').start;
  const put = (bytes: Uint8Array, offset = 0): number => {
    memory.bytes.set(bytes, stack + offset);
    return stack + offset;
  };
  return { memory, map, stack, put };
}

/** The errno of the MapOpError `run` throws, or 0 when it succeeds. */
export function errnoOf(run: () => void): number {
  try {
    run();
    return 0;
  } catch (e) {
    return (e as MapOpError).errno;
  }
}
