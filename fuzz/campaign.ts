// A fuzzing campaign: generate programs from consecutive seeds, run each on two engines, collect
// divergences; and the investigation of one divergence into a minimized regression.
import type { Op } from '../isa/opcodes.js';
import type { Comparison, Differential } from './differential.js';
import { type GeneratorOptions, generateProgram } from './generator.js';
import type { FuzzProgram } from './program.js';
import { foldMemoryIntoR0, minimize } from './minimize.js';
import type { Regression } from './regression.js';

/** A program on which the engines disagreed. */
export interface Found {
  readonly seed: number;
  readonly program: FuzzProgram;
  readonly comparison: Comparison;
}

/** What a campaign runs. */
export interface CampaignOptions {
  readonly count: number;
  /** Program i is generated from seed `seed + i` (mod 2^32), so each divergence has its own seed. */
  readonly seed: number;
  readonly generator?: GeneratorOptions;
  /** Called after every program. */
  readonly onProgress?: (done: number, divergences: number) => void;
  /** Called for each divergence as it is found. */
  readonly onDivergence?: (found: Found) => Promise<void> | void;
}

/** Totals of a campaign. */
export interface CampaignReport {
  readonly programs: number;
  /** Instructions generated, summed over the programs. */
  readonly instructions: number;
  readonly divergences: readonly Found[];
  /** Programs on which both engines stopped with the same error, by error class. */
  readonly agreedErrors: ReadonlyMap<string, number>;
  /** How often each operation was generated. */
  readonly opCounts: ReadonlyMap<Op, number>;
}

/** The seed of the i-th program of a campaign. */
export function programSeed(seed: number, i: number): number {
  return (seed + i) >>> 0;
}

/** Generates and compares `count` programs. */
export async function runCampaign(differential: Differential, options: CampaignOptions): Promise<CampaignReport> {
  const divergences: Found[] = [];
  const agreedErrors = new Map<string, number>();
  const opCounts = new Map<Op, number>();
  let instructions = 0;
  for (let i = 0; i < options.count; i++) {
    const seed = programSeed(options.seed, i);
    const program = generateProgram(seed, options.generator);
    instructions += program.insns.length;
    for (const insn of program.insns) opCounts.set(insn.op, (opCounts.get(insn.op) ?? 0) + 1);
    const comparison = await differential.compare(program.insns, program.input);
    if (comparison.divergence) {
      const found = { seed, program, comparison };
      divergences.push(found);
      await options.onDivergence?.(found);
    } else if (comparison.outcomes[0].error) {
      const name = comparison.outcomes[0].error.name;
      agreedErrors.set(name, (agreedErrors.get(name) ?? 0) + 1);
    }
    options.onProgress?.(i + 1, divergences.length);
  }
  return { programs: options.count, instructions, divergences, agreedErrors, opCounts };
}

/** Index of the reference engine: the interpreter when it takes part, else the first. */
export function referenceIndex(differential: Differential): 0 | 1 {
  return differential.engines[0].name !== 'interp' && differential.engines[1].name === 'interp' ? 1 : 0;
}

/** Which engine stopped with which error, for a divergence in errors. */
function errorPair(c: Comparison): string {
  return c.outcomes.map((o) => o.error?.name ?? 'finished').join('/');
}

/**
 * Whether a candidate diverges the way the original did: the same errors on each side when the
 * original diverged in errors (so that minimizing does not drift to a register read the
 * interpreter refuses and the JIT does not check), else no error and a part in common.
 */
function sameFailure(original: Comparison, candidate: Comparison): boolean {
  const a = original.divergence!;
  const b = candidate.divergence;
  if (b === undefined) return false;
  if (a.parts.includes('error')) return b.parts.includes('error') && errorPair(original) === errorPair(candidate);
  return !b.parts.includes('error') && b.parts.some((p) => a.parts.includes(p));
}

/**
 * Minimizes a divergence (while it fails the same way, see sameFailure),
 * folds a memory-only divergence into r0 when main can see it, and records the reference
 * engine's outcome on the result.
 */
export async function investigate(differential: Differential, found: Found): Promise<Regression> {
  const original = found.comparison.divergence!;
  const minimized = await minimize(found.program, async (candidate) =>
    sameFailure(found.comparison, await differential.compare(candidate.insns, candidate.input)));
  let program = minimized;
  let folded = false;
  const fold = foldMemoryIntoR0(minimized, (await differential.compare(minimized.insns, minimized.input)).divergence ?? original);
  if (fold && (await differential.compare(fold.insns, fold.input)).divergence?.parts.includes('r0')) {
    program = fold;
    folded = true;
  }
  const reference = referenceIndex(differential);
  const final = await differential.compare(program.insns, program.input);
  return {
    seed: found.seed,
    program,
    originalLength: found.program.insns.length,
    engines: [differential.engines[0].name, differential.engines[1].name],
    referenceEngine: differential.engines[reference].name,
    divergence: final.divergence ?? original,
    reference: final.outcomes[reference],
    folded,
  };
}
