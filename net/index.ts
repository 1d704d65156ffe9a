// Public surface of the network side beyond packet building that runs anywhere: capture I/O, the
// traffic generator, the datapath, replay, topologies and the link layers captures come in. Files
// (topology files, captures read and written by path) are the Node entry's (index.ts).
export * from './capture/index.js';
export * from './traffic/index.js';
export * from './datapath.js';
export * from './datapath-stats.js';
export * from './replay.js';
export * from './replay-records.js';
export * from './topology.js';
export { loadTopology, type LoadedTopology, type TopologyLoadEnvironment } from './topology-load.js';
export * from './link-layer.js';
