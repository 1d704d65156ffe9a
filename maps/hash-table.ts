// The hash table behind HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c).
// Elements live in guest memory as in `struct htab_elem`: the key, then at round_up(key_size, 8)
// the value (per-CPU maps: one round_up(value_size, 8) copy per CPU). An element keeps its address
// while it lives (programs hold pointers to values): elements are SlotPool slots, found through a
// KeyIndex (a lookup allocates nothing), kept in insertion order and LRU recency by SlotLists.
// Deviations from Linux: an update of an existing key writes the value in place (Linux swaps in a
// new element); iteration follows insertion order (Linux: bucket order under a random seed); LRU
// eviction is exact least-recently-used over one list (Linux: approximate, per-CPU free lists).
import type { GuestMemory } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, HTAB_ELEM_SIZE, KMALLOC_MAX_SIZE, MapFlag, PCPU_MIN_UNIT_SIZE, roundUp8 } from './constants.js';
import { KeyIndex } from './key-index.js';
import { checkFlags, invalid, roundUpPow2, tooBig, type MapCheckFailure } from './kind.js';
import { ALL_CPUS, BaseMap, type MapOptions, type MapSpec } from './map.js';
import { SlotList } from './slot-list.js';
import { Descriptor, DescriptorFlag, DescriptorOps } from './descriptor.js';
import { NONE, SlotPool } from './slot-pool.js';

