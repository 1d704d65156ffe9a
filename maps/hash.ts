// BPF_MAP_TYPE_HASH (1): keys to values. The table itself is in hash-table.ts.
import type { GuestMemory } from '../runtime/memory.js';
import { MapType } from './constants.js';
import { checkHashSpec, HashTableMap } from './hash-table.js';
import type { MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';

/** BPF_MAP_TYPE_HASH (1): keys to values. */
export class HashMap extends HashTableMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false, false);
  }

  /** bpf_for_each_map_elem's walk (htab_map_ops and its variants have one). */
  forEachAt(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    return this.walkElements(cpu, visit);
  }
}

/** Registry entry for BPF_MAP_TYPE_HASH. */
export const hashKind: MapKind = {
  type: MapType.HASH,
  name: 'hash',
  check: (spec) => checkHashSpec(spec, false, false),
  create: (memory, spec, options) => new HashMap(memory, spec, options),
};
