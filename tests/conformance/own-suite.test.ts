// Our own `.data` suite (tests/data/**): edge cases the shared bpf_conformance suite misses, written
// from RFC 9669 and checked against Linux with scripts/kernel-oracle. Every file must pass on the
// interpreter and none may be skipped. Our runner passes a `-- error` test on any error; here such a
// file must also fail with the BpfError code its `-- error` section names, so it traps for the
// reason it was written for.
// The suite runs the compiled engine in dist/ (build first: `npx tsc -p .`), as the CLI tests do:
// under vitest's per-file transform the interpreter's const-enum dispatch is not inlined and runs
// about 100x slower, too slow for the budget-exhaustion tests (10^8 instructions each).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../support/suite.js';

type Conformance = typeof import('../../conformance/index.js');
type Errors = typeof import('../../isa/errors.js');

const DIST = join(PROJECT_ROOT, 'dist', 'index.js');
if (!existsSync(DIST)) throw new Error(`${DIST} not found: build with \`npx tsc -p .\` before running this suite`);
const { parseDataFile, runConformance, runProgram, testProgram, BpfError } = (await import(DIST)) as Conformance & Errors;

const DATA_DIR = join(PROJECT_ROOT, 'tests', 'data');
const files = readdirSync(DATA_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.data'))
  .sort();
const errorFiles = files.filter((f) => parseDataFile(readFileSync(join(DATA_DIR, f), 'utf8'), f)?.expectsError);

/** The code of the error a test program stops with (at load or at run time), or undefined if it runs. */
function errorCode(file: string): string | undefined {
  const test = parseDataFile(readFileSync(join(DATA_DIR, file), 'utf8'), file)!;
  try {
    runProgram(testProgram(test, file), test.mem, 'interp');
    return undefined;
  } catch (err) {
    if (err instanceof BpfError) return err.code;
    throw err;
  }
}

describe('own .data suite (tests/data)', () => {
  test('has test files, some of them expected errors', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(errorFiles.length).toBeGreaterThan(0);
  });

  test.for(files)('%s', (file) => {
    const report = runConformance([join(DATA_DIR, file)], { engine: 'interp' });
    const [result] = report.results;
    expect(report.results).toHaveLength(1);
    expect(result!.outcome, `${file} was skipped: ${result!.reason}`).not.toBe('skip');
    expect(result!.outcome, `${file}: expected ${result!.expected}, got ${result!.actual}`).toBe('pass');
  });

  test.for(errorFiles)('%s stops with the error code of its -- error section', (file) => {
    const expected = parseDataFile(readFileSync(join(DATA_DIR, file), 'utf8'), file)!.error;
    expect(expected, `${file}: its -- error section names no error code`).toBeTruthy();
    expect(errorCode(file)).toBe(expected);
  });
});
