// Parser for bpf_conformance `.data` test files, reading them the way the upstream runner does
// (see ../shared/bpf_conformance/SOURCE.md): `#` comments stripped first, sections chosen by
// substring, `-- raw` preferred over `-- asm`, the last `-- result` line wins.
import { BpfError } from '../isa/errors.js';

/** One parsed test. */
export interface DataTest {
  /** The program as assembler text, when the file has `-- asm`. */
  readonly asm?: string;
  /** 1-based file line of the first line of `asm`, so assembler errors can name the file line. */
  readonly asmLine?: number;
  /** The program as raw 64-bit slot words, unparsed, when the file has `-- raw` (preferred over asm). */
  readonly raw?: readonly RawWord[];
  /** Input memory bytes (empty when none). */
  readonly mem: Uint8Array;
  /** Expected r0, all 64 bits. */
  readonly result?: bigint;
  /** Expected error text, when the file has `-- error` with text. */
  readonly error?: string;
  /** True when the file has an `-- error` section, even an empty one. */
  readonly expectsError: boolean;
}

/** One `-- raw` token and the file line it is on. */
export interface RawWord {
  readonly text: string;
  readonly line: number;
}

/** A `.data` file that does not parse. */
export class DataFileError extends BpfError {
  constructor(readonly file: string, readonly line: number, detail: string) {
    super('bad-data-file', `${file}:${line}: ${detail}`);
  }
}

type Section = 'asm' | 'result' | 'mem' | 'raw' | 'ignored' | 'error';

function sectionOf(header: string): Section | undefined {
  if (header.includes('asm')) return 'asm';
  if (header.includes('result')) return 'result';
  if (header.includes('mem')) return 'mem';
  if (header.includes('raw')) return 'raw';
  if (header.includes('no register offset') || header.includes(' c')) return 'ignored';
  if (header.includes('error')) return 'error';
  return undefined;
}

function parseUnsigned64(token: string, file: string, line: number): bigint {
  const hex = token.includes('0x');
  const text = token.trim();
  if (!(hex ? /^0x[0-9a-f]+$/i : /^[0-9]+$/).test(text)) {
    throw new DataFileError(file, line, `'${text}' is not a ${hex ? 'hex' : 'decimal'} number`);
  }
  const value = BigInt(text);
  if (value >= 1n << 64n) throw new DataFileError(file, line, `'${text}' does not fit in 64 bits`);
  return value;
}

/**
 * Parses the text of a `.data` file. Returns undefined for a file the upstream runner skips
 * (an unknown section header, or neither a result nor an error).
 */
export function parseDataFile(text: string, file = '<data>'): DataTest | undefined {
  const sections = new Map<Section, { line: number; text: string }[]>();
  let current: Section | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const content = lines[i]!.replace(/#.*/, '');
    if (content.includes('--')) {
      current = sectionOf(content);
      if (current === undefined) return undefined;
      if (!sections.has(current)) sections.set(current, []);
      continue;
    }
    if (current === undefined) continue;
    // Blank asm lines are kept so that assembler errors can name the line of the file.
    if (content.trim() === '' && current !== 'asm') continue;
    sections.get(current)!.push({ line: i + 1, text: content });
  }

  const asmLines = sections.get('asm');
  const rawLines = sections.get('raw');
  const resultLines = sections.get('result');
  const errorLines = sections.get('error');
  if (!resultLines?.length && !sections.has('error')) return undefined;

  const mem: number[] = [];
  for (const { line, text: l } of sections.get('mem') ?? []) {
    for (const token of l.trim().split(/\s+/)) {
      if (!/^[0-9a-f]{1,2}$/i.test(token)) throw new DataFileError(file, line, `memory byte '${token}' is not hex`);
      mem.push(parseInt(token, 16));
    }
  }

  const raw = rawLines?.flatMap(({ line, text: l }) => l.trim().split(/\s+/).map((t) => ({ text: t, line })));

  const lastResult = resultLines?.at(-1);
  const lastError = errorLines?.at(-1);
  return {
    ...(asmLines && !raw ? { asm: asmLines.map((l) => l.text).join('\n'), asmLine: asmLines[0]?.line ?? 1 } : {}),
    ...(raw ? { raw } : {}),
    mem: Uint8Array.from(mem),
    ...(lastResult ? { result: parseUnsigned64(lastResult.text.toLowerCase(), file, lastResult.line) } : {}),
    ...(lastError ? { error: lastError.text.trim() } : {}),
    expectsError: sections.has('error'),
  };
}

/** Turns `-- raw` words (each one 64-bit slot, hex or decimal) into program bytes, each slot little-endian. */
export function rawToBytes(raw: readonly RawWord[], file = '<data>'): Uint8Array {
  const bytes = new Uint8Array(raw.length * 8);
  const view = new DataView(bytes.buffer);
  raw.forEach((word, i) => view.setBigUint64(i * 8, parseUnsigned64(word.text.toLowerCase(), file, word.line), true));
  return bytes;
}
