// Runs one conformance program the way the suite expects: r1 = a private copy of the memory
// (0 when there is none), r2 = its length, helper 5 available, r0 returned. With engine `both`
// the program runs on the interpreter and the JIT, and any disagreement is an error, except that
// the JIT is not run on a program the interpreter stops with one of its own checks (a bounds
// fault, a register read before it is written, the instruction budget), which the verifier is
// there to refuse before JIT compilation.
import type { Instruction } from '../isa/instruction.js';
import { BpfError } from '../isa/errors.js';
import { isInterpreterCheck } from '../interpreter/errors.js';
import { createExecutor, EngineMismatchError, type EngineKind, type EngineName } from '../runtime/engine.js';
import { GuestMemory } from '../runtime/memory.js';
import { CONFORMANCE_HELPERS } from './helpers.js';

export type { EngineName } from '../runtime/engine.js';
export { ENGINE_NAMES as ENGINES } from '../runtime/engine.js';

let shared: GuestMemory | undefined;

/** What one engine made of a program: r0, or the error it stopped with, and the memory after. */
interface Outcome {
  readonly r0?: bigint;
  readonly error?: BpfError;
  readonly memory: Uint8Array;
}

async function runOn(engine: EngineKind, insns: readonly Instruction[], mem: Uint8Array, memory: GuestMemory): Promise<Outcome> {
  const block = mem.length > 0 ? memory.allocate(mem.length, 'conformance memory') : undefined;
  try {
    const executor = await createExecutor(insns, engine, { memory, helpers: CONFORMANCE_HELPERS });
    try {
      if (block) memory.bytes.set(mem, block.start);
      const address = block?.start ?? 0;
      const { r0 } = executor.run({ args: [address, mem.length], packet: { start: address, end: address + mem.length } });
      return { r0, memory: block ? memory.bytes.slice(block.start, block.end) : new Uint8Array(0) };
    } catch (err) {
      if (!(err instanceof BpfError)) throw err;
      return { error: err, memory: block ? memory.bytes.slice(block.start, block.end) : new Uint8Array(0) };
    } finally {
      executor.dispose();
    }
  } finally {
    if (block) memory.free(block);
  }
}

function describe(o: Outcome): string {
  return o.error ? `${o.error.name} (${o.error.message})` : `r0 0x${o.r0!.toString(16)}`;
}

/** Runs a program over a copy of `mem` and returns r0. Errors are typed BpfErrors. */
export async function runProgram(insns: readonly Instruction[], mem: Uint8Array, engine: EngineName, memory: GuestMemory = (shared ??= new GuestMemory())): Promise<bigint> {
  if (engine !== 'both') {
    const o = await runOn(engine, insns, mem, memory);
    if (o.error) throw o.error;
    return o.r0!;
  }
  const interp = await runOn('interp', insns, mem, memory);
  // A trap only the checked interpreter promises to catch: the JIT is not run on such a program.
  if (interp.error && isInterpreterCheck(interp.error)) throw interp.error;
  const jit = await runOn('jit', insns, mem, memory);
  const samePc = (interp.error as { pc?: number } | undefined)?.pc === (jit.error as { pc?: number } | undefined)?.pc;
  if (interp.error || jit.error) {
    if (interp.error?.constructor !== jit.error?.constructor || !samePc) throw new EngineMismatchError(`interpreter: ${describe(interp)}; JIT: ${describe(jit)}`);
    throw interp.error;
  }
  if (interp.r0 !== jit.r0) throw new EngineMismatchError(`interpreter: ${describe(interp)}; JIT: ${describe(jit)}`);
  if (Buffer.compare(interp.memory, jit.memory) !== 0) throw new EngineMismatchError('the memory after the run differs');
  return interp.r0!;
}
