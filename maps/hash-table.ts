// The hash table behind HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c).
// Elements live in guest memory as in `struct htab_elem`: the key, then at round_up(key_size, 8)
// the value (per-CPU maps: one round_up(value_size, 8) copy per CPU). An element keeps its address
// while it lives (programs hold pointers to values); a deleted element's slot goes to a free list.
// The index is JS typed arrays (bucket heads, collision chains, stored hashes), so a lookup hashes
// the key bytes where they lie in guest memory and allocates nothing.
// Deviations from Linux: an update of an existing key writes the value in place (Linux swaps in a
// new element); iteration follows insertion order (Linux: bucket order under a random seed); LRU
// eviction is exact least-recently-used over one list (Linux: approximate, per-CPU free lists).
import type { GuestMemory } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, HTAB_ELEM_SIZE, KMALLOC_MAX_SIZE, MapFlag, PCPU_MIN_UNIT_SIZE, roundUp8 } from './constants.js';
import { equalBytes, hashBytes } from './hash-bytes.js';
import { checkFlags, invalid, roundUpPow2, tooBig, type MapCheckFailure } from './kind.js';
import { ALL_CPUS, BaseMap, type MapOptions, type MapSpec } from './map.js';

/** Elements per guest-memory chunk is 1 << CHUNK_SHIFT. */
const CHUNK_SHIFT = 8;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;
const NONE = -1;
const HASH_SEED = 0;

