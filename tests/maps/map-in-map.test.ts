// ARRAY_OF_MAPS and HASH_OF_MAPS: inner maps must match the template (bpf_map_meta_equal), a
// program's lookup yields the runtime's handle for the inner map, JS reads and writes inner map ids.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { ArrayOfMapsMap, BPF_ANY, BPF_NOEXIST, createMap, Errno, HashOfMapsMap, MapFlag, MapOpError, MapType, type BpfMap, type MapSpec } from '../../maps/index.js';
import { readU32, u32, errnoOf } from './support.js';

const innerSpec: MapSpec = { type: MapType.ARRAY, name: 'inner', keySize: 4, valueSize: 8, maxEntries: 4 };

/** A memory, a registry of maps by id (standing in for the runtime) and an outer map of `type`. */
function world(type: number, template: MapSpec = innerSpec) {
  const memory = new GuestMemory();
  const byId = new Map<number, BpfMap>();
  const handles = new Map<BpfMap, number>();
  const options = { resolveMap: (id: number) => byId.get(id), mapHandle: (m: BpfMap) => handles.get(m) ?? 0 };
  const add = (id: number, spec: MapSpec) => {
    const m = createMap(memory, spec);
    byId.set(id, m);
    handles.set(m, 0x10000 + id);
    return m;
  };
  const outer = createMap(memory, { type, name: 'outer', keySize: 4, valueSize: 4, maxEntries: 8, innerMap: template }, options);
  const stack = memory.allocate(64, 'stack').start;
  return { memory, outer, add, stack };
}

describe.for([
  { kind: 'array_of_maps', type: MapType.ARRAY_OF_MAPS },
  { kind: 'hash_of_maps', type: MapType.HASH_OF_MAPS },
])('$kind', ({ type }) => {
  test('a program lookup returns the inner map handle; JS reads the inner id', () => {
    const { outer, add, memory, stack } = world(type);
    add(5, innerSpec);
    outer.update(u32(3), u32(5));
    memory.view.setUint32(stack, 3, true);
    expect(outer.lookupAddress(stack)).toBe(0x10005);
    expect(readU32(outer.lookup(u32(3))!)).toBe(5);
    memory.view.setUint32(stack, 2, true);
    expect(outer.lookupAddress(stack)).toBe(0);
    expect(outer.delete(u32(3))).toBe(true);
    expect(outer.delete(u32(3))).toBe(false);
  });

  test.for([
    { what: 'a matching map', spec: innerSpec, errno: 0 },
    { what: 'another type', spec: { ...innerSpec, type: MapType.HASH }, errno: Errno.EINVAL },
    { what: 'another value size', spec: { ...innerSpec, valueSize: 16 }, errno: Errno.EINVAL },
    { what: 'other flags', spec: { ...innerSpec, flags: MapFlag.RDONLY }, errno: Errno.EINVAL },
    { what: 'another max_entries (array template without BPF_F_INNER_MAP)', spec: { ...innerSpec, maxEntries: 9 }, errno: Errno.EINVAL },
  ])('inserting $what -> errno $errno', ({ spec, errno }) => {
    const { outer, add } = world(type);
    add(1, spec);
    expect(errnoOf(() => outer.update(u32(0), u32(1)))).toBe(errno);
  });

  test('BPF_F_INNER_MAP in an array template lets max_entries differ; an unknown id is EBADF', () => {
    const template = { ...innerSpec, flags: MapFlag.INNER_MAP };
    const { outer, add } = world(type, template);
    add(1, { ...template, maxEntries: 100 });
    outer.update(u32(0), u32(1));
    expect(errnoOf(() => outer.update(u32(1), u32(42)))).toBe(Errno.EBADF);
  });

  test('programs cannot update a map-in-map', () => {
    const { outer, add, memory, stack } = world(type);
    add(1, innerSpec);
    memory.view.setUint32(stack, 0, true);
    memory.view.setUint32(stack + 4, 1, true);
    expect(outer.updateAt(stack, stack + 4, BPF_ANY, 0)).toBe(-Errno.EINVAL);
  });
});

test('array_of_maps takes only BPF_ANY; hash_of_maps honours BPF_NOEXIST', () => {
  const a = world(MapType.ARRAY_OF_MAPS);
  a.add(1, innerSpec);
  expect(errnoOf(() => a.outer.update(u32(0), u32(1), BPF_NOEXIST))).toBe(Errno.EINVAL);
  expect((a.outer as ArrayOfMapsMap).innerMapAt(0)).toBeUndefined();
  const h = world(MapType.HASH_OF_MAPS);
  const inner = h.add(1, innerSpec);
  h.outer.update(u32(0), u32(1), BPF_NOEXIST);
  expect(errnoOf(() => h.outer.update(u32(0), u32(1), BPF_NOEXIST))).toBe(Errno.EEXIST);
  h.memory.view.setUint32(h.stack, 0, true);
  expect((h.outer as HashOfMapsMap).innerMapAtKey(h.stack)).toBe(inner);
});

test.for([
  { what: 'no inner template', inner: undefined, errno: Errno.EBADF },
  { what: 'a map-in-map template', inner: { type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, innerMap: innerSpec }, errno: Errno.ENOTSUPP },
  { what: 'a prog array template', inner: { type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }, errno: Errno.ENOTSUPP },
])('creation with $what -> errno $errno', ({ inner, errno }) => {
  for (const type of [MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS]) {
    let thrown: unknown;
    try {
      createMap(new GuestMemory(), { type, name: 'o', keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as MapOpError).errno).toBe(errno);
  }
});
