// Numbered, fixed-size element slots in guest memory for the hash-like maps (kernel/bpf/hashtab.c's
// preallocated elements and free list). Slots come in chunks of 256, so a slot keeps its address
// while it lives (programs hold pointers into it); a freed slot goes to a free list for reuse. The
// chunks' addresses are a table in guest memory, which compiled programs read (maps/descriptor.ts).
import type { GuestMemory, Region } from '../runtime/memory.js';
import { GuestWords } from './guest-words.js';

/** No slot: the end of a list, chain or free list. */
export const NONE = -1;

/** Slots per guest-memory chunk is 1 << CHUNK_SHIFT. */
export const CHUNK_SHIFT = 8;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

/**
 * Up to `maxSlots` slots of `slotSize` bytes, numbered from 0. Owners keep per-slot bookkeeping in
 * typed arrays; `onGrow(capacity)` tells them to make room for slots below `capacity`.
 */
export class SlotPool {
  // Set once in the constructor and declared, not defined, so V8 sees one store and keeps them constant.
  private declare readonly memory: GuestMemory;
  declare readonly slotSize: number;
  declare readonly maxSlots: number;
  /** The name the chunks' regions carry. */
  private declare readonly regionName: string;
  /** Where the chunks' regions are recorded (the map's, so that freeing the map frees them). */
  private declare readonly regions: Region[];
  private declare readonly onGrow: (capacity: number) => void;
  /** The guest address of each chunk, in order; every chunk but the last is full. */
  declare readonly chunks: GuestWords;
  private chunkCount = 0;
  /** Slots that have bookkeeping room. */
  private capacity = 0;
  /** Slots handed out so far, free or not; slots below it have memory. */
  private fresh = 0;
  private freeHead = NONE;
  /** Per slot: the next free slot, while the slot is free. */
  private nextFree = new Int32Array(0);
  private taken = 0;

  constructor(memory: GuestMemory, slotSize: number, maxSlots: number, regionName: string, regions: Region[], onGrow: (capacity: number) => void) {
    this.memory = memory;
    this.slotSize = slotSize;
    this.maxSlots = maxSlots;
    this.regionName = regionName;
    this.regions = regions;
    this.onGrow = onGrow;
    this.chunks = new GuestWords(memory, Math.ceil(maxSlots / (1 << CHUNK_SHIFT)), `${regionName} chunk table`, regions);
  }

  /** Slots in use. */
  get live(): number {
    return this.taken;
  }

  /** The guest address of a slot that has memory. */
  address(slot: number): number {
    return this.memory.i32[this.chunks.base + (slot >>> CHUNK_SHIFT)]! + (slot & CHUNK_MASK) * this.slotSize;
  }

  /** Gives every slot its memory and bookkeeping now (Linux preallocates unless BPF_F_NO_PREALLOC). */
  preallocate(): void {
    this.growTo(this.maxSlots);
    for (let s = this.chunkCount << CHUNK_SHIFT; s < this.maxSlots; s += 1 << CHUNK_SHIFT) this.addChunk();
  }

  /** A slot for a new element: the last one freed, else a never-used one. The caller keeps live below maxSlots. */
  take(): number {
    let s = this.freeHead;
    if (s !== NONE) {
      this.freeHead = this.nextFree[s]!;
    } else {
      s = this.fresh++;
      if (s >= this.capacity) this.growTo(Math.min(this.maxSlots, Math.max(16, this.capacity * 2)));
      if (s >>> CHUNK_SHIFT >= this.chunkCount) this.addChunk();
    }
    this.taken++;
    return s;
  }

  /** Returns a slot for reuse; its memory keeps its bytes. */
  give(slot: number): void {
    this.nextFree[slot] = this.freeHead;
    this.freeHead = slot;
    this.taken--;
  }

  private addChunk(): void {
    const first = this.chunkCount << CHUNK_SHIFT;
    const slots = Math.min(1 << CHUNK_SHIFT, this.maxSlots - first);
    const region = this.memory.allocate(slots * this.slotSize, this.regionName);
    this.regions.push(region);
    this.memory.i32[this.chunks.base + this.chunkCount++] = region.start;
  }

  private growTo(capacity: number): void {
    if (capacity <= this.capacity) return;
    this.nextFree = grown(this.nextFree, new Int32Array(capacity));
    this.capacity = capacity;
    this.onGrow(capacity);
  }
}

/** `made` holding `old`'s elements at its start: how per-slot typed arrays grow. */
export function grown<T extends Int32Array | Uint32Array>(old: T, made: T): T {
  made.set(old);
  return made;
}
