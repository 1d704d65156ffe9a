// The interface every map kind implements, and the base class holding what they share: the
// creation spec, the JS API built over the guest-address operations the helpers use, batch ops and
// iteration. A JS call copies its key and value into a scratch region of guest memory and runs the
// same code a BPF program's helper call runs, so both paths have one semantics.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { BPF_F_LOCK, Errno, MapFlag, roundUp8 } from './constants.js';
import { MapOpError, MapSizeError } from './errors.js';
import { Descriptor, DESCRIPTOR_BYTES, DescriptorFlag, DescriptorOps } from './descriptor.js';
import type { ControlSource } from './control.js';
import type { StorageOwner } from './sk-storage.js';

/** What creating a map takes: the fields of `bpf_attr` for BPF_MAP_CREATE. */
export interface MapSpec {
  readonly type: number;
  readonly name?: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  /** u64 map_extra (bloom filters: the hash count); a bigint as the loader reads it, or a number. */
  readonly mapExtra?: number | bigint;
  /** Offset of a `struct bpf_spin_lock` in the value (known from BTF); enables BPF_F_LOCK. */
  readonly spinLockOffset?: number;
  /** The template every inner map of an ARRAY_OF_MAPS or HASH_OF_MAPS must match (Linux: inner_map_fd). */
  readonly innerMap?: MapSpec;
  /** BTF type ids of the key and value (bpf_attr btf_key_type_id, btf_value_type_id); absent or 0 without BTF. */
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  /** The key's BTF type as map_check_btf sees it (modifiers and typedefs resolved): an INT's bits and bit offset; absent for other kinds. */
  readonly btfKeyInt?: { readonly bits: number; readonly bitOffset: number };
}

/** Runtime facts a map is created with. */
export interface MapOptions {
  /** Simulated CPUs: per-CPU maps keep one value per CPU (default 1). */
  readonly cpus?: number;
  /**
   * Resolves a program id written into a PROG_ARRAY from JS (where Linux takes a program fd) to the
   * runtime's program object, or undefined when there is no such program (-EBADF). `use` says what
   * will run it: a devmap or cpumap entry takes only programs loaded for that (expected_attach_type).
   * `map` is the map that will hold it: maps that hold programs take only programs compatible with
   * the ones they already have (bpf_prog_map_compatible).
   */
  readonly resolveProgram?: (id: number, use: 'devmap' | 'cpumap' | 'prog_array', map: BpfMap) => unknown;
  /** Resolves a map id written into a map-in-map from JS (Linux: a map fd), or undefined (-EBADF). */
  readonly resolveMap?: (id: number) => BpfMap | undefined;
  /** What a program's lookup in a map-in-map returns for an inner map: the runtime's map handle. */
  readonly mapHandle?: (map: BpfMap) => number;
  /** Whether an interface exists, for DEVMAP and DEVMAP_HASH updates (default: any non-zero ifindex). */
  readonly netdevExists?: (ifindex: number) => boolean;
  /** The runtime subsystem a control map's map_extra names (maps/control.ts); none without a runtime. */
  readonly control?: (subsystem: number) => ControlSource | undefined;
  /** The open socket with a cookie, which JS names where Linux takes a socket fd (SK_STORAGE); undefined: -EBADF. */
  readonly resolveSocket?: (cookie: bigint) => StorageOwner | undefined;
}

/** One page of a batch traversal. */
export interface MapBatch {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
  /** Pass back to get the next page; undefined once the traversal is complete. */
  readonly cursor: Uint8Array | undefined;
}

/** A live map: the helper path on guest addresses, and the JS API on byte arrays. */
export interface BpfMap {
  readonly type: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly mapExtra: number;
  /** Simulated CPU count (per-CPU maps hold this many values per key). */
  readonly cpus: number;
  /** Bytes of a value as JS passes and receives it: valueSize, or cpus * roundUp8(valueSize) for per-CPU maps. */
  readonly jsValueSize: number;
  /** Live entries. */
  readonly size: number;

