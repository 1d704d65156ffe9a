// Runs one conformance program the way the suite expects: r1 = a private copy of the memory
// (0 when there is none), r2 = its length, helper 5 available, r0 returned. With engine `both`
// any disagreement between the interpreter and the JIT is an error (see runtime/engine.ts).
import type { Instruction } from '../isa/instruction.js';
import { createExecutor, type EngineName } from '../runtime/engine.js';
import { GuestMemory } from '../runtime/memory.js';
import { CONFORMANCE_HELPERS } from './helpers.js';
import { verify } from '../verifier/verifier.js';

export type { EngineName } from '../runtime/engine.js';
export { ENGINE_NAMES as ENGINES } from '../runtime/engine.js';

let shared: GuestMemory | undefined;

/**
 * Verifies a bare program as the convention runs it (r1 points at `memorySize` bytes, r2 holds the
 * size): undefined when the verifier accepts it, else why it refuses, in one line.
 */
export function bareProgramRefusal(name: string, insns: readonly Instruction[], memorySize: number): string | undefined {
  const result = verify({ name, type: 'raw', insns, helpers: CONFORMANCE_HELPERS, options: { rawMemorySize: memorySize } });
  return result.accepted ? undefined : result.error!.reason;
}

/** Runs a program over a copy of `mem` and returns r0. Errors are typed BpfErrors. */
export async function runProgram(insns: readonly Instruction[], mem: Uint8Array, engine: EngineName, memory: GuestMemory = (shared ??= new GuestMemory())): Promise<bigint> {
  const block = mem.length > 0 ? memory.allocate(mem.length, 'conformance memory') : undefined;
  try {
    const executor = await createExecutor(insns, engine, { memory, helpers: CONFORMANCE_HELPERS });
    try {
      if (block) memory.bytes.set(mem, block.start);
      const address = block?.start ?? 0;
      return executor.run({ args: [address, mem.length], packet: { start: address, end: address + mem.length } }).r0;
    } finally {
      executor.dispose();
    }
  } finally {
    if (block) memory.free(block);
  }
}
