// Turns a divergence into a `.data` regression test (bpf_conformance format): the minimized
// program as assembler text, its input memory, and the reference engine's result or error code
// (tests/conformance/own-suite.test.ts runs every file under tests/data on the interpreter).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { disassemble } from '../isa/disassembler.js';
import type { Divergence, Outcome } from './differential.js';
import type { FuzzProgram } from './program.js';

/** What a regression file records. */
export interface Regression {
  /** The seed the program was generated from. */
  readonly seed: number;
  /** The minimized (and possibly folded) program. */
  readonly program: FuzzProgram;
  /** Instructions before minimization. */
  readonly originalLength: number;
  readonly engines: readonly [string, string];
  /** The engine whose outcome is the expected one (the interpreter when it took part). */
  readonly referenceEngine: string;
  /** How the engines differ on `program`. */
  readonly divergence: Divergence;
  /** The reference engine's outcome on `program`: its result becomes `-- result`. */
  readonly reference: Outcome;
  /** Whether main's exits were redirected to fold a memory divergence into r0. */
  readonly folded: boolean;
}

function memoryLines(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push([...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

/** The text of a regression file. */
export function regressionText(r: Regression): string {
  const [a, b] = r.engines;
  const header = [
    `# Differential fuzzer regression: ${a} and ${b} diverged on the program of seed ${r.seed}`,
    `# (npm run fuzz -- --seed ${r.seed} --count 1 --engines ${a},${b}), minimized from ${r.originalLength}`,
    `# to ${r.program.insns.length} instructions. r1 = the memory below, r2 = its length; helper 5 returns its argument.`,
    ...r.divergence.details.map((d) => `#   ${d}`),
    ...(r.folded ? ['# The divergence was in memory only: main\'s exits jump to an epilogue that xors the differing', '# word into r0.'] : []),
    `# The expected outcome is the ${r.referenceEngine} engine's.`,
  ];
  const expected = r.reference.error
    ? ['-- error', r.reference.error.code ?? r.reference.error.name]
    : ['-- result', `0x${r.reference.r0!.toString(16)}`];
  return [...header, '-- asm', disassemble(r.program.insns).trimEnd(), '-- mem', memoryLines(r.program.input), ...expected, ''].join('\n');
}

/** Writes a regression as `fuzz-seed-<seed>.data` in `dir` (created if needed); returns the path. */
export function writeRegression(dir: string, r: Regression): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `fuzz-seed-${r.seed}.data`);
  writeFileSync(path, regressionText(r));
  return path;
}