/** A hash map of any of the four hash kinds. */
export class HashTableMap extends BaseMap {
  private readonly valueOffset: number;
  private readonly slotSize: number;
  private readonly chunkStarts: number[] = [];
  private capacity = 0;
  /** Slots handed out so far, free or not; slots below it have memory. */
  private fresh = 0;
  private freeHead = NONE;
  private count = 0;
  private buckets = new Int32Array(16).fill(NONE);
  private bucketMask = 15;
  /** Per slot: its key's hash, the next slot in its bucket (or in the free list). */
  private hashes = new Uint32Array(0);
  private chain = new Int32Array(0);
  /** Per slot: insertion-order list, for get_next_key. */
  private orderPrev = new Int32Array(0);
  private orderNext = new Int32Array(0);
  private orderHead = NONE;
  private orderTail = NONE;
  /** Per slot, LRU maps only: recency list, least recent at the head. */
  private lruPrev = new Int32Array(0);
  private lruNext = new Int32Array(0);
  private lruHead = NONE;
  private lruTail = NONE;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions, perCpu: boolean, readonly lru: boolean) {
    super(memory, spec, options, perCpu);
    this.valueOffset = roundUp8(this.keySize);
    this.slotSize = this.valueOffset + (perCpu ? this.jsValueSize : roundUp8(this.valueSize));
    // Linux preallocates every element unless BPF_F_NO_PREALLOC (LRU maps always do).
    if (lru || !(this.flags & MapFlag.NO_PREALLOC)) {
      this.growTo(this.maxEntries);
      for (let s = 0; s < this.maxEntries; s += 1 << CHUNK_SHIFT) this.addChunk();
    }
  }

  get size(): number {
    return this.count;
  }

  private slotAddress(slot: number): number {
    return this.chunkStarts[slot >>> CHUNK_SHIFT]! + (slot & CHUNK_MASK) * this.slotSize;
  }

  /** The slot holding the key at keyAddr, whose hash is `hash`, or NONE. */
  private find(keyAddr: number, hash: number): number {
    const view = this.memory.view;
    const keySize = this.keySize;
    for (let s = this.buckets[hash & this.bucketMask]!; s !== NONE; s = this.chain[s]!) {
      if (this.hashes[s] === hash && equalBytes(view, this.slotAddress(s), keyAddr, keySize)) return s;
    }
    return NONE;
  }

  private hashKey(keyAddr: number): number {
    return hashBytes(this.memory.view, keyAddr, this.keySize, HASH_SEED);
  }

  lookupAddress(keyAddr: number, cpu = 0): number {
    const s = this.find(keyAddr, this.hashKey(keyAddr));
    if (s === NONE) return 0;
    if (this.lru) this.touch(s);
    return this.slotAddress(s) + this.valueOffset + (this.perCpu ? cpu * this.cpuStride : 0);
  }

  protected findValue(keyAddr: number): number {
    // User-space lookups leave LRU recency alone (htab_lru_map_lookup_elem_sys).
    const s = this.find(keyAddr, this.hashKey(keyAddr));
    return s === NONE ? 0 : this.slotAddress(s) + this.valueOffset;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    const elemFlags = flags & ~BPF_F_LOCK;
    if (elemFlags > BPF_EXIST || this.lockFlagInvalid(flags)) return -Errno.EINVAL;
    const hash = this.hashKey(keyAddr);
    let s = this.find(keyAddr, hash);
    if (s !== NONE) {
      if (elemFlags === BPF_NOEXIST) return -Errno.EEXIST;
      this.writeValue(this.slotAddress(s) + this.valueOffset, valueAddr, cpu, false);
      if (this.lru) this.touch(s);
      return 0;
    }
    if (elemFlags === BPF_EXIST) return -Errno.ENOENT;
    if (this.count >= this.maxEntries) {
      if (!this.lru) return -Errno.E2BIG;
      this.remove(this.lruHead);
    }
    s = this.insert(keyAddr, hash);
    const value = this.slotAddress(s) + this.valueOffset;
    if (cpu !== ALL_CPUS || !this.perCpu) this.memory.bytes.fill(0, value, value + this.slotSize - this.valueOffset);
    this.writeValue(value, valueAddr, cpu, true);
    return 0;
  }

  deleteAt(keyAddr: number): number {
    const s = this.find(keyAddr, this.hashKey(keyAddr));
    if (s === NONE) return -Errno.ENOENT;
    this.remove(s);
    return 0;
  }

  protected override lookupAndDeleteAt(keyAddr: number, outAddr: number): number {
    const s = this.find(keyAddr, this.hashKey(keyAddr));
    if (s === NONE) return -Errno.ENOENT;
    const value = this.slotAddress(s) + this.valueOffset;
    this.memory.bytes.copyWithin(outAddr, value, value + this.jsValueSize);
    this.remove(s);
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    let next = this.orderHead;
    if (keyAddr !== 0) {
      const s = this.find(keyAddr, this.hashKey(keyAddr));
      // A key that is not in the map restarts the walk from the first key, as in Linux.
      if (s !== NONE) next = this.orderNext[s]!;
    }
    if (next === NONE) return -Errno.ENOENT;
    const at = this.slotAddress(next);
    this.memory.bytes.copyWithin(outAddr, at, at + this.keySize);
    return 0;
  }

  /**
   * Visits the elements present when the walk starts, in insertion order, skipping those deleted
   * meanwhile (Linux walks its buckets under RCU: elements the callback adds or deletes may or may
   * not be seen). LRU recency is left alone, as in Linux. The kinds Linux walks expose it as forEachAt.
   */
  protected walkElements(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    const slots = new Int32Array(this.count);
    let n = 0;
    for (let s = this.orderHead; s !== NONE; s = this.orderNext[s]!) slots[n++] = s;
    const cpuOffset = this.valueOffset + (this.perCpu ? cpu * this.cpuStride : 0);
    let visited = 0;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      const at = this.slotAddress(s);
      // Still live: its key still leads to its slot.
      if (this.find(at, this.hashes[s]!) !== s) continue;
      visited++;
      if (visit(at, at + cpuOffset)) break;
    }
    return visited;
  }

  // ---- slots and index ----

  private insert(keyAddr: number, hash: number): number {
    let s = this.freeHead;
    if (s !== NONE) {
      this.freeHead = this.chain[s]!;
    } else {
      s = this.fresh++;
      if (s >= this.capacity) this.growTo(Math.min(this.maxEntries, Math.max(16, this.capacity * 2)));
      if (s >>> CHUNK_SHIFT >= this.chunkStarts.length) this.addChunk();
    }
    const at = this.slotAddress(s);
    this.memory.bytes.copyWithin(at, keyAddr, keyAddr + this.keySize);
    this.hashes[s] = hash;
    const b = hash & this.bucketMask;
    this.chain[s] = this.buckets[b]!;
    this.buckets[b] = s;
    this.orderPrev[s] = this.orderTail;
    this.orderNext[s] = NONE;
    if (this.orderTail === NONE) this.orderHead = s;
    else this.orderNext[this.orderTail] = s;
    this.orderTail = s;
    if (this.lru) this.lruAppend(s);
    if (++this.count > this.buckets.length) this.rehash(this.buckets.length * 2);
    return s;
  }

  private remove(s: number): void {
    const b = this.hashes[s]! & this.bucketMask;
    if (this.buckets[b] === s) {
      this.buckets[b] = this.chain[s]!;
    } else {
      let p = this.buckets[b]!;
      while (this.chain[p] !== s) p = this.chain[p]!;
      this.chain[p] = this.chain[s]!;
    }
    const prev = this.orderPrev[s]!;
    const next = this.orderNext[s]!;
    if (prev === NONE) this.orderHead = next;
    else this.orderNext[prev] = next;
    if (next === NONE) this.orderTail = prev;
    else this.orderPrev[next] = prev;
    if (this.lru) this.lruUnlink(s);
    this.chain[s] = this.freeHead;
    this.freeHead = s;
    this.count--;
  }

  /** Marks a slot most recently used. */
  private touch(s: number): void {
    if (this.lruTail === s) return;
    this.lruUnlink(s);
    this.lruAppend(s);
  }

  private lruAppend(s: number): void {
    this.lruPrev[s] = this.lruTail;
    this.lruNext[s] = NONE;
    if (this.lruTail === NONE) this.lruHead = s;
    else this.lruNext[this.lruTail] = s;
    this.lruTail = s;
  }

  private lruUnlink(s: number): void {
    const prev = this.lruPrev[s]!;
    const next = this.lruNext[s]!;
    if (prev === NONE) this.lruHead = next;
    else this.lruNext[prev] = next;
    if (next === NONE) this.lruTail = prev;
    else this.lruPrev[next] = prev;
  }

  private addChunk(): void {
    const first = this.chunkStarts.length << CHUNK_SHIFT;
    const slots = Math.min(1 << CHUNK_SHIFT, this.maxEntries - first);
    const region = this.memory.allocate(slots * this.slotSize, `map ${this.name} elements`);
    this.regions.push(region);
    this.chunkStarts.push(region.start);
  }

  private growTo(capacity: number): void {
    if (capacity <= this.capacity) return;
    const grow = <T extends Int32Array | Uint32Array>(old: T, make: (n: number) => T): T => {
      const a = make(capacity);
      a.set(old);
      return a;
    };
    this.hashes = grow(this.hashes, (n) => new Uint32Array(n));
    this.chain = grow(this.chain, (n) => new Int32Array(n));
    this.orderPrev = grow(this.orderPrev, (n) => new Int32Array(n));
    this.orderNext = grow(this.orderNext, (n) => new Int32Array(n));
    if (this.lru) {
      this.lruPrev = grow(this.lruPrev, (n) => new Int32Array(n));
      this.lruNext = grow(this.lruNext, (n) => new Int32Array(n));
    }
    this.capacity = capacity;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size).fill(NONE);
    this.bucketMask = size - 1;
    for (let s = this.orderHead; s !== NONE; s = this.orderNext[s]!) {
      const b = this.hashes[s]! & this.bucketMask;
      this.chain[s] = this.buckets[b]!;
      this.buckets[b] = s;
    }
  }
}

