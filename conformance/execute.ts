// Runs one conformance program the way the suite expects: r1 = a private copy of the memory
// (0 when there is none), r2 = its length, helper 5 available, r0 returned. With engine `both`
// any disagreement between the interpreter and the JIT is an error (see runtime/engine.ts).
import type { Instruction } from '../isa/instruction.js';
import { createExecutor, type EngineName } from '../runtime/engine.js';
import { GuestMemory } from '../runtime/memory.js';
import { CONFORMANCE_HELPERS } from './helpers.js';

export type { EngineName } from '../runtime/engine.js';
export { ENGINE_NAMES as ENGINES } from '../runtime/engine.js';

let shared: GuestMemory | undefined;

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
