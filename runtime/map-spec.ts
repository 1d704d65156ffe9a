// A loaded map definition (loader/map-specs.ts) as map creation takes it (maps/map.ts MapSpec): with
// what BPF_MAP_CREATE learns from BTF, the BTF ids of key and value, the key's integer type that
// map_check_btf checks (socket storage needs a 32-bit int), and where a bpf_spin_lock sits in the value.
import { BtfKind } from '../loader/btf-types.js';
import type { Btf } from '../loader/btf.js';
import type { MapDefinition } from '../loader/map-specs.js';
import type { MapSpec } from '../maps/map.js';

/** A map definition as creation takes it, with the spin lock's offset found in the value's BTF, and the BTF ids and key type map_check_btf looks at. */
export function mapSpecOf(def: MapDefinition, btf: Btf | undefined): MapSpec {
  const spinLockOffset = btf && def.valueType !== undefined ? spinLockIn(btf, def.valueType) : undefined;
  const keyInt = btf && def.keyType !== undefined ? intIn(btf, def.keyType) : undefined;
  return {
    ...(btf && def.keyType !== undefined ? { btfKeyTypeId: def.keyType } : {}),
    ...(btf && def.valueType !== undefined ? { btfValueTypeId: def.valueType } : {}),
    ...(keyInt ? { btfKeyInt: keyInt } : {}),
    type: def.type,
    name: def.name,
    keySize: def.keySize,
    valueSize: def.valueSize,
    maxEntries: def.maxEntries,
    flags: def.flags,
    mapExtra: def.mapExtra,
    ...(spinLockOffset !== undefined ? { spinLockOffset } : {}),
    ...(def.innerMap ? { innerMap: mapSpecOf(def.innerMap, btf) } : {}),
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
