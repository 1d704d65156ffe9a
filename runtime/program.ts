// A loaded program: its bound instructions, the gate's verdict, and executors on the engine chosen
// at load. `run` runs it once on a context the caller gives; `testRun` reproduces BPF_PROG_TEST_RUN
// for the program types that have one (xdp here; the skb types through their runner).
import { BpfError } from '../isa/errors.js';
import type { Instruction } from '../isa/instruction.js';
import type { HelperTable } from '../helpers/table.js';
import type { ObjectSpec, ProgramSpec } from '../loader/object.js';
import { LINUX_TEST_RUN_TYPES, type ProgramType } from '../loader/program-types.js';
import type { Verdict } from '../verifier/gate.js';
import type { BpfMap } from '../maps/map.js';
import { createExecutor, RunStats, TailCallError, type EngineKind, type Executor } from './engine.js';
import type { Runtime } from './runtime.js';
import { xdpTestRun, type XdpTestRunOptions, type XdpTestRunResult } from './xdp.js';
import { SKB_PROGRAM_TYPES, skbTestRun, type SkbProgramType, type SkbTestRunOptions, type SkbTestRunResult } from './skb.js';

/** BPF_PROG_TEST_RUN's input, for every program type that has a test run. */
export interface TestRunOptions extends Omit<XdpTestRunOptions, 'ctxIn'>, Omit<SkbTestRunOptions, 'ctxIn'> {
  /** ctx_in: the program type's context struct (xdp_md, __sk_buff) as bytes, or as fields of it. */
  readonly ctxIn?: Uint8Array | XdpTestRunOptions['ctxIn'] | SkbTestRunOptions['ctxIn'];
  /** The simulated CPU to run on (default 0). */
  readonly cpu?: number;
}

/** BPF_PROG_TEST_RUN's output; `redirect` is where a redirecting program sent the packet (not carried out). */
export type TestRunResult = Omit<XdpTestRunResult, 'redirect'> & { readonly redirect?: XdpTestRunResult['redirect'] | SkbTestRunResult['redirect'] };

/** Input of a plain run. */
export interface ProgramRunInput {
  /** Context bytes: copied into guest memory, r1 points at them, and they are read back after the run. */
  readonly ctx?: Uint8Array;
  /** r1..r5 as given (ignored for r1 when ctx is given). */
  readonly args?: readonly (number | bigint)[];
  /** The simulated CPU to run on (default 0). */
  readonly cpu?: number;
}

/** Output of a plain run. */
export interface ProgramRunResult {
  /** r0 at exit, unsigned 64-bit. */
  readonly r0: bigint;
  /** r0's low 32 bits, as the kernel reports a program's return value. */
  readonly retval: number;
  /** The context after the run, when one was given. */
  readonly ctx?: Uint8Array;
  /** Instructions executed (interpreter only). */
  readonly instructions?: number;
}

/** A program type with no test run here, or input a test run refuses. */
export class TestRunError extends BpfError {
  constructor(detail: string) {
    super('test-run', detail);
  }
}

/** The JIT was asked to compile a program the verifier has not proved safe. */
export class UnverifiedProgramError extends BpfError {
  constructor(readonly program: string, reason: string) {
    super('unverified', `program '${program}': the JIT runs verified programs only (${reason}); run it on the checked interpreter ('interp') instead`);
  }
}

/** What the runtime hands a program when it creates it. */
export interface ProgramInit {
  readonly spec: ProgramSpec;
  readonly object: ObjectSpec;
  readonly insns: readonly Instruction[];
  readonly helpers: HelperTable;
  readonly verdict: Verdict;
  readonly id: number;
  readonly engine: EngineKind;
  /** The maps its instructions refer to (by handle or by a value's address), each once. */
  readonly maps: readonly BpfMap[];
}

/** A program loaded into a runtime. */
export class Program {
  private constructor(
    private readonly runtime: Runtime,
    private readonly init: ProgramInit,
    /** The executor runs go through. */
    readonly executor: Executor,
    /** Its runs, instructions and run time so far (CTRL_PROG_STATS). */
    readonly stats: RunStats,
  ) {}

  /** Builds the program's executor (the JIT compiles here). The JIT takes verified programs only. */
  static async create(runtime: Runtime, init: ProgramInit): Promise<Program> {
    if (init.engine !== 'interp' && !init.verdict.verified) throw new UnverifiedProgramError(init.spec.name, init.verdict.reason);
    const stats = new RunStats();
    const executor = await createExecutor(init.insns, init.engine, {
      stats,
      memory: runtime.memory,
      helpers: init.helpers,
      budget: runtime.budget,
      ...(runtime.optimize !== undefined ? { optimize: runtime.optimize } : {}),
      resolveTailCall: (target, engine) => tailCallTarget(target, engine),
    });
    return new Program(runtime, init, executor, stats);
  }

