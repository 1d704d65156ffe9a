// BPF_MAP_TYPE_DEVMAP_HASH (25) (kernel/bpf/devmap.c): a device map keyed by any u32 (usually the
// ifindex itself) instead of a dense index. Values and their rules are DEVMAP's, except that
// ifindex 0 is -EINVAL, a missing key is -ENOENT on delete, and BPF_EXIST is not enforced (as in Linux).
import type { GuestMemory } from '../runtime/memory.js';
import { BPF_ANY, BPF_EXIST, Errno, MapType } from './constants.js';
import { acceptDevmapValue, checkDevmapSpec } from './devmap.js';
import { HashTableMap } from './hash-table.js';
import { invalid, type MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';
import type { RedirectTarget } from './redirect-target.js';

/** A device hash map. */
export class DevmapHashMap extends HashTableMap {
  /** Programs by the guest address of their entry's value (stable while the entry lives). */
  private readonly programs = new Map<number, unknown>();

  constructor(memory: GuestMemory, spec: MapSpec, private readonly options: MapOptions = {}) {
    super(memory, spec, options, false, false);
  }

  /** The target under a u32 key, for bpf_redirect_map; undefined when absent. */
  targetAt(key: number): RedirectTarget | undefined {
    const keyAddr = this.scratchNextKey;
    this.memory.view.setUint32(keyAddr, key >>> 0, true);
    const at = super.lookupAddress(keyAddr);
    return at === 0 ? undefined : { first: this.memory.view.getUint32(at, true), program: this.programs.get(at) };
  }

  protected override updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EINVAL; // programs only redirect through device maps
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const view = this.memory.view;
    const ifindex = view.getUint32(valueAddr, true);
    if (ifindex === 0) return -Errno.EINVAL;
    const programId = this.valueSize >= 8 ? view.getInt32(valueAddr + 4, true) : 0;
    const verdict = acceptDevmapValue(this.options, this, ifindex, programId > 0 ? programId : undefined);
    if ('errno' in verdict) return -verdict.errno;
    const err = super.updateValue(keyAddr, valueAddr, flags === BPF_EXIST ? BPF_ANY : flags, cpu);
    if (err) return err;
    const at = super.lookupAddress(keyAddr);
    if (this.valueSize >= 8) view.setUint32(at + 4, programId > 0 ? programId : 0, true);
    this.programs.set(at, 'program' in verdict ? verdict.program : undefined);
    return 0;
  }

  override deleteAt(keyAddr: number): number {
    const at = super.lookupAddress(keyAddr);
    const err = super.deleteAt(keyAddr);
    if (err === 0) this.programs.delete(at);
    return err;
  }
}

/** Registry entry for BPF_MAP_TYPE_DEVMAP_HASH. */
export const devmapHashKind: MapKind = {
  type: MapType.DEVMAP_HASH,
  name: 'devmap_hash',
  check: (spec) => checkDevmapSpec(spec) ?? (spec.maxEntries > 2 ** 31 ? invalid(`max_entries ${spec.maxEntries} has no power-of-two bucket count`) : undefined),
  create: (memory, spec, options) => new DevmapHashMap(memory, spec, options),
};
