// Compiled modules kept on disk, so that another process running the same program on the JIT
// skips binaryen, whose loading alone costs 0.6–0.8 s. Off unless asked for (the CLI asks): the
// tests and the fuzzer compile thousands of programs nobody runs twice.
//
// An entry is one file named by its key, the SHA-256 of the program bytes, relocations, options
// and the JIT's own code (so that a changed lowering never meets modules it did not make):
//   "EWJC" | format u32 | SHA-256 of the rest (32 bytes) | header length u32 | header JSON | wasm
// Writers write a temporary file and rename it into place, so concurrent processes never see half
// an entry; a reader that finds a bad entry (truncated, altered, from another format) ignores it,
// removes it, and compiles afresh.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setModuleStore, type StoredModule } from './module-store.js';

const MAGIC = 0x434a5745; // "EWJC", little-endian
const FORMAT = 1;
const PREFIX = 4 + 4 + 32;

/** What an entry holds: the module's bytes and the helper ids it imports. */
export type DiskEntry = StoredModule;

let directory: string | undefined;
let jitVersion: string | undefined;

/**
 * Where the cache lives: a folder, or undefined to turn it off (the default). `'default'` is
 * `$EBPF_WASM_CACHE_DIR`, else `$XDG_CACHE_HOME/ebpf-wasm/jit`, else `~/.cache/ebpf-wasm/jit`;
 * `EBPF_WASM_CACHE_DIR=off` keeps it off.
 */
export function setJitDiskCache(dir: string | 'default' | undefined): void {
  if (dir === 'default') {
    const env = process.env.EBPF_WASM_CACHE_DIR;
    if (env === 'off') dir = undefined;
    else dir = env || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-wasm', 'jit');
  }
  directory = dir;
  setModuleStore(dir === undefined ? undefined : { read: readDiskEntry, write: writeDiskEntry });
}

/** The cache folder in use, or undefined when it is off. */
export function jitDiskCacheDir(): string | undefined {
  return directory;
}

/** A digest of the JIT's own compiled code: part of every key. */
function version(): string {
  if (jitVersion === undefined) {
    const hash = createHash('sha256').update(`format ${FORMAT}\0`);
    // Paths from dist/jit/ that hold from the bundled CLI in dist/cli/ too.
    for (const file of ['jit/abi.js', 'jit/cfg.js', 'jit/counted-loops.js', 'jit/lower.js', 'jit/lower-insns.js', 'jit/map-ops.js', 'jit/module.js', 'jit/table-calls.js', 'jit/binaryen.js', 'maps/descriptor.js', 'maps/slot-pool.js', 'maps/key-index.js']) {
      hash.update(readFileSync(new URL(`../${file}`, import.meta.url)));
    }
    jitVersion = hash.digest('hex');
  }
  return jitVersion;
}

/** The file of a key, or undefined when the cache is off. */
function pathOf(key: string): string | undefined {
  return directory === undefined ? undefined : join(directory, `${createHash('sha256').update(`${version()}\0${key}`).digest('hex')}.wasmc`);
}

/** The entry for `key`, or undefined (off, absent, or bad: a bad one is removed). */
export function readDiskEntry(key: string): DiskEntry | undefined {
  const path = pathOf(key);
  if (!path) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  const entry = decodeEntry(bytes);
  if (!entry) {
    try {
      unlinkSync(path);
    } catch {
      // Another process may have replaced or removed it already.
    }
  }
  return entry;
}

/** Stores an entry; a cache that cannot be written (read-only, full) is only a missed speed-up. */
export function writeDiskEntry(key: string, entry: DiskEntry): void {
  const path = pathOf(key);
  if (!path) return;
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(directory!, { recursive: true });
    writeFileSync(temp, encodeEntry(entry));
    renameSync(temp, path);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Nothing was written.
    }
  }
}

export function encodeEntry(entry: DiskEntry): Uint8Array {
  const header = Buffer.from(JSON.stringify({ helperIds: entry.helperIds }));
  const body = Buffer.alloc(4 + header.length + entry.binary.length);
  body.writeUInt32LE(header.length, 0);
  header.copy(body, 4);
  body.set(entry.binary, 4 + header.length);
  const prefix = Buffer.alloc(PREFIX);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(FORMAT, 4);
  createHash('sha256').update(body).digest().copy(prefix, 8);
  return Buffer.concat([prefix, body]);
}

/** An entry's contents, or undefined for bytes that are not a whole, unaltered entry of this format. */
export function decodeEntry(bytes: Uint8Array): DiskEntry | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < PREFIX + 4 || b.readUInt32LE(0) !== MAGIC || b.readUInt32LE(4) !== FORMAT) return undefined;
  const body = b.subarray(PREFIX);
  if (!createHash('sha256').update(body).digest().equals(b.subarray(8, PREFIX))) return undefined;
  const headerLength = body.readUInt32LE(0);
  if (4 + headerLength > body.length) return undefined;
  try {
    const header = JSON.parse(body.subarray(4, 4 + headerLength).toString('utf8')) as { helperIds?: unknown };
    if (!Array.isArray(header.helperIds) || !header.helperIds.every((id) => Number.isInteger(id))) return undefined;
    const binary = new Uint8Array(body.subarray(4 + headerLength));
    return WebAssembly.validate(binary) ? { binary, helperIds: header.helperIds as number[] } : undefined;
  } catch {
    return undefined;
  }
}
