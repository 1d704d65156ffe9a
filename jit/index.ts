// The JIT's public surface: ahead-of-time compilation to a standalone module, the module caches
// (in memory, and on disk when asked for),
// and the host contract (jit/abi.ts) a standalone module imports. binaryen loads on first use.
import type { Instruction } from '../isa/instruction.js';
import { validate } from '../isa/validate.js';
import { binaryenLoadMs, loadBinaryen } from './binaryen.js';
import { compileModule, type CompileOptions, type CompiledModule } from './module.js';

export { TrapCode, IMPORT_MODULE, TRAP_IMPORT, CALLX_HELPER_IMPORT, RUN_EXPORT, CALLBACK_EXPORT, helperImportName } from './abi.js';
export { WasmTrapError, clearJitCache, setJitCacheLimit } from './executor.js';
export { setJitDiskCache, jitDiskCacheDir } from './disk-cache.js';
export { WasmValidationError } from './binaryen.js';
export type { CompileOptions, CompiledModule } from './module.js';
export { binaryenLoadMs };

/** Compiles a program to a standalone WebAssembly module (binary, and text on request). */
export async function compileToWasm(insns: readonly Instruction[], options: CompileOptions = {}): Promise<CompiledModule> {
  validate(insns);
  return compileModule(await loadBinaryen(), insns, options);
}
