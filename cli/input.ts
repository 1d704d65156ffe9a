// The CLI's inputs and outputs: files read and written with one-line errors, integer options, hex
// bytes, and programs read from a file by its extension: `.asm`/`.s` assembler text, `.data` a
// conformance test (program and memory), `.o` an ELF object (refused: test-run takes objects),
// anything else raw bytes.
import { accessSync, constants, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { assemble, decode, parseDataFile, testProgram, type Instruction } from '../index.js';
import { aboutFile, UsageError } from './errors.js';

/** A program read from a file, with the input memory its file carries (a `.data` test). */
export interface ProgramFile {
  readonly insns: Instruction[];
  readonly mem?: Uint8Array;
  readonly expected?: bigint;
}

/** A file system error in words, as a user would say it of a file or the folder it goes in. */
function fsProblem(err: unknown, writing: boolean): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return writing ? 'no such directory' : 'no such file';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EISDIR': return 'is a directory';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'no space left on the device';
    case 'EROFS': return 'read-only file system';
    default: return e.code ?? e.message;
  }
}

/** Reads a file, turning a missing or unreadable file into a one-line error. */
export function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${path}: cannot read (${fsProblem(err, false)})`);
  }
}

/** Checks before a long run that `path` can be written: its folder exists and is writable, and it is not a folder. */
export function checkOutput(path: string): void {
  try {
    accessSync(dirname(path), constants.W_OK);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    throw new UsageError(`${path}: cannot write (${fsProblem(err, true)})`);
  }
}

/**
 * Writes an output file whole or not at all: the bytes go to a temporary file beside `path`, which
 * is renamed over it, so a failed write leaves neither a partial file nor a changed old one.
 */
export function writeOutput(path: string, bytes: Uint8Array | string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Nothing was created.
    }
    throw new UsageError(`${path}: cannot write (${fsProblem(err, true)})`);
  }
}

/** Loads the program in `path`. */
export function loadProgram(path: string): ProgramFile {
  const bytes = readInput(path);
  try {
    if (/\.(asm|s)$/i.test(path)) {
      const insns = assemble(bytes.toString('utf8'), { source: path });
      if (insns.length === 0) throw new UsageError(`${path}: holds no instructions`);
      return { insns };
    }
    if (/\.data$/i.test(path)) {
      const test = parseDataFile(bytes.toString('utf8'), path);
      if (!test) throw new UsageError(`${path}: not a runnable .data test (no result or error section)`);
      return { insns: testProgram(test, path), mem: test.mem, ...(test.result !== undefined ? { expected: test.result } : {}) };
    }
    if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46) {
      throw new UsageError(`${path}: is an ELF object; run its programs with ebpf-wasm test-run (this command takes bare programs: raw bytes, .asm or .data)`);
    }
    const insns = decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    if (insns.length === 0) throw new UsageError(`${path}: is empty (a program is one or more 8-byte instructions)`);
    return { insns };
  } catch (err) {
    throw aboutFile(path, err);
  }
}

/** An option's integer, from `min` to `max` (by default 2^32 - 1, the kernel's u32 attributes). */
export function integerOption(text: string | undefined, option: string, min: number, max = 0xffffffff): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${option}: '${text}' is not an integer from ${min} to ${max.toLocaleString('en-US')}`);
  }
  return n;
}

/** Parses hex bytes written with or without spaces ("aa bb", "aabb", "aa  bb  "). */
export function parseHexBytes(text: string, what: string): Uint8Array {
  const tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  const bytes = tokens.length === 1 ? tokens[0]!.match(/.{1,2}/g) ?? [] : tokens;
  for (const b of bytes) {
    if (!/^[0-9a-fA-F]{2}$/.test(b)) throw new UsageError(`${what}: '${b}' is not a hex byte`);
  }
  return Uint8Array.from(bytes, (h) => parseInt(h, 16));
}
