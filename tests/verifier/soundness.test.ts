// Soundness fuzzing of the verifier (issue 10), a fixed-seed batch: generated programs and mutants
// of them are verified, and whatever is accepted must run in the checked interpreter without a
// fault. `npm run fuzz -- --verifier` runs longer campaigns. Like the differential suite, this runs
// the compiled modules in dist/ (the interpreter's const-enum dispatch is inlined only there).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../support/suite.js';

type Soundness = typeof import('../../fuzz/verifier-soundness.js');
type Generator = typeof import('../../fuzz/generator.js');
type VerifierModule = typeof import('../../verifier/verifier.js');
type Helpers = typeof import('../../conformance/helpers.js');
type Api = typeof import('../../index.js');
type SoundnessReport = import('../../fuzz/verifier-soundness.js').SoundnessReport;

const DIST = join(PROJECT_ROOT, 'dist');
const load = async <T>(path: string): Promise<T> => {
  const file = join(DIST, path);
  if (!existsSync(file)) throw new Error(`${file} not found: build with \`npx tsc -p .\` before running this suite`);
  return (await import(file)) as T;
};
const { verifierSoundness } = await load<Soundness>('fuzz/verifier-soundness.js');
const { generateProgram } = await load<Generator>('fuzz/generator.js');
const { verify } = await load<VerifierModule>('verifier/verifier.js');
const { CONFORMANCE_HELPERS } = await load<Helpers>('conformance/helpers.js');
const { assemble, make, OPCODES } = await load<Api>('index.js');
const { prng } = await import('../support/prng.js');

/** The batch `npm test` runs (about 10 s). */
const BATCH = { count: 120, seed: 5000 };

let report: SoundnessReport;
beforeAll(async () => {
  report = await verifierSoundness(BATCH);
}, 120_000);

const verifyRaw = (insns: ReturnType<typeof assemble>, size: number) =>
  verify({ name: 'fuzz', type: 'raw', insns, helpers: CONFORMANCE_HELPERS, options: { rawMemorySize: size } });

describe('verifier soundness', () => {
  test('nothing the verifier accepts faults in the checked interpreter', () => {
    const found = report.violations.map((v) => `seed ${v.seed} [${v.mutations.join(', ')}]: ${v.error.message}`);
    expect(found).toEqual([]);
  });

  test('the batch is not trivial: mutants are accepted and rejected for several reasons', () => {
    expect(report.programs).toBe(BATCH.count);
    expect(report.acceptedMutants).toBeGreaterThan(BATCH.count / 6);
    expect(report.accepted).toBeLessThan(BATCH.count);
    expect(report.rejectedBy.size).toBeGreaterThanOrEqual(4);
  });

  test('a verifier that accepts too much is caught', async () => {
    // Accepts every program the real verifier rejects for an out-of-bounds or uninitialised access.
    const lax: typeof verify = (input) => {
      const result = verify(input);
      const kind = result.error?.report.kind;
      return kind === 'mem-range' || kind === 'uninit-reg' || kind === 'stack-range' ? { ...result, accepted: true, error: undefined } : result;
    };
    const broken = await verifierSoundness({ ...BATCH, count: 20, verify: lax });
    expect(broken.violations.length).toBeGreaterThan(0);
  });

  test('the generator\'s verifiable programs are all accepted (safe by construction)', () => {
    const rejected: string[] = [];
    for (let seed = 1; seed <= 80; seed++) {
      const program = generateProgram(seed, { verifiable: true });
      const result = verifyRaw(program.insns, program.input.length);
      if (!result.accepted) rejected.push(`seed ${seed}: ${result.error!.report.message}`);
    }
    expect(rejected).toEqual([]);
  });

  test('any decodable program gets a verdict, never an exception', () => {
    // Generated programs with wild changes: any row of the opcode table, registers up to r15.
    const rand = prng(10);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const crashes: string[] = [];
    for (let n = 0; n < 400; n++) {
      const program = generateProgram(9000 + n, { verifiable: true, maxInsns: 60 });
      const insns = program.insns.slice();
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
        const i = Math.floor(rand() * insns.length);
        const row = insns[i]!.immHi !== undefined ? OPCODES.find((r) => r.mnemonic === 'lddw')! : pick(OPCODES.filter((r) => r.width === 1));
        insns[i] = make(row, { pc: insns[i]!.pc, dst: Math.floor(rand() * 16), src: Math.floor(rand() * 16),
          off: Math.floor(rand() * 64) - 32, imm: Math.floor(rand() * 2 ** 32) - 2 ** 31, immHi: 0 });
      }
      try {
        verifyRaw(insns, program.input.length);
      } catch (err) {
        crashes.push(`seed ${9000 + n}: ${(err as Error).stack}`);
      }
    }
    expect(crashes).toEqual([]);
  });

  test('a run past the end of the buffer is caught by the verifier, not the interpreter', () => {
    const ok = assemble('ldxdw %r0, [%r1+56]\nexit');
    const past = assemble('ldxdw %r0, [%r1+57]\nexit');
    expect(verifyRaw(ok, 64).accepted).toBe(true);
    expect(verifyRaw(past, 64).error?.report.message).toMatch(/invalid access to memory, mem_size=64 off=57 size=8/);
  });
});
