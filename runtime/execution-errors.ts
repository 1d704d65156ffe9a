// Typed traps of a run, shared by both engines so that their outcomes compare. Each names the pc
// of the instruction that stopped the run.
import { BpfError } from '../isa/errors.js';

/** A run stopped at an instruction. */
export class ExecutionError extends BpfError {
  constructor(code: string, readonly pc: number, detail: string, options?: { cause?: unknown }) {
    super(code, `pc ${pc}: ${detail}`, options);
  }
}

/**
 * A load, store or atomic touched memory it may not. `kind` says which rule it broke: 'bounds'
 * (outside every region it may touch: only the checked interpreter sees these, the JIT relies on
 * the verifier), 'misaligned' (an atomic) or 'frame' (through r10, outside the current frame);
 * both engines trap on the last two.
 */
export class MemoryFaultError extends ExecutionError {
  constructor(
    pc: number,
    readonly address: bigint,
    readonly size: number,
    readonly access: 'read' | 'write',
    reason: string,
    readonly kind: 'bounds' | 'misaligned' | 'frame' = 'bounds',
  ) {
    super('memory-fault', pc, `${access} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)} ${reason}`);
  }

  /** A misaligned atomic. */
  static misaligned(pc: number, address: number, size: number): MemoryFaultError {
    return new MemoryFaultError(pc, BigInt(address >>> 0), size, 'write', 'is misaligned for an atomic operation', 'misaligned');
  }

  /** An access through r10 outside the current frame. */
  static outsideFrame(pc: number, address: number, size: number, access: 'read' | 'write'): MemoryFaultError {
    return new MemoryFaultError(pc, BigInt(address >>> 0), size, access, 'is outside the current stack frame [r10-512, r10)', 'frame');
  }
}

/**
 * Whether an error is one only the checked interpreter detects (a bounds fault, a register read
 * before it is written, an exhausted instruction budget): the JIT relies on the verifier to keep
 * such programs out, so it is not expected to agree on them.
 */
export function isInterpreterCheck(err: unknown): boolean {
  return (err instanceof MemoryFaultError && err.kind === 'bounds') || err instanceof UninitializedRegisterError || err instanceof BudgetExhaustedError;
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

/** A helper called back into something that is no function the program takes the address of (Linux's verifier refuses it). */
export class CallbackTargetError extends ExecutionError {
  constructor(pc: number, readonly pointer: bigint) {
    super('callback-target', pc, `callback 0x${pointer.toString(16)} is not a function whose address the program takes with lddw`);
  }
}

/** A tail call inside a callback run by a helper (Linux's verifier refuses it). */
export class TailCallInCallbackError extends ExecutionError {
  constructor(pc: number) {
    super('tail-call-in-callback', pc, 'tail call inside a callback a helper runs');
  }
}
