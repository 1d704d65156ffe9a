// Runs bpf_conformance `.data` tests: derives each test's ISA version and conformance groups from
// the opcode table (as the upstream runner does), skips what the configuration excludes, runs the
// rest on an engine, and tallies pass/fail/skip in total and per conformance group.
import { assemble } from '../isa/assembler.js';
import { BpfError } from '../isa/errors.js';
import { decode, type Instruction } from '../isa/instruction.js';
import { GROUPS, specOf, type Group, type IsaVersion } from '../isa/opcodes.js';
import { parseDataFile, rawToBytes, type DataTest } from './data-file.js';
import { bareProgramRefusal, runProgram, type EngineName } from './execute.js';
import { EngineMismatchError } from '../runtime/engine.js';

/** What a runner is configured to run. */
export interface ConformanceOptions {
  readonly engine: EngineName;
  /** Highest ISA version to run (default 4). */
  readonly cpuVersion?: IsaVersion;
  /** Groups to run (default: all that the engines implement, callx and packet included). */
  readonly groups?: readonly Group[];
}

export type Outcome = 'pass' | 'fail' | 'skip';

/** The result of one file. */
export interface TestResult {
  readonly file: string;
  readonly outcome: Outcome;
  /**
   * A negative case (a file under a `negative` folder): the upstream runner's self-test inputs,
   * bad programs and wrong results that a runner must not pass. Counted apart from the suite.
   */
  readonly negative?: boolean;
  /** Most specific conformance group the test needs. */
  readonly group?: Group;
  readonly version?: IsaVersion;
  readonly expected?: string;
  readonly actual?: string;
  readonly reason?: string;
  /**
   * Why the verifier refuses the program, when it does. The suite defines ISA semantics that Linux's
   * verifier refuses to load (shift immediates out of range, callx), so a refused program that
   * expects a result still runs, unverified, to check the engines; one that expects an error passes.
   */
  readonly unverified?: string;
}

/** Totals of a run. */
export interface ConformanceReport {
  readonly results: readonly TestResult[];
  /** The suite's tests (negative cases apart). */
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly byGroup: Readonly<Record<string, { passed: number; failed: number; skipped: number }>>;
  /**
   * Negative cases: `caught` were refused (a program that does not assemble or run, a result that
   * differs, the error a case expects), `missed` ran and passed as if valid, `skipped` as upstream.
   */
  readonly negatives: { readonly caught: number; readonly missed: number; readonly skipped: number };
  /** Suite tests that ran although the verifier refuses them (see TestResult.unverified). */
  readonly unverified: number;
}

/**
 * Whether a negative case's outcome means the runner caught it: a case that expects an error must
 * give one; any other must fail (not assemble, not run, or give a result other than the one written).
 */
export function caughtNegative(r: TestResult): boolean {
  if (r.expected?.startsWith('error')) return r.outcome === 'pass';
  return r.outcome === 'fail';
}

/** Groups that imply others (RFC 9669 2.4). */
const IMPLIES: Partial<Record<Group, Group>> = { base64: 'base32', atomic64: 'atomic32', divmul64: 'divmul32' };
/** From most to least specific, for naming the one group a test is counted under. */
const SPECIFICITY: readonly Group[] = ['callx', 'packet', 'atomic64', 'atomic32', 'divmul64', 'divmul32', 'base64', 'base32'];

/** The ISA version and groups a program needs, from the opcode table. */
export function requirements(insns: readonly Instruction[]): { version: IsaVersion; groups: Set<Group> } {
  let version: IsaVersion = 1;
  const groups = new Set<Group>();
  for (const insn of insns) {
    const row = specOf(insn.op);
    if (row.version > version) version = row.version;
    for (const g of row.groups) {
      groups.add(g);
      const implied = IMPLIES[g];
      if (implied) groups.add(implied);
    }
  }
  return { version, groups };
}

