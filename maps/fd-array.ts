// The fd-array part of kernel/bpf/arraymap.c, shared by prog arrays and arrays of maps: u32 index
// keys, entries that are runtime objects guest memory cannot hold, written from JS as ids (Linux
// writes fds) and read back as ids. Programs cannot update them.
import type { GuestMemory } from '../runtime/memory.js';
import { BPF_ANY, Errno } from './constants.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** An array of runtime objects of type T, with the ids JS knows them by. */
export abstract class FdArrayMap<T> extends BaseMap {
  private readonly slots: (T | undefined)[];
  private readonly ids: Uint32Array;
  private count = 0;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions) {
    super(memory, spec, options, false);
    this.slots = new Array<T | undefined>(this.maxEntries).fill(undefined);
    this.ids = new Uint32Array(this.maxEntries);
  }

  /** The object a JS-written id names, or undefined (the update is then -EBADF). */
  protected abstract resolveId(id: number): T | undefined;

  /** 0 when `entry` may be stored; a negative errno otherwise. */
  protected admit(_entry: T): number {
    return 0;
  }

  get size(): number {
    return this.count;
  }

  /** The entry at an index; undefined for an empty slot or an index past the end. */
  protected entryAt(index: number): T | undefined {
    return index >>> 0 < this.maxEntries ? this.slots[index >>> 0] : undefined;
  }

  /** Stores an entry: 0, -E2BIG for an index past the end, or what admit() refuses with. */
  protected putEntry(index: number, entry: T, id: number): number {
    if (!(index >>> 0 < this.maxEntries)) return -Errno.E2BIG;
    const refused = this.admit(entry);
    if (refused) return refused;
    if (this.slots[index] === undefined) this.count++;
    this.slots[index] = entry;
    this.ids[index] = id;
    return 0;
  }

  /** User-space lookups return the id, so they go through the ids, not guest memory. */
  protected findValue(): number {
    return 0;
  }

  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkAccess('lookup', false);
    if (flags !== 0) this.fail('lookup', Errno.EINVAL);
    const i = this.indexAt(this.keyIn(key));
    if (i >= this.maxEntries || this.slots[i] === undefined) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.ids[i]!, true);
    return out;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    // Only user space updates an fd array (cpu is ALL_CPUS there); a program's update is refused.
    if (cpu >= 0) return -Errno.EINVAL;
    if (flags !== BPF_ANY) return -Errno.EINVAL;
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    const id = this.memory.view.getUint32(valueAddr, true);
    const entry = this.resolveId(id);
    if (entry === undefined) return -Errno.EBADF;
    return this.putEntry(i, entry, id);
  }

  deleteAt(keyAddr: number): number {
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (this.slots[i] === undefined) return -Errno.ENOENT;
    this.slots[i] = undefined;
    this.ids[i] = 0;
    this.count--;
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }
}
