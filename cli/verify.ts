// `ebpf-wasm verify`: runs the verifier on the programs of an ELF object and says, for each, whether
// it is accepted, with the statistics Linux prints, or why it is rejected (the full report: reason,
// place, state, causal path, suggestion). --log prints every instruction the verifier walked;
// --json gives DESIGN.md's document. Exits 1 when a program is rejected.
import { BpfError, loadObjectSpec, Runtime, VerifierError, type LoadedObject, type ObjectSpec, type Program } from '../index.js';
import { readInput } from './input.js';
import { UsageError } from './errors.js';

export interface VerifyCliOptions {
  program?: string;
  log?: boolean;
  json?: boolean;
  strictAlignment?: boolean;
}

/** One program's outcome, as --json prints it. */
interface ProgramVerdict {
  name: string;
  section: string;
  type: string;
  verdict: 'accepted' | 'rejected';
  error: string | null;
  category: string | null;
  pc: number | null;
  line: string | null;
  suggestion: string | null;
  causal_path: number[];
  insns_processed: number;
  states: number;
  ms: number;
  log?: string[];
}

function accepted(p: Program, log: boolean): ProgramVerdict {
  const v = p.verdict;
  return {
    name: p.name, section: p.section, type: p.type, verdict: 'accepted', error: null, category: null, pc: null, line: null,
    suggestion: null, causal_path: [], insns_processed: v.insnsProcessed, states: v.states, ms: Number(v.ms.toFixed(3)),
    ...(log ? { log: [...v.log] } : {}),
  };
}

function rejected(spec: ObjectSpec, name: string, err: BpfError, log: boolean): ProgramVerdict {
  const p = spec.programs.find((q) => q.name === name) ?? spec.failures?.find((f) => f.name === name);
  const base = { name, section: p?.section ?? '', type: p?.type ?? '' };
  if (!(err instanceof VerifierError)) {
    // The program did not get as far as the verifier (it does not link, or calls a helper the runtime lacks).
    return { ...base, verdict: 'rejected', error: err.message, category: 'Loading', pc: null, line: null, suggestion: null, causal_path: [], insns_processed: 0, states: 0, ms: 0 };
  }
  const r = err.report;
  return {
    ...base, verdict: 'rejected', error: r.message, category: r.category, pc: r.pc,
    line: r.source ? `${r.source.file}:${r.source.line}` : null, suggestion: r.suggestion, causal_path: [...r.causalPath],
    insns_processed: err.stats.insnsProcessed, states: err.stats.states, ms: Number(err.stats.ms.toFixed(3)),
    ...(log ? { log: err.log.split('\n') } : {}),
  };
}

export async function verifyCommand(file: string, options: VerifyCliOptions): Promise<void> {
  const spec = loadObjectSpec(new Uint8Array(readInput(file)), file);
  const names = [...spec.programs.map((p) => p.name), ...(spec.failures ?? []).map((f) => f.name)];
  if (options.program !== undefined && !names.includes(options.program)) {
    throw new UsageError(`${file}: no program named '${options.program}' (there are: ${names.join(', ') || 'none'})`);
  }
  if (names.length === 0) throw new UsageError(`${file}: has no programs`);
  const wanted = options.program !== undefined ? [options.program] : names;
  const log = options.log ?? false;
  const failures = new Map<string, BpfError>();
  let obj: LoadedObject | undefined;
  try {
    // Only the programs asked for are linked and verified, each on its own (a bad one elsewhere does not matter).
    obj = await new Runtime().loadObject(file, { programs: wanted, verifierLog: log, strictAlignment: options.strictAlignment ?? false });
  } catch (err) {
    if (!(err instanceof BpfError) || wanted.length !== 1) throw err;
    failures.set(wanted[0]!, err);
  }
  for (const [n, err] of obj?.failures ?? []) failures.set(n, err);
  const verdicts = wanted.map((n) => {
    const p = obj?.programs.get(n);
    return p ? accepted(p, log) : rejected(spec, n, failures.get(n)!, log);
  });
  print(file, verdicts, failures, options);
}

function print(file: string, verdicts: ProgramVerdict[], failures: ReadonlyMap<string, BpfError>, options: VerifyCliOptions): void {
  if (verdicts.some((v) => v.verdict === 'rejected')) process.exitCode = 1;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ file, programs: verdicts })}\n`);
    return;
  }
  for (const v of verdicts) {
    if (options.log && v.log) process.stdout.write(`${v.log.join('\n')}\n`);
    if (v.verdict === 'accepted') {
      process.stdout.write(`${v.name} (${v.section}, ${v.type}): accepted: processed ${v.insns_processed} insns, ${v.states} states, ${v.ms.toFixed(1)} ms\n`);
      continue;
    }
    process.stdout.write(`${v.name} (${v.section}, ${v.type}): rejected\n`);
    const failure = failures.get(v.name);
    if (failure instanceof VerifierError) {
      if (!options.log) process.stdout.write(`${failure.log.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    } else {
      process.stdout.write(`  ${v.error}\n`);
    }
  }
}