/** The program of a parsed test as instructions. */
export function testProgram(test: DataTest, file: string): Instruction[] {
  if (test.raw) return decode(rawToBytes(test.raw, file));
  if (test.asm !== undefined) return assemble(test.asm, { source: file, firstLine: test.asmLine ?? 1 });
  return [];
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

async function runOne(file: string, text: string, options: ConformanceOptions, enabled: Set<Group>): Promise<TestResult> {
  const test = parseDataFile(text, file);
  if (!test) return { file, outcome: 'skip', reason: 'no result or error section (skipped as upstream does)' };

  let insns: Instruction[];
  try {
    insns = testProgram(test, file);
  } catch (err) {
    if (test.expectsError) return { file, outcome: 'pass', expected: `error ${test.error ?? ''}`.trim(), actual: `error: ${(err as Error).message}` };
    throw err;
  }
  const { version, groups } = requirements(insns);
  const group = SPECIFICITY.find((g) => groups.has(g));
  const base = { file, version, ...(group ? { group } : {}) };
  if (version > (options.cpuVersion ?? 4)) return { ...base, outcome: 'skip', reason: `needs ISA v${version}` };
  const missing = [...groups].filter((g) => !enabled.has(g));
  if (missing.length) return { ...base, outcome: 'skip', reason: `needs group ${missing.join(', ')}` };

  const expected = test.expectsError ? `error${test.error ? ` ${test.error}` : ''}` : hex(test.result ?? 0n);
  const refusal = bareProgramRefusal(file, insns, test.mem.length);
  if (refusal !== undefined && test.expectsError) return { ...base, outcome: 'pass', expected, actual: `refused by the verifier: ${refusal}` };
  const unverified = refusal !== undefined ? { unverified: refusal } : {};
  try {
    const r0 = await runProgram(insns, test.mem, options.engine);
    const actual = hex(r0);
    if (!test.expectsError && r0 === test.result) return { ...base, ...unverified, outcome: 'pass', expected, actual };
    return { ...base, ...unverified, outcome: 'fail', expected, actual };
  } catch (err) {
    if (!(err instanceof BpfError)) throw err;
    const actual = `error: ${err.message}`;
    // Engines that disagree fail the test even when it expects an error.
    const passes = test.expectsError && !(err instanceof EngineMismatchError);
    return { ...base, ...unverified, outcome: passes ? 'pass' : 'fail', expected, actual };
  }
}

/** A `.data` test to run: its file name (for reports), its text, and whether it is a negative case. */
export interface ConformanceTest {
  readonly file: string;
  /** The text, or a function giving it (a file read only when its turn comes). */
  readonly text: string | (() => string);
  readonly negative?: boolean;
}

/** Runs `.data` tests given as text (conformance/files.ts finds and reads them from files). */
export async function runConformanceTests(tests: Iterable<ConformanceTest>, options: ConformanceOptions): Promise<ConformanceReport> {
  const enabled = new Set<Group>(options.groups ?? GROUPS);
  for (const g of [...enabled]) {
    const implied = IMPLIES[g];
    if (implied) enabled.add(implied);
  }
  const results: TestResult[] = [];
  for (const { file, text, negative } of tests) {
    let result: TestResult;
    try {
      result = await runOne(file, typeof text === 'string' ? text : text(), options, enabled);
    } catch (err) {
      result = { file, outcome: 'fail', actual: `error: ${(err as Error).message}`, reason: 'could not be run' };
    }
    results.push(negative ? { ...result, negative } : result);
  }
  const suite = results.filter((r) => !r.negative);
  const negatives = results.filter((r) => r.negative);
  const byGroup: Record<string, { passed: number; failed: number; skipped: number }> = {};
  for (const r of suite) {
    const g = (byGroup[r.group ?? 'none'] ??= { passed: 0, failed: 0, skipped: 0 });
    if (r.outcome === 'pass') g.passed++;
    else if (r.outcome === 'fail') g.failed++;
    else g.skipped++;
  }
  return {
    results,
    passed: suite.filter((r) => r.outcome === 'pass').length,
    failed: suite.filter((r) => r.outcome === 'fail').length,
    skipped: suite.filter((r) => r.outcome === 'skip').length,
    byGroup,
    negatives: {
      caught: negatives.filter(caughtNegative).length,
      missed: negatives.filter((r) => r.outcome !== 'skip' && !caughtNegative(r)).length,
      skipped: negatives.filter((r) => r.outcome === 'skip').length,
    },
    unverified: suite.filter((r) => r.unverified !== undefined && r.outcome !== 'skip').length,
  };
}
