// BPF_MAP_TYPE_HASH_OF_MAPS (13): a hash map whose values are inner maps. The table stores each
// inner map's id as a u32 value (what JS reads back, as Linux returns ids); a program's lookup
// returns the inner map's handle instead of a value pointer. Update flags follow the hash map's.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapType } from './constants.js';
import { checkHashSpec, HashTableMap } from './hash-table.js';
import { checkInnerTemplate, matchesTemplate } from './inner-map.js';
import type { MapCheckFailure, MapKind } from './kind.js';
import type { BpfMap, MapOptions, MapSpec } from './map.js';

/** A hash map of inner maps. */
export class HashOfMapsMap extends HashTableMap {
  /** Inner maps by the id stored in the table. */
  private readonly byId = new Map<number, BpfMap>();
  private readonly template: MapSpec;

  constructor(memory: GuestMemory, spec: MapSpec, private readonly options: MapOptions = {}) {
    super(memory, spec, options, false, false);
    this.template = spec.innerMap!;
  }

  /** The inner map stored under the key at keyAddr, or undefined. */
  innerMapAtKey(keyAddr: number): BpfMap | undefined {
    const value = super.lookupAddress(keyAddr);
    return value === 0 ? undefined : this.byId.get(this.memory.view.getUint32(value, true));
  }

  override lookupAddress(keyAddr: number): number {
    const map = this.innerMapAtKey(keyAddr);
    return map && this.options.mapHandle ? this.options.mapHandle(map) : 0;
  }

  protected override updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EINVAL; // programs cannot update a map-in-map
    const id = this.memory.view.getUint32(valueAddr, true);
    const map = this.options.resolveMap?.(id);
    if (!map) return -Errno.EBADF;
    if (!matchesTemplate(this.template, map)) return -Errno.EINVAL;
    const err = super.updateValue(keyAddr, valueAddr, flags, cpu);
    if (err === 0) this.byId.set(id, map);
    return err;
  }
}

/** fd_htab_map_alloc_check plus the inner template. */
export function checkHashOfMapsSpec(spec: MapSpec): MapCheckFailure | undefined {
  return checkHashSpec(spec, false, false) ?? checkInnerTemplate(spec);
}

/** Registry entry for BPF_MAP_TYPE_HASH_OF_MAPS. */
export const hashOfMapsKind: MapKind = {
  type: MapType.HASH_OF_MAPS,
  name: 'hash_of_maps',
  check: checkHashOfMapsSpec,
  create: (memory, spec, options) => new HashOfMapsMap(memory, spec, options),
};
