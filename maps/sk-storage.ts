// BPF_MAP_TYPE_SK_STORAGE (24): socket-local storage (net/core/bpf_sk_storage.c over
// kernel/bpf/bpf_local_storage.c). The map only defines the value type; each value hangs off a
// socket, is created on first use and goes when the socket closes or the map is freed. A socket
// keeps its values in an array indexed by the map's slot (Linux's per-storage cache, made exact),
// so bpf_sk_storage_get is an array read. Creating a value charges the socket's option memory as
// Linux does (sk_omem_alloc against net.core.optmem_max), which is how a socket runs out (-ENOMEM).
// Where Linux takes a socket fd as the key from user space, JS gives the socket's cookie: a u32 in
// the map's 4-byte key, or a u64 in an 8-byte key.
// Deviations from Linux: an update of an existing value writes it in place (Linux links a new
// element); keys()/getNextKey walk the sockets holding a value in this map, in the order their
// values were made (Linux has no get_next_key here, -ENOTSUPP: it dumps through bpf_iter or sock_diag).
import type { GuestMemory, Region } from '../runtime/memory.js';
import { OutOfGuestMemoryError } from '../runtime/memory.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno, MapFlag, MapType, roundUp8 } from './constants.js';
import { MapSizeError } from './errors.js';
import { invalid, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** A socket as its storage sees it: Linux's sk->sk_bpf_storage and the option memory it is charged to. */
export interface StorageOwner {
  /** The socket's cookie (what JS names it by). */
  readonly cookie: bigint;
  /** Whether storage may be made on it: open and a full socket (not TIME_WAIT or a request socket). */
  readonly fullSocket: boolean;
  /** Value addresses by storage-map slot; 0 or absent where the socket has no value in that map. */
  readonly storage: number[];
  /** Values the socket holds, over every storage map. */
  storageCount: number;
  /** Bytes charged to the socket's option memory (sk_omem_alloc). */
  optionMemory: number;
}

/** BPF_SK_STORAGE_GET_F_CREATE: bpf_sk_storage_get makes the value when the socket has none. */
export const BPF_SK_STORAGE_GET_F_CREATE = 1n;

/** net.core.optmem_max's default (Linux 6.18): the option memory a socket may be charged. */
export const OPTMEM_MAX = 131072;
/** sizeof(struct bpf_local_storage_elem) on x86-64: its data starts a cache line in. */
const LOCAL_STORAGE_ELEM_SIZE = 128;
/** offsetof(struct bpf_local_storage_elem, sdata.data): what an element charges besides its value. */
const ELEM_DATA_OFFSET = 72;
/** sizeof(struct bpf_local_storage) on x86-64: charged with a socket's first value. */
const LOCAL_STORAGE_SIZE = 176;
/** BPF_LOCAL_STORAGE_MAX_VALUE_SIZE on x86-64: U16_MAX less the element header. */
export const SK_STORAGE_MAX_VALUE_SIZE = 0xffff - LOCAL_STORAGE_ELEM_SIZE;
/** BPF_LOCAL_STORAGE_CREATE_FLAG_MASK. */
const CREATE_FLAG_MASK = MapFlag.NO_PREALLOC | MapFlag.CLONE;

/** Slots handed to live storage maps; a freed map's slot is reused (its values are gone by then). */
const freeSlots: number[] = [];
let nextSlot = 0;

/** Socket-local storage: one value per socket, made on demand, freed with the socket. */
export class SkStorageMap extends BaseMap {
  /** This map's index into every socket's storage array. */
  readonly slot: number;
  /** Sockets holding a value here, with the value's region, in the order the values were made. */
  private readonly owners = new Map<StorageOwner, Region>();
  private readonly resolveSocket: MapOptions['resolveSocket'];
  /** What one value charges to its socket's option memory (smap->elem_size). */
  private readonly elemSize: number;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.slot = freeSlots.pop() ?? nextSlot++;
    this.resolveSocket = options.resolveSocket;
    this.elemSize = ELEM_DATA_OFFSET + this.valueSize;
  }

  get size(): number {
    return this.owners.size;
  }

  // ---- the helpers' path ----

  /**
   * bpf_sk_storage_get on a socket: the value's address; with `create`, a new value (zeroed, or a
   * copy of the one at `initAddr`) when there is none; 0 when there is none and it cannot be made.
   */
  getAt(owner: StorageOwner, initAddr: number, create: boolean): number {
    const at = owner.storage[this.slot];
    if (at) return at;
    if (!create) return 0;
    const made = this.make(owner, initAddr);
    return made > 0 ? made : 0;
  }

  /** bpf_sk_storage_delete and BPF_MAP_DELETE_ELEM: 0, or -ENOENT when the socket has no value here. */
  deleteFor(owner: StorageOwner): number {
    const region = this.owners.get(owner);
    if (!region) return -Errno.ENOENT;
    this.unlink(owner, region);
    return 0;
  }

  /** The socket's value, if it has one. */
  valueAddressOf(owner: StorageOwner): number {
    return owner.storage[this.slot] ?? 0;
  }

  /** Makes a value on a socket that has none: its address, or -ENOMEM when option memory or guest memory runs out. */
  private make(owner: StorageOwner, initAddr: number): number {
    // Linux charges the element, then (for a socket's first value) the storage header, each against
    // optmem_max (bpf_selem_alloc, bpf_local_storage_alloc, bpf_sk_storage_charge).
    const header = owner.storageCount === 0 ? LOCAL_STORAGE_SIZE : 0;
    if (!chargeable(owner.optionMemory, this.elemSize) || (header && !chargeable(owner.optionMemory + this.elemSize, header))) return -Errno.ENOMEM;
    let region: Region;
    try {
      region = this.memory.allocate(roundUp8(this.valueSize), `sk_storage ${this.name} of socket ${owner.cookie}`);
    } catch (err) {
      if (err instanceof OutOfGuestMemoryError) return -Errno.ENOMEM;
      throw err;
    }
    // The region comes zero-filled; copy_map_value: a bpf_spin_lock in the value starts unlocked, whatever the initial value holds.
    if (initAddr) this.copyValue(region.start, initAddr);
    owner.optionMemory += this.elemSize + header;
    owner.storageCount++;
    owner.storage[this.slot] = region.start;
    this.owners.set(owner, region);
    return region.start;
  }

  private unlink(owner: StorageOwner, region: Region): void {
    this.owners.delete(owner);
    owner.storage[this.slot] = 0;
    owner.storageCount--;
    // The socket's storage header goes with its last value (bpf_selem_unlink_storage_nolock).
    owner.optionMemory -= this.elemSize + (owner.storageCount === 0 ? LOCAL_STORAGE_SIZE : 0);
    this.memory.free(region);
  }

  /** bpf_local_storage_update: 0 or a negative errno. `valueAddr` holds the new value. */
  private updateFor(owner: StorageOwner, valueAddr: number, flags: number): number {
    const elemFlags = (flags & ~BPF_F_LOCK) >>> 0;
    if (elemFlags > BPF_EXIST || this.lockFlagInvalid(flags)) return -Errno.EINVAL;
    const at = owner.storage[this.slot];
    if (at) {
      if (elemFlags === BPF_NOEXIST) return -Errno.EEXIST;
      // Without BPF_F_LOCK Linux allocates (and charges) the new element before freeing the old one.
      if (!(flags & BPF_F_LOCK) && !chargeable(owner.optionMemory, this.elemSize)) return -Errno.ENOMEM;
      this.copyValue(at, valueAddr);
      return 0;
    }
    if (elemFlags === BPF_EXIST) return -Errno.ENOENT;
    if (!owner.fullSocket) return -Errno.EINVAL;
    const made = this.make(owner, valueAddr);
    return made > 0 ? 0 : made;
  }

  // ---- BpfMap's address-level operations: programs reach this map only through bpf_sk_storage_get/delete ----

  /** The verifier refuses bpf_map_lookup_elem on socket storage (check_map_func_compatibility): NULL. */
  lookupAddress(_keyAddr: number): number {
    return 0;
  }

  protected findValue(_keyAddr: number): number {
    return 0;
  }

  /** Refused by the verifier as bpf_map_update_elem on socket storage: -EINVAL. */
  protected updateValue(_keyAddr: number, _valueAddr: number, _flags: number): number {
    return -Errno.EINVAL;
  }

  /** Refused by the verifier as bpf_map_delete_elem on socket storage: -EINVAL. */
  deleteAt(_keyAddr: number): number {
    return -Errno.EINVAL;
  }

  /** Linux has no get_next_key here (notsupp_get_next_key). */
  nextKeyAt(_keyAddr: number, _outAddr: number): number {
    return -Errno.ENOTSUPP;
  }

  protected override get hasBatchOps(): boolean {
    return false;
  }

  // ---- the JS API: the key is the socket's cookie ----

  /** The open socket a JS key names (u32 or u64 cookie); throws MapOpError(EBADF) for no open socket, as a closed fd gives. */
  private ownerOf(op: string, key: Uint8Array): StorageOwner {
    const cookie = cookieOfKey(this.name, key);
    const owner = this.resolveSocket?.(cookie);
    if (!owner) this.fail(op, Errno.EBADF);
    return owner;
  }

  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    const owner = this.ownerOf('lookup', key);
    if ((flags & ~BPF_F_LOCK) !== 0 || this.lockFlagInvalid(flags)) this.fail('lookup', Errno.EINVAL);
    const at = owner.storage[this.slot];
    return at ? this.copyOut(at, this.valueSize) : undefined;
  }

  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    const owner = this.ownerOf('update', key);
    const err = this.updateFor(owner, this.valueIn(value), flags);
    if (err !== 0) this.fail('update', err);
  }

  override delete(key: Uint8Array): boolean {
    const err = this.deleteFor(this.ownerOf('delete', key));
    return err === 0;
  }

  /** Linux's socket storage has no lookup-and-delete (-ENOTSUPP). */
  override lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    this.ownerOf('lookupAndDelete', key);
    this.fail('lookupAndDelete', Errno.ENOTSUPP);
  }

  /** Deviation from Linux (-ENOTSUPP): the next socket holding a value here, as a u32 cookie key. */
  override getNextKey(key?: Uint8Array): Uint8Array | undefined {
    const owners = [...this.owners.keys()];
    let i = 0;
    if (key !== undefined) {
      const cookie = cookieOfKey(this.name, key);
      const at = owners.findIndex((o) => o.cookie === cookie);
      // A key that holds no value restarts the walk, as hash maps do.
      i = at < 0 ? 0 : at + 1;
    }
    const next = owners[i];
    if (!next) return undefined;
    if (next.cookie > 0xffffffffn) this.fail('getNextKey', Errno.EOVERFLOW);
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, Number(next.cookie), true);
    return out;
  }

  /** Frees every value on every socket (bpf_local_storage_map_free), then the map. */
  override free(): void {
    for (const [owner, region] of [...this.owners]) this.unlink(owner, region);
    freeSlots.push(this.slot);
    super.free();
  }
}

