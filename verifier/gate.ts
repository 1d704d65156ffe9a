// The one gate every program passes through on its way to running: the verifier proves it safe, or
// the program does not load. Skipping the proof is an explicit, unsafe choice the runtime allows
// only with the checked interpreter (which traps what the verifier would have refused).
import type { VerifierError } from './diagnostics.js';
import type { VerifierInput } from './env.js';
import { verify } from './verifier.js';
import { width, type Instruction } from '../isa/instruction.js';
import { Op, specOf } from '../isa/opcodes.js';

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
  /** First slots of the instructions no path reached (VerificationResult.deadCode), when verified. */
  readonly deadCode?: readonly number[];
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

/**
 * The program the engines run: each instruction no path reaches becomes `ja -1` (both slots of a
 * dead lddw), as Linux's sanitize_dead_code does, so that code the verifier never judged (a write
 * to r10 behind a branch never taken) neither runs nor fails the engines' static checks.
 */
export function sanitizeDeadCode(insns: readonly Instruction[], deadCode: readonly number[] | undefined): readonly Instruction[] {
  if (!deadCode?.length) return insns;
  const dead = new Set(deadCode);
  const trap = (pc: number): Instruction => ({ pc, op: Op.Ja, opcode: specOf(Op.Ja).opcode, dst: 0, src: 0, off: -1, imm: 0 });
  return insns.flatMap((insn) => {
    if (!dead.has(insn.pc)) return [insn];
    return width(insn) === 2 ? [trap(insn.pc), trap(insn.pc + 1)] : [trap(insn.pc)];
  });
}

/** Verifies a program. A rejection is a verdict with `verified: false` and the error; it never throws for a bad program. */
export function gateProgram(input: GateInput, options: GateOptions = {}): Verdict {
  if (options.skipVerification) {
    return { verified: false, reason: 'not verified: verification was skipped on request (unsafe; checked interpreter only)', log: [], insnsProcessed: 0, states: 0, ms: 0 };
  }
  const result = verify(input);
  const stats = { insnsProcessed: result.insnsProcessed, states: result.states, ms: result.ms };
  if (result.accepted) {
    return {
      verified: true, reason: `verified: ${result.insnsProcessed} instructions processed, ${result.states} states, ${result.ms.toFixed(1)} ms`, log: result.log, ...stats,
      ...(result.deadCode ? { deadCode: result.deadCode } : {}),
    };
  }
  const error = result.error!;
  return { verified: false, reason: `rejected by the verifier: ${error.reason}`, log: result.log, error, ...stats };
}
