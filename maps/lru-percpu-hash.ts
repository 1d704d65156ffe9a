// BPF_MAP_TYPE_LRU_PERCPU_HASH (10): an LRU hash map with one value per CPU. The table itself is in hash-table.ts.
import type { GuestMemory } from '../runtime/memory.js';
import { MapType } from './constants.js';
import { checkHashSpec, HashTableMap } from './hash-table.js';
import type { MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';

/** BPF_MAP_TYPE_LRU_PERCPU_HASH (10): an LRU hash map with one value per CPU. */
export class LruPercpuHashMap extends HashTableMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, true, true);
  }

  /** bpf_for_each_map_elem's walk (htab_map_ops and its variants have one). */
  forEachAt(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    return this.walkElements(cpu, visit);
  }
}

/** Registry entry for BPF_MAP_TYPE_LRU_PERCPU_HASH. */
export const lruPercpuHashKind: MapKind = {
  type: MapType.LRU_PERCPU_HASH,
  name: 'lru_percpu_hash',
  check: (spec) => checkHashSpec(spec, true, true),
  create: (memory, spec, options) => new LruPercpuHashMap(memory, spec, options),
};
