// What only some hosts provide, behind seams the rest of the runtime asks through: reading a file
// by its path (Node). The Node entry (index.ts) fills them in; in a browser (browser.ts) they stay
// empty, and asking for a path says so. Nothing here imports a Node module.

/** Node's fs, when this is Node (20.16 and later give builtins without an import); undefined elsewhere. */
function nodeFileReader(): ((path: string) => Uint8Array) | undefined {
  const host = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };
  const fs = host.process?.getBuiltinModule?.('node:fs') as { readFileSync(path: string): Uint8Array } | undefined;
  return fs && ((path) => fs.readFileSync(path));
}

/** Reads a file by its path, whole: the Node entry sets it; modules imported on their own under Node find fs themselves. */
let readFile: ((path: string) => Uint8Array) | undefined;

/** Sets how paths are read (the Node entry passes fs.readFileSync). */
export function setHostFileReader(reader: ((path: string) => Uint8Array) | undefined): void {
  readFile = reader;
}

/** A file's bytes by its path; throws where the host reads no paths (a browser: pass the bytes instead). */
export function readHostFile(path: string): Uint8Array {
  readFile ??= nodeFileReader();
  if (readFile === undefined) throw new Error('this host reads no files by path: give the bytes instead');
  return readFile(path);
}

/** Nanoseconds on a monotonic clock (performance.now(), which browsers and Node both have). */
export function monotonicNs(): bigint {
  return BigInt(Math.round(performance.now() * 1e6));
}

/** Bytes as lowercase hex, two digits each. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return out;
}
