// Growable arrays of 32-bit words kept in guest memory: the tables of the hash-like maps (bucket
// heads, chains, stored hashes, list links, slot chunks), so that compiled programs can walk them
// without calling out to JavaScript (maps/descriptor.ts). JavaScript reads them through the
// memory's word view, `memory.i32[words.base + i]`.
import type { GuestMemory, Region } from '../runtime/memory.js';

/** `length` words in a guest region, recorded in the owner's region list so that freeing the owner frees them. */
export class GuestWords {
  private region: Region;
  /** Index of word 0 in `memory.i32`. */
  base: number;
  length: number;

  constructor(
    private readonly memory: GuestMemory,
    length: number,
    private readonly name: string,
    private readonly regions: Region[],
    fill = 0,
  ) {
    this.region = this.allocate(length, fill);
    this.base = this.region.start >>> 2;
    this.length = length;
  }

  /** The guest address of word 0. */
  get address(): number {
    return this.region.start;
  }

  /** Moves to a region of `length` words, keeping the first words and filling new ones with `fill`. */
  resize(length: number, fill = 0): void {
    const old = this.region;
    const region = this.allocate(length, fill);
    const i32 = this.memory.i32;
    const kept = Math.min(length, this.length);
    i32.copyWithin(region.start >>> 2, this.base, this.base + kept);
    this.memory.free(old);
    this.regions.splice(this.regions.indexOf(old), 1);
    this.region = region;
    this.base = region.start >>> 2;
    this.length = length;
  }

  private allocate(length: number, fill: number): Region {
    // At least one word, so that an empty table still has an address.
    const region = this.memory.allocate(Math.max(1, length) * 4, this.name, { writable: false });
    this.regions.push(region);
    if (fill !== 0) this.memory.i32.fill(fill, region.start >>> 2, (region.start >>> 2) + length);
    return region;
  }
}
