// BPF_MAP_TYPE_PROG_ARRAY (3) (kernel/bpf/arraymap.c, the fd-array part): u32 index keys, u32
// values naming programs, the jump table of bpf_tail_call. Entries hold the runtime's program
// objects, which guest memory cannot hold; JS reads and writes them as program ids (Linux writes
// fds and reads ids). Programs cannot look up or update entries; only bpf_tail_call reads them.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag, MapType } from './constants.js';
import { checkArraySpec } from './array.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { FdArrayMap } from './fd-array.js';
import type { MapOptions, MapSpec } from './map.js';

/** A program array: what bpf_tail_call(ctx, map, index) jumps through. */
export class ProgArrayMap extends FdArrayMap<unknown> {
  private readonly resolve: MapOptions['resolveProgram'];

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options);
    this.resolve = options.resolveProgram;
  }

  protected resolveId(id: number): unknown {
    return this.resolve?.(id, 'prog_array', this);
  }

  /** The program at an index, for bpf_tail_call; undefined for an empty slot or an index past the end. */
  programAt(index: number): unknown {
    return this.entryAt(index);
  }

  /** Puts a program object at an index (the runtime's path; `id` is what JS lookups return). */
  setProgram(index: number, program: unknown, id: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) this.fail('setProgram', Errno.E2BIG);
    this.putEntry(index, program, id);
  }

  /** Programs cannot look up a prog array (the verifier refuses; the kernel's op is -EOPNOTSUPP). */
  lookupAddress(): number {
    return 0;
  }
}

/** fd_array_map_alloc_check: u32 values and no program access flags, then the array checks. */
export function checkProgArraySpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.valueSize !== 4) return invalid('value_size must be 4');
  if ((spec.flags ?? 0) & (MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG)) return invalid('BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not allowed');
  if (spec.spinLockOffset !== undefined) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in prog arrays' };
  return checkArraySpec(spec, false, true);
}

/** Registry entry for BPF_MAP_TYPE_PROG_ARRAY. */
export const progArrayKind: MapKind = {
  type: MapType.PROG_ARRAY,
  name: 'prog_array',
  check: checkProgArraySpec,
  create: (memory, spec, options) => new ProgArrayMap(memory, spec, options),
};
