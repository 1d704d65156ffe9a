// BPF_MAP_TYPE_ARRAY (2) and the array layout PERCPU_ARRAY shares (kernel/bpf/arraymap.c): u32
// index keys, every element preallocated and zero-filled, each value rounded up to 8 bytes. Values
// sit in one guest region, so an element's address never changes; elements cannot be deleted.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, MapFlag, MapType, PCPU_MIN_UNIT_SIZE, roundUp8 } from './constants.js';
import { checkFlags, invalid, roundUpPow2, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';
import { Descriptor, DescriptorOps } from './descriptor.js';

/** An array map, one value per index (per-CPU: one per index and CPU). */
export class ArrayMap extends BaseMap {
  /** Bytes between two indexes' values. */
  readonly elementSize: number;
  readonly values: Region;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}, perCpu = false) {
    super(memory, spec, options, perCpu);
    this.elementSize = perCpu ? this.jsValueSize : roundUp8(this.valueSize);
    this.values = memory.allocate(this.maxEntries * this.elementSize, `map ${this.name} values`);
    this.regions.push(this.values);
    this.walkKeys = memory.allocate(4 * WALK_LEVELS, `map ${this.name} walk keys`, { writable: false });
    this.regions.push(this.walkKeys);
  }

  get size(): number {
    return this.maxEntries;
  }

  protected override storageDescription(): [Descriptor, number][] {
    if (!this.runsOwnOps(ArrayMap)) return [];
    return [[Descriptor.Ops, DescriptorOps.Array], [Descriptor.Stride, this.elementSize], [Descriptor.Storage, this.values.start], [Descriptor.WalkKeys, this.walkKeys.start]];
  }

  /** Guest address of an index's value (a CPU's copy for per-CPU arrays); how global data is reached. */
  elementAddress(index: number, cpu = 0): number {
    return this.values.start + index * this.elementSize + (this.perCpu ? cpu * this.cpuStride : 0);
  }

  private index(keyAddr: number): number {
    const b = this.memory.bytes;
    return (b[keyAddr]! | (b[keyAddr + 1]! << 8) | (b[keyAddr + 2]! << 16) | (b[keyAddr + 3]! << 24)) >>> 0;
  }

  lookupAddress(keyAddr: number, cpu = 0): number {
    const i = this.index(keyAddr);
    return i < this.maxEntries ? this.elementAddress(i, cpu) : 0;
  }

  protected findValue(keyAddr: number): number {
    const i = this.index(keyAddr);
    return i < this.maxEntries ? this.values.start + i * this.elementSize : 0;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if ((flags & ~BPF_F_LOCK) >>> 0 > BPF_EXIST) return -Errno.EINVAL;
    const i = this.index(keyAddr);
    // Every element exists already: NOEXIST always fails, and an index past the end cannot be added.
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (flags & BPF_NOEXIST) return -Errno.EEXIST;
    if (this.lockFlagInvalid(flags)) return -Errno.EINVAL;
    this.writeValue(this.values.start + i * this.elementSize, valueAddr, cpu, false);
    return 0;
  }

  deleteAt(_keyAddr: number): number {
    return -Errno.EINVAL;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }

  /**
   * Read-only u32 key slots for walks, one per nesting level (a callback may walk the map again;
   * compiled walks use the slot of their call frame's depth).
   */
  private readonly walkKeys: Region;
  private walkDepth = 0;

  /** Visits every index in order, the key a u32 holding the index, as arraymap.c does. */
  forEachAt(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    if (this.walkDepth >= WALK_LEVELS) throw new RangeError(`map ${this.name}: walks nest deeper than ${WALK_LEVELS}`);
    const key = this.walkKeys.start + 4 * this.walkDepth++;
    let visited = 0;
    try {
      for (let i = 0; i < this.maxEntries; i++) {
        this.memory.view.setUint32(key, i, true);
        visited++;
        if (visit(key, this.elementAddress(i, cpu))) break;
      }
    } finally {
      this.walkDepth--;
    }
    return visited;
  }
}

/** Walks of one array that may nest: one per BPF call frame. */
const WALK_LEVELS = 8;

/** ARRAY_CREATE_FLAG_MASK. */
const ARRAY_CREATE_FLAG_MASK = MapFlag.NUMA_NODE | MapFlag.MMAPABLE | ACCESS_MASK | MapFlag.PRESERVE_ELEMS | MapFlag.INNER_MAP;

/** array_map_alloc_check and the size checks of array_map_alloc. */
export function checkArraySpec(spec: MapSpec, perCpu: boolean, fdArray = false): MapCheckFailure | undefined {
  const flags = spec.flags ?? 0;
  if (spec.maxEntries === 0 || spec.keySize !== 4 || spec.valueSize === 0) return invalid('max_entries and value_size must be non-zero and key_size 4');
  const bad = checkFlags(flags, ARRAY_CREATE_FLAG_MASK);
  if (bad) return bad;
  if ((perCpu || fdArray) && flags & (MapFlag.MMAPABLE | MapFlag.INNER_MAP)) return invalid('BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for BPF_MAP_TYPE_ARRAY');
  if (flags & MapFlag.PRESERVE_ELEMS) return invalid('BPF_F_PRESERVE_ELEMS is only for perf event arrays');
  if (spec.valueSize > 0x7fffffff) return tooBig(`value_size ${spec.valueSize} is too large`);
  if (perCpu && roundUp8(spec.valueSize) > PCPU_MIN_UNIT_SIZE) return tooBig(`per-CPU value_size ${spec.valueSize} exceeds ${PCPU_MIN_UNIT_SIZE}`);
  // The kernel sizes arrays to a power of two against speculative indexing.
  if (roundUpPow2(spec.maxEntries) > 2 ** 32 - 1) return tooBig(`max_entries ${spec.maxEntries} overflows when rounded up to a power of two`);
  if (spec.spinLockOffset !== undefined && perCpu) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in per-CPU maps' };
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_ARRAY. */
export const arrayKind: MapKind = {
  type: MapType.ARRAY,
  name: 'array',
  check: (spec) => checkArraySpec(spec, false),
  create: (memory, spec, options) => new ArrayMap(memory, spec, options),
};