/** htab_map_alloc_check and the size checks of htab_map_alloc, for the four hash kinds. */
export function checkHashSpec(spec: MapSpec, perCpu: boolean, lru: boolean): MapCheckFailure | undefined {
  const flags = spec.flags ?? 0;
  const bad = checkFlags(flags, HTAB_CREATE_FLAG_MASK);
  if (bad) return bad;
  if (!lru && flags & MapFlag.NO_COMMON_LRU) return invalid('BPF_F_NO_COMMON_LRU is only for LRU maps');
  if (lru && flags & MapFlag.NO_PREALLOC) return { errno: Errno.ENOTSUPP, detail: 'LRU maps are always preallocated (BPF_F_NO_PREALLOC)' };
  if (spec.maxEntries === 0 || spec.keySize === 0 || spec.valueSize === 0) return invalid('max_entries, key_size and value_size must be non-zero');
  if (spec.keySize + spec.valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) return tooBig(`key_size + value_size ${spec.keySize + spec.valueSize} is too large`);
  if (perCpu && roundUp8(spec.valueSize) > PCPU_MIN_UNIT_SIZE) return tooBig(`per-CPU value_size ${spec.valueSize} exceeds ${PCPU_MIN_UNIT_SIZE}`);
  if (roundUpPow2(spec.maxEntries) > 2 ** 28) return tooBig(`max_entries ${spec.maxEntries} needs too many buckets`);
  if (spec.spinLockOffset !== undefined && (perCpu || lru)) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in this map type' };
  return undefined;
}

/** HTAB_CREATE_FLAG_MASK. */
const HTAB_CREATE_FLAG_MASK = MapFlag.NO_PREALLOC | MapFlag.NO_COMMON_LRU | MapFlag.NUMA_NODE | ACCESS_MASK | MapFlag.ZERO_SEED;
