// BPF_MAP_TYPE_LRU_HASH (9): a hash map that evicts the least recently used entry when full. The table itself is in hash-table.ts.
import type { GuestMemory } from '../runtime/memory.js';
import { MapType } from './constants.js';
import { checkHashSpec, HashTableMap } from './hash-table.js';
import type { MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';

/** BPF_MAP_TYPE_LRU_HASH (9): a hash map that evicts the least recently used entry when full. */
export class LruHashMap extends HashTableMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false, true);
  }

  /** bpf_for_each_map_elem's walk (htab_map_ops and its variants have one). */
  forEachAt(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    return this.walkElements(cpu, visit);
  }
}

/** Registry entry for BPF_MAP_TYPE_LRU_HASH. */
export const lruHashKind: MapKind = {
  type: MapType.LRU_HASH,
  name: 'lru_hash',
  check: (spec) => checkHashSpec(spec, false, true),
  create: (memory, spec, options) => new LruHashMap(memory, spec, options),
};
