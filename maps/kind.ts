// What the registry holds for each map type: its name, Linux's creation check and a constructor.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag } from './constants.js';
import type { BpfMap, MapOptions, MapSpec } from './map.js';

/** Why creation is refused: the errno bpf(BPF_MAP_CREATE) returns and a readable reason. */
export interface MapCheckFailure {
  readonly errno: number;
  readonly detail: string;
}

/** One map type: its BPF_MAP_TYPE_* number, its name and how to build it. */
export interface MapKind {
  readonly type: number;
  /** Linux's name without the prefix, lower case: "hash", "lru_percpu_hash", ... */
  readonly name: string;
  /** Linux's map_alloc_check (and the checks in map_alloc): undefined when the spec is valid. */
  check(spec: MapSpec, options: MapOptions): MapCheckFailure | undefined;
  /** Builds a map from a spec that passed `check`. */
  create(memory: GuestMemory, spec: MapSpec, options: MapOptions): BpfMap;
}

/** A failure with -EINVAL. */
export function invalid(detail: string): MapCheckFailure {
  return { errno: Errno.EINVAL, detail };
}

/** A failure with -E2BIG. */
export function tooBig(detail: string): MapCheckFailure {
  return { errno: Errno.E2BIG, detail };
}

/** bpf_map_flags_access_ok and the flag mask: the flags outside `allowed`, or a contradictory access pair. */
export function checkFlags(flags: number, allowed: number): MapCheckFailure | undefined {
  if (flags & ~allowed) return invalid(`map_flags 0x${flags.toString(16)} include flags this map type does not accept (0x${(flags & ~allowed).toString(16)})`);
  if ((flags & MapFlag.RDONLY_PROG) && (flags & MapFlag.WRONLY_PROG)) return invalid('BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together');
  return undefined;
}

/** Rounds up to a power of two (1 for 0), in doubles so values past 2^31 stay exact. */
export function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