  /** bpf_map_lookup_elem: guest address of the value (this CPU's for per-CPU maps), or 0. */
  lookupAddress(keyAddr: number, cpu?: number): number;
  /** bpf_map_update_elem from a program: 0 or a negative errno. */
  updateAt(keyAddr: number, valueAddr: number, flags: number, cpu?: number): number;
  /** bpf_map_delete_elem: 0 or a negative errno. */
  deleteAt(keyAddr: number): number;
  /** bpf_map_push_elem: 0 or a negative errno (-EINVAL for kinds without push). */
  pushAt(valueAddr: number, flags: number): number;
  /** bpf_map_pop_elem: copies the value out; 0 or a negative errno. */
  popAt(valueAddr: number): number;
  /** bpf_map_peek_elem: copies the value out (bloom filters: tests it); 0 or a negative errno. */
  peekAt(valueAddr: number): number;
  /** get_next_key: writes the key after the one at keyAddr (or the first, for 0) to outAddr; 0 or -ENOENT. */
  nextKeyAt(keyAddr: number, outAddr: number): number;
  /**
   * bpf_for_each_map_elem's walk, for the kinds Linux gives one (hash, array and their per-CPU and
   * LRU variants): calls `visit` with each element's key and value addresses (CPU `cpu`'s value for
   * per-CPU maps) until it returns true; returns how many elements it visited.
   */
  forEachAt?(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number;

  /** Makes the runtime's handle for the map its descriptor (maps/descriptor.ts), kept current from then on. */
  attachDescriptor(handle: number, cpuCell: number): void;

  /** BPF_MAP_LOOKUP_ELEM: a copy of the value (all CPUs' for per-CPU maps), or undefined. */
  lookup(key: Uint8Array, flags?: number): Uint8Array | undefined;
  /** BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST; throws MapOpError with the errno. */
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  /** BPF_MAP_DELETE_ELEM: true if an entry went, false if there was none. */
  delete(key: Uint8Array): boolean;
  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM. */
  lookupAndDelete(key: Uint8Array): Uint8Array | undefined;
  /** BPF_MAP_GET_NEXT_KEY: the first key for undefined (or a key not in the map), undefined at the end. */
  getNextKey(key?: Uint8Array): Uint8Array | undefined;
  keys(): IterableIterator<Uint8Array>;
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]>;
  /** BPF_MAP_LOOKUP_BATCH: up to `count` entries after `cursor`. */
  lookupBatch(count: number, cursor?: Uint8Array): MapBatch;
  /** BPF_MAP_LOOKUP_AND_DELETE_BATCH. */
  lookupAndDeleteBatch(count: number, cursor?: Uint8Array): MapBatch;
  /** BPF_MAP_UPDATE_BATCH: stops at the first failure (MapOpError.processed counts the done ones). */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags?: number): number;
  /** BPF_MAP_DELETE_BATCH: stops at the first key not found (ENOENT), as Linux does. */
  deleteBatch(keys: readonly Uint8Array[]): number;
  /**
   * BPF_MAP_FREEZE: from now on user space may only read the map (updates and deletes fail with
   * EPERM); programs are not affected. The loader freezes `.rodata` once its values are set, as
   * libbpf does, because the verifier takes its contents as constants.
   */
  freeze(): void;
  readonly frozen: boolean;
  /** Returns the map's guest memory. */
  free(): void;
}

/** `cpu` argument meaning "every CPU, from a JS buffer laid out as jsValueSize bytes". */
export const ALL_CPUS = -1;

/** What every kind shares; subclasses supply the address-level operations. */
export abstract class BaseMap implements BpfMap {
  readonly type: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly mapExtra: number;
  readonly cpus: number;
  readonly jsValueSize: number;
  /** Distance between two CPUs' copies of a per-CPU value. */
  readonly cpuStride: number;
  readonly spinLockOffset: number | undefined;
  /** Scratch block for JS calls: key, next key, value. */
  private readonly scratch: Region;
  protected readonly regions: Region[] = [];

