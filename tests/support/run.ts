// Small helpers for tests that run assembler programs on the interpreter.
import { assemble } from '../../isa/assembler.js';
import { Interpreter, type InterpreterOptions, type RunResult } from '../../interpreter/interpreter.js';
import { CONFORMANCE_HELPERS } from '../../conformance/helpers.js';
import { GuestMemory } from '../../runtime/memory.js';

/** Runs `asm` with r1 = a copy of `mem` (0 when empty) and r2 = its length. */
export function runAsm(asm: string, mem: Uint8Array | number[] = [], options: Partial<InterpreterOptions> = {}): RunResult & { memory: Uint8Array } {
  const memory = options.memory ?? new GuestMemory();
  const bytes = Uint8Array.from(mem);
  const block = bytes.length ? memory.allocate(bytes.length, 'test memory') : undefined;
  if (block) memory.bytes.set(bytes, block.start);
  const vm = new Interpreter(assemble(asm), { helpers: CONFORMANCE_HELPERS, ...options, memory });
  const address = block?.start ?? 0;
  const result = vm.run({ args: [address, bytes.length], packet: { start: address, end: address + bytes.length } });
  return Object.assign(result, { memory: block ? memory.bytes.slice(block.start, block.end) : new Uint8Array(0) });
}
