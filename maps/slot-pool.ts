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

/** Words of a pool's state in guest memory (SlotPool.state), which compiled map updates read and write. */
export const enum PoolWord {
  /** The last slot freed, or NONE. */
  FreeHead = 0,
  /** Slots handed out so far, free or not; slots below it have memory. */
  Fresh = 1,
  /** Slots in use. */
  Taken = 2,
  /** Slots that have bookkeeping room (the per-slot tables' length). */
  Capacity = 3,
  /** Chunks allocated; every one but the last is full. */
  Chunks = 4,
}

/**
 * Up to `maxSlots` slots of `slotSize` bytes, numbered from 0. Owners keep per-slot bookkeeping in
 * tables; `onGrow(capacity)` tells them to make room for slots below `capacity`. The pool's state
 * and free list are guest memory (PoolWord, `nextFree`), so compiled code can take a slot too.
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
  /** PoolWord's words. */
  declare readonly state: GuestWords;
  /** Per slot: the next free slot, while the slot is free. */
  declare readonly nextFree: GuestWords;

  constructor(memory: GuestMemory, slotSize: number, maxSlots: number, regionName: string, regions: Region[], onGrow: (capacity: number) => void) {
    this.memory = memory;
    this.slotSize = slotSize;
    this.maxSlots = maxSlots;
    this.regionName = regionName;
    this.regions = regions;
    this.onGrow = onGrow;
    this.chunks = new GuestWords(memory, Math.ceil(maxSlots / (1 << CHUNK_SHIFT)), `${regionName} chunk table`, regions);
    this.state = new GuestWords(memory, 5, `${regionName} pool state`, regions);
    this.nextFree = new GuestWords(memory, 0, `${regionName} free list`, regions);
    this.set(PoolWord.FreeHead, NONE);
  }

  private get(word: PoolWord): number {
    return this.memory.i32[this.state.base + word]!;
  }

  private set(word: PoolWord, value: number): void {
    this.memory.i32[this.state.base + word] = value;
  }

  /** Slots in use. */
  get live(): number {
    return this.get(PoolWord.Taken);
  }

  /** The guest address of a slot that has memory. */
  address(slot: number): number {
    return this.memory.i32[this.chunks.base + (slot >>> CHUNK_SHIFT)]! + (slot & CHUNK_MASK) * this.slotSize;
  }

  /** Gives every slot its memory and bookkeeping now (Linux preallocates unless BPF_F_NO_PREALLOC). */
  preallocate(): void {
    this.growTo(this.maxSlots);
    for (let s = this.get(PoolWord.Chunks) << CHUNK_SHIFT; s < this.maxSlots; s += 1 << CHUNK_SHIFT) this.addChunk();
  }

  /** A slot for a new element: the last one freed, else a never-used one. The caller keeps live below maxSlots. */
  take(): number {
    let s = this.get(PoolWord.FreeHead);
    if (s !== NONE) {
      this.set(PoolWord.FreeHead, this.memory.i32[this.nextFree.base + s]!);
    } else {
      s = this.get(PoolWord.Fresh);
      this.set(PoolWord.Fresh, s + 1);
      const capacity = this.get(PoolWord.Capacity);
      if (s >= capacity) this.growTo(Math.min(this.maxSlots, Math.max(16, capacity * 2)));
      if (s >>> CHUNK_SHIFT >= this.get(PoolWord.Chunks)) this.addChunk();
    }
    this.set(PoolWord.Taken, this.get(PoolWord.Taken) + 1);
    return s;
  }

  /** Returns a slot for reuse; its memory keeps its bytes. */
  give(slot: number): void {
    this.memory.i32[this.nextFree.base + slot] = this.get(PoolWord.FreeHead);
    this.set(PoolWord.FreeHead, slot);
    this.set(PoolWord.Taken, this.get(PoolWord.Taken) - 1);
  }

  private addChunk(): void {
    const count = this.get(PoolWord.Chunks);
    const first = count << CHUNK_SHIFT;
    const slots = Math.min(1 << CHUNK_SHIFT, this.maxSlots - first);
    const region = this.memory.allocate(slots * this.slotSize, this.regionName);
    this.regions.push(region);
    this.memory.i32[this.chunks.base + count] = region.start;
    this.set(PoolWord.Chunks, count + 1);
  }

  private growTo(capacity: number): void {
    if (capacity <= this.get(PoolWord.Capacity)) return;
    this.nextFree.resize(capacity);
    this.set(PoolWord.Capacity, capacity);
    this.onGrow(capacity);
  }
}
