// Running one object on both engines: two runtimes, one per engine, load the same object and get
// the same inputs; every run's results and every map's contents afterwards must be equal. Two whole
// runtimes, because maps keep state outside guest memory (hash indexes, ring positions), so one
// runtime cannot rewind a run and replay it on the other engine.
import { EngineMismatchError } from './engine.js';
import type { ProgramRunInput, ProgramRunResult, TestRunOptions, TestRunResult } from './program.js';
import { Runtime, type LoadedObject, type RuntimeOptions } from './runtime.js';
import type { BpfMap } from '../maps/map.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A map's contents as comparable text: its entries, or its size for kinds without keyed access. */
export function mapContents(map: BpfMap): string {
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
  ) {}

  /** Loads `source` into two new runtimes built from `options`, one per engine. */
  static async load(source: string | Uint8Array, options: Omit<RuntimeOptions, 'engine'> = {}, fileName?: string): Promise<DifferentialObject> {
    const load = (engine: 'interp' | 'jit') => new Runtime({ ...options, engine }).loadObject(source, fileName ? { fileName } : {});
    return new DifferentialObject(await load('interp'), await load('jit'));
  }

  /** BPF_PROG_TEST_RUN on both; throws EngineMismatchError unless results and maps agree. */
  testRun(program: string, options: TestRunOptions): TestRunResult {
    return this.lockstep(program, (o) => o.program(program).testRun(options), (r) => [r.errno, r.retval, hex(r.dataOut), r.dataSizeOut, r.ctxOut ? hex(r.ctxOut) : '-', r.redirect ? JSON.stringify(r.redirect, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) : '-'].join(' '));
  }

  /** A plain run on both; throws EngineMismatchError unless results and maps agree. */
  run(program: string, input: ProgramRunInput = {}): ProgramRunResult {
    return this.lockstep(program, (o) => o.program(program).run(input), (r) => `${r.r0} ${r.ctx ? hex(r.ctx) : '-'}`);
  }

  private lockstep<R>(program: string, act: (o: LoadedObject) => R, show: (r: R) => string): R {
    const outcome = (o: LoadedObject) => {
      try {
        return { result: act(o) };
      } catch (error) {
        return { error: error as Error };
      }
    };
    const a = outcome(this.interp);
    const b = outcome(this.jit);
    const describe = (o: { result?: R; error?: Error }) => (o.error ? `${o.error.name}: ${o.error.message}` : show(o.result!));
    if (describe(a) !== describe(b)) throw new EngineMismatchError(`${program}: interpreter gave ${describe(a)}; JIT gave ${describe(b)}`);
    this.compareMaps(program);
    if (a.error) throw a.error;
    return a.result!;
  }

  private compareMaps(program: string): void {
    for (const [name, map] of this.interp.maps) {
      const x = mapContents(map);
      const y = mapContents(this.jit.map(name));
      if (x !== y) throw new EngineMismatchError(`${program}: map '${name}' differs after the run: interpreter ${x}; JIT ${y}`);
    }
  }
}
