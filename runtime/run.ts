// What a run of a program takes and gives, on either engine.

/** Default instruction budget of one run. */
export const DEFAULT_BUDGET = 100_000_000;

/** Inputs of one run. */
export interface RunArgs {
  /** r1..r5 at entry; registers not given start uninitialized. */
  readonly args?: readonly (number | bigint)[];
  /** Packet bounds for the legacy ABS/IND loads, as guest addresses [start, end), and the headers their negative offsets reach. */
  readonly packet?: PacketBounds;
  /** Tail calls already taken in the chain this run continues (0 for a fresh run). */
  readonly tailCalls?: number;
}

/**
 * What the legacy ABS/IND loads read (Linux: the skb in r6): non-negative offsets count from `start`
 * up to `end`; SKF_NET_OFF and SKF_LL_OFF offsets from the network and MAC headers, also up to
 * `end`. A header that is 0 (absent) makes those loads fail, as an skb without a MAC header does.
 */
export interface PacketBounds {
  readonly start: number;
  readonly end: number;
  readonly macHeader?: number;
  readonly networkHeader?: number;
}

/** Outcome of one run. */
export interface RunResult {
  /** r0 at exit, unsigned. */
  readonly r0: bigint;
  /** r0's low 32 bits, unsigned: what BPF_PROG_TEST_RUN reports as retval, and what a hook acts on. */
  readonly retval: number;
  /** Instructions executed (the interpreter counts them; the JIT does not). */
  readonly instructions?: number;
  /** Set when the program ended in a tail call: where the chain continues. */
  readonly tailCall?: { readonly target: unknown; readonly ctx: bigint; readonly packet?: PacketBounds };
}

/**
 * A RunResult that keeps r0 as its two 32-bit halves and makes the bigint only when asked: the
 * per-packet paths read `retval`, and a BigInt per run cost more than the run of a small program.
 */
export class RunOutcome<Counted extends number | undefined = number | undefined> implements RunResult {
  constructor(
    private readonly lo: number,
    private readonly hi: number,
    readonly instructions: Counted,
    readonly tailCall: RunResult['tailCall'],
  ) {}

  get retval(): number {
    return this.lo >>> 0;
  }

  get r0(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }
}

/** What a refused or failed test run blames: its packet, its context, its flags, or the program's own doing. */
export type TestRunInput = 'data_in' | 'ctx_in' | 'flags' | 'program';

/** Called now and then while a test run repeats: runs done, and runs asked for. */
export type RepeatProgress = (done: number, total: number) => void;

/** The runs between two progress reports (a power of two, so the check is a mask). */
const PROGRESS_EVERY = 1 << 16;

/**
 * A test run's repeats: `repeat` runs (0 counts as 1), as Linux does, and the last result is
 * returned with the mean duration of a run in ns (u32, as the kernel reports it). `run(times)` does
 * `times` runs and returns the last one's result; it is asked for at most PROGRESS_EVERY at a time.
 * The first tenth of the runs are a warm-up and not timed: V8 compiles the JIT's WebAssembly in
 * tiers and JavaScript on first use, so early runs cost several times the steady state, which is
 * what the kernel's figure (a JIT compiled at load) measures. They still run: maps see every run.
 */
export function repeatRuns(repeat: number, run: (times: number) => number, onProgress?: RepeatProgress): { retval: number; durationNs: number } {
  const total = Math.max(1, repeat);
  const warmUp = Math.floor(total / 10);
  let retval = 0;
  let done = 0;
  const until = (end: number) => {
    while (done < end) {
      // Up to the next progress report, or the end.
      const times = Math.min(end, (Math.floor(done / PROGRESS_EVERY) + 1) * PROGRESS_EVERY) - done;
      retval = run(times);
      done += times;
      if (onProgress !== undefined && done % PROGRESS_EVERY === 0) onProgress(done, total);
    }
  };
  until(warmUp);
  const start = performance.now();
  until(total);
  const durationNs = Math.round(((performance.now() - start) * 1e6) / (total - warmUp)) >>> 0;
  return { retval, durationNs };
}

/** `times` runs of `run`, the last one's result returned: repeatRuns' `run` for runs that go one at a time. */
export function oneByOne(run: () => number): (times: number) => number {
  return (times) => {
    let retval = 0;
    for (let i = 0; i < times; i++) retval = run();
    return retval;
  };
}
