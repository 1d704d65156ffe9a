// The engines a program can run on, behind one interface: the checked interpreter, the JIT (BPF
// lowered to WebAssembly), and `both`, which runs the two and fails loudly if they disagree.
// All run over the same guest memory and helper table, and follow tail-call chains.
import type { Instruction } from '../isa/instruction.js';
import { BpfError } from '../isa/errors.js';
import { FRAME_BYTES, MAX_FRAMES } from '../isa/abi.js';
import type { HelperTable } from '../helpers/table.js';
import { isInterpreterCheck } from './execution-errors.js';
import { Interpreter, type TraceEvent } from '../interpreter/interpreter.js';
import type { RunArgs, RunResult } from './run.js';
import type { GuestMemory, Region } from './memory.js';

/** A single engine. */
export type EngineKind = 'interp' | 'jit';
/** An engine choice as users give it: `both` runs the two and fails loudly if they disagree. */
export type EngineName = EngineKind | 'both';
export const ENGINE_NAMES: readonly EngineName[] = ['interp', 'jit', 'both'];

/** A program ready to run on an engine. */
export interface Executor {
  readonly engine: EngineName;
  /** The stack runs use (8 frames of 512 bytes ending at `stack.end`; the main frame is the top one). */
  readonly stack: Region;
  run(args?: RunArgs): RunResult;
  /** A run with r1 = `ctx` (a guest address) and nothing else, as a hook runs per packet: r0's low 32 bits, unsigned. */
  runContext(ctx: number): number;
  /**
   * `times` runs of runContext(ctx) inside the engine (BPF_PROG_TEST_RUN's repeat): a loop in
   * WebAssembly on the JIT, runs back to back in the interpreter; the last one's r0 returned. Undefined, with
   * nothing run, for a program whose helpers keep state of a run's own on the host (the caller then
   * runs one at a time).
   */
  repeatContext(ctx: number, times: number): number | undefined;
  /**
   * The compiled code's entry, for a WebAssembly caller that runs the program on contexts itself
   * (the replay lane); undefined on the interpreter, and where repeatContext cannot run.
   */
  contextEntry(): ContextEntry | undefined;
  /** Returns the executor's guest memory (stack, register file) to the allocator. */
  dispose(): void;
}

/**
 * What a WebAssembly caller needs to run a program with r1 = a context, with no JavaScript between
 * runs: the module's `run` export (jit/abi.ts) and the arguments that stay the same.
 */
export interface ContextEntry {
  /** The exported function, for the caller's module to import. */
  readonly run: (...args: number[]) => number;
  readonly registers: number;
  readonly framePointer: number;
  readonly budget: number;
  /** Resets what a run on a context starts from; once before a series of runs. */
  begin(): void;
  /** r0's low half of a run that threw by ending early (the compiled code's way); any other throw as the engine's typed error. */
  settle(err: unknown): number;
  /** Counts runs the caller made (CTRL_PROG_STATS), and the time they took. */
  counted(runs: number, ns: number): void;
}

/** How to build an executor. */
export interface ExecutorOptions {
  readonly memory: GuestMemory;
  readonly helpers: HelperTable;
  /** Instruction budget of one interpreter run; for the JIT, the loop back-edges one run may take. */
  readonly budget?: number;
  /** Interpreter only: called before every instruction. */
  readonly trace?: (event: TraceEvent) => void;
  /** The executor, on the same engine, of a program a tail-call helper asked for. */
  readonly resolveTailCall?: (target: unknown, engine: EngineKind) => Executor;
  /** JIT only: optimisation level 0..4 (default 1; see jit/binaryen.ts). */
  readonly optimize?: number;
  /** Counts this program's own runs (a tail call's target counts its own). */
  readonly stats?: RunStats;
}

/**
 * What is counted about a program's runs, all the time (CTRL_PROG_STATS): runs, instructions
 * executed (the interpreter counts them; the JIT does not), and run time. The time is measured
 * on one run in TIMED_EVERY and scaled, which keeps the clock off the per-packet path.
 */
export class RunStats {
  runs = 0;
  instructions = 0;
  runTimeNs = 0;
}

/** One run in this many is timed for RunStats.runTimeNs. */
const TIMED_EVERY = 64;

/** The engines disagreed on a run. */
export class EngineMismatchError extends BpfError {
  constructor(detail: string) {
    super('engine-mismatch', `interpreter and JIT disagree: ${detail}`);
  }
}

