// Public surface of the maps: the registry, creation, the map interface, constants and errors.
export * from './constants.js';
export * from './errors.js';
export type { MapCheckFailure, MapKind } from './kind.js';
export { ALL_CPUS, BaseMap, type BpfMap, type MapBatch, type MapOptions, type MapSpec } from './map.js';
export { createMap, MAP_KINDS } from './registry.js';
export { ArrayMap } from './array.js';
export { PercpuArrayMap } from './percpu-array.js';
export { ProgArrayMap } from './prog-array.js';
export { HashMap } from './hash.js';
export { PercpuHashMap } from './percpu-hash.js';
export { LruHashMap } from './lru-hash.js';
export { LruPercpuHashMap } from './lru-percpu-hash.js';
export { LpmTrieMap, lpmKey } from './lpm-trie.js';
export { QueueStackMap } from './queue-stack.js';
export { QueueMap } from './queue.js';
export { StackMap } from './stack.js';
export { BloomFilterMap } from './bloom-filter.js';
