#!/usr/bin/env node
// The differential fuzzer's command line (issue 3):
//   node dist/fuzz/run.js --count N --seed S [--engines interp,jit] [--out DIR] [--max-files K]
// Prints progress and the seed of every divergence, writes the first K divergences as minimized
// `.data` regressions into DIR (default tests/data/regressions), exits 1 on any divergence and
// 2 on bad usage or an engine that cannot run.
//   node dist/fuzz/run.js --verifier --count N --seed S
// Soundness fuzzing of the verifier (issue 10): generated programs and mutants of them, every
// accepted one run in the checked interpreter; exits 1 when an accepted program faults.
//   node dist/fuzz/run.js --maps --count N --seed S
// The JIT's map operations in WebAssembly against the helpers (issue 12): N random cases of 300
// map operations each; exits 1 at the first disagreement.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assemble } from '../isa/assembler.js';
import type { EngineKind } from '../runtime/engine.js';
import { investigate, programSeed, runCampaign } from './campaign.js';
import { Differential, Lane, engineNamed } from './differential.js';
import { writeRegression } from './regression.js';
import { verifierSoundness } from './verifier-soundness.js';
import { mapOpsCampaign } from './map-ops.js';

const ENGINES: readonly EngineKind[] = ['interp', 'jit'];
const DEFAULT_OUT = fileURLToPath(new URL('../../tests/data/regressions', import.meta.url));
const USAGE = 'usage: fuzz --count N --seed S [--engines interp,jit] [--out DIR] [--max-files K]\n       fuzz --verifier --count N --seed S\n       fuzz --maps --count N --seed S';

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) fail(`--${name} must be an integer from ${min} to ${max}, not '${text}'`);
  return Number(text);
}

function engines(text: string): [EngineKind, EngineKind] {
  const names = text.split(',').map((s) => s.trim());
  if (names.length !== 2 || !names.every((n): n is EngineKind => (ENGINES as readonly string[]).includes(n))) {
    fail(`--engines must be two of ${ENGINES.join(', ')} separated by a comma, not '${text}'`);
  }
  return names as [EngineKind, EngineKind];
}

/** Fails with exit code 2 when an engine cannot run even a trivial program (the JIT, before it exists). */
async function checkEngine(kind: EngineKind): Promise<void> {
  const outcome = await new Lane(engineNamed(kind)).run(assemble('mov %r0, 0\nexit'), new Uint8Array(8));
  if (outcome.error) {
    fail(`engine ${kind} cannot run programs: ${outcome.error.message}${kind === 'jit' ? ' (compare the interpreter with itself: --engines interp,interp)' : ''}`);
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        engines: { type: 'string', default: 'interp,jit' },
        out: { type: 'string', default: DEFAULT_OUT },
        'max-files': { type: 'string' },
        verifier: { type: 'boolean', default: false },
        maps: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const count = integer('count', values.count, 1000, 1, 1e9);
  const seed = integer('seed', values.seed, 1, 0, 0xffffffff);
  const maxFiles = integer('max-files', values['max-files'], 20, 0, 1e9);
  if (values.verifier) return verifierCampaign(count, seed);
  if (values.maps) return mapsCampaign(count, seed);
  const kinds = engines(values.engines);
  for (const kind of new Set(kinds)) await checkEngine(kind);

  const differential = new Differential([engineNamed(kinds[0]), engineNamed(kinds[1])]);
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const step = Math.max(1000, Math.ceil(count / 20 / 1000) * 1000);
  let written = 0;
  console.log(`fuzz: ${count} programs, seeds ${seed}..${programSeed(seed, count - 1)}, ${kinds[0]} vs ${kinds[1]}`);

  const report = await runCampaign(differential, {
    count,
    seed,
    onProgress(done, divergences) {
      if (done % step === 0 && done < count) console.log(`  ${done}/${count} programs, ${divergences} divergences, ${elapsed()}`);
    },
    async onDivergence(found) {
      console.log(`DIVERGENCE seed ${found.seed}: ${found.comparison.divergence!.details.join('; ')}`);
      if (written >= maxFiles) return;
      const regression = await investigate(differential, found);
      const path = writeRegression(values.out, regression);
      written++;
      console.log(`  minimized ${regression.originalLength} -> ${regression.program.insns.length} instructions${regression.folded ? ' (memory folded into r0)' : ''}: ${path}`);
    },
  });

  const errors = [...report.agreedErrors].map(([name, n]) => `${n} ${name}`).join(', ');
  console.log(`${report.programs} programs (${report.instructions} instructions) in ${elapsed()}: `
    + `${report.divergences.length} divergences; ${errors ? `both engines stopped with the same error on ${errors}` : 'every run finished without an error'}`);
  if (report.divergences.length > 0) {
    console.log(`divergent seeds: ${report.divergences.map((d) => d.seed).join(' ')}`);
    if (report.divergences.length > written) console.log(`(regression files written for the first ${written} only: --max-files)`);
    process.exitCode = 1;
  }
}

/** The map-operations campaign: N cases of 300 operations on both engines' runtimes. */
async function mapsCampaign(count: number, seed: number): Promise<void> {
  const started = performance.now();
  console.log(`fuzz --maps: ${count} cases of 300 operations, seeds ${seed}..${(seed + count - 1) >>> 0}`);
  const report = await mapOpsCampaign({ seed, cases: count, ops: 300 });
  const elapsed = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  if (report.mismatch) {
    console.log(`MISMATCH after ${report.ops} operations in ${elapsed}: ${report.mismatch}`);
    process.exitCode = 1;
  } else {
    console.log(`${report.cases} cases, ${report.ops} operations in ${elapsed}: interpreter and JIT agree`);
  }
}

/** The verifier's soundness campaign: counts of verdicts, and every accepted program that faulted. */
async function verifierCampaign(count: number, seed: number): Promise<void> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const step = Math.max(100, Math.ceil(count / 20 / 100) * 100);
  console.log(`fuzz --verifier: ${count} programs, seeds ${seed}..${(seed + count - 1) >>> 0}`);
  const report = await verifierSoundness({
    count,
    seed,
    onProgress(done, violations) {
      if (done % step === 0 && done < count) console.log(`  ${done}/${count} programs, ${violations} violations, ${elapsed()}`);
    },
  });
  const reasons = [...report.rejectedBy].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${n} ${kind}`).join(', ');
  console.log(`${report.programs} programs in ${elapsed()}: ${report.accepted} accepted (${report.acceptedMutants} of them mutants), `
    + `${report.programs - report.accepted} rejected (${reasons || 'none'}); ${report.violations.length} accepted programs faulted`);
  for (const v of report.violations) {
    console.log(`VIOLATION seed ${v.seed} [${v.mutations.join('; ') || 'not mutated'}]: ${v.error.message}`);
  }
  if (report.violations.length > 0) process.exitCode = 1;
}

await main();
