// BPF_MAP_TYPE_DEVMAP (14) (kernel/bpf/devmap.c): interfaces by index for bpf_redirect_map, each
// with an optional program run on frames redirected to it. Values are `struct bpf_devmap_val`
// (4 bytes: ifindex; 8: ifindex and a program fd/id); ifindex 0 empties the slot.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, type MapCheckFailure, type MapKind } from './kind.js';
import type { BpfMap, MapOptions, MapSpec } from './map.js';
import { RedirectTargetArray, type TargetVerdict } from './redirect-target.js';

/** DEV_CREATE_FLAG_MASK. */
const DEV_CREATE_FLAG_MASK = MapFlag.NUMA_NODE | MapFlag.RDONLY | MapFlag.WRONLY;

/** The value rules DEVMAP and DEVMAP_HASH share (__dev_map_alloc_node). */
export function acceptDevmapValue(options: MapOptions, map: BpfMap, ifindex: number, programId: number | undefined): TargetVerdict {
  if (ifindex === 0) return programId !== undefined ? { errno: Errno.EINVAL } : { clear: true };
  if (options.netdevExists && !options.netdevExists(ifindex)) return { errno: Errno.EINVAL };
  if (programId === undefined) return { program: undefined };
  const program = options.resolveProgram?.(programId, 'devmap', map);
  return program === undefined ? { errno: Errno.EINVAL } : { program };
}

/** dev_map_init_map's checks, for DEVMAP and DEVMAP_HASH. */
export function checkDevmapSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.maxEntries === 0 || spec.keySize !== 4 || (spec.valueSize !== 4 && spec.valueSize !== 8)) return invalid('key_size must be 4, value_size 4 or 8, max_entries non-zero');
  return checkFlags(spec.flags ?? 0, DEV_CREATE_FLAG_MASK);
}

/** A device map. */
export class DevmapMap extends RedirectTargetArray {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options);
  }

  protected accept(_index: number, ifindex: number, programId: number | undefined): TargetVerdict {
    return acceptDevmapValue(this.options, this, ifindex, programId);
  }
}

/** Registry entry for BPF_MAP_TYPE_DEVMAP. */
export const devmapKind: MapKind = {
  type: MapType.DEVMAP,
  name: 'devmap',
  check: checkDevmapSpec,
  create: (memory, spec, options) => new DevmapMap(memory, spec, options),
};
