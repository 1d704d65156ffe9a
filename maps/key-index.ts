// The hash index of the hash-like maps: buckets of collision chains over integer refs, whose key
// bytes stay in guest memory in the refs' slots. The index itself is JS typed arrays (bucket heads,
// chains, stored hashes), so finding a key hashes the bytes where they lie and allocates nothing.
import type { GuestMemory } from '../runtime/memory.js';
import { equalBytes, hashBytes } from './hash-bytes.js';
import { grown, NONE, type SlotPool } from './slot-pool.js';

const HASH_SEED = 0;

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
  private buckets = new Int32Array(16).fill(NONE);
  private bucketMask = 15;
  /** Per ref: its key's hash, and the next ref in its bucket. */
  private hashes = new Uint32Array(0);
  private chain = new Int32Array(0);
  private linked = 0;

  constructor(memory: GuestMemory, pool: SlotPool, keySize: number, sideBits: 0 | 1 = 0, keyStride = 0) {
    this.memory = memory;
    this.pool = pool;
    this.keySize = keySize;
    this.sideBits = sideBits;
    this.sideMask = (1 << sideBits) - 1;
    this.keyStride = keyStride;
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
    return this.hashes[ref]!;
  }

  /**
   * The ref whose key equals the one at keyAddr, whose hash is `hash`, or NONE. Hashing is the
   * caller's so that V8 inlines both into a lookup: it will not inline a find carrying hashBytes.
   */
  find(keyAddr: number, hash: number): number {
    const view = this.memory.view;
    const { keySize, hashes, chain } = this;
    for (let r = this.buckets[hash & this.bucketMask]!; r !== NONE; r = chain[r]!) {
      if (hashes[r] === hash && equalBytes(view, this.keyAddress(r), keyAddr, keySize)) return r;
    }
    return NONE;
  }

  /** Adds a ref whose key (already in its slot) hashes to `hash`; doubles the buckets when refs outnumber them. */
  link(ref: number, hash: number): void {
    this.hashes[ref] = hash;
    const b = hash & this.bucketMask;
    this.chain[ref] = this.buckets[b]!;
    this.buckets[b] = ref;
    if (++this.linked > this.buckets.length) this.rehash(this.buckets.length * 2);
  }

  /** Removes a linked ref. */
  unlink(ref: number): void {
    const b = this.hashes[ref]! & this.bucketMask;
    if (this.buckets[b] === ref) {
      this.buckets[b] = this.chain[ref]!;
    } else {
      let p = this.buckets[b]!;
      while (this.chain[p] !== ref) p = this.chain[p]!;
      this.chain[p] = this.chain[ref]!;
    }
    this.linked--;
  }

  /** Makes room for refs below `refs`. */
  grow(refs: number): void {
    this.hashes = grown(this.hashes, new Uint32Array(refs));
    this.chain = grown(this.chain, new Int32Array(refs));
  }

  /**
   * Spreads the refs over `size` buckets. Old bucket b splits into new buckets b and b + old size;
   * each keeps its refs' relative order, so chains stay newest first.
   */
  private rehash(size: number): void {
    const old = this.buckets;
    const buckets = new Int32Array(size).fill(NONE);
    const mask = size - 1;
    const chain = this.chain;
    for (let b = 0; b < old.length; b++) {
      let lowTail = NONE;
      let highTail = NONE;
      for (let r = old[b]!; r !== NONE; ) {
        const next = chain[r]!;
        chain[r] = NONE;
        if ((this.hashes[r]! & mask) === b) {
          if (lowTail === NONE) buckets[b] = r;
          else chain[lowTail] = r;
          lowTail = r;
        } else {
          if (highTail === NONE) buckets[b + old.length] = r;
          else chain[highTail] = r;
          highTail = r;
        }
        r = next;
      }
    }
    this.buckets = buckets;
    this.bucketMask = mask;
  }
}
