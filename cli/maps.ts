// Maps as the CLI prints them: bpftool map dump's JSON, typed by the object's BTF.
import type { LoadedObject } from '../index.js';

/** Every map of an object, as bpftool map dump shows it (BTF-typed where the object says). */
export function dumpMaps(obj: LoadedObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of obj.maps.keys()) {
    try {
      out[name] = obj.typedMap(name, { bigint: 'string' }).dump();
    } catch {
      // Kinds without keys (ring buffers, queues, perf event arrays) have no dump; report their size.
      out[name] = { entries: obj.map(name).size };
    }
  }
  return out;
}
