// The JIT's public surface: ahead-of-time compilation to a standalone module, the in-memory module
// cache and the seam a store of compiled modules plugs into (the Node entry's disk cache), and the
// host contract (jit/abi.ts) a standalone module imports. binaryen loads on first use.
import type { Instruction } from '../isa/instruction.js';
import { validate } from '../isa/validate.js';
import { binaryenLoadMs, loadBinaryen } from './binaryen.js';
import { compileModule, type CompileOptions, type CompiledModule } from './module.js';

export { TrapCode, IMPORT_MODULE, TRAP_IMPORT, CALLX_HELPER_IMPORT, RUN_EXPORT, CALLBACK_EXPORT, helperImportName } from './abi.js';
export { WasmTrapError, clearJitCache, setJitCacheLimit } from './executor.js';
export { setModuleStore, type ModuleStore, type StoredModule } from './module-store.js';
export { WasmValidationError } from './binaryen.js';
export type { CompileOptions, CompiledModule } from './module.js';
export { binaryenLoadMs };

/** Compiles a program to a standalone WebAssembly module (binary, and text on request). */
export async function compileToWasm(insns: readonly Instruction[], options: CompileOptions = {}): Promise<CompiledModule> {
  validate(insns);
  return compileModule(await loadBinaryen(), insns, options);
}
