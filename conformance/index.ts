// The bpf_conformance `.data` runner and plugin protocol.
export * from './data-file.js';
export * from './runner.js';
export * from './execute.js';
export { CONFORMANCE_HELPERS } from './helpers.js';
