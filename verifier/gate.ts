// The one gate every program passes through on its way to running. The verifier (a later issue)
// fills it in; until then it admits every program and marks it as not yet verified, and both
// engines run it. Nothing else in the runtime decides whether a program may run.
import type { Instruction } from '../isa/instruction.js';
import type { HelperTable } from '../helpers/table.js';

/** What the gate knows about a program. */
export interface GateInput {
  readonly name: string;
  /** Program type, as the loader names it ('xdp', 'sched_cls', ...). */
  readonly type: string;
  readonly insns: readonly Instruction[];
  /** The helpers this program type may call. */
  readonly helpers: HelperTable;
}

/** The gate's verdict. */
export interface Verdict {
  /** True only once a verifier has proved the program safe. */
  readonly verified: boolean;
  /** Why the program is admitted or refused, one line. */
  readonly reason: string;
  /** The verifier's log (empty until there is a verifier). */
  readonly log: readonly string[];
}

/** Admits a program. Throws a typed error when it must not load; today it admits everything, unverified. */
export function gateProgram(_input: GateInput): Verdict {
  return { verified: false, reason: 'not yet verified: this build has no verifier', log: [] };
}
