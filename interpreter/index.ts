// The checked interpreter: the executable specification of BPF over the shared guest memory.
export * from './errors.js';
export { Interpreter, DEFAULT_BUDGET } from './interpreter.js';
export type { InterpreterOptions, RunArgs, RunResult, TraceEvent } from './interpreter.js';
export { prepare, registerUse } from './prepare.js';
export type { PreparedProgram } from './prepare.js';