  get name(): string {
    return this.init.spec.name;
  }

  get section(): string {
    return this.init.spec.section;
  }

  /** The program type its section gives ('xdp', 'sched_cls', ...). */
  get type(): string {
    return this.init.spec.type;
  }

  get attach(): string | undefined {
    return this.init.spec.attach;
  }

  /** The runtime's id of this program (what a PROG_ARRAY holds). */
  get id(): number {
    return this.init.id;
  }

  get engine(): EngineKind {
    return this.init.engine;
  }

  /** The maps the program refers to, each once. */
  get maps(): readonly BpfMap[] {
    return this.init.maps;
  }

  /** Whether the verifier proved it safe (false only when verification was skipped, on the interpreter). */
  get verified(): boolean {
    return this.init.verdict.verified;
  }

  get verdict(): Verdict {
    return this.init.verdict;
  }

  /** The instructions as they run: subprograms linked, map references bound to guest addresses. */
  get insns(): readonly Instruction[] {
    return this.init.insns;
  }

  /** The loader's description of the program. */
  get spec(): ProgramSpec {
    return this.init.spec;
  }

  /** The object it came from. */
  get object(): ObjectSpec {
    return this.init.object;
  }

  /** This program's executor on one engine (tail calls continue on the caller's engine). */
  executorFor(engine: EngineKind): Executor | undefined {
    return engine === this.engine ? this.executor : undefined;
  }

  /** Runs once: r1 points at a copy of `ctx` (or r1..r5 are `args`), on a CPU. */
  run(input: ProgramRunInput = {}): ProgramRunResult {
    const memory = this.runtime.memory;
    const ctx = input.ctx ? memory.allocate(input.ctx.length, `ctx of ${this.name}`) : undefined;
    try {
      if (ctx) memory.bytes.set(input.ctx!, ctx.start);
      const args = ctx ? [ctx.start, ...(input.args ?? []).slice(1)] : input.args ?? [];
      const result = this.runtime.enter(this, input.cpu ?? 0, () => this.executor.run({ args }));
      return {
        r0: result.r0,
        retval: result.retval,
        ...(ctx ? { ctx: memory.bytes.slice(ctx.start, ctx.end) } : {}),
        ...(result.instructions !== undefined ? { instructions: result.instructions } : {}),
      };
    } finally {
      if (ctx) memory.free(ctx);
    }
  }

  /** BPF_PROG_TEST_RUN: retval of the last run, dataOut, ctxOut, average duration, -ENOSPC truncation. */
  testRun(options: TestRunOptions): TestRunResult {
    const type = this.type;
    // Each BPF_PROG_TEST_RUN gets fresh cgroup storage (bpf_get_local_storage), shared by its repeats.
    this.runtime.testRunSerial++;
    if (type === 'xdp') {
      return this.runtime.enter(this, options.cpu ?? 0, () => xdpTestRun(this.runtime.xdp, this.executor, options as XdpTestRunOptions));
    }
    if (SKB_PROGRAM_TYPES.includes(type as SkbProgramType)) {
      return this.runtime.enter(this, options.cpu ?? 0, () => skbTestRun(this.runtime.skb, this.executor, type as SkbProgramType, options as SkbTestRunOptions));
    }
    if (LINUX_TEST_RUN_TYPES.has(type as ProgramType)) {
      throw new TestRunError(`${this.object.file}: program '${this.name}' is a ${type} program, and this runtime has no test run for those (Linux has one); use run({ ctx })`);
    }
    // Linux has no BPF_PROG_TEST_RUN for kprobes and tracepoints either (-ENOTSUPP).
    throw new TestRunError(`${this.object.file}: program '${this.name}' is a ${type} program, which has no test run (as in Linux); use run({ ctx })`);
  }

  /** Returns the executor's guest memory. */
  dispose(): void {
    this.executor.dispose();
  }
}

/** The executor a tail call continues with. */
function tailCallTarget(target: unknown, engine: EngineKind): Executor {
  if (!(target instanceof Program)) throw new TailCallError('a tail call named something that is not a program of this runtime');
  const executor = target.executorFor(engine);
  if (!executor) throw new TailCallError(`tail call into '${target.name}', which was loaded for engine ${target.engine}, not ${engine}`);
  return executor;
}
