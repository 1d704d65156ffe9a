// Public surface of the network side beyond packet building: capture I/O and the traffic generator.
export * from './capture/index.js';
export * from './traffic/index.js';
