// BPF_MAP_TYPE_ARRAY_OF_MAPS (12): an fd array of inner maps, indexed by u32. A program's lookup
// returns the inner map's handle (what the runtime passes as a map pointer); JS writes and reads
// inner map ids (Linux writes fds and reads ids). Inner maps must match the template.
import type { GuestMemory } from '../runtime/memory.js';
import { BPF_ANY, Errno, MapFlag, MapType } from './constants.js';
import { checkArraySpec } from './array.js';
import { checkInnerTemplate, matchesTemplate } from './inner-map.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type BpfMap, type MapOptions, type MapSpec } from './map.js';

/** An array of inner maps. */
export class ArrayOfMapsMap extends BaseMap {
  private readonly inner: (BpfMap | undefined)[];
  private readonly ids: Uint32Array;
  private readonly template: MapSpec;
  private count = 0;

  constructor(memory: GuestMemory, spec: MapSpec, private readonly options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.inner = new Array<BpfMap | undefined>(this.maxEntries).fill(undefined);
    this.ids = new Uint32Array(this.maxEntries);
    this.template = spec.innerMap!;
  }

  get size(): number {
    return this.count;
  }

  /** The inner map at an index, or undefined. */
  innerMapAt(index: number): BpfMap | undefined {
    return index >>> 0 < this.maxEntries ? this.inner[index >>> 0] : undefined;
  }

  /** Puts an inner map at an index (the runtime's path); 0, -E2BIG or -EINVAL when it does not match. */
  setInnerMap(index: number, map: BpfMap, id: number): number {
    if (!(index >>> 0 < this.maxEntries)) return -Errno.E2BIG;
    if (!matchesTemplate(this.template, map)) return -Errno.EINVAL;
    if (this.inner[index] === undefined) this.count++;
    this.inner[index] = map;
    this.ids[index] = id;
    return 0;
  }

  lookupAddress(keyAddr: number): number {
    const map = this.innerMapAt(this.indexAt(keyAddr));
    return map && this.options.mapHandle ? this.options.mapHandle(map) : 0;
  }

  protected findValue(): number {
    return 0;
  }

  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkAccess('lookup', false);
    if (flags !== 0) this.fail('lookup', Errno.EINVAL);
    const i = this.indexAt(this.keyIn(key));
    if (i >= this.maxEntries || this.inner[i] === undefined) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.ids[i]!, true);
    return out;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EINVAL; // programs cannot update a map-in-map
    if (flags !== BPF_ANY) return -Errno.EINVAL;
    if (this.indexAt(keyAddr) >= this.maxEntries) return -Errno.E2BIG;
    const id = this.memory.view.getUint32(valueAddr, true);
    const map = this.options.resolveMap?.(id);
    if (!map) return -Errno.EBADF;
    return this.setInnerMap(this.indexAt(keyAddr), map, id);
  }

  deleteAt(keyAddr: number): number {
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (this.inner[i] === undefined) return -Errno.ENOENT;
    this.inner[i] = undefined;
    this.ids[i] = 0;
    this.count--;
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
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
