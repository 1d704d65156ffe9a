// Running one object on both engines: two runtimes, one per engine, load the same object and get
// the same inputs; every run's results and every map's contents afterwards must be equal. Two whole
// runtimes, because maps keep state outside guest memory (hash indexes, ring positions), so one
// runtime cannot rewind a run and replay it on the other engine.
import { toHex } from './host.js';
import { EngineMismatchError } from './engine.js';
import { BudgetExhaustedError } from './execution-errors.js';
import type { Program, ProgramRunInput, ProgramRunResult, TestRunOptions, TestRunResult } from './program.js';
import { Runtime, type LoadedObject, type LoadOptions, type RuntimeOptions } from './runtime.js';
import type { BpfMap } from '../maps/map.js';
import { PerfEventArrayMap } from '../maps/perf-event-array.js';
import { QueueStackMap } from '../maps/queue-stack.js';
import { RingbufMap } from '../maps/ringbuf.js';

/** A trace line, the program that printed it, and how many times in a row (repeats are folded, so a long repeat holds little). */
type TraceLine = [line: string, from: Program | undefined, count: number];

/** Appends a line, folding it into the last when it repeats it. */
function appendLine(lines: TraceLine[], line: string, from: Program | undefined): void {
  const last = lines[lines.length - 1];
  if (last !== undefined && last[0] === line && last[1] === from) last[2]++;
  else lines.push([line, from, 1]);
}

const hex = toHex;

/**
 * A map's contents as comparable text: its entries; the records or values pending in a ring buffer,
 * queue, stack or perf event array; the size of a bloom filter, which cannot be listed.
 */
export function mapContents(map: BpfMap): string {
  if (map instanceof RingbufMap) return map.pending().map(hex).join(' ');
  if (map instanceof QueueStackMap) return [...map.values()].map(hex).join(' ');
  if (map instanceof PerfEventArrayMap) return map.pending().map((e) => ('lost' in e ? `cpu ${e.cpu} lost ${e.lost}` : `cpu ${e.cpu} ${hex(e.data)}`)).join(' ');
  try {
    return [...map.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).join(' ');
  } catch {
    return `size ${map.size}`;
  }
}

/** An object loaded on both engines, run in lockstep. */
export class DifferentialObject {
  private constructor(
    readonly interp: LoadedObject,
    readonly jit: LoadedObject,
    /** The trace lines of the run in progress, per engine, delivered once both engines' agree. */
    private readonly traces: { readonly interp: TraceLine[]; readonly jit: TraceLine[] },
    private readonly onTrace: RuntimeOptions['onTrace'],
  ) {}

  /** Loads `source` into two new runtimes built from `options`, one per engine. */
  static async load(source: string | Uint8Array, options: Omit<RuntimeOptions, 'engine'> = {}, loadOptions: Omit<LoadOptions, 'engine'> = {}): Promise<DifferentialObject> {
    const traces = { interp: [] as TraceLine[], jit: [] as TraceLine[] };
    const load = (engine: 'interp' | 'jit') => new Runtime({ ...options, engine, onTrace: (line, from) => appendLine(traces[engine], line, from) }).loadObject(source, loadOptions);
    return new DifferentialObject(await load('interp'), await load('jit'), traces, options.onTrace);
  }

  /** BPF_PROG_TEST_RUN on both; throws EngineMismatchError unless results, trace lines and maps agree. */
  testRun(program: string, options: TestRunOptions): TestRunResult {
    return this.testRunBoth(program, options).interp;
  }

  /** testRun, returning each engine's result (they differ only in durationNs). */
  testRunBoth(program: string, options: TestRunOptions): { readonly interp: TestRunResult; readonly jit: TestRunResult } {
    return this.lockstep(program, (o) => o.program(program).testRun(options), (r) => [r.errno, r.retval, hex(r.dataOut), r.dataSizeOut, r.ctxOut ? hex(r.ctxOut) : '-', r.redirect ? JSON.stringify(r.redirect, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) : '-'].join(' '));
  }

  /** A plain run on both; throws EngineMismatchError unless results, trace lines and maps agree. */
  run(program: string, input: ProgramRunInput = {}): ProgramRunResult {
    return this.lockstep(program, (o) => o.program(program).run(input), (r) => `${r.r0} ${r.ctx ? hex(r.ctx) : '-'}`).interp;
  }

  private lockstep<R>(program: string, act: (o: LoadedObject) => R, show: (r: R) => string): { readonly interp: R; readonly jit: R } {
    const outcome = (o: LoadedObject) => {
      try {
        return { result: act(o) };
      } catch (error) {
        return { error: error as Error };
      }
    };
    this.traces.interp.length = 0;
    this.traces.jit.length = 0;
    const a = outcome(this.interp);
    const b = outcome(this.jit);
    if (describe(a, show) !== describe(b, show)) throw new EngineMismatchError(`${program}: interpreter gave ${describe(a, show)}; JIT gave ${describe(b, show)}`);
    this.compareTraces(program);
    this.compareMaps(program);
    if (a.error) throw a.error;
    return { interp: a.result!, jit: b.result! };
  }

  private compareTraces(program: string): void {
    const { interp, jit } = this.traces;
    const at = interp.findIndex(([line, , count], i) => line !== jit[i]?.[0] || count !== jit[i]?.[2]);
    if (at >= 0 || interp.length !== jit.length) {
      const i = at >= 0 ? at : Math.min(interp.length, jit.length);
      const line = (l: TraceLine | undefined) => (l === undefined ? 'no line' : `${JSON.stringify(l[0])}${l[2] > 1 ? ` ${l[2]} times` : ''}`);
      throw new EngineMismatchError(`${program}: trace lines differ: interpreter ${line(interp[i])}; JIT ${line(jit[i])}`);
    }
    for (const [line, from, count] of interp) {
      for (let n = 0; n < count; n++) {
        if (this.onTrace) this.onTrace(line, from);
        else this.interp.runtime.traceLines.push(line);
      }
    }
  }

  private compareMaps(program: string): void {
    for (const [name, map] of this.interp.maps) {
      const x = mapContents(map);
      const y = mapContents(this.jit.map(name));
      if (x !== y) throw new EngineMismatchError(`${program}: map '${name}' differs after the run: interpreter ${x}; JIT ${y}`);
    }
  }
}

/**
 * An engine's outcome as comparable text. A run stopped for its budget compares by that alone: the
 * interpreter counts instructions and the JIT loop back-edges, so they stop at different pcs.
 */
function describe<R>(o: { result?: R; error?: Error }, show: (r: R) => string): string {
  if (o.error instanceof BudgetExhaustedError) return `${o.error.name}: the run's budget ran out`;
  return o.error ? `${o.error.name}: ${o.error.message}` : show(o.result!);
}
