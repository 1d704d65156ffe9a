// BPF_MAP_TYPE_ARRAY_OF_MAPS (12): an fd array of inner maps, indexed by u32. A program's lookup
// returns the inner map's handle (what the runtime passes as a map pointer); JS writes and reads
// inner map ids (Linux writes fds and reads ids). Inner maps must match the template.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag, MapType } from './constants.js';
import { checkArraySpec } from './array.js';
import { checkInnerTemplate, matchesTemplate } from './inner-map.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { FdArrayMap } from './fd-array.js';
import type { BpfMap, MapOptions, MapSpec } from './map.js';

/** An array of inner maps. */
export class ArrayOfMapsMap extends FdArrayMap<BpfMap> {
  private readonly template: MapSpec;

  constructor(memory: GuestMemory, spec: MapSpec, private readonly options: MapOptions = {}) {
    super(memory, spec, options);
    this.template = spec.innerMap!;
  }

  protected resolveId(id: number): BpfMap | undefined {
    return this.options.resolveMap?.(id);
  }

  /** Inner maps must match the template (bpf_map_meta_equal). */
  protected override admit(map: BpfMap): number {
    return matchesTemplate(this.template, map) ? 0 : -Errno.EINVAL;
  }

  /** The inner map at an index, or undefined. */
  innerMapAt(index: number): BpfMap | undefined {
    return this.entryAt(index);
  }

  /** Puts an inner map at an index (the runtime's path); 0, -E2BIG or -EINVAL when it does not match. */
  setInnerMap(index: number, map: BpfMap, id: number): number {
    return this.putEntry(index, map, id);
  }

  lookupAddress(keyAddr: number): number {
    const map = this.innerMapAt(this.indexAt(keyAddr));
    return map && this.options.mapHandle ? this.options.mapHandle(map) : 0;
  }
}

/** fd_array_map_alloc_check plus the inner template. */
export function checkArrayOfMapsSpec(spec: MapSpec): MapCheckFailure | undefined {
  if ((spec.flags ?? 0) & (MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG)) return invalid('BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not allowed');
  return checkArraySpec(spec, false, true) ?? checkInnerTemplate(spec);
}

/** Registry entry for BPF_MAP_TYPE_ARRAY_OF_MAPS. */
export const arrayOfMapsKind: MapKind = {
  type: MapType.ARRAY_OF_MAPS,
  name: 'array_of_maps',
  check: checkArrayOfMapsSpec,
  create: (memory, spec, options) => new ArrayOfMapsMap(memory, spec, options),
};
