// BPF_MAP_TYPE_FLOW (0x1000), this runtime's extension (DESIGN.md "Flow map"): a hash map whose
// entries have two keys (a connection's forward and reverse tuples, which need not mirror each
// other, e.g. across NAT) and one shared value. Either key finds the entry; deleting by either
// removes both; updating by either changes the shared value (creating needs both keys: insert).
// max_entries counts entries (pairs). An element in guest memory is key_a, key_b, then the value,
// each at an 8-byte boundary; the value keeps its address while the entry lives.
import type { GuestMemory } from '../runtime/memory.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, Errno, MapType, roundUp8 } from './constants.js';
import { equalBytes } from './hash-bytes.js';
import { checkHashSpec } from './hash-table.js';
import { KeyIndex } from './key-index.js';
import type { MapCheckFailure, MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';
import { SlotList } from './slot-list.js';
import { NONE, SlotPool } from './slot-pool.js';

/** One entry as JS iterates them. */
export interface FlowPair {
  readonly keyA: Uint8Array;
  readonly keyB: Uint8Array;
  readonly value: Uint8Array;
}

/** A two-key hash map. An entry is a SlotPool slot; index refs are entry * 2 + side (0: key_a, 1: key_b). */
export class FlowMap extends BaseMap {
  // Initializers rather than constructor stores: V8 keeps a field written once constant (lookups fold it).
  private readonly keyStride = roundUp8(this.keySize);
  private readonly pool = new SlotPool(
    this.memory,
    2 * this.keyStride + roundUp8(this.valueSize),
    this.maxEntries,
    `map ${this.name} elements`,
    this.regions,
    (capacity) => this.growSlots(capacity),
  );
  private readonly index = new KeyIndex(this.memory, this.pool, this.keySize, this.regions, `map ${this.name} index`, undefined, 1, this.keyStride);
  /** Entries in insertion order, for get_next_key. */
  private readonly order = new SlotList(this.memory, `map ${this.name} order`, this.regions);

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
  }

  get size(): number {
    return this.pool.live;
  }

  private valueAddress(entry: number): number {
    return this.pool.address(entry) + 2 * this.keyStride;
  }

  lookupAddress(keyAddr: number): number {
    const r = this.index.find(keyAddr, this.index.hash(keyAddr));
    return r === NONE ? 0 : this.valueAddress(r >>> 1);
  }

  /** bpf_flow_map_lookup: the value's address or 0; writes 0 (key_a) or 1 (key_b) as a u32 to dirAddr. */
  lookupFlowAt(keyAddr: number, dirAddr: number): number {
    const r = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (r === NONE) return 0;
    if (dirAddr !== 0) this.memory.view.setUint32(dirAddr, r & 1, true);
    return this.valueAddress(r >>> 1);
  }

  /** bpf_flow_map_peer: copies the other side's key to outAddr; 0 or -ENOENT. */
  peerAt(keyAddr: number, outAddr: number): number {
    const r = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (r === NONE) return -Errno.ENOENT;
    const other = this.index.keyAddress(r ^ 1);
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
    const hashA = this.index.hash(keyA);
    const hashB = this.index.hash(keyB);
    const ra = this.index.find(keyA, hashA);
    const rb = this.index.find(keyB, hashB);
    if (ra !== NONE || rb !== NONE) {
      if (flags === BPF_ANY && ra !== NONE && rb === (ra ^ 1) && (ra & 1) === 0) {
        this.copyValue(this.valueAddress(ra >>> 1), valueAddr);
        return 0;
      }
      return -Errno.EEXIST;
    }
    if (this.pool.live >= this.maxEntries) return -Errno.E2BIG;
    const entry = this.pool.take();
    const at = this.pool.address(entry);
    const bytes = this.memory.bytes;
    bytes.copyWithin(at, keyA, keyA + this.keySize);
    bytes.copyWithin(at + this.keyStride, keyB, keyB + this.keySize);
    bytes.fill(0, at + 2 * this.keyStride, at + this.pool.slotSize);
    this.copyValue(this.valueAddress(entry), valueAddr);
    this.index.link(entry * 2, hashA);
    this.index.link(entry * 2 + 1, hashB);
    this.order.append(entry);
    return 0;
  }

  /** bpf_map_update_elem by either key: changes the shared value; a missing key is -ENOENT (insert creates). */
  protected updateValue(keyAddr: number, valueAddr: number, flags: number): number {
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const r = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (r === NONE) return -Errno.ENOENT;
    if (flags === BPF_NOEXIST) return -Errno.EEXIST;
    this.copyValue(this.valueAddress(r >>> 1), valueAddr);
    return 0;
  }

  protected findValue(keyAddr: number): number {
    return this.lookupAddress(keyAddr);
  }

  deleteAt(keyAddr: number): number {
    const r = this.index.find(keyAddr, this.index.hash(keyAddr));
    if (r === NONE) return -Errno.ENOENT;
    const entry = r >>> 1;
    this.index.unlink(entry * 2);
    this.index.unlink(entry * 2 + 1);
    this.order.unlink(entry);
    this.pool.give(entry);
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
    let next = this.order.head === NONE ? NONE : this.order.head * 2;
    if (keyAddr !== 0) {
      const r = this.index.find(keyAddr, this.index.hash(keyAddr));
      if (r !== NONE) {
        const after = this.order.after(r >>> 1);
        next = (r & 1) === 0 ? r + 1 : after === NONE ? NONE : after * 2;
      }
    }
    if (next === NONE) return -Errno.ENOENT;
    const at = this.index.keyAddress(next);
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
    const at = this.keyIn(key);
    const r = this.index.find(at, this.index.hash(at));
    return r === NONE ? undefined : { value: this.copyOut(this.valueAddress(r >>> 1), this.valueSize), dir: (r & 1) as 0 | 1 };
  }

  /** Entries as pairs, in insertion order. */
  *pairs(): IterableIterator<FlowPair> {
    for (let e = this.order.head; e !== NONE; ) {
      const next = this.order.after(e);
      yield { keyA: this.copyOut(this.index.keyAddress(e * 2), this.keySize), keyB: this.copyOut(this.index.keyAddress(e * 2 + 1), this.keySize), value: this.copyOut(this.valueAddress(e), this.valueSize) };
      e = next;
    }
  }

  private growSlots(capacity: number): void {
    this.index.grow(capacity * 2);
    this.order.grow(capacity);
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
