// Public API of ebpf-wasm: the ISA, the checked interpreter and the JIT over guest memory, the
// helper table, and the conformance runner. The CLI imports only from here.
export * from './isa/index.js';
export * from './interpreter/index.js';
export * from './runtime/memory.js';
export * from './helpers/table.js';
export * from './conformance/index.js';
export * from './runtime/engine.js';
export * from './jit/index.js';
export * from './loader/index.js';
export * from './maps/index.js';
export * from './runtime/packet-frame.js';
export * from './runtime/xdp.js';
export * from './helpers/xdp.js';
export * from './runtime/runtime.js';
export * from './runtime/program.js';
export * from './verifier/index.js';
export * from './helpers/maps.js';
export * from './helpers/system.js';
export * from './helpers/printk.js';
export * from './runtime/differential.js';
export * from './net/packets.js';
export * from './runtime/kernel-btf.js';
export * from './runtime/task.js';
export * from './helpers/tracing.js';
