// The shared bpf_conformance suite on the interpreter: every test passes, every negative case with
// an expected error produces one, and the ISA version and groups our opcode table derives for
// each test agree with the upstream runner's (test_groups.tsv beside the suite).
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDataFile } from '../../conformance/data-file.js';
import { requirements, testProgram } from '../../conformance/runner.js';
import { runConformance } from '../../conformance/files.js';
import { SUITE_DIR, suiteAvailable } from '../support/suite.js';

const available = suiteAvailable();

describe.skipIf(!available)('bpf_conformance suite', () => {
  test.for(['interp', 'jit', 'both'] as const)('all 313 tests pass on engine %s, callx included', async (engine) => {
    const report = await runConformance([SUITE_DIR], { engine, cpuVersion: 4 });
    const failures = report.results.filter((r) => !r.negative && r.outcome !== 'pass').map((r) => `${r.file}: ${r.outcome} expected ${r.expected} got ${r.actual} ${r.reason ?? ''}`);
    expect(failures).toEqual([]);
    expect(report.passed).toBe(313);
    expect(report.byGroup.callx?.passed).toBe(1);
    // Linux's verifier refuses shift immediates out of range and callx; the suite defines them, so they still run.
    expect(report.results.filter((r) => !r.negative && r.unverified !== undefined).map((r) => r.file).sort()).toEqual([
      'arsh32-imm-high.data', 'arsh32-imm-neg.data', 'arsh64-imm-high.data', 'arsh64-imm-neg.data', 'callx.data',
      'lsh32-imm-high.data', 'lsh32-imm-neg.data', 'lsh64-imm-high.data', 'lsh64-imm-neg.data',
      'rsh32-imm-high.data', 'rsh32-imm-neg.data', 'rsh64-imm-high.data', 'rsh64-imm-neg.data',
    ]);
  });

  test('with --cpu-version v3, the v4 tests are skipped, not failed', async () => {
    const report = await runConformance([SUITE_DIR], { engine: 'interp', cpuVersion: 3 });
    expect(report.failed).toBe(0);
    expect(report.skipped).toBe(59);
  });

  test('excluding callx skips exactly callx.data', async () => {
    const report = await runConformance([SUITE_DIR], { engine: 'interp', groups: ['base64', 'atomic64', 'divmul64', 'packet'] });
    expect(report.results.filter((r) => !r.negative && r.outcome === 'skip').map((r) => r.file)).toEqual(['callx.data']);
  });

  test.for(['interp', 'jit'] as const)('every negative case that expects an error produces one on %s', async (engine) => {
    const dir = join(SUITE_DIR, 'negative');
    const files = readdirSync(dir).filter((f) => f.endsWith('.data'));
    const expecting = files.filter((f) => parseDataFile(readFileSync(join(dir, f), 'utf8'), f)?.expectsError);
    // 45 unused-* files plus error, invalid_lock, invalid_lock2 and invalid_register; invalid_unknown_directive
    // has an unknown section header, so the upstream runner skips the whole file, and so do we.
    expect(expecting.length).toBe(49);
    const report = await runConformance(expecting.map((f) => join(dir, f)), { engine });
    const missing = report.results.filter((r) => !/^(error|refused by the verifier)/.test(r.actual ?? '')).map((r) => r.file);
    // error.data reads r0 before writing it: the verifier refuses it before either engine runs it.
    expect(missing).toEqual([]);
    expect(report.negatives.caught).toBe(49);
    expect(report.results.find((r) => r.file === 'error.data')?.actual).toBe('refused by the verifier: pc 0: R0 !read_ok');
    expect(report.passed).toBe(0); // negative cases are not counted as the suite's passes
  });

  test('the suite folder is searched recursively, and its negative cases are counted apart', async () => {
    const report = await runConformance([SUITE_DIR], { engine: 'interp' });
    expect(report.passed).toBe(313);
    expect(report.failed).toBe(0);
    // 60 negative files: 2 the upstream runner skips (no result section, unknown directive), 58 refused.
    expect(report.negatives).toEqual({ caught: 58, missed: 0, skipped: 2 });
    expect(report.results.filter((r) => r.negative).length).toBe(60);
  });

  test('ISA versions and groups derived from our opcode table match the upstream runner', () => {
    const tsv = readFileSync(resolve(SUITE_DIR, '..', 'test_groups.tsv'), 'utf8');
    const rows = tsv.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
    expect(rows.length).toBe(313);
    const differences: string[] = [];
    for (const [file, version, groups] of rows) {
      const test = parseDataFile(readFileSync(join(SUITE_DIR, file!), 'utf8'), file)!;
      const req = requirements(testProgram(test, file!));
      // Upstream lists the groups used; we also add the groups they imply (atomic64 -> atomic32 ...).
      const upstream = new Set(groups!.split(','));
      const ours = [...req.groups].filter((g) => upstream.has(g) || !['atomic32', 'divmul32', 'base32'].includes(g));
      if (`v${req.version}` !== version || ours.sort().join(',') !== [...upstream].sort().join(',')) differences.push(file!);
    }
    // neg64.data uses 0x87 (neg, ALU64), which RFC 9669 puts in base64; upstream's table says base32.
    expect(differences).toEqual(['neg64.data']);
  });
});
