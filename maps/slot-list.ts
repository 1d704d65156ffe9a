// A doubly-linked list threaded through slot numbers: the hash-like maps' insertion order (for
// get_next_key and iteration) and the LRU maps' recency order. Its links and ends are words in
// guest memory, so that compiled programs can move an element to the tail on lookup
// (maps/descriptor.ts). Nothing is allocated per op.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { GuestWords } from './guest-words.js';
import { NONE } from './slot-pool.js';

/** An ordered set of slot numbers, oldest at the head; each slot is on it at most once. */
export class SlotList {
  /** [head, tail]. */
  declare readonly ends: GuestWords;
  declare readonly prev: GuestWords;
  declare readonly next: GuestWords;

  constructor(private readonly memory: GuestMemory, name: string, regions: Region[]) {
    this.ends = new GuestWords(memory, 2, `${name} ends`, regions, NONE);
    this.prev = new GuestWords(memory, 0, `${name} links`, regions);
    this.next = new GuestWords(memory, 0, `${name} links`, regions);
  }

  /** The first slot, or NONE. */
  get head(): number {
    return this.memory.i32[this.ends.base]!;
  }

  /** The last slot, or NONE. */
  get tail(): number {
    return this.memory.i32[this.ends.base + 1]!;
  }

  /** The slot after one on the list, or NONE. */
  after(slot: number): number {
    return this.memory.i32[this.next.base + slot]!;
  }

  /** Puts a slot that is not on the list at the tail. */
  append(slot: number): void {
    const i32 = this.memory.i32;
    const ends = this.ends.base;
    const last = i32[ends + 1]!;
    i32[this.prev.base + slot] = last;
    i32[this.next.base + slot] = NONE;
    if (last === NONE) i32[ends] = slot;
    else i32[this.next.base + last] = slot;
    i32[ends + 1] = slot;
  }

  /** Takes a slot off the list. */
  unlink(slot: number): void {
    const i32 = this.memory.i32;
    const ends = this.ends.base;
    const prev = i32[this.prev.base + slot]!;
    const next = i32[this.next.base + slot]!;
    if (prev === NONE) i32[ends] = next;
    else i32[this.next.base + prev] = next;
    if (next === NONE) i32[ends + 1] = prev;
    else i32[this.prev.base + next] = prev;
  }

  /** Moves a slot on the list to the tail (an LRU touch). */
  moveToTail(slot: number): void {
    if (this.tail === slot) return;
    this.unlink(slot);
    this.append(slot);
  }

  /** Makes room for slots below `capacity`. */
  grow(capacity: number): void {
    this.prev.resize(capacity);
    this.next.resize(capacity);
  }
}
