// The ring behind BPF_MAP_TYPE_QUEUE (22) and BPF_MAP_TYPE_STACK (23) (kernel/bpf/queue_stack_maps.c):
// keyless maps of max_entries values in a guest-memory ring of max_entries + 1 slots. Push takes
// BPF_ANY, or BPF_EXIST to overwrite the oldest value when full; pop and peek take from the oldest
// end (queue) or the newest (stack). Keyed operations are -EINVAL, as in Linux.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_EXIST, BPF_NOEXIST, Errno, KMALLOC_MAX_SIZE, MapFlag } from './constants.js';
import { checkFlags, invalid, tooBig, type MapCheckFailure } from './kind.js';
import { KeylessMap } from './keyless-map.js';
import type { MapOptions, MapSpec } from './map.js';

/** A queue (FIFO) or stack (LIFO) of values. */
export class QueueStackMap extends KeylessMap {
  private readonly ring: Region;
  private readonly slots: number;
  private head = 0;
  private tail = 0;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions, readonly lifo: boolean) {
    super(memory, spec, options, { update: Errno.EINVAL, keyed: Errno.EINVAL });
    this.slots = this.maxEntries + 1;
    this.ring = memory.allocate(this.slots * this.valueSize, `map ${this.name} elements`);
    this.regions.push(this.ring);
  }

  get size(): number {
    return (this.head - this.tail + this.slots) % this.slots;
  }

  private slotAddress(i: number): number {
    return this.ring.start + i * this.valueSize;
  }

  override pushAt(valueAddr: number, flags: number): number {
    if (flags & BPF_NOEXIST || flags > BPF_EXIST) return -Errno.EINVAL;
    if ((this.head + 1) % this.slots === this.tail) {
      if (!(flags & BPF_EXIST)) return -Errno.E2BIG;
      // Full with BPF_EXIST: drop the oldest value to make room (for a stack too, as Linux does).
      this.tail = (this.tail + 1) % this.slots;
    }
    const at = this.slotAddress(this.head);
    this.memory.bytes.copyWithin(at, valueAddr, valueAddr + this.valueSize);
    this.head = (this.head + 1) % this.slots;
    return 0;
  }

  override popAt(valueAddr: number): number {
    return this.take(valueAddr, true);
  }

  override peekAt(valueAddr: number): number {
    return this.take(valueAddr, false);
  }

  private take(valueAddr: number, remove: boolean): number {
    if (this.head === this.tail) return -Errno.ENOENT;
    const index = this.lifo ? (this.head - 1 + this.slots) % this.slots : this.tail;
    const at = this.slotAddress(index);
    this.memory.bytes.copyWithin(valueAddr, at, at + this.valueSize);
    if (remove) {
      if (this.lifo) this.head = index;
      else this.tail = (this.tail + 1) % this.slots;
    }
    return 0;
  }

  // ---- JS API: bpf(2) maps lookup to peek, update to push and lookup-and-delete to pop ----

  /** Pushes a value (BPF_ANY, or BPF_EXIST to overwrite the oldest when full). */
  push(value: Uint8Array, flags = 0): void {
    this.checkAccess('push', true);
    const err = this.pushAt(this.valueIn(value), flags);
    if (err) this.fail('push', err);
  }

  /** Removes and returns the next value, or undefined when empty. */
  pop(): Uint8Array | undefined {
    this.checkAccess('pop', true);
    return this.popAt(this.scratchValue) === 0 ? this.copyOut(this.scratchValue, this.valueSize) : undefined;
  }

  /** Returns the next value without removing it, or undefined when empty. */
  peek(): Uint8Array | undefined {
    this.checkAccess('peek', false);
    return this.peekAt(this.scratchValue) === 0 ? this.copyOut(this.scratchValue, this.valueSize) : undefined;
  }

  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.keyIn(key);
    return this.peek();
  }

  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.keyIn(key);
    this.push(value, flags);
  }

  override lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    this.keyIn(key);
    return this.pop();
  }

  /** The values in the order pop would return them, without removing any. */
  *values(): IterableIterator<Uint8Array> {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const index = this.lifo ? (this.head - 1 - i + 2 * this.slots) % this.slots : (this.tail + i) % this.slots;
      yield this.copyOut(this.slotAddress(index), this.valueSize);
    }
  }
}

/** QUEUE_STACK_CREATE_FLAG_MASK. */
const QUEUE_STACK_CREATE_FLAG_MASK = MapFlag.NUMA_NODE | ACCESS_MASK;

/** queue_stack_map_alloc_check. */
export function checkQueueStackSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.maxEntries === 0 || spec.keySize !== 0 || spec.valueSize === 0) return invalid('max_entries and value_size must be non-zero and key_size 0');
  const bad = checkFlags(spec.flags ?? 0, QUEUE_STACK_CREATE_FLAG_MASK);
  if (bad) return bad;
  if (spec.valueSize > KMALLOC_MAX_SIZE) return tooBig(`value_size ${spec.valueSize} is too large`);
  if (spec.spinLockOffset !== undefined) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in queues and stacks' };
  return undefined;
}
