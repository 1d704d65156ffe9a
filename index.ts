// Public API of ebpf-wasm.
export * from './isa/index.js';
