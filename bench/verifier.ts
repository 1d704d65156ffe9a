// Verification time (issue 10's target: under 50 ms for a 1,000-instruction program): the synthetic
// programs the JIT's compile time is measured on, verified as bare programs, and every program of
// the fixtures and examples as the runtime loads it. Each figure is the median of several runs
// after a warm-up; "processed" is the instructions the verifier walked (Linux's insn_processed).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assemble, CONFORMANCE_HELPERS, loadObjectSpec, Runtime } from '../index.js';
import { applyCoreRelocations } from '../loader/core.js';
import { verify } from '../verifier/verifier.js';
import { verifierInputOf } from '../verifier/program-input.js';
import { programRules } from '../verifier/program-rules.js';
import type { VerifierInput } from '../verifier/env.js';
import { linkKfuncCalls } from '../helpers/kfuncs.js';
import { largeProgram } from './large-program.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Verification figures of one program. */
export interface VerifierFigure {
  readonly program: string;
  readonly instructions: number;
  readonly processed: number;
  readonly states: number;
  /** Median wall time of one verification. */
  readonly ms: number;
  /** ms per 1,000 instructions of the program. */
  readonly msPer1000: number;
}

/** Median ms of verifying `input` `runs` times, after one warm-up. */
function measure(name: string, input: VerifierInput, runs: number): VerifierFigure {
  const first = verify(input);
  if (!first.accepted) throw new Error(`bench: ${name} does not verify: ${first.error!.message}`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(verify(input).ms);
  const ms = times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  return { program: name, instructions: input.insns.length, processed: first.insnsProcessed, states: first.states, ms, msPer1000: (ms * 1000) / input.insns.length };
}

/** Every program of the fixtures and examples, relocated and bound as Runtime.loadObject does. */
function objectPrograms(): { name: string; input: VerifierInput }[] {
  const runtime = new Runtime();
  const files = [
    ...readdirSync(`${ROOT}tests/fixtures`).filter((f) => f.endsWith('.o') && f !== 'all_opcodes.o').map((f) => `tests/fixtures/${f}`),
    // examples/rejected/ holds a program the verifier is meant to refuse.
    ...readdirSync(`${ROOT}examples`, { recursive: true }).map(String).filter((f) => f.endsWith('.o') && !f.startsWith('rejected/')).map((f) => `examples/${f}`),
  ].sort();
  const out = [];
  for (const file of files) {
    const spec = loadObjectSpec(new Uint8Array(readFileSync(ROOT + file)), file);
    for (const p of spec.programs) {
      const helpers = runtime.helpersFor(p.type);
      const input = verifierInputOf(spec, p, p.insns, helpers);
      // Program types the verifier has no model of are refused at load, each on its own (sections.o has some).
      if (!programRules(input.type, input.attach)) continue;
      const insns = [...applyCoreRelocations(p, spec, runtime.btf, { poison: true }).insns];
      const missing = linkKfuncCalls(insns, p.kfuncCalls ?? [], helpers);
      if (missing) throw new Error(`bench: ${file} ${p.name} calls kfunc ${missing.name}, which the runtime does not implement`);
      out.push({ name: `${file.split('/').pop()} ${p.name}`, input: verifierInputOf(spec, p, insns, helpers) });
    }
  }
  return out;
}

/** The synthetic programs and every fixture and example program. */
export function verifierFigures(): { synthetic: VerifierFigure[]; programs: VerifierFigure[] } {
  const synthetic = [1_000, 10_000].map((n) => {
    const insns = assemble(largeProgram(n));
    return measure(`synthetic ${n}`, { name: 'large', type: 'raw', insns, helpers: CONFORMANCE_HELPERS, options: { rawMemorySize: 64 } }, 15);
  });
  // Long ones get fewer runs: proto_parser takes seconds.
  const programs = objectPrograms().map(({ name, input }) => measure(name, input, input.insns.length > 1000 ? 3 : 9));
  return { synthetic, programs: programs.sort((a, b) => b.instructions - a.instructions) };
}
