// BPF_MAP_TYPE_BLOOM_FILTER (30) (kernel/bpf/bloom_filter.c): a keyless set with no false
// negatives. Push sets k bits for a value, peek tests them; map_extra's low 4 bits are k (0 means
// 5). The bit array is sized as Linux sizes it and lives in guest memory.
// Deviation from Linux: bits come from MurmurHash3 with seed i for the i-th hash (Linux: jhash
// with a random seed unless BPF_F_ZERO_SEED), so which values collide differs, not the guarantees.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_ANY, Errno, KMALLOC_MAX_SIZE, MapFlag, MapType } from './constants.js';
import { hashBytes } from './hash-bytes.js';
import { checkFlags, invalid, roundUpPow2, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import { KeylessMap } from './keyless-map.js';
import type { MapOptions, MapSpec } from './map.js';

/** A bloom filter over values of valueSize bytes. */
export class BloomFilterMap extends KeylessMap {
  readonly hashCount: number;
  /** Bits in the array (a power of two, at least 64). */
  readonly bitCount: number;
  private readonly mask: number;
  private readonly bits: Region;
  private pushed = 0;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, { update: Errno.EINVAL, keyed: Errno.EOPNOTSUPP });
    this.hashCount = this.mapExtra & 0xf || 5;
    // n * k / ln 2 bits, with 7/5 for 1/ln 2, rounded up to a power of two (bloom_map_alloc).
    const bits = Math.floor((this.maxEntries * this.hashCount) / 5) * 7;
    this.bitCount = bits > 2 ** 31 ? 2 ** 32 : bits <= 64 ? 64 : roundUpPow2(bits);
    this.mask = (this.bitCount - 1) >>> 0;
    this.bits = memory.allocate(this.bitCount / 8, `map ${this.name} bits`);
    this.regions.push(this.bits);
  }

  /** Values pushed so far (a bloom filter cannot tell how many distinct ones it holds). */
  get size(): number {
    return this.pushed;
  }

  override pushAt(valueAddr: number, flags: number): number {
    if (flags !== BPF_ANY) return -Errno.EINVAL;
    const bytes = this.memory.bytes;
    const view = this.memory.view;
    for (let i = 0; i < this.hashCount; i++) {
      const bit = (hashBytes(view, valueAddr, this.valueSize, i) & this.mask) >>> 0;
      bytes[this.bits.start + (bit >>> 3)] |= 1 << (bit & 7);
    }
    this.pushed++;
    return 0;
  }

  override peekAt(valueAddr: number): number {
    const bytes = this.memory.bytes;
    const view = this.memory.view;
    for (let i = 0; i < this.hashCount; i++) {
      const bit = (hashBytes(view, valueAddr, this.valueSize, i) & this.mask) >>> 0;
      if (!(bytes[this.bits.start + (bit >>> 3)]! & (1 << (bit & 7)))) return -Errno.ENOENT;
    }
    return 0;
  }

  override popAt(): number {
    return -Errno.EOPNOTSUPP;
  }

  // ---- JS API: bpf(2) maps update to push and lookup (with the value as input) to peek ----

  /** Adds a value. */
  push(value: Uint8Array, flags = 0): void {
    this.checkAccess('push', true);
    const err = this.pushAt(this.valueIn(value), flags);
    if (err) this.fail('push', err);
  }

  /** Whether the value may have been pushed (false: it certainly was not). */
  has(value: Uint8Array): boolean {
    this.checkAccess('peek', false);
    return this.peekAt(this.valueIn(value)) === 0;
  }

  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.keyIn(key);
    this.push(value, flags);
  }

  override lookup(): Uint8Array | undefined {
    this.fail('lookup', Errno.EOPNOTSUPP);
  }
}

/** BLOOM_CREATE_FLAG_MASK. */
const BLOOM_CREATE_FLAG_MASK = MapFlag.NUMA_NODE | MapFlag.ZERO_SEED | ACCESS_MASK;

/** bloom_map_alloc_check and the checks of bloom_map_alloc. */
export function checkBloomSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.valueSize > KMALLOC_MAX_SIZE) return tooBig(`value_size ${spec.valueSize} is too large`);
  if (spec.keySize !== 0 || spec.valueSize === 0 || spec.maxEntries === 0) return invalid('max_entries and value_size must be non-zero and key_size 0');
  const bad = checkFlags(spec.flags ?? 0, BLOOM_CREATE_FLAG_MASK);
  if (bad) return bad;
  if (BigInt(spec.mapExtra ?? 0) & ~0xfn) return invalid(`map_extra ${spec.mapExtra} must be a hash count of 0..15`);
  if (spec.spinLockOffset !== undefined) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in bloom filters' };
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_BLOOM_FILTER. */
export const bloomFilterKind: MapKind = {
  type: MapType.BLOOM_FILTER,
  name: 'bloom_filter',
  check: checkBloomSpec,
  create: (memory, spec, options) => new BloomFilterMap(memory, spec, options),
};
