// Public surface of the network side beyond packet building: capture I/O, the traffic generator,
// the datapath, replay, topology files and the link layers captures come in.
export * from './capture/index.js';
export * from './traffic/index.js';
export * from './datapath.js';
export * from './datapath-stats.js';
export * from './replay.js';
export * from './topology.js';
export * from './link-layer.js';
export * from './topology-file.js';
export * from './replay-files.js';