/** A hash map of any of the four hash kinds. Index refs are slot numbers. */
export class HashTableMap extends BaseMap {
  // Initializers, or a declared field with one constructor store, rather than a defined field that
  // the constructor stores again: V8 keeps a field written once constant, and lookups fold it.
  declare readonly lru: boolean;
  private readonly valueOffset = roundUp8(this.keySize);
  private readonly pool = new SlotPool(
    this.memory,
    this.valueOffset + (this.perCpu ? this.jsValueSize : roundUp8(this.valueSize)),
    this.maxEntries,
    `map ${this.name} elements`,
    this.regions,
    (capacity) => this.growSlots(capacity),
  );
  private readonly index = new KeyIndex(this.memory, this.pool, this.keySize, this.regions, `map ${this.name} index`, () => this.describe());
  /** Insertion order, for get_next_key. */
  private readonly order = new SlotList(this.memory, `map ${this.name} order`, this.regions);
  /** LRU recency, least recent at the head: kept by LRU maps only (field initializers run before `lru` is set, so every map has the small empty list). */
  private readonly recency = new SlotList(this.memory, `map ${this.name} recency`, this.regions);

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions, perCpu: boolean, lru: boolean) {
    super(memory, spec, options, perCpu);
    this.lru = lru;
    // Linux preallocates every element unless BPF_F_NO_PREALLOC (LRU maps always do).
    if (lru || !(this.flags & MapFlag.NO_PREALLOC)) this.pool.preallocate();
  }

  get size(): number {
    return this.pool.live;
  }

  protected override storageDescription(): [Descriptor, number][] {
    if (!this.runsOwnOps(HashTableMap)) return [];
    const { index, recency } = this;
    const flags = (this.perCpu ? DescriptorFlag.PerCpu : 0) | (this.lru ? DescriptorFlag.Lru : 0) | (this.spinLockOffset !== undefined ? DescriptorFlag.SpinLock : 0);
    return [
      [Descriptor.Ops, DescriptorOps.Hash], [Descriptor.Flags, flags], [Descriptor.Stride, this.pool.slotSize], [Descriptor.Storage, this.pool.chunks.address],
      [Descriptor.Buckets, index.buckets.address], [Descriptor.BucketMask, index.bucketMask], [Descriptor.Hashes, index.hashes.address],
      [Descriptor.Chain, index.chain.address], [Descriptor.ValueOffset, this.valueOffset],
      [Descriptor.RecencyEnds, recency.ends.address], [Descriptor.RecencyPrev, recency.prev.address], [Descriptor.RecencyNext, recency.next.address],
      [Descriptor.OrderEnds, this.order.ends.address], [Descriptor.OrderPrev, this.order.prev.address], [Descriptor.OrderNext, this.order.next.address],
      [Descriptor.PoolState, this.pool.state.address], [Descriptor.PoolNextFree, this.pool.nextFree.address], [Descriptor.Linked, index.linked.address],
    ];
  }

  lookupAddress(keyAddr: number, cpu = 0): number {
    const s = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (s === NONE) return 0;
    if (this.lru) this.recency.moveToTail(s);
    return this.pool.address(s) + this.valueOffset + (this.perCpu ? cpu * this.cpuStride : 0);
  }

  protected findValue(keyAddr: number): number {
    // User-space lookups leave LRU recency alone (htab_lru_map_lookup_elem_sys).
    const s = this.index.find(keyAddr, this.index.hash(keyAddr));
    return s === NONE ? 0 : this.pool.address(s) + this.valueOffset;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    const elemFlags = (flags & ~BPF_F_LOCK) >>> 0;
    if (elemFlags > BPF_EXIST || this.lockFlagInvalid(flags)) return -Errno.EINVAL;
    const hash = this.index.hash(keyAddr);
    let s = this.index.find(keyAddr, hash);
    if (s !== NONE) {
      if (elemFlags === BPF_NOEXIST) return -Errno.EEXIST;
      this.writeValue(this.pool.address(s) + this.valueOffset, valueAddr, cpu, false);
      if (this.lru) this.recency.moveToTail(s);
      return 0;
    }
    if (elemFlags === BPF_EXIST) return -Errno.ENOENT;
    if (this.pool.live >= this.maxEntries) {
      if (!this.lru) return -Errno.E2BIG;
      this.remove(this.recency.head);
    }
    s = this.insert(keyAddr, hash);
    const value = this.pool.address(s) + this.valueOffset;
    if (cpu !== ALL_CPUS || !this.perCpu) this.memory.bytes.fill(0, value, value + this.pool.slotSize - this.valueOffset);
    this.writeValue(value, valueAddr, cpu, true);
    return 0;
  }

  deleteAt(keyAddr: number): number {
    const s = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (s === NONE) return -Errno.ENOENT;
    this.remove(s);
    return 0;
  }

  protected override lookupAndDeleteAt(keyAddr: number, outAddr: number): number {
    const s = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (s === NONE) return -Errno.ENOENT;
    const value = this.pool.address(s) + this.valueOffset;
    this.memory.bytes.copyWithin(outAddr, value, value + this.jsValueSize);
    this.remove(s);
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    let next = this.order.head;
    if (keyAddr !== 0) {
      const s = this.index.find(keyAddr, this.index.hash(keyAddr));
      // A key that is not in the map restarts the walk from the first key, as in Linux.
      if (s !== NONE) next = this.order.after(s);
    }
    if (next === NONE) return -Errno.ENOENT;
    const at = this.pool.address(next);
    this.memory.bytes.copyWithin(outAddr, at, at + this.keySize);
    return 0;
  }

  /**
   * Visits the elements in insertion order, each live one once (CPU `cpu`'s value for per-CPU
   * maps), reading the next element before the callback runs. Elements the callback adds are
   * visited too (they join the end); one it deletes before the walk reaches it is skipped. Linux
   * walks its buckets under RCU, and elements added or deleted meanwhile may or may not be seen.
   * LRU recency is left alone, as in Linux. Compiled programs walk the same way (jit/lower.ts).
   * The kinds Linux walks expose it as forEachAt.
   */
  protected walkElements(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    const cpuOffset = this.valueOffset + (this.perCpu ? cpu * this.cpuStride : 0);
    let visited = 0;
    for (let s = this.order.head; s !== NONE; ) {
      const next = this.order.after(s);
      // A deleted element's slot keeps its order links, but leaves the index.
      if (this.index.isLinked(s)) {
        const at = this.pool.address(s);
        visited++;
        if (visit(at, at + cpuOffset)) break;
      }
      s = next;
    }
    return visited;
  }

  // ---- elements ----

  private insert(keyAddr: number, hash: number): number {
    const s = this.pool.take();
    const at = this.pool.address(s);
    this.memory.bytes.copyWithin(at, keyAddr, keyAddr + this.keySize);
    this.index.link(s, hash);
    this.order.append(s);
    if (this.lru) this.recency.append(s);
    return s;
  }

  private remove(s: number): void {
    this.index.unlink(s);
    this.order.unlink(s);
    if (this.lru) this.recency.unlink(s);
    this.pool.give(s);
  }

  private growSlots(capacity: number): void {
    this.index.grow(capacity);
    this.order.grow(capacity);
    if (this.lru) this.recency.grow(capacity);
    this.describe();
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
