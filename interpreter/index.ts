// The checked interpreter: the executable specification of BPF over the shared guest memory.
export * from './errors.js';
export { Interpreter, FRAME_BYTES, MAX_FRAMES, DEFAULT_BUDGET, FUNCTION_POINTER_TAG } from './interpreter.js';
export type { InterpreterOptions, RunArgs, RunResult, TraceEvent } from './interpreter.js';
export { prepare, registerUse } from './prepare.js';
export type { PreparedProgram } from './prepare.js';
