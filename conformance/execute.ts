// Runs one conformance program the way the suite expects: r1 = a private copy of the memory
// (0 when there is none), r2 = its length, helper 5 available, r0 returned.
import type { Instruction } from '../isa/instruction.js';
import { Interpreter } from '../interpreter/interpreter.js';
import { GuestMemory } from '../runtime/memory.js';
import { CONFORMANCE_HELPERS } from './helpers.js';

/** Engines a conformance program can run on. */
export type EngineName = 'interp';
export const ENGINES: readonly EngineName[] = ['interp'];

let shared: GuestMemory | undefined;

/** Runs a program over a copy of `mem` and returns r0. Errors are typed BpfErrors. */
export function runProgram(insns: readonly Instruction[], mem: Uint8Array, engine: EngineName, memory: GuestMemory = (shared ??= new GuestMemory())): bigint {
  void engine;
  const block = mem.length > 0 ? memory.allocate(mem.length, 'conformance memory') : undefined;
  const vm = new Interpreter(insns, { memory, helpers: CONFORMANCE_HELPERS });
  try {
    if (block) memory.bytes.set(mem, block.start);
    const address = block?.start ?? 0;
    return vm.run({ args: [address, mem.length], packet: { start: address, end: address + mem.length } }).r0;
  } finally {
    vm.dispose();
    if (block) memory.free(block);
  }
}
