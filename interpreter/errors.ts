// Typed traps of the checked interpreter. Each names the pc of the instruction that stopped the run.
import { BpfError } from '../isa/errors.js';

/** A run stopped at an instruction. */
export class ExecutionError extends BpfError {
  constructor(code: string, readonly pc: number, detail: string, options?: { cause?: unknown }) {
    super(code, `pc ${pc}: ${detail}`, options);
  }
}

/** A load, store or atomic touched bytes outside every region it may touch. */
export class MemoryFaultError extends ExecutionError {
  constructor(
    pc: number,
    readonly address: bigint,
    readonly size: number,
    readonly access: 'read' | 'write',
    reason: string,
  ) {
    super('memory-fault', pc, `${access} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)} ${reason}`);
  }
}

/** The instruction budget ran out: the program ran too long (or forever). */
export class BudgetExhaustedError extends ExecutionError {
  constructor(pc: number, readonly budget: number) {
    super('budget-exhausted', pc, `instruction budget of ${budget} exhausted`);
  }
}

/** A register was read before anything was written to it (Linux's verifier says "R<n> !read_ok"). */
export class UninitializedRegisterError extends ExecutionError {
  constructor(pc: number, readonly register: number) {
    super('uninitialized-register', pc, `r${register} is read before it is written`);
  }
}

/** bpf-to-bpf calls nested deeper than the stack allows. */
export class CallDepthError extends ExecutionError {
  constructor(pc: number, readonly limit: number) {
    super('call-depth', pc, `call nests deeper than ${limit} frames`);
  }
}

/** Control left the program without an exit. */
export class FellOffEndError extends ExecutionError {
  constructor(pc: number) {
    super('fell-off-end', pc, 'execution ran past the last instruction');
  }
}

/** An instruction the engine cannot run as it stands (an unresolved map reference, a call by BTF id, a bad callx target). */
export class UnsupportedInstructionError extends ExecutionError {
  constructor(pc: number, detail: string) {
    super('unsupported-instruction', pc, detail);
  }
}

/** A helper threw; the helper's error is the cause. */
export class HelperFailedError extends ExecutionError {
  constructor(pc: number, readonly helperName: string, cause: unknown) {
    super('helper-failed', pc, `helper ${helperName} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
