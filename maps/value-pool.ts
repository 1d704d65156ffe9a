// Fixed-size value slots carved from guest memory in chunks, with a free list: for kinds whose
// elements come and go (LPM trie nodes) while their values must keep their guest address.
import type { GuestMemory, Region } from '../runtime/memory.js';

const CHUNK_SLOTS = 256;

/** A pool of `slotSize`-byte blocks in guest memory, at most `limit` live at once. */
export class ValuePool {
  private readonly free: number[] = [];
  private chunkEnd = 0;
  private next = 0;
  private made = 0;

  constructor(
    private readonly memory: GuestMemory,
    private readonly slotSize: number,
    private readonly limit: number,
    private readonly name: string,
    private readonly regions: Region[],
  ) {}

  /** A zero-filled slot's guest address. */
  take(): number {
    let at = this.free.pop();
    if (at === undefined) {
      if (this.next >= this.chunkEnd) {
        const slots = Math.max(1, Math.min(CHUNK_SLOTS, this.limit - this.made));
        const region = this.memory.allocate(slots * this.slotSize, this.name);
        this.regions.push(region);
        this.next = region.start;
        this.chunkEnd = region.start + slots * this.slotSize;
        this.made += slots;
      }
      at = this.next;
      this.next += this.slotSize;
    }
    this.memory.bytes.fill(0, at, at + this.slotSize);
    return at;
  }

  /** Returns a slot for reuse. */
  give(at: number): void {
    this.free.push(at);
  }
}
