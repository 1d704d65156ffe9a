// The one gate every program passes through on its way to running: the verifier proves it safe, or
// the program does not load. Skipping the proof is an explicit, unsafe choice the runtime allows
// only with the checked interpreter (which traps what the verifier would have refused).
import type { VerifierError } from './diagnostics.js';
import type { VerifierInput } from './env.js';
import { verify } from './verifier.js';

/** What the gate knows about a program: what the verifier needs. */
export type GateInput = VerifierInput;

/** The gate's verdict. */
export interface Verdict {
  /** True only once the verifier has proved the program safe. */
  readonly verified: boolean;
  /** Why the program is admitted or refused, one line. */
  readonly reason: string;
  /** The verifier's log: the rejection report, or every instruction with `fullLog`. */
  readonly log: readonly string[];
  /** The rejection, when the verifier refused the program. */
  readonly error?: VerifierError;
  /** Instructions the verifier processed, states it stored, and how long it took. */
  readonly insnsProcessed: number;
  readonly states: number;
  readonly ms: number;
}

/** How the gate runs. */
export interface GateOptions {
  /** Admit the program without verifying it (unsafe: the checked interpreter only). */
  readonly skipVerification?: boolean;
}

/** Verifies a program. A rejection is a verdict with `verified: false` and the error; it never throws for a bad program. */
export function gateProgram(input: GateInput, options: GateOptions = {}): Verdict {
  if (options.skipVerification) {
    return { verified: false, reason: 'not verified: verification was skipped on request (unsafe; checked interpreter only)', log: [], insnsProcessed: 0, states: 0, ms: 0 };
  }
  const result = verify(input);
  const stats = { insnsProcessed: result.insnsProcessed, states: result.states, ms: result.ms };
  if (result.accepted) {
    return { verified: true, reason: `verified: ${result.insnsProcessed} instructions processed, ${result.states} states, ${result.ms.toFixed(1)} ms`, log: result.log, ...stats };
  }
  const error = result.error!;
  return { verified: false, reason: `rejected by the verifier: ${error.message}`, log: result.log, error, ...stats };
}
