// The interpreter's traps are the engines' shared execution errors.
export * from '../runtime/execution-errors.js';