  constructor(
    readonly memory: GuestMemory,
    spec: MapSpec,
    options: MapOptions,
    readonly perCpu: boolean,
  ) {
    this.type = spec.type;
    this.name = spec.name ?? `type${spec.type}`;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.mapExtra = Number(BigInt.asUintN(64, BigInt(spec.mapExtra ?? 0)));
    this.spinLockOffset = spec.spinLockOffset;
    this.cpus = perCpu ? Math.max(1, options.cpus ?? 1) : 1;
    this.cpuStride = perCpu ? roundUp8(this.valueSize) : this.valueSize;
    this.jsValueSize = perCpu ? this.cpus * this.cpuStride : this.valueSize;
    this.scratch = memory.allocate(2 * roundUp8(this.keySize) + Math.max(8, this.jsValueSize), `map ${this.name} scratch`);
  }

  abstract get size(): number;
  abstract lookupAddress(keyAddr: number, cpu?: number): number;

  // ---- descriptor ----

  /** The guest address of this map's descriptor (its handle), 0 until a runtime gives it one. */
  private descriptor = 0;
  /** The guest address of the runtime's current-CPU word. */
  private cpuCell = 0;

  /**
   * Makes the handle at `handle` this map's descriptor (maps/descriptor.ts) and fills it in; the
   * map keeps it current from then on. `cpuCell` holds the CPU a program runs on.
   */
  attachDescriptor(handle: number, cpuCell: number): void {
    this.descriptor = handle;
    this.cpuCell = cpuCell;
    this.describe();
  }

  /** Rewrites the descriptor after the map's storage moved (nothing before one is attached). */
  protected describe(): void {
    const at = this.descriptor;
    if (at === 0) return;
    this.memory.refresh();
    const v = this.memory.view;
    const flags = (this.perCpu ? DescriptorFlag.PerCpu : 0) | (this.spinLockOffset !== undefined ? DescriptorFlag.SpinLock : 0);
    const words: [Descriptor, number][] = [
      [Descriptor.Ops, DescriptorOps.None], [Descriptor.Flags, flags], [Descriptor.KeySize, this.keySize], [Descriptor.ValueSize, this.valueSize],
      [Descriptor.MaxEntries, this.maxEntries], [Descriptor.CpuStride, this.cpuStride], [Descriptor.CpuCell, this.cpuCell],
      ...this.storageDescription(),
    ];
    for (const [field, value] of words) v.setUint32(at + field, value, true);
  }

  /**
   * The descriptor fields that let compiled programs operate on the map's storage themselves: its
   * ops and where its tables are. None by default, which leaves every operation to the helpers.
   */
  protected storageDescription(): [Descriptor, number][] {
    return [];
  }

  /**
   * Whether this object runs `base`'s own lookup and update: a subclass that overrides them (a
   * map-in-map, a devmap) has semantics a descriptor cannot describe.
   */
  protected runsOwnOps(base: { prototype: object }): boolean {
    const proto = base.prototype as Record<string, unknown>;
    const self = this as unknown as Record<string, unknown>;
    return ['lookupAddress', 'updateValue', 'updateAt'].every((op) => self[op] === proto[op]);
  }
  abstract deleteAt(keyAddr: number): number;
  abstract nextKeyAt(keyAddr: number, outAddr: number): number;
  /** Lookup from user space: value base (all CPUs), without side effects such as LRU recency. */
  protected abstract findValue(keyAddr: number): number;
  /** Update; `cpu` is a CPU id (program) or ALL_CPUS (user space). */
  protected abstract updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number;

  updateAt(keyAddr: number, valueAddr: number, flags: number, cpu = 0): number {
    return this.updateValue(keyAddr, valueAddr, flags, cpu);
  }

  pushAt(_valueAddr: number, _flags: number): number {
    return -Errno.EINVAL;
  }

  popAt(_valueAddr: number): number {
    return -Errno.EINVAL;
  }

  peekAt(_valueAddr: number): number {
    return -Errno.EINVAL;
  }

  /** Removes the entry at keyAddr and copies its value (all CPUs) to outAddr; -ENOTSUPP where Linux has no such op. */
  protected lookupAndDeleteAt(_keyAddr: number, _outAddr: number): number {
    return -Errno.ENOTSUPP;
  }

  /** Whether BPF_MAP_*_BATCH commands exist for this kind. */
  protected get hasBatchOps(): boolean {
    return true;
  }

  // ---- value copies ----

