// Runs one program on two engines over identical initial memory and compares what they leave
// behind: r0, the buffer's bytes, the whole stack block, and the error if any. Each engine gets
// its own guest memory, set up the same way; the conformance runner's conventions hold
// (r1 = the buffer, r2 = its length, the conformance helpers), so a divergence written as a
// `.data` file reproduces under `ebpf-wasm conformance`.
import { CONFORMANCE_HELPERS } from '../conformance/helpers.js';
import { BpfError } from '../isa/errors.js';
import type { Instruction } from '../isa/instruction.js';
import { createExecutor, type EngineKind, type Executor, type ExecutorOptions } from '../runtime/engine.js';
import { GuestMemory } from '../runtime/memory.js';

/** Bytes of the stack block compared: eight 512-byte frames ending at `stack.end`. */
export const STACK_BLOCK_BYTES = 4096;
/**
 * Instruction budget of the interpreter's runs: generated programs execute well under 10^5
 * instructions, so a run reaching this is a generator bug, not a slow program.
 */
export const FUZZ_BUDGET = 2_000_000;

/** An engine under test: a name for reports and a way to build executors. */
export interface EngineUnderTest {
  readonly name: string;
  create(insns: readonly Instruction[], options: ExecutorOptions): Promise<Executor>;
}

/** One of the project's engines. */
export function engineNamed(kind: EngineKind): EngineUnderTest {
  return { name: kind, create: (insns, options) => createExecutor(insns, kind, options) };
}

/** How a run stopped with an error. */
export interface RunError {
  /** The error's class name (`MemoryFaultError`, ...). */
  readonly name: string;
  /** The BpfError code, when it is one. */
  readonly code?: string;
  /** The pc the error names, when it names one. */
  readonly pc?: number;
  readonly message: string;
}

/** What one engine left behind. */
export interface Outcome {
  /** r0 at exit, when the run finished. */
  readonly r0?: bigint;
  readonly error?: RunError;
  /** The buffer after the run. */
  readonly buffer: Uint8Array;
  /** The stack block after the run (empty when no executor could be built). */
  readonly stack: Uint8Array;
}

/** The parts two outcomes can differ in. */
export type DivergencePart = 'error' | 'r0' | 'buffer' | 'stack';

/** How two outcomes differ. */
export interface Divergence {
  readonly parts: readonly DivergencePart[];
  /** One line per differing part. */
  readonly details: readonly string[];
  /** First differing byte of the buffer, when it differs. */
  readonly bufferOffset?: number;
  /** First differing byte of the stack block, as a distance below `stack.end` (1..4096). */
  readonly stackDepth?: number;
}

function describeError(err: unknown): RunError {
  if (err instanceof Error) {
    const pc = (err as { pc?: unknown }).pc;
    return {
      name: err.constructor.name,
      ...(err instanceof BpfError ? { code: err.code } : {}),
      ...(typeof pc === 'number' ? { pc } : {}),
      message: err.message,
    };
  }
  return { name: typeof err, message: String(err) };
}

/** An engine with its own guest memory, reused across runs. */
export class Lane {
  private readonly memory = new GuestMemory();

  constructor(readonly engine: EngineUnderTest, private readonly budget = FUZZ_BUDGET) {}

  /** Runs a program over a fresh copy of `input` with a fresh stack. */
  async run(insns: readonly Instruction[], input: Uint8Array): Promise<Outcome> {
    const memory = this.memory;
    const buffer = memory.allocate(input.length, 'fuzz buffer');
    memory.bytes.set(input, buffer.start);
    let executor: Executor | undefined;
    let r0: bigint | undefined;
    let error: RunError | undefined;
    try {
      executor = await this.engine.create(insns, { memory, helpers: CONFORMANCE_HELPERS, budget: this.budget });
      r0 = executor.run({ args: [buffer.start, input.length], packet: { start: buffer.start, end: buffer.end } }).r0;
    } catch (err) {
      error = describeError(err);
    }
    try {
      memory.refresh();
      const end = executor?.stack.end;
      return {
        ...(r0 !== undefined ? { r0 } : {}),
        ...(error ? { error } : {}),
        buffer: memory.bytes.slice(buffer.start, buffer.end),
        stack: end === undefined ? new Uint8Array(0) : memory.bytes.slice(end - STACK_BLOCK_BYTES, end),
      };
    } finally {
      executor?.dispose();
      memory.free(buffer);
    }
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return undefined;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;
const errorText = (e: RunError) => `${e.name}${e.pc !== undefined ? ` at pc ${e.pc}` : ''}`;

/**
 * How two outcomes differ, or undefined when they agree. Two errors agree when they are of the
 * same class at the same pc; then memory is not compared.
 */
export function compareOutcomes(a: Outcome, b: Outcome, names: readonly [string, string] = ['a', 'b']): Divergence | undefined {
  const [na, nb] = names;
  if (a.error || b.error) {
    if (a.error && b.error && a.error.name === b.error.name && a.error.pc === b.error.pc) return undefined;
    const show = (o: Outcome) => (o.error ? `${errorText(o.error)} (${o.error.message})` : `r0 = ${hex(o.r0!)}`);
    return { parts: ['error'], details: [`${na}: ${show(a)}; ${nb}: ${show(b)}`] };
  }
  const parts: DivergencePart[] = [];
  const details: string[] = [];
  if (a.r0 !== b.r0) {
    parts.push('r0');
    details.push(`r0: ${na} ${hex(a.r0!)}, ${nb} ${hex(b.r0!)}`);
  }
  const bufferOffset = firstDifference(a.buffer, b.buffer);
  if (bufferOffset !== undefined) {
    parts.push('buffer');
    details.push(`buffer byte ${bufferOffset}: ${na} ${a.buffer[bufferOffset]}, ${nb} ${b.buffer[bufferOffset]}`);
  }
  const stackIndex = firstDifference(a.stack, b.stack);
  const stackDepth = stackIndex === undefined ? undefined : STACK_BLOCK_BYTES - stackIndex;
  if (stackIndex !== undefined) {
    parts.push('stack');
    details.push(`stack byte at stack.end-${stackDepth}: ${na} ${a.stack[stackIndex]}, ${nb} ${b.stack[stackIndex]}`);
  }
  if (parts.length === 0) return undefined;
  return {
    parts,
    details,
    ...(bufferOffset !== undefined ? { bufferOffset } : {}),
    ...(stackDepth !== undefined ? { stackDepth } : {}),
  };
}

/** The outcomes of one program on both engines, and how they differ. */
export interface Comparison {
  readonly outcomes: readonly [Outcome, Outcome];
  readonly divergence: Divergence | undefined;
}

/** Two engines side by side, each over its own guest memory. */
export class Differential {
  private readonly lanes: readonly [Lane, Lane];

  constructor(readonly engines: readonly [EngineUnderTest, EngineUnderTest]) {
    this.lanes = [new Lane(engines[0]), new Lane(engines[1])];
  }

  /** Runs a program on both engines and compares the outcomes. */
  async compare(insns: readonly Instruction[], input: Uint8Array): Promise<Comparison> {
    const a = await this.lanes[0].run(insns, input);
    const b = await this.lanes[1].run(insns, input);
    return { outcomes: [a, b], divergence: compareOutcomes(a, b, [this.engines[0].name, this.engines[1].name]) };
  }
}
