// A loaded map definition (loader/map-specs.ts) as map creation takes it (maps/map.ts MapSpec), the
// way libbpf's bpf_object__create_map passes it to BPF_MAP_CREATE: with what the kernel learns from
// BTF (the BTF ids of key and value, the key's integer type that map_check_btf checks, where a
// bpf_spin_lock sits in the value), except for the map types libbpf creates without BTF, and with a
// perf event array's max_entries 0 set to the CPU count (map_set_def_max_entries).
import { BtfKind } from '../loader/btf-types.js';
import type { Btf } from '../loader/btf.js';
import type { MapDefinition } from '../loader/map-specs.js';
import { MapType } from '../maps/constants.js';
import type { MapSpec } from '../maps/map.js';

/** Map types whose key and value BTF libbpf does not pass to the kernel (their values are fds, ids or nothing). */
const CREATED_WITHOUT_BTF: ReadonlySet<number> = new Set([
  MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS,
  MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP, MapType.SOCKHASH,
  MapType.QUEUE, MapType.STACK, MapType.ARENA,
]);

/** A map definition as creation takes it on a machine of `cpus` CPUs. */
export function mapSpecOf(def: MapDefinition, btf: Btf | undefined, cpus = 1): MapSpec {
  const typed = btf && !CREATED_WITHOUT_BTF.has(def.type) ? btf : undefined;
  const spinLockOffset = typed && def.valueType !== undefined ? spinLockIn(typed, def.valueType) : undefined;
  const keyInt = typed && def.keyType !== undefined ? intIn(typed, def.keyType) : undefined;
  const maxEntries = def.type === MapType.PERF_EVENT_ARRAY && def.maxEntries === 0 ? cpus : def.maxEntries;
  return {
    ...(typed && def.keyType !== undefined ? { btfKeyTypeId: def.keyType } : {}),
    ...(typed && def.valueType !== undefined ? { btfValueTypeId: def.valueType } : {}),
    ...(keyInt ? { btfKeyInt: keyInt } : {}),
    type: def.type,
    name: def.name,
    keySize: def.keySize,
    valueSize: def.valueSize,
    maxEntries,
    flags: def.flags,
    mapExtra: def.mapExtra,
    ...(spinLockOffset !== undefined ? { spinLockOffset } : {}),
    ...(def.innerMap ? { innerMap: mapSpecOf(def.innerMap, btf, cpus) } : {}),
  };
}

/** An INT type's bits and bit offset, through typedefs and modifiers (btf_type_id_size); undefined for other kinds. */
function intIn(btf: Btf, typeId: number): { bits: number; bitOffset: number } | undefined {
  const t = btf.type(btf.resolve(typeId));
  return t.kind === BtfKind.INT ? { bits: t.bits, bitOffset: t.bitOffset } : undefined;
}

/** Byte offset of a top-level `struct bpf_spin_lock` member of a value type. */
function spinLockIn(btf: Btf, typeId: number): number | undefined {
  const t = btf.type(btf.resolve(typeId));
  if (t.kind !== BtfKind.STRUCT) return undefined;
  for (const m of t.members) {
    const mt = btf.type(btf.resolve(m.type));
    if (mt.kind === BtfKind.STRUCT && mt.name === 'bpf_spin_lock') return m.bitOffset / 8;
  }
  return undefined;
}
