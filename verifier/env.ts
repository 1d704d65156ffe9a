// What every check needs while one program is verified: the program and its control flow, the
// program type's rules, the path being walked, and the id counter. The driver (verifier.ts) owns it.
import type { Instruction } from '../isa/instruction.js';
import type { HelperSpec, HelperTable } from '../helpers/table.js';
import type { AttachPoint, ProgramType } from '../loader/program-types.js';
import type { ControlFlow } from './cfg.js';
import type { ProgramRules } from './program-rules.js';
import type { MapInfo } from './registers.js';
import type { State } from './state.js';

/** An lddw that loads a map pointer, or the address of a byte of a map's value (global data). */
export interface MapReferenceInfo {
  readonly map: MapInfo;
  readonly kind: 'map' | 'value';
  readonly offset: number;
}

/** Where an instruction came from in the C source (BTF line info). */
export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly text: string;
}

/** Knobs of one verification. */
export interface VerifierOptions {
  /** BPF_F_STRICT_ALIGNMENT: packet and other accesses must be aligned as on a strict machine. */
  readonly strictAlignment?: boolean;
  /** Instructions processed before giving up (Linux BPF_COMPLEXITY_LIMIT_INSNS, 1,000,000). */
  readonly maxInstructions?: number;
  /** Keep the full log of every instruction processed (slower; `verify --log`). */
  readonly fullLog?: boolean;
  /** For the 'raw' program type: bytes of memory r1 points at (r2 holds the count). */
  readonly rawMemorySize?: number;
}

/** The program to verify. */
export interface VerifierInput {
  readonly name: string;
  /** The program type ('raw': r1 points at rawMemorySize bytes of memory and r2 holds that size). */
  readonly type: ProgramType | 'raw';
  readonly attach?: AttachPoint;
  readonly insns: readonly Instruction[];
  /** The helpers this program type may call. */
  readonly helpers: HelperTable;
  /** lddw instructions that load maps or global data, by pc. */
  readonly maps?: ReadonlyMap<number, MapReferenceInfo>;
  /**
   * Functions by first slot, for diagnostics; `returnsInt` is what BTF func info says of the return
   * type (an integer or enum), absent without BTF.
   */
  readonly functions?: readonly { readonly name: string; readonly pc: number; readonly returnsInt?: boolean }[];
  /** Source lines by pc, for diagnostics. */
  readonly source?: (pc: number) => SourceLine | undefined;
  readonly options?: VerifierOptions;
}

/** The verification in progress. */
export interface Env {
  readonly input: VerifierInput;
  readonly cfg: ControlFlow;
  readonly rules: ProgramRules;
  readonly options: VerifierOptions;
  /** The path being walked. */
  state: State;
  /** The instruction being checked. */
  insn: Instruction;
  /** A fresh id for pointers and scalar links. */
  nextId(): number;
  /** Queues another path to walk from `pc` (the current state, copied, with `adjust` applied). */
  fork(pc: number, adjust?: (s: State) => void): State;
  /** The helper a call instruction names, if the program type has it. */
  helper(id: number): HelperSpec | undefined;
  /** A line of the verbose log (only kept with fullLog). */
  log(line: string): void;
  /** A callback returned to its helper call at `pc`: scalars that changed since the last visit are widened. */
  afterCallback(pc: number): void;
  /** Records that a function's frame uses `bytes` of stack. */
  noteStackDepth(subprog: number, bytes: number): void;
}

export type { HelperTable, ProgramType };