/** A helper asked for a tail call that nothing can resolve. */
export class TailCallError extends BpfError {
  constructor(detail: string) {
    super('tail-call', detail);
  }
}

/** What both engines' raw executors provide. */
interface RawExecutor {
  readonly stack: Region;
  run(args?: RunArgs): RunResult;
  /** The JIT's allocation-free run on a context (see JitExecutor.runContext), with the tail call it left. */
  runContext?(ctx: number): number;
  repeatContext?(ctx: number, times: number): number | undefined;
  /** Instructions the last repeatContext series executed (engines that count them). */
  readonly repeatedInstructions?: number;
  contextEntry?(): Omit<ContextEntry, 'counted'> | undefined;
  readonly pendingTailCall?: RunResult['tailCall'];
  dispose(): void;
}

/** Runs one engine, and continues tail-call chains (at most 33 tail calls, counted by the helper). */
class ChainingExecutor implements Executor {
  constructor(
    readonly engine: EngineKind,
    private readonly inner: RawExecutor,
    private readonly resolve: ExecutorOptions['resolveTailCall'],
    private readonly stats: RunStats | undefined,
  ) {}

  get stack(): Region {
    return this.inner.stack;
  }

  run(args: RunArgs = {}): RunResult {
    let result: RunResult;
    const stats = this.stats;
    if (!stats) result = this.inner.run(args);
    else if (stats.runs++ % TIMED_EVERY !== 0) result = this.inner.run(args);
    else {
      const start = performance.now();
      try {
        result = this.inner.run(args);
      } finally {
        stats.runTimeNs += Math.round((performance.now() - start) * 1e6) * TIMED_EVERY;
      }
    }
    if (stats && result.instructions) stats.instructions += result.instructions;
    if (!result.tailCall) return result;
    return this.follow(result.tailCall, args);
  }

  /** The next program of a tail-call chain: it starts fresh with the context in r1, on the same engine and packet (as the helpers left it). */
  private follow(tailCall: NonNullable<RunResult['tailCall']>, args: RunArgs): RunResult {
    if (!this.resolve) throw new TailCallError('a helper asked for a tail call, but no tail-call targets are set up (resolveTailCall)');
    const next = this.resolve(tailCall.target, this.engine);
    const packet = tailCall.packet ?? args.packet;
    return next.run({ ...args, args: [tailCall.ctx], tailCalls: (args.tailCalls ?? 0) + 1, ...(packet ? { packet } : {}) });
  }

  private readonly contextArgs: number[] = [0];
  private readonly contextRun: RunArgs = { args: this.contextArgs };

  runContext(ctx: number): number {
    const inner = this.inner;
    const stats = this.stats;
    // The interpreter, and the timed run of RunStats, take the general path (with one argument list, refilled).
    if (inner.runContext === undefined || (stats !== undefined && stats.runs % TIMED_EVERY === 0)) {
      this.contextArgs[0] = ctx;
      return this.run(this.contextRun).retval;
    }
    if (stats) stats.runs++;
    const retval = inner.runContext(ctx);
    const tailCall = inner.pendingTailCall;
    return tailCall === undefined ? retval : this.follow(tailCall, { args: [ctx] }).retval;
  }

  repeatContext(ctx: number, times: number): number | undefined {
    const stats = this.stats;
    const start = stats ? performance.now() : 0;
    // Runs inside WebAssembly never end in a tail call: the program calls no helper that asks for one.
    const retval = this.inner.repeatContext?.(ctx, times);
    if (retval !== undefined && stats) {
      stats.runs += times;
      stats.runTimeNs += Math.round((performance.now() - start) * 1e6);
      stats.instructions += this.inner.repeatedInstructions ?? 0;
    }
    return retval;
  }

  contextEntry(): ContextEntry | undefined {
    const entry = this.inner.contextEntry?.();
    if (entry === undefined) return undefined;
    const stats = this.stats;
    // Runs through the entry never end in a tail call, as with repeatContext.
    return {
      ...entry,
      counted: (runs, ns) => {
        if (!stats) return;
        stats.runs += runs;
        stats.runTimeNs += Math.round(ns);
      },
    };
  }

  dispose(): void {
    this.inner.dispose();
  }
}

function describe(r: RunResult | undefined, err: unknown): string {
  return err ? `${(err as Error).name} (${(err as Error).message})` : `r0 0x${r!.r0.toString(16)}`;
}

