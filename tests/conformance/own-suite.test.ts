// Our own `.data` suite (tests/data/**): edge cases the shared bpf_conformance suite misses, written
// from RFC 9669 and checked against Linux with scripts/kernel-oracle. Every file must pass on the
// interpreter and the JIT alike, and none may be skipped. Our runner passes a `-- error` test on any error; here such a
// file must also fail with the BpfError code its `-- error` section names, so it traps for the
// reason it was written for.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDataFile } from '../../conformance/data-file.js';
import { testProgram } from '../../conformance/runner.js';
import { runConformance } from '../../conformance/files.js';
import { runProgram } from '../../conformance/execute.js';
import { BpfError } from '../../isa/errors.js';
import { PROJECT_ROOT } from '../support/suite.js';

const DATA_DIR = join(PROJECT_ROOT, 'tests', 'data');
const files = readdirSync(DATA_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.data'))
  .sort();
const errorFiles = files.filter((f) => parseDataFile(readFileSync(join(DATA_DIR, f), 'utf8'), f)?.expectsError);

/** The code of the error a test program stops with (at load or at run time), or undefined if it runs. */
async function errorCode(file: string): Promise<string | undefined> {
  const test = parseDataFile(readFileSync(join(DATA_DIR, file), 'utf8'), file)!;
  try {
    await runProgram(testProgram(test, file), test.mem, 'both');
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

  // Engine `both` runs the interpreter and the JIT and fails on any disagreement.
  test.for(files)('%s', async (file) => {
    const report = await runConformance([join(DATA_DIR, file)], { engine: 'both' });
    const [result] = report.results;
    expect(report.results).toHaveLength(1);
    expect(result!.outcome, `${file} was skipped: ${result!.reason}`).not.toBe('skip');
    expect(result!.outcome, `${file}: expected ${result!.expected}, got ${result!.actual}`).toBe('pass');
  });

  test.for(errorFiles)('%s stops with the error code of its -- error section', async (file) => {
    const expected = parseDataFile(readFileSync(join(DATA_DIR, file), 'utf8'), file)!.error;
    expect(expected, `${file}: its -- error section names no error code`).toBeTruthy();
    expect(await errorCode(file)).toBe(expected);
  });
});
