// The hash index of the hash-like maps: buckets of collision chains over integer refs, whose key
// bytes stay in guest memory in the refs' slots. The index's tables (bucket heads, chains, stored
// hashes) are guest memory too (maps/guest-words.ts), so that compiled programs can search them
// (maps/descriptor.ts); finding a key hashes the bytes where they lie and allocates nothing.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { GuestWords } from './guest-words.js';
import { equalBytes, hashBytes } from './hash-bytes.js';
import { NONE, type SlotPool } from './slot-pool.js';

const HASH_SEED = 0;
/** The chain link of a ref that is not in the index (never reached from a bucket): what marks a deleted element. */
export const UNLINKED = -2;

/**
 * Refs are `slot << sideBits | side`: a slot holds 1 << sideBits keys (the flow map's two sides),
 * side k's at the slot's address + k * keyStride. Each chain lists its refs newest first.
 */
export class KeyIndex {
  // Fields set once are declared, not defined, so that the constructor's store is their only one:
  // V8 treats a field written once as constant and can fold it into a lookup.
  private declare readonly memory: GuestMemory;
  private declare readonly pool: SlotPool;
  private declare readonly keySize: number;
  private declare readonly sideBits: number;
  private declare readonly sideMask: number;
  private declare readonly keyStride: number;
  /** Called when a table moved, so that the owner's descriptor follows. */
  private declare readonly onMove: () => void;
  declare readonly buckets: GuestWords;
  bucketMask = 15;
  /** Per ref: its key's hash (u32), and the next ref in its bucket. */
  declare readonly hashes: GuestWords;
  declare readonly chain: GuestWords;
  /** One word: how many refs are linked (when they outnumber the buckets, the buckets double). */
  declare readonly linked: GuestWords;

  constructor(memory: GuestMemory, pool: SlotPool, keySize: number, regions: Region[], name: string, onMove: () => void = () => {}, sideBits: 0 | 1 = 0, keyStride = 0) {
    this.memory = memory;
    this.pool = pool;
    this.keySize = keySize;
    this.sideBits = sideBits;
    this.sideMask = (1 << sideBits) - 1;
    this.keyStride = keyStride;
    this.onMove = onMove;
    this.buckets = new GuestWords(memory, 16, `${name} buckets`, regions, NONE);
    this.hashes = new GuestWords(memory, 0, `${name} hashes`, regions);
    this.chain = new GuestWords(memory, 0, `${name} chains`, regions);
    this.linked = new GuestWords(memory, 1, `${name} count`, regions);
  }

  /** The hash of the key at keyAddr, as the index stores it. */
  hash(keyAddr: number): number {
    return hashBytes(this.memory.view, keyAddr, this.keySize, HASH_SEED);
  }

  /** The guest address of a ref's key. */
  keyAddress(ref: number): number {
    return this.pool.address(ref >>> this.sideBits) + (ref & this.sideMask) * this.keyStride;
  }

  /** The stored hash of a linked ref. */
  hashOf(ref: number): number {
    return this.memory.i32[this.hashes.base + ref]! >>> 0;
  }

  /**
   * The ref whose key equals the one at keyAddr, whose hash is `hash`, or NONE. Hashing is the
   * caller's so that V8 inlines both into a lookup: it will not inline a find carrying hashBytes.
   */
  find(keyAddr: number, hash: number): number {
    const { memory, keySize } = this;
    const view = memory.view;
    const i32 = memory.i32;
    const hashes = this.hashes.base;
    const chain = this.chain.base;
    const h = hash | 0;
    for (let r = i32[this.buckets.base + (hash & this.bucketMask)]!; r !== NONE; r = i32[chain + r]!) {
      if (i32[hashes + r] === h && equalBytes(view, this.keyAddress(r), keyAddr, keySize)) return r;
    }
    return NONE;
  }

  /** Adds a ref whose key (already in its slot) hashes to `hash`; doubles the buckets when refs outnumber them. */
  link(ref: number, hash: number): void {
    const i32 = this.memory.i32;
    i32[this.hashes.base + ref] = hash;
    const b = this.buckets.base + (hash & this.bucketMask);
    i32[this.chain.base + ref] = i32[b]!;
    i32[b] = ref;
    const linked = ++i32[this.linked.base]!;
    if (linked > this.buckets.length) this.rehash(this.buckets.length * 2);
  }

  /** Whether a ref is in the index (a deleted element's ref is not). */
  isLinked(ref: number): boolean {
    return ref < this.chain.length && this.memory.i32[this.chain.base + ref] !== UNLINKED;
  }

  /** Removes a linked ref. */
  unlink(ref: number): void {
    const i32 = this.memory.i32;
    const chain = this.chain.base;
    const b = this.buckets.base + (i32[this.hashes.base + ref]! & this.bucketMask);
    if (i32[b] === ref) {
      i32[b] = i32[chain + ref]!;
    } else {
      let p = i32[b]!;
      while (i32[chain + p] !== ref) p = i32[chain + p]!;
      i32[chain + p] = i32[chain + ref]!;
    }
    i32[chain + ref] = UNLINKED;
    i32[this.linked.base]--;
  }

  /** Makes room for refs below `refs`. */
  grow(refs: number): void {
    this.hashes.resize(refs);
    this.chain.resize(refs, UNLINKED);
    this.onMove();
  }

  /**
   * Spreads the refs over `size` buckets. Old bucket b splits into new buckets b and b + old size;
   * each keeps its refs' relative order, so chains stay newest first.
   */
  private rehash(size: number): void {
    const oldSize = this.buckets.length;
    // Growing the table may move the memory's views: read them after.
    this.buckets.resize(size, NONE);
    const i32 = this.memory.i32;
    const buckets = this.buckets.base;
    const chain = this.chain.base;
    const hashes = this.hashes.base;
    const mask = size - 1;
    for (let b = 0; b < oldSize; b++) {
      let lowTail = NONE;
      let highTail = NONE;
      let r = i32[buckets + b]!;
      i32[buckets + b] = NONE;
      while (r !== NONE) {
        const next = i32[chain + r]!;
        i32[chain + r] = NONE;
        if ((i32[hashes + r]! & mask) === b) {
          if (lowTail === NONE) i32[buckets + b] = r;
          else i32[chain + lowTail] = r;
          lowTail = r;
        } else {
          if (highTail === NONE) i32[buckets + b + oldSize] = r;
          else i32[chain + highTail] = r;
          highTail = r;
        }
        r = next;
      }
    }
    this.bucketMask = mask;
    this.onMove();
  }
}