/** Runs the interpreter, then the JIT over the same starting memory, and compares everything. */
class BothExecutor implements Executor {
  readonly engine = 'both' as const;

  constructor(
    private readonly memory: GuestMemory,
    private readonly interp: Executor,
    private readonly jit: Executor,
  ) {}

  get stack(): Region {
    return this.interp.stack;
  }

  run(args: RunArgs = {}): RunResult {
    const before = this.memory.bytes.slice();
    let interpResult: RunResult | undefined;
    let interpError: unknown;
    try {
      interpResult = this.interp.run(args);
    } catch (err) {
      // A trap only the checked interpreter promises to catch: the JIT is not run on such a program.
      if (isInterpreterCheck(err) || !(err instanceof BpfError)) throw err;
      interpError = err;
    }
    this.memory.refresh();
    const afterInterp = this.memory.bytes.slice();
    this.memory.bytes.set(before);
    let jitResult: RunResult | undefined;
    let jitError: unknown;
    try {
      jitResult = this.jit.run(args);
    } catch (err) {
      if (!(err instanceof BpfError)) throw err;
      jitError = err;
    }
    this.memory.refresh();
    const mismatch = () => new EngineMismatchError(`interpreter: ${describe(interpResult, interpError)}; JIT: ${describe(jitResult, jitError)}`);
    if (interpError || jitError) {
      if (interpError?.constructor !== jitError?.constructor || (interpError as { pc?: number }).pc !== (jitError as { pc?: number }).pc) throw mismatch();
      throw interpError;
    }
    if (interpResult!.r0 !== jitResult!.r0) throw mismatch();
    const where = this.firstDifference(afterInterp);
    if (where) throw new EngineMismatchError(`memory differs after the run: ${where}`);
    return interpResult!;
  }

  runContext(ctx: number): number {
    return this.run({ args: [ctx] }).retval;
  }

  repeatContext(): undefined {
    return undefined;
  }

  contextEntry(): undefined {
    return undefined;
  }

  /** Compares guest memory after the two runs: each engine's own stack against the other's, the rest byte for byte. */
  private firstDifference(afterInterp: Uint8Array): string | undefined {
    const now = this.memory.bytes;
    const own = [this.interp.stack, this.jit.stack];
    const stackBytes = FRAME_BYTES * MAX_FRAMES;
    const a = afterInterp.subarray(this.interp.stack.end - stackBytes, this.interp.stack.end);
    const b = now.subarray(this.jit.stack.end - stackBytes, this.jit.stack.end);
    if (a.some((x, i) => x !== b[i])) return 'in the stack';
    const skip = (i: number) => own.some((r) => i >= r.end - stackBytes && i < r.end);
    const length = Math.min(afterInterp.length, now.length);
    for (let i = 0; i < length; i++) {
      if (afterInterp[i] !== now[i] && !skip(i) && this.memory.find(i, 1)?.name !== 'register file') {
        return `at 0x${i.toString(16)} in ${this.memory.near(i)?.name ?? 'no region'}`;
      }
    }
    return undefined;
  }

  dispose(): void {
    this.interp.dispose();
    this.jit.dispose();
  }
}

/** An executor that runs an interpreter executor and a JIT executor of one program and compares them. */
export function compareEngines(memory: GuestMemory, interp: Executor, jit: Executor): Executor {
  return new BothExecutor(memory, interp, jit);
}

/** Builds an executor. The JIT loads binaryen on first use, hence the promise. */
export async function createExecutor(insns: readonly Instruction[], engine: EngineName, options: ExecutorOptions): Promise<Executor> {
  if (engine === 'both') {
    const interp = await createExecutor(insns, 'interp', options);
    const jit = await createExecutor(insns, 'jit', options);
    return compareEngines(options.memory, interp, jit);
  }
  if (engine === 'interp') {
    const vm = new Interpreter(insns, options);
    const raw: RawExecutor = {
      get stack() { return vm.stackRegion(); },
      run: (a) => vm.run(a),
      repeatContext: (ctx, times) => vm.repeatContext(ctx, times),
      get repeatedInstructions() { return vm.repeatedInstructions; },
      dispose: () => vm.dispose(),
    };
    return new ChainingExecutor('interp', raw, options.resolveTailCall, options.stats);
  }
  const { createJitExecutor } = await import('../jit/executor.js');
  return new ChainingExecutor('jit', await createJitExecutor(insns, options), options.resolveTailCall, options.stats);
}
