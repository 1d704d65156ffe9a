// Deterministic fuzzing of the decoder, validator and assembler: whatever the input, only typed
// errors (BpfError) come out, nothing hangs, and whatever is accepted round-trips through text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDataFile } from '../../conformance/data-file.js';
import { BpfError, OPCODES, assemble, decode, disassemble, encode, formatInstruction, make, validate } from '../../isa/index.js';
import { SUITE_DIR, suiteAvailable } from '../support/suite.js';
import { prng as mulberry32 } from '../support/prng.js';

/** The shared seeded PRNG, with integer and pick helpers, so every run sees the same cases. */
function prng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

/** Runs `fn`; an error is fine only when it is one of ours. */
function onlyTypedErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof BpfError)) throw error;
    return undefined;
  }
}

/** Whether `fn` runs without error; an error is fine only when it is one of ours. */
function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (!(error instanceof BpfError)) throw error;
    return false;
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Accepted text must survive disassembly and reassembly unchanged; returns whether it was accepted. */
function expectTextRoundTrip(text: string): boolean {
  const insns = onlyTypedErrors(() => assemble(text));
  if (!insns) return false;
  accepts(() => validate(insns));
  expect(hex(encode(assemble(disassemble(insns))))).toBe(hex(encode(insns)));
  return true;
}

const SAMPLE = `
  mov %r0, 0
  lddw %r1, 0x1122334455667788
loop:
  ldxdw %r2, [%r10-8]
  lock fetch add32 [%r10-4], %r3
  jne32 %r1, 0x7fffffff, loop
  call local f
  call %r2
  ja exit
f:
  sdiv %r0, -3
  exit
`;

const suiteTexts = suiteAvailable()
  ? readdirSync(SUITE_DIR)
      .filter((f) => f.endsWith('.data'))
      .sort()
      .map((f) => parseDataFile(readFileSync(join(SUITE_DIR, f), 'utf8'))?.asm)
      .filter((t): t is string => t !== undefined)
  : [];
const texts = suiteTexts.length > 0 ? suiteTexts : [SAMPLE];

const VOCABULARY = [
  ...new Set(OPCODES.flatMap((row) => row.mnemonic.split(' '))),
  'swap16', 'swap64', 'call', 'local', 'helper', 'runtime', 'lock', 'fetch', 'exit', 'func', 'map_fd', 'map_value',
  '%r0', '%r1', '%r9', '%r10', '%r11', '%r15', '%r16', '%r', 'r1', '%r1,', '[%r1+2]', '[%r10-8]', '[%r1]', '[%r1', '[]', '[+]',
  '[%r1+0x10000]', '[%r1--1]', '0', '1', '-1', '+1', '-0', '+0', '0x', '0xffffffff', '0x100000000', '2147483648',
  '-2147483649', '0xffffffffffffffff', '0x1ffffffffffffffff', '99999999999999999999999', '+32768', '-32769', '+x',
  'L1', 'L1:', 'exit:', ':', 'a:b:', '__proto__', '__proto__:', 'constructor', 'toString', 'hasOwnProperty', ',', ',,',
  '%', '#', '--', '\u00e9', '\t', '0b101', '1e3', 'NaN', 'Infinity',
];

const ALPHABET = ' \t\n,[]%+-:rx0123456789abcdefglmovsujq_#';

function mutate(text: string, random: ReturnType<typeof prng>): string {
  let out = text;
  for (let n = 1 + random.int(3); n > 0; n--) {
    const at = random.int(out.length + 1);
    switch (random.int(6)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + random.int(4));
        break;
      case 1:
        out = out.slice(0, at) + random.pick([...ALPHABET]) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + random.pick(VOCABULARY) + out.slice(at);
        break;
      case 3: {
        const lines = out.split('\n');
        const i = random.int(lines.length);
        lines.splice(random.int(lines.length), 0, lines[i]!);
        out = lines.join('\n');
        break;
      }
      case 4: {
        const lines = out.split('\n');
        const i = random.int(lines.length);
        const j = random.int(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        out = lines.join('\n');
        break;
      }
      default:
        out = out.replace(/-?\d+/, () => random.pick(['2147483648', '-32769', '0xffffffff', '65536', '-9223372036854775809', '7']));
    }
  }
  return out;
}

describe('fuzz', () => {
  test('random bytes into decode and validate', { timeout: 5000 }, () => {
    const random = prng(0x5eed);
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      let bytes: Uint8Array;
      if (random.next() < 0.3) {
        bytes = new Uint8Array(random.int(7) * 8 + (random.next() < 0.1 ? 1 + random.int(7) : 0));
        for (let i = 0; i < bytes.length; i++) bytes[i] = random.int(256);
      } else {
        // Programs built from table rows with small fields, then a few bytes corrupted, so that
        // the deeper rules are reached and some programs stay valid.
        let pc = 0;
        const insns = Array.from({ length: 1 + random.int(6) }, () => {
          const row = random.pick(OPCODES);
          const small = () => random.int(4) - 1;
          const insn = make(row, { pc, dst: random.int(12), src: random.int(12), off: small(), imm: small(), immHi: small() });
          pc += row.width;
          return insn;
        });
        bytes = encode(insns);
        for (let k = random.int(3); k > 0; k--) bytes[random.int(bytes.length)] = random.int(256);
      }
      const insns = onlyTypedErrors(() => decode(bytes));
      if (!insns) continue;
      if (accepts(() => validate(insns))) {
        // Valid programs have every field in the syntax, so their text assembles to the same bytes.
        accepted++;
        expect(hex(encode(assemble(disassemble(insns))))).toBe(hex(bytes));
      }
    }
    expect(accepted).toBeGreaterThan(200);
  });

  test('mutated suite programs into assemble', { timeout: 5000 }, () => {
    const random = prng(0xa53);
    let accepted = 0;
    for (let n = 0; n < 2000; n++) if (expectTextRoundTrip(mutate(random.pick(texts), random))) accepted++;
    expect(accepted).toBeGreaterThan(200);
  });

  test('token soup into assemble', { timeout: 5000 }, () => {
    const random = prng(0x70c);
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      const lines = Array.from({ length: 1 + random.int(4) }, () =>
        Array.from({ length: random.int(5) }, () => random.pick(VOCABULARY)).join(random.pick([' ', ', ', '\t'])),
      );
      if (expectTextRoundTrip(lines.join(random.pick(['\n', '\r\n'])))) accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
  });

  test('random fields of every row survive formatting', { timeout: 5000 }, () => {
    const random = prng(0xf1e1d);
    const int32 = () => random.pick([0, 1, -1, 0x7fffffff, -0x80000000, (random.next() * 2 ** 32) | 0]);
    for (let n = 0; n < 3000; n++) {
      const row = random.pick(OPCODES);
      const insn = make(row, {
        dst: random.int(16),
        src: random.int(16),
        off: random.pick([0, 1, -1, 0x7fff, -0x8000, random.int(0x10000) - 0x8000]),
        imm: int32(),
        immHi: random.next() < 0.5 ? 0 : int32(),
      });
      expect(assemble(formatInstruction(insn))).toEqual([insn]);
    }
  });
});
