// Reads a program from a file, choosing the format by its extension: `.asm`/`.s` assembler text,
// `.data` a conformance test (program and memory), `.o` an ELF object, anything else raw bytes.
import { readFileSync } from 'node:fs';
import { assemble, decode, parseDataFile, testProgram, type Instruction } from '../index.js';
import { aboutFile, UsageError } from './errors.js';

/** A program read from a file, with the input memory its file carries (a `.data` test). */
export interface ProgramFile {
  readonly insns: Instruction[];
  readonly mem?: Uint8Array;
  readonly expected?: bigint;
}

/** Reads a file, turning a missing or unreadable file into a one-line error. */
export function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: cannot read (${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message})`);
  }
}

/** Loads the program in `path`. */
export function loadProgram(path: string): ProgramFile {
  const bytes = readInput(path);
  try {
    if (/\.(asm|s)$/i.test(path)) return { insns: assemble(bytes.toString('utf8'), { source: path }) };
    if (/\.data$/i.test(path)) {
      const test = parseDataFile(bytes.toString('utf8'), path);
      if (!test) throw new UsageError(`${path}: not a runnable .data test (no result or error section)`);
      return { insns: testProgram(test, path), mem: test.mem, ...(test.result !== undefined ? { expected: test.result } : {}) };
    }
    if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46) {
      throw new UsageError(`${path}: is an ELF object; run its programs with ebpf-wasm test-run (this command takes bare programs: raw bytes, .asm or .data)`);
    }
    return { insns: decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)) };
  } catch (err) {
    throw aboutFile(path, err);
  }
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
