// What ARRAY_OF_MAPS and HASH_OF_MAPS share (kernel/bpf/map_in_map.c): the inner-map template
// checked at creation, and the match every inserted map must pass (bpf_map_meta_equal).
import { Errno, MapFlag, MapType } from './constants.js';
import { invalid, type MapCheckFailure } from './kind.js';
import type { BpfMap, MapSpec } from './map.js';

/** bpf_map_meta_alloc: a template must exist and must not itself be a map-in-map or a prog array. */
export function checkInnerTemplate(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.valueSize !== 4) return invalid('value_size must be 4 (an inner map id)');
  const inner = spec.innerMap;
  if (!inner) return { errno: Errno.EBADF, detail: 'a map-in-map needs an inner map template' };
  if (inner.type === MapType.ARRAY_OF_MAPS || inner.type === MapType.HASH_OF_MAPS) return { errno: Errno.ENOTSUPP, detail: 'maps nested more than one level deep' };
  if (inner.type === MapType.PROG_ARRAY) return { errno: Errno.ENOTSUPP, detail: 'prog arrays cannot be inner maps' };
  return undefined;
}

/** bpf_map_meta_equal (and array_map_meta_equal's max_entries rule): whether `map` may go in. */
export function matchesTemplate(template: MapSpec, map: BpfMap): boolean {
  const flags = template.flags ?? 0;
  if (map.type !== template.type || map.keySize !== template.keySize || map.valueSize !== template.valueSize || map.flags !== flags) return false;
  if (template.type === MapType.ARRAY && !(flags & MapFlag.INNER_MAP)) return map.maxEntries === template.maxEntries;
  return true;
}