  /** Copies one value, leaving a spin lock field in the destination untouched (copy_map_value). */
  protected copyValue(dst: number, src: number): void {
    const bytes = this.memory.bytes;
    const lock = this.spinLockOffset;
    if (lock === undefined) {
      bytes.copyWithin(dst, src, src + this.valueSize);
    } else {
      bytes.copyWithin(dst, src, src + lock);
      bytes.copyWithin(dst + lock + 4, src + lock + 4, src + this.valueSize);
    }
  }

  /**
   * Writes a value into an element's per-CPU copies: for ALL_CPUS from a JS buffer of jsValueSize
   * bytes; for one CPU from a program's value, zeroing the others when the element is new
   * (pcpu_init_value), leaving them when it existed (pcpu_copy_value).
   */
  protected writeValue(dst: number, src: number, cpu: number, isNew: boolean): void {
    if (!this.perCpu) {
      this.copyValue(dst, src);
      return;
    }
    const bytes = this.memory.bytes;
    const stride = this.cpuStride;
    if (cpu === ALL_CPUS) {
      bytes.copyWithin(dst, src, src + this.jsValueSize);
      return;
    }
    if (isNew) bytes.fill(0, dst, dst + this.jsValueSize);
    const at = dst + cpu * stride;
    bytes.copyWithin(at, src, src + this.valueSize);
  }

  /** BPF_F_LOCK is allowed only when the value holds a spin lock, and never on per-CPU maps. */
  protected lockFlagInvalid(flags: number): boolean {
    return (flags & BPF_F_LOCK) !== 0 && (this.spinLockOffset === undefined || this.perCpu);
  }

  // ---- JS API ----

  /** Copies a JS key into the scratch block and returns its guest address. */
  protected keyIn(key: Uint8Array): number {
    if (key.length !== this.keySize) throw new MapSizeError(this.name, 'key', this.keySize, key.length);
    this.memory.bytes.set(key, this.scratch.start);
    return this.scratch.start;
  }

  /** Copies a JS value into the scratch block and returns its guest address. */
  protected valueIn(value: Uint8Array): number {
    if (value.length !== this.jsValueSize) throw new MapSizeError(this.name, 'value', this.jsValueSize, value.length);
    const at = this.scratch.start + 2 * roundUp8(this.keySize);
    this.memory.bytes.set(value, at);
    return at;
  }

  protected get scratchNextKey(): number {
    return this.scratch.start + roundUp8(this.keySize);
  }

  protected get scratchValue(): number {
    return this.scratch.start + 2 * roundUp8(this.keySize);
  }

  /** A copy of guest bytes. */
  protected copyOut(address: number, length: number): Uint8Array {
    return this.memory.bytes.slice(address, address + length);
  }

  protected fail(op: string, errno: number, processed?: number): never {
    throw new MapOpError(this.name, op, Math.abs(errno), processed);
  }

  private isFrozen = false;

  get frozen(): boolean {
    return this.isFrozen;
  }

  freeze(): void {
    this.isFrozen = true;
  }

  /** BPF_F_WRONLY maps cannot be read from user space, BPF_F_RDONLY and frozen ones not written (-EPERM). */
  protected checkAccess(op: string, write: boolean): void {
    if (this.flags & (write ? MapFlag.RDONLY : MapFlag.WRONLY) || (write && this.isFrozen)) this.fail(op, Errno.EPERM);
  }

  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkAccess('lookup', false);
    if ((flags & ~BPF_F_LOCK) !== 0 || this.lockFlagInvalid(flags)) this.fail('lookup', Errno.EINVAL);
    const value = this.findValue(this.keyIn(key));
    return value === 0 ? undefined : this.copyOut(value, this.jsValueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkAccess('update', true);
    const k = this.keyIn(key);
    const err = this.updateValue(k, this.valueIn(value), flags, ALL_CPUS);
    if (err !== 0) this.fail('update', err);
  }

  delete(key: Uint8Array): boolean {
    this.checkAccess('delete', true);
    const err = this.deleteAt(this.keyIn(key));
    if (err === -Errno.ENOENT) return false;
    if (err !== 0) this.fail('delete', err);
    return true;
  }

  lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    this.checkAccess('lookupAndDelete', true);
    const err = this.lookupAndDeleteAt(this.keyIn(key), this.scratchValue);
    if (err === -Errno.ENOENT) return undefined;
    if (err !== 0) this.fail('lookupAndDelete', err);
    return this.copyOut(this.scratchValue, this.jsValueSize);
  }

  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    this.checkAccess('getNextKey', false);
    const err = this.nextKeyAt(key === undefined ? 0 : this.keyIn(key), this.scratchNextKey);
    if (err === -Errno.ENOENT) return undefined;
    if (err !== 0) this.fail('getNextKey', err);
    return this.copyOut(this.scratchNextKey, this.keySize);
  }

  *keys(): IterableIterator<Uint8Array> {
    // The next key is taken before yielding, so the caller may delete the one it holds.
    let key = this.getNextKey();
    while (key) {
      const next = this.getNextKey(key);
      yield key;
      key = next;
    }
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value) yield [key, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  lookupBatch(count: number, cursor?: Uint8Array): MapBatch {
    return this.batch('lookupBatch', count, cursor, false);
  }

  lookupAndDeleteBatch(count: number, cursor?: Uint8Array): MapBatch {
    return this.batch('lookupAndDeleteBatch', count, cursor, true);
  }

  private batch(op: string, count: number, cursor: Uint8Array | undefined, remove: boolean): MapBatch {
    if (!this.hasBatchOps) this.fail(op, Errno.ENOTSUPP);
    this.checkAccess(op, remove);
    if (!Number.isInteger(count) || count <= 0) this.fail(op, Errno.EINVAL);
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    // After a deleting page the cursor key is gone, and get_next_key restarts from the first key.
    let key = this.getNextKey(cursor);
    while (key && keys.length < count) {
      const value = remove ? this.lookupAndDelete(key) : this.lookup(key);
      const next = this.getNextKey(key);
      if (value) {
        keys.push(key);
        values.push(value);
      }
      key = next;
    }
    return { keys, values, cursor: key && keys.length > 0 ? keys[keys.length - 1] : undefined };
  }

  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags = 0): number {
    if (!this.hasBatchOps) this.fail('updateBatch', Errno.ENOTSUPP);
    if (keys.length !== values.length) this.fail('updateBatch', Errno.EINVAL);
    for (let i = 0; i < keys.length; i++) {
      try {
        this.update(keys[i]!, values[i]!, flags);
      } catch (e) {
        if (e instanceof MapOpError) this.fail('updateBatch', e.errno!, i);
        throw e;
      }
    }
    return keys.length;
  }

  deleteBatch(keys: readonly Uint8Array[]): number {
    if (!this.hasBatchOps) this.fail('deleteBatch', Errno.ENOTSUPP);
    for (let i = 0; i < keys.length; i++) {
      let deleted: boolean;
      try {
        deleted = this.delete(keys[i]!);
      } catch (e) {
        if (e instanceof MapOpError) this.fail('deleteBatch', e.errno!, i);
        throw e;
      }
      if (!deleted) this.fail('deleteBatch', Errno.ENOENT, i);
    }
    return keys.length;
  }

  free(): void {
    for (const r of this.regions) this.memory.free(r);
    this.regions.length = 0;
    this.memory.free(this.scratch);
    // The handle outlives the map: it must no longer send compiled code to freed tables.
    if (this.descriptor !== 0) {
      this.memory.refresh();
      this.memory.bytes.fill(0, this.descriptor + Descriptor.Ops, this.descriptor + DESCRIPTOR_BYTES);
      this.descriptor = 0;
    }
  }

  /** The u32 index an array-like map's key holds. */
  protected indexAt(keyAddr: number): number {
    return this.memory.view.getUint32(keyAddr, true);
  }

  /**
   * get_next_key for array-like maps, as array_map_get_next_key walks them: every index in order,
   * present or not; no key, or one past the end, starts again at 0.
   */
  protected nextIndexAt(keyAddr: number, outAddr: number): number {
    const i = keyAddr === 0 ? 0xffffffff : this.indexAt(keyAddr);
    let next: number;
    if (i >= this.maxEntries) next = 0;
    else if (i === this.maxEntries - 1) return -Errno.ENOENT;
    else next = i + 1;
    this.memory.view.setUint32(outAddr, next, true);
    return 0;
  }
}
