// Public API of ebpf-wasm: the Runtime (objects, programs, maps, test runs), the object loader,
// the ISA, the checked interpreter and the JIT over guest memory, the helpers, the contexts, and
// the conformance runner. The CLI imports only from here.
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
export * from './runtime/sk-buff.js';
export * from './runtime/skb.js';
export * from './helpers/skb.js';
export * from './helpers/checksum.js';
export * from './runtime/typed-map.js';
export * from './helpers/callbacks.js';
export * from './runtime/netdev.js';
export * from './runtime/network.js';
export * from './runtime/metadata-store.js';
export * from './runtime/control.js';
export * from './net/index.js';
