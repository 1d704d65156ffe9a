// BPF_MAP_TYPE_FLOW (0x1000), this runtime's extension (DESIGN.md "Flow map"): a hash map whose
// entries have two keys (a connection's forward and reverse tuples, which need not mirror each
// other, e.g. across NAT) and one shared value. Either key finds the entry; deleting by either
// removes both; updating by either changes the shared value (creating needs both keys: insert).
// max_entries counts entries (pairs). An element in guest memory is key_a, key_b, then the value,
// each at an 8-byte boundary; the value keeps its address while the entry lives.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, Errno, MapType, roundUp8 } from './constants.js';
import { equalBytes, hashBytes } from './hash-bytes.js';
import { checkHashSpec } from './hash-table.js';
import type { MapCheckFailure, MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

const NONE = -1;
const CHUNK_SHIFT = 8;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

/** One entry as JS iterates them. */
export interface FlowPair {
  readonly keyA: Uint8Array;
  readonly keyB: Uint8Array;
  readonly value: Uint8Array;
}

/** A two-key hash map. Index refs are entry * 2 + side (0: key_a, 1: key_b). */
export class FlowMap extends BaseMap {
  private readonly keyStride: number;
  private readonly slotSize: number;
  private readonly chunkStarts: number[] = [];
  private fresh = 0;
  private freeHead = NONE;
  private count = 0;
  private buckets = new Int32Array(16).fill(NONE);
  private bucketMask = 15;
  /** Per ref. */
  private hashes = new Uint32Array(0);
  private chain = new Int32Array(0);
  /** Per entry: insertion order, for get_next_key; `chain` of ref entry*2 doubles as the free list. */
  private orderPrev = new Int32Array(0);
  private orderNext = new Int32Array(0);
  private orderHead = NONE;
  private orderTail = NONE;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.keyStride = roundUp8(this.keySize);
    this.slotSize = 2 * this.keyStride + roundUp8(this.valueSize);
  }

  get size(): number {
    return this.count;
  }

  private slotAddress(entry: number): number {
    return this.chunkStarts[entry >>> CHUNK_SHIFT]! + (entry & CHUNK_MASK) * this.slotSize;
  }

  private keyAddress(ref: number): number {
    return this.slotAddress(ref >>> 1) + (ref & 1) * this.keyStride;
  }

  private valueAddress(entry: number): number {
    return this.slotAddress(entry) + 2 * this.keyStride;
  }

  private hashKey(keyAddr: number): number {
    return hashBytes(this.memory.view, keyAddr, this.keySize, 0);
  }

  /** The ref whose key is at keyAddr, or NONE. */
  private find(keyAddr: number, hash = this.hashKey(keyAddr)): number {
    const view = this.memory.view;
    for (let r = this.buckets[hash & this.bucketMask]!; r !== NONE; r = this.chain[r]!) {
      if (this.hashes[r] === hash && equalBytes(view, this.keyAddress(r), keyAddr, this.keySize)) return r;
    }
    return NONE;
  }

  lookupAddress(keyAddr: number): number {
    const r = this.find(keyAddr);
    return r === NONE ? 0 : this.valueAddress(r >>> 1);
  }

  /** bpf_flow_map_lookup: the value's address or 0; writes 0 (key_a) or 1 (key_b) as a u32 to dirAddr. */
  lookupFlowAt(keyAddr: number, dirAddr: number): number {
    const r = this.find(keyAddr);
    if (r === NONE) return 0;
    if (dirAddr !== 0) this.memory.view.setUint32(dirAddr, r & 1, true);
    return this.valueAddress(r >>> 1);
  }

  /** bpf_flow_map_peer: copies the other side's key to outAddr; 0 or -ENOENT. */
  peerAt(keyAddr: number, outAddr: number): number {
    const r = this.find(keyAddr);
    if (r === NONE) return -Errno.ENOENT;
    const other = this.keyAddress(r ^ 1);
    this.memory.bytes.copyWithin(outAddr, other, other + this.keySize);
    return 0;
  }

  /**
   * bpf_flow_map_insert: a new entry under both keys. BPF_ANY or BPF_NOEXIST; -EEXIST when either key
   * is taken (BPF_ANY re-inserting the very same pair updates its value), -E2BIG when full, -EINVAL
   * for other flags or equal keys.
   */
  insertAt(keyA: number, keyB: number, valueAddr: number, flags: number): number {
    if (flags !== BPF_ANY && flags !== BPF_NOEXIST) return -Errno.EINVAL;
    if (equalBytes(this.memory.view, keyA, keyB, this.keySize)) return -Errno.EINVAL;
    const hashA = this.hashKey(keyA);
    const hashB = this.hashKey(keyB);
    const ra = this.find(keyA, hashA);
    const rb = this.find(keyB, hashB);
    if (ra !== NONE || rb !== NONE) {
      if (flags === BPF_ANY && ra !== NONE && rb === (ra ^ 1) && (ra & 1) === 0) {
        this.copyValue(this.valueAddress(ra >>> 1), valueAddr);
        return 0;
      }
      return -Errno.EEXIST;
    }
    if (this.count >= this.maxEntries) return -Errno.E2BIG;
    const entry = this.allocate();
    const at = this.slotAddress(entry);
    const bytes = this.memory.bytes;
    bytes.copyWithin(at, keyA, keyA + this.keySize);
    bytes.copyWithin(at + this.keyStride, keyB, keyB + this.keySize);
    bytes.fill(0, at + 2 * this.keyStride, at + this.slotSize);
    this.copyValue(this.valueAddress(entry), valueAddr);
    this.link(entry * 2, hashA);
    this.link(entry * 2 + 1, hashB);
    this.orderPrev[entry] = this.orderTail;
    this.orderNext[entry] = NONE;
    if (this.orderTail === NONE) this.orderHead = entry;
    else this.orderNext[this.orderTail] = entry;
    this.orderTail = entry;
    if (++this.count * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    return 0;
  }

  /** bpf_map_update_elem by either key: changes the shared value; a missing key is -ENOENT (insert creates). */
  protected updateValue(keyAddr: number, valueAddr: number, flags: number): number {
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const r = this.find(keyAddr);
    if (r === NONE) return -Errno.ENOENT;
    if (flags === BPF_NOEXIST) return -Errno.EEXIST;
    this.copyValue(this.valueAddress(r >>> 1), valueAddr);
    return 0;
  }

  protected findValue(keyAddr: number): number {
    return this.lookupAddress(keyAddr);
  }

  deleteAt(keyAddr: number): number {
    const r = this.find(keyAddr);
    if (r === NONE) return -Errno.ENOENT;
    const entry = r >>> 1;
    this.unlink(entry * 2);
    this.unlink(entry * 2 + 1);
    const prev = this.orderPrev[entry]!;
    const next = this.orderNext[entry]!;
    if (prev === NONE) this.orderHead = next;
    else this.orderNext[prev] = next;
    if (next === NONE) this.orderTail = prev;
    else this.orderPrev[next] = prev;
    this.chain[entry * 2] = this.freeHead;
    this.freeHead = entry;
    this.count--;
    return 0;
  }

  protected override lookupAndDeleteAt(keyAddr: number, outAddr: number): number {
    const value = this.lookupAddress(keyAddr);
    if (value === 0) return -Errno.ENOENT;
    this.memory.bytes.copyWithin(outAddr, value, value + this.valueSize);
    return this.deleteAt(keyAddr);
  }

  /** Every key, both sides: key_a then key_b of each entry, entries in insertion order. */
  nextKeyAt(keyAddr: number, outAddr: number): number {
    let next = this.orderHead === NONE ? NONE : this.orderHead * 2;
    if (keyAddr !== 0) {
      const r = this.find(keyAddr);
      if (r !== NONE) next = (r & 1) === 0 ? r + 1 : this.orderNext[r >>> 1] === NONE ? NONE : this.orderNext[r >>> 1]! * 2;
    }
    if (next === NONE) return -Errno.ENOENT;
    const at = this.keyAddress(next);
    this.memory.bytes.copyWithin(outAddr, at, at + this.keySize);
    return 0;
  }

  // ---- JS API ----

  /** Creates an entry under both keys (bpf_flow_map_insert's rules). */
  insert(keyA: Uint8Array, keyB: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkAccess('insert', true);
    if (keyB.length !== this.keySize) this.keyIn(keyB); // throws the size error
    const a = this.keyIn(keyA);
    const b = this.scratchNextKey;
    this.memory.bytes.set(keyB, b);
    const err = this.insertAt(a, b, this.valueIn(value), flags);
    if (err) this.fail('insert', err);
  }

  /** The other side's key, or undefined. */
  peer(key: Uint8Array): Uint8Array | undefined {
    this.checkAccess('peer', false);
    return this.peerAt(this.keyIn(key), this.scratchNextKey) === 0 ? this.copyOut(this.scratchNextKey, this.keySize) : undefined;
  }

  /** The value and which side `key` is (0: key_a, 1: key_b), or undefined. */
  lookupWithDirection(key: Uint8Array): { value: Uint8Array; dir: 0 | 1 } | undefined {
    this.checkAccess('lookup', false);
    const r = this.find(this.keyIn(key));
    return r === NONE ? undefined : { value: this.copyOut(this.valueAddress(r >>> 1), this.valueSize), dir: (r & 1) as 0 | 1 };
  }

  /** Entries as pairs, in insertion order. */
  *pairs(): IterableIterator<FlowPair> {
    for (let e = this.orderHead; e !== NONE; ) {
      const next = this.orderNext[e]!;
      yield { keyA: this.copyOut(this.keyAddress(e * 2), this.keySize), keyB: this.copyOut(this.keyAddress(e * 2 + 1), this.keySize), value: this.copyOut(this.valueAddress(e), this.valueSize) };
      e = next;
    }
  }

  // ---- slots and index ----

  private allocate(): number {
    let e = this.freeHead;
    if (e !== NONE) {
      this.freeHead = this.chain[e * 2]!;
      return e;
    }
    e = this.fresh++;
    if (e * 2 + 2 > this.chain.length) this.grow(Math.min(this.maxEntries, Math.max(16, e * 2)));
    if (e >>> CHUNK_SHIFT >= this.chunkStarts.length) {
      const slots = Math.min(1 << CHUNK_SHIFT, this.maxEntries - (this.chunkStarts.length << CHUNK_SHIFT));
      const region: Region = this.memory.allocate(slots * this.slotSize, `map ${this.name} elements`);
      this.regions.push(region);
      this.chunkStarts.push(region.start);
    }
    return e;
  }

  private grow(entries: number): void {
    const refs = entries * 2;
    const copy = <T extends Int32Array | Uint32Array>(old: T, made: T): T => {
      made.set(old);
      return made;
    };
    this.hashes = copy(this.hashes, new Uint32Array(refs));
    this.chain = copy(this.chain, new Int32Array(refs));
    this.orderPrev = copy(this.orderPrev, new Int32Array(entries));
    this.orderNext = copy(this.orderNext, new Int32Array(entries));
  }

  private link(ref: number, hash: number): void {
    this.hashes[ref] = hash;
    const b = hash & this.bucketMask;
    this.chain[ref] = this.buckets[b]!;
    this.buckets[b] = ref;
  }

  private unlink(ref: number): void {
    const b = this.hashes[ref]! & this.bucketMask;
    if (this.buckets[b] === ref) {
      this.buckets[b] = this.chain[ref]!;
      return;
    }
    let p = this.buckets[b]!;
    while (this.chain[p] !== ref) p = this.chain[p]!;
    this.chain[p] = this.chain[ref]!;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size).fill(NONE);
    this.bucketMask = size - 1;
    for (let e = this.orderHead; e !== NONE; e = this.orderNext[e]!) {
      this.link(e * 2, this.hashes[e * 2]!);
      this.link(e * 2 + 1, this.hashes[e * 2 + 1]!);
    }
  }
}

/** The hash map's creation checks (max_entries counts pairs). */
export function checkFlowSpec(spec: MapSpec): MapCheckFailure | undefined {
  return checkHashSpec(spec, false, false);
}

/** Registry entry for BPF_MAP_TYPE_FLOW. */
export const flowKind: MapKind = {
  type: MapType.FLOW,
  name: 'flow',
  check: checkFlowSpec,
  create: (memory, spec, options) => new FlowMap(memory, spec, options),
};
