// BPF_MAP_TYPE_CPUMAP (16) (kernel/bpf/cpumap.c): simulated CPUs by index for bpf_redirect_map,
// each with a queue size and an optional program. Values are `struct bpf_cpumap_val` (4 bytes:
// qsize; 8: qsize and a program fd/id); qsize 0 empties the slot.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag, MapType } from './constants.js';
import { checkFlags, invalid, tooBig, type MapCheckFailure, type MapKind } from './kind.js';
import type { MapOptions, MapSpec } from './map.js';
import { RedirectTargetArray, type TargetVerdict } from './redirect-target.js';

/** NR_CPUS of a common x86_64 configuration: the creation limit on max_entries. */
const NR_CPUS = 8192;
/** cpu_map_update_elem's sanity limit on qsize. */
const MAX_QSIZE = 16384;

/** A CPU map. */
export class CpumapMap extends RedirectTargetArray {
  private readonly cpus_: number;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options);
    this.cpus_ = options.cpus ?? 1;
  }

  protected accept(index: number, qsize: number, programId: number | undefined): TargetVerdict {
    if (qsize > MAX_QSIZE) return { errno: Errno.EOVERFLOW };
    if (index >= this.cpus_) return { errno: Errno.ENODEV };
    if (qsize === 0) return { clear: true };
    if (programId === undefined) return { program: undefined };
    const program = this.options.resolveProgram?.(programId, 'cpumap', this);
    // The kernel reports any failure to set up the entry, a bad program included, as -ENOMEM.
    return program === undefined ? { errno: Errno.ENOMEM } : { program };
  }
}

/** cpu_map_alloc's checks. */
export function checkCpumapSpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.maxEntries === 0 || spec.keySize !== 4 || (spec.valueSize !== 4 && spec.valueSize !== 8)) return invalid('key_size must be 4, value_size 4 or 8, max_entries non-zero');
  const bad = checkFlags(spec.flags ?? 0, MapFlag.NUMA_NODE);
  if (bad) return bad;
  if (spec.maxEntries > NR_CPUS) return tooBig(`max_entries ${spec.maxEntries} exceeds NR_CPUS (${NR_CPUS})`);
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_CPUMAP. */
export const cpumapKind: MapKind = {
  type: MapType.CPUMAP,
  name: 'cpumap',
  check: checkCpumapSpec,
  create: (memory, spec, options) => new CpumapMap(memory, spec, options),
};
