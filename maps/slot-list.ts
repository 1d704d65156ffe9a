// A doubly-linked list threaded through slot numbers in typed arrays: the hash-like maps' insertion
// order (for get_next_key and iteration) and the LRU maps' recency order. Nothing is allocated per op.
import { grown, NONE } from './slot-pool.js';

/** An ordered set of slot numbers, oldest at the head; each slot is on it at most once. */
export class SlotList {
  private first = NONE;
  private last = NONE;
  private prev = new Int32Array(0);
  private next = new Int32Array(0);

  /** The first slot, or NONE. */
  get head(): number {
    return this.first;
  }

  /** The last slot, or NONE. */
  get tail(): number {
    return this.last;
  }

  /** The slot after one on the list, or NONE. */
  after(slot: number): number {
    return this.next[slot]!;
  }

  /** Puts a slot that is not on the list at the tail. */
  append(slot: number): void {
    this.prev[slot] = this.last;
    this.next[slot] = NONE;
    if (this.last === NONE) this.first = slot;
    else this.next[this.last] = slot;
    this.last = slot;
  }

  /** Takes a slot off the list. */
  unlink(slot: number): void {
    const prev = this.prev[slot]!;
    const next = this.next[slot]!;
    if (prev === NONE) this.first = next;
    else this.next[prev] = next;
    if (next === NONE) this.last = prev;
    else this.prev[next] = prev;
  }

  /** Moves a slot on the list to the tail (an LRU touch). */
  moveToTail(slot: number): void {
    if (this.last === slot) return;
    this.unlink(slot);
    this.append(slot);
  }

  /** Makes room for slots below `capacity`. */
  grow(capacity: number): void {
    this.prev = grown(this.prev, new Int32Array(capacity));
    this.next = grown(this.next, new Int32Array(capacity));
  }
}
