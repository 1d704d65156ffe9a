// What the map kinds that hold nothing in this runtime share (stack traces, cgroup arrays, XSKMAPs,
// sockmaps and sockhashes, reuseport socket arrays, task and inode storage): they are created with
// Linux's checks so that objects defining them load, and behave as Linux's empty ones do. No entry
// exists, so a program's lookup finds none; Linux has no batch operations for these kinds.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno } from './constants.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** A map kind with no entries, ever. Subclasses give each operation Linux's errno for the kind. */
export abstract class EmptyMap extends BaseMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}, perCpu = false) {
    super(memory, spec, options, perCpu);
  }

  get size(): number {
    return 0;
  }

  /** A program's lookup: NULL (or refused by the verifier, for the kinds programs cannot look up). */
  lookupAddress(): number {
    return 0;
  }

  protected findValue(): number {
    return 0;
  }

  /** A user-space lookup, after the common checks: the kind's errno for an empty entry. */
  protected lookupFails(key: Uint8Array, flags: number, errno: number): never {
    this.checkAccess('lookup', false);
    this.keyIn(key);
    if (flags !== 0) this.fail('lookup', Errno.EINVAL);
    this.fail('lookup', errno);
  }

  protected override get hasBatchOps(): boolean {
    return false;
  }
}
