// Maps as the CLI prints them: bpftool map dump's JSON, typed by the object's BTF. Global data
// (.data, .rodata, .bss) prints as its variables; ring buffers, queues, stacks and perf event
// arrays print what is waiting in them, without consuming it.
import { PerfEventArrayMap, QueueStackMap, RingbufMap, type LoadedObject } from '../index.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** One map, as JSON. */
function dumpMap(obj: LoadedObject, name: string): unknown {
  const map = obj.map(name);
  const typed = obj.typedMap(name, { bigint: 'string' });
  if (typed.data) {
    const value = map.lookup(new Uint8Array(4)) ?? new Uint8Array(0);
    if (typed.typedData) return typed.decodeValue(value);
    // Sections without a DATASEC: merged strings (.rodata.str1.1) as their strings, others as hex.
    if (/\.str/.test(typed.data.section)) return Buffer.from(value).toString('latin1').split('\0').slice(0, -1);
    return hex(value);
  }
  if (map instanceof RingbufMap) return { pending_bytes: map.size, records: map.pending().map(hex) };
  if (map instanceof QueueStackMap) return { values: [...map.values()].map((v) => typed.decodeValue(v)) };
  if (map instanceof PerfEventArrayMap) return { events: map.pending().map((e) => ('lost' in e ? e : { cpu: e.cpu, data: hex(e.data) })) };
  try {
    return typed.dump();
  } catch {
    // A bloom filter cannot be listed, in Linux either.
    return { entries: map.size, listable: false };
  }
}

/** Every map of an object, as bpftool map dump shows it (BTF-typed where the object says). */
export function dumpMaps(obj: LoadedObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of obj.maps.keys()) out[name] = dumpMap(obj, name);
  return out;
}
