// BPF_MAP_TYPE_PERCPU_ARRAY (6): an array with one value per index and simulated CPU. A program
// sees its CPU's copy; JS sees every CPU's, each rounded up to 8 bytes, as bpf(2) returns them.
import type { GuestMemory } from '../runtime/memory.js';
import { ArrayMap, checkArraySpec } from './array.js';
import { MapType } from './constants.js';
import type { MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';

/** A per-CPU array: index i, CPU c lives at elementAddress(i, c). */
export class PercpuArrayMap extends ArrayMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, true);
  }
}

/** Registry entry for BPF_MAP_TYPE_PERCPU_ARRAY. */
export const percpuArrayKind: MapKind = {
  type: MapType.PERCPU_ARRAY,
  name: 'percpu_array',
  check: (spec) => checkArraySpec(spec, true),
  create: (memory, spec, options) => new PercpuArrayMap(memory, spec, options),
};