/** Whether `size` more bytes fit option memory of which `used` is charged (Linux: size <= optmem_max and used + size < optmem_max). */
function chargeable(used: number, size: number): boolean {
  return size <= OPTMEM_MAX && used + size < OPTMEM_MAX;
}

/** The cookie a JS key names: a little-endian u32 (the map's key size) or u64. */
function cookieOfKey(mapName: string, key: Uint8Array): bigint {
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
  if (key.length === 4) return BigInt(v.getUint32(0, true));
  if (key.length === 8) return v.getBigUint64(0, true);
  throw new MapSizeError(mapName, 'key', 4, key.length);
}

/** A JS key naming a socket by its cookie: 8 bytes, a little-endian u64 (what every socket storage map takes). */
export function socketStorageKey(cookie: bigint): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt.asUintN(64, cookie), true);
  return key;
}

/** bpf_local_storage_map_alloc_check and map_check_btf's key check, for every local storage kind (`what` names it in messages). */
export function checkLocalStorageSpec(spec: MapSpec, what = 'socket storage', keyName = 'a socket fd'): MapCheckFailure | undefined {
  const flags = spec.flags ?? 0;
  if (flags & ~CREATE_FLAG_MASK) return invalid(`map_flags 0x${flags.toString(16)} include flags ${what} does not take (only BPF_F_NO_PREALLOC and BPF_F_CLONE)`);
  if (!(flags & MapFlag.NO_PREALLOC)) return invalid(`${what} must be created with BPF_F_NO_PREALLOC`);
  if (spec.maxEntries !== 0) return invalid(`max_entries must be 0, not ${spec.maxEntries}`);
  if (spec.keySize !== 4) return invalid(`key_size must be 4 (${keyName}), not ${spec.keySize}`);
  if (spec.valueSize === 0) return invalid('value_size must be non-zero');
  // User-space dumps need the types: Linux refuses socket storage without BTF for key and value.
  if (!spec.btfKeyTypeId || !spec.btfValueTypeId) return invalid(`${what} needs BTF key and value types`);
  if (spec.valueSize > SK_STORAGE_MAX_VALUE_SIZE) return tooBig(`value_size ${spec.valueSize} exceeds ${SK_STORAGE_MAX_VALUE_SIZE}`);
  const key = spec.btfKeyInt;
  if (!key || key.bits !== 32 || key.bitOffset !== 0) return invalid('the BTF key type must be a 32-bit integer');
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_SK_STORAGE. */
export const skStorageKind: MapKind = {
  type: MapType.SK_STORAGE,
  name: 'sk_storage',
  check: (spec) => checkLocalStorageSpec(spec),
  create: (memory, spec, options) => new SkStorageMap(memory, spec, options),
};
