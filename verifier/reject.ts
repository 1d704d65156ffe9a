// How a check says no. Transfer functions throw a Rejection with Linux's wording and a kind from
// the diagnostics catalogue; the driver catches it and turns it into a VerifierError that carries
// the pc, the source line, the state and the causal path.

/** What went wrong, by family: each kind has a category, a plain-English suggestion and a docs anchor. */
export type RejectKind =
  // registers and instructions
  | 'uninit-reg' | 'bad-insn' | 'frame-pointer' | 'div-by-zero' | 'bad-shift'
  // memory
  | 'null-pointer' | 'bad-pointer-type' | 'packet-range' | 'map-range' | 'mem-range' | 'negative-index' | 'unbounded-index'
  | 'stack-range' | 'stack-fill' | 'misaligned' | 'read-only' | 'ctx-field' | 'ctx-modified' | 'var-offset' | 'pointer-arith'
  | 'pointer-compare' | 'special-field' | 'packet-write'
  // helpers and calls
  | 'helper-unknown' | 'helper-arg' | 'helper-size' | 'helper-map' | 'callback' | 'call-depth' | 'stack-size' | 'kfunc'
  // references and locks
  | 'ref-leak' | 'ref-release' | 'lock'
  // control flow and limits
  | 'cfg-range' | 'cfg-unreachable' | 'cfg-fallthrough' | 'infinite-loop' | 'complexity' | 'return-value' | 'tail-call'
  | 'func-return-type'
  // the program as a whole
  | 'program-type';

/** A rejection raised by a check; `message` is Linux's wording (without the trailing newline). */
export class Rejection extends Error {
  constructor(
    readonly kind: RejectKind,
    message: string,
    /** Registers the failing check looked at, for the causal path (defaults to the instruction's operands). */
    readonly registers?: readonly number[],
    /** The instruction at fault, when it is not the one being checked (control-flow checks). */
    readonly pc?: number,
  ) {
    super(message);
    this.name = 'Rejection';
  }
}

/** Throws a Rejection. */
export function reject(kind: RejectKind, message: string, registers?: readonly number[]): never {
  throw new Rejection(kind, message, registers);
}

/** Throws a Rejection about an instruction other than the one being checked. */
export function rejectAt(pc: number, kind: RejectKind, message: string): never {
  throw new Rejection(kind, message, undefined, pc);
}
