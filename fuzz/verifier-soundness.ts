// Soundness fuzzing of the verifier: programs from the generator, and mutants of them that break
// what made them safe (offsets, immediates, registers, conditions), are verified as the
// conformance convention runs them (r1 = the buffer, r2 = its size); every program the verifier
// accepts must then run in the checked interpreter without a fault: no access outside a region,
// no read of an unwritten register, no loop past the budget, nothing the engine refuses.
import { CONFORMANCE_HELPERS } from '../conformance/helpers.js';
import { type Instruction, make } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';
import { verify } from '../verifier/verifier.js';
import type { RejectKind } from '../verifier/reject.js';
import { engineNamed, Lane, type RunError } from './differential.js';
import { generateProgram } from './generator.js';
import { Prng } from './prng.js';

/** Instructions an accepted program may run. */
const SOUNDNESS_BUDGET = 40_000_000;
/**
 * may_goto loops may take 2^23 turns in each call of a function (Linux's bound), far past the
 * budget above: a program with one that spends the budget runs again with this one, and only
 * spending it too is a violation.
 */
const MAY_GOTO_BUDGET = 2_000_000_000;

/** A program the verifier accepted that faulted when run. */
export interface SoundnessViolation {
  readonly seed: number;
  readonly mutations: readonly string[];
  readonly insns: readonly Instruction[];
  readonly input: Uint8Array;
  readonly error: RunError;
}

/** What a soundness campaign found. */
export interface SoundnessReport {
  readonly programs: number;
  readonly accepted: number;
  /** Accepted programs that were mutants (the interesting ones: the generator's own are safe by design). */
  readonly acceptedMutants: number;
  readonly rejectedBy: ReadonlyMap<RejectKind, number>;
  readonly violations: readonly SoundnessViolation[];
}

/** Options of a campaign. */
export interface SoundnessOptions {
  readonly count: number;
  readonly seed: number;
  /** Share of programs that are mutated (default 0.75). */
  readonly mutantShare?: number;
  readonly onProgress?: (done: number, violations: number) => void;
  /** The verifier under test (default: ours); the tests pass a broken one to see the campaign catch it. */
  readonly verify?: typeof verify;
}

const REGISTERS = 11;

/** One random change to one instruction that keeps the program decodable. */
function mutate(insns: readonly Instruction[], rng: Prng): { insns: Instruction[]; what: string } {
  const out = insns.slice();
  const i = rng.below(out.length);
  const insn = out[i]!;
  const row = specOf(insn.op);
  const field = (name: string, value: number) => {
    const rebuilt = make(row, { pc: insn.pc, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm, ...(insn.immHi !== undefined ? { immHi: insn.immHi } : {}), [name]: value });
    out[i] = rebuilt;
    return `pc ${insn.pc}: ${name} ${(insn as unknown as Record<string, number>)[name]} -> ${value}`;
  };
  const form = row.form;
  const choice = rng.below(4);
  if ((form === 'ldx' || form === 'st' || form === 'stx' || form === 'atomic') && choice < 2) {
    const delta = rng.chance(0.5) ? rng.int(-16, 16) : rng.int(-600, 600);
    return { insns: out, what: field('off', Math.max(-32768, Math.min(32767, insn.off + delta))) };
  }
  if ((form === 'alu' || form === 'jcc') && row.imm === 'any' && choice < 3) {
    const v = rng.chance(0.5) ? insn.imm + rng.int(-8, 8) : rng.int(-0x80000000, 0x7fffffff);
    return { insns: out, what: field('imm', v | 0) };
  }
  if (row.src === 'reg' && choice === 3) return { insns: out, what: field('src', rng.below(REGISTERS)) };
  if (row.dst === 'reg' || row.dst === 'wreg') {
    const limit = row.dst === 'wreg' ? REGISTERS - 1 : REGISTERS;
    return { insns: out, what: field('dst', rng.below(limit)) };
  }
  if (form === 'jcc' || form === 'ja') return { insns: out, what: field('off', insn.off + rng.int(-2, 2)) };
  return { insns: out, what: 'none' };
}

/** Runs a campaign: generates, maybe mutates, verifies, and runs what was accepted. */
export async function verifierSoundness(options: SoundnessOptions): Promise<SoundnessReport> {
  const lane = new Lane(engineNamed('interp'), SOUNDNESS_BUDGET);
  let longLane: Lane | undefined;
  const rejectedBy = new Map<RejectKind, number>();
  const violations: SoundnessViolation[] = [];
  let accepted = 0;
  let acceptedMutants = 0;
  for (let n = 0; n < options.count; n++) {
    const seed = (options.seed + n) >>> 0;
    const program = generateProgram(seed, { verifiable: true });
    const rng = new Prng(seed ^ 0x5eed);
    let insns: Instruction[] = program.insns.slice();
    const mutations: string[] = [];
    if (rng.chance(options.mutantShare ?? 0.75)) {
      for (let k = 1 + rng.below(3); k > 0; k--) {
        const m = mutate(insns, rng);
        insns = m.insns;
        mutations.push(m.what);
      }
    }
    const result = (options.verify ?? verify)({ name: `seed ${seed}`, type: 'raw', insns, helpers: CONFORMANCE_HELPERS, options: { rawMemorySize: program.input.length } });
    if (!result.accepted) {
      const kind = result.error!.report.kind;
      rejectedBy.set(kind, (rejectedBy.get(kind) ?? 0) + 1);
    } else {
      accepted++;
      if (mutations.length) acceptedMutants++;
      let outcome = await lane.run(insns, program.input);
      if (outcome.error?.name === 'BudgetExhaustedError' && insns.some((i) => i.op === Op.MayGoto)) {
        longLane ??= new Lane(engineNamed('interp'), MAY_GOTO_BUDGET);
        outcome = await longLane.run(insns, program.input);
      }
      if (outcome.error) violations.push({ seed, mutations, insns, input: program.input, error: outcome.error });
    }
    options.onProgress?.(n + 1, violations.length);
  }
  return { programs: options.count, accepted, acceptedMutants, rejectedBy, violations };
}
