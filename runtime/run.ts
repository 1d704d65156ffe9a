// What a run of a program takes and gives, on either engine.

/** Default instruction budget of one run. */
export const DEFAULT_BUDGET = 100_000_000;

/** Inputs of one run. */
export interface RunArgs {
  /** r1..r5 at entry; registers not given start uninitialized. */
  readonly args?: readonly (number | bigint)[];
  /** Packet bounds for the legacy ABS/IND loads, as guest addresses [start, end). */
  readonly packet?: { readonly start: number; readonly end: number };
  /** Tail calls already taken in the chain this run continues (0 for a fresh run). */
  readonly tailCalls?: number;
}

/** Outcome of one run. */
export interface RunResult {
  /** r0 at exit, unsigned. */
  readonly r0: bigint;
  /** Instructions executed (the interpreter counts them; the JIT does not). */
  readonly instructions?: number;
  /** Set when the program ended in a tail call: where the chain continues. */
  readonly tailCall?: { readonly target: unknown; readonly ctx: bigint };
}
