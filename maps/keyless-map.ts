// What the kinds without keyed access share (queue, stack, bloom filter, ring buffer): a program's
// lookup finds nothing, keyed updates, deletes and get_next_key fail with the errno Linux's kind
// returns, and there are no batch commands.
import type { GuestMemory } from '../runtime/memory.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** The errnos (positive) a keyless kind gives keyed operations. */
export interface KeylessErrnos {
  /** BPF_MAP_UPDATE_ELEM by key. */
  readonly update: number;
  /** BPF_MAP_DELETE_ELEM and BPF_MAP_GET_NEXT_KEY. */
  readonly keyed: number;
}

/** A map kind with no keyed access. */
export abstract class KeylessMap extends BaseMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions, private readonly errnos: KeylessErrnos) {
    super(memory, spec, options, false);
  }

  lookupAddress(): number {
    return 0;
  }

  protected findValue(): number {
    return 0;
  }

  protected updateValue(): number {
    return -this.errnos.update;
  }

  deleteAt(): number {
    return -this.errnos.keyed;
  }

  nextKeyAt(): number {
    return -this.errnos.keyed;
  }

  protected override get hasBatchOps(): boolean {
    return false;
  }
}
