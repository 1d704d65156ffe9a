// BPF_MAP_TYPE_PROG_ARRAY (3) (kernel/bpf/arraymap.c, the fd-array part): u32 index keys, u32
// values naming programs, the jump table of bpf_tail_call. Entries hold the runtime's program
// objects, which guest memory cannot hold; JS reads and writes them as program ids (Linux writes
// fds and reads ids). Programs cannot look up or update entries; only bpf_tail_call reads them.
import type { GuestMemory } from '../runtime/memory.js';
import { BPF_ANY, Errno, MapFlag, MapType } from './constants.js';
import { checkArraySpec } from './array.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** A program array: what bpf_tail_call(ctx, map, index) jumps through. */
export class ProgArrayMap extends BaseMap {
  private readonly programs: unknown[];
  private readonly ids: Uint32Array;
  private readonly resolve: ((id: number) => unknown) | undefined;
  private count = 0;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.programs = new Array<unknown>(this.maxEntries).fill(undefined);
    this.ids = new Uint32Array(this.maxEntries);
    this.resolve = options.resolveProgram;
  }

  get size(): number {
    return this.count;
  }

  /** The program at an index, for bpf_tail_call; undefined for an empty slot or an index past the end. */
  programAt(index: number): unknown {
    return index >>> 0 < this.maxEntries ? this.programs[index >>> 0] : undefined;
  }

  /** Puts a program object at an index (the runtime's path; `id` is what JS lookups return). */
  setProgram(index: number, program: unknown, id: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) this.fail('setProgram', Errno.E2BIG);
    if (this.programs[index] === undefined) this.count++;
    this.programs[index] = program;
    this.ids[index] = id;
  }

  /** Programs cannot look up a prog array (the verifier refuses; the kernel's op is -EOPNOTSUPP). */
  lookupAddress(): number {
    return 0;
  }

  /** User-space lookups return the id, so they go through the ids, not guest memory. */
  protected findValue(): number {
    return 0;
  }

  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkAccess('lookup', false);
    if (flags !== 0) this.fail('lookup', Errno.EINVAL);
    const i = this.indexAt(this.keyIn(key));
    if (i >= this.maxEntries || this.programs[i] === undefined) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.ids[i]!, true);
    return out;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    // Only user space updates a prog array (cpu is ALL_CPUS there); a program's update is refused.
    if (cpu >= 0) return -Errno.EINVAL;
    if (flags !== BPF_ANY) return -Errno.EINVAL;
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    const id = this.memory.view.getUint32(valueAddr, true);
    const program = this.resolve?.(id);
    if (program === undefined) return -Errno.EBADF;
    this.setProgram(i, program, id);
    return 0;
  }

  deleteAt(keyAddr: number): number {
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (this.programs[i] === undefined) return -Errno.ENOENT;
    this.programs[i] = undefined;
    this.ids[i] = 0;
    this.count--;
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
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
