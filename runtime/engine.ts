// The engines a program can run on, behind one interface: the checked interpreter and the JIT
// (BPF lowered to WebAssembly). Both run over the same guest memory and helper table.
import type { Instruction } from '../isa/instruction.js';
import type { HelperTable } from '../helpers/table.js';
import { Interpreter, type RunArgs, type RunResult, type TraceEvent } from '../interpreter/interpreter.js';
import type { GuestMemory, Region } from './memory.js';
import { BpfError } from '../isa/errors.js';

/** A single engine. */
export type EngineKind = 'interp' | 'jit';
/** An engine choice as users give it: `both` runs the two and fails loudly if they disagree. */
export type EngineName = EngineKind | 'both';
export const ENGINE_NAMES: readonly EngineName[] = ['interp', 'jit', 'both'];

/** A program ready to run on one engine. */
export interface Executor {
  readonly engine: EngineKind;
  /** The stack this executor's runs use (8 frames of 512 bytes; the main frame is the top 512). */
  readonly stack: Region;
  run(args?: RunArgs): RunResult;
  /** Returns the executor's guest memory (stack, register file) to the allocator. */
  dispose(): void;
}

/** How to build an executor. */
export interface ExecutorOptions {
  readonly memory: GuestMemory;
  readonly helpers: HelperTable;
  /** Instruction budget of one run (the interpreter; the JIT relies on the verifier instead). */
  readonly budget?: number;
  readonly trace?: (event: TraceEvent) => void;
}

/** The engines disagreed on a run. */
export class EngineMismatchError extends BpfError {
  constructor(detail: string) {
    super('engine-mismatch', `interpreter and JIT disagree: ${detail}`);
  }
}

class InterpreterExecutor implements Executor {
  readonly engine = 'interp' as const;
  private readonly vm: Interpreter;

  constructor(insns: readonly Instruction[], options: ExecutorOptions) {
    this.vm = new Interpreter(insns, options);
  }

  get stack(): Region {
    return this.vm.stackRegion();
  }

  run(args?: RunArgs): RunResult {
    return this.vm.run(args);
  }

  dispose(): void {
    this.vm.dispose();
  }
}

/** Builds an executor for one engine. The JIT loads binaryen on first use, hence the promise. */
export async function createExecutor(insns: readonly Instruction[], engine: EngineKind, options: ExecutorOptions): Promise<Executor> {
  if (engine === 'interp') return new InterpreterExecutor(insns, options);
  const { createJitExecutor } = await import('../jit/executor.js');
  return createJitExecutor(insns, options);
}
