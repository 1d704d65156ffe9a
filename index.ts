// Public API of ebpf-wasm for Node: everything browser.ts has (the Runtime, the loader, the ISA, the
// interpreter and the JIT, maps and helpers, contexts, the network and replay, the conformance
// runner), and the Node edges: objects loaded by path, the on-disk compile cache, capture and
// topology files, the conformance suite's folders. The CLI imports only from here.
import { readFileSync } from 'node:fs';
import { setHostFileReader } from './runtime/host.js';

export * from './browser.js';
export { setJitDiskCache, jitDiskCacheDir } from './jit/disk-cache.js';
export * from './conformance/files.js';
export { AtomicFileSink, CaptureFileCursor, createCaptureFileWriter, readCaptureFile, type CaptureFileReadOptions } from './net/capture/file.js';
export { loadTopologyFile } from './net/topology-file.js';
export * from './net/replay-files.js';

// Paths given to Runtime.loadObject (and topology files) are read from the file system.
setHostFileReader((path) => readFileSync(path));
