// PROG_ARRAY: program objects by index for bpf_tail_call, ids on the JS side, Linux's errnos for
// flags, indexes, empty slots and unknown programs.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, createMap, Errno, MapType, ProgArrayMap } from '../../maps/index.js';
import { readU32, u32, errnoOf } from './support.js';

const programs = new Map<number, { name: string }>([[7, { name: 'seven' }], [8, { name: 'eight' }]]);
const make = () => {
  const memory = new GuestMemory();
  const map = createMap(memory, { type: MapType.PROG_ARRAY, name: 'jmp', keySize: 4, valueSize: 4, maxEntries: 4 }, { resolveProgram: (id) => programs.get(id) }) as ProgArrayMap;
  const stack = memory.allocate(64, 'stack').start;
  return { memory, map, stack };
};

describe('prog_array', () => {
  test('JS writes program ids, the tail-call path reads program objects, JS lookups read ids', () => {
    const { map } = make();
    expect(map.programAt(1)).toBeUndefined();
    map.update(u32(1), u32(7));
    expect(map.programAt(1)).toBe(programs.get(7));
    expect(readU32(map.lookup(u32(1))!)).toBe(7);
    expect(map.lookup(u32(0))).toBeUndefined();
    expect(map.programAt(4)).toBeUndefined();
    expect(map.programAt(-1)).toBeUndefined();
    expect(map.size).toBe(1);
    expect([...map.entries()].map(([k, v]) => [readU32(k), readU32(v)])).toEqual([[1, 7]]);
  });

  test.for([
    { what: 'BPF_ANY', index: 0, id: 7, flags: BPF_ANY, errno: 0 },
    { what: 'BPF_NOEXIST', index: 0, id: 7, flags: BPF_NOEXIST, errno: Errno.EINVAL },
    { what: 'BPF_EXIST', index: 0, id: 7, flags: BPF_EXIST, errno: Errno.EINVAL },
    { what: 'index past the end', index: 4, id: 7, flags: BPF_ANY, errno: Errno.E2BIG },
    { what: 'unknown program', index: 0, id: 99, flags: BPF_ANY, errno: Errno.EBADF },
  ])('update: $what -> errno $errno', ({ index, id, flags, errno }) => {
    const { map } = make();
    expect(errnoOf(() => map.update(u32(index), u32(id), flags))).toBe(errno);
  });

  test('delete: 0, then -ENOENT for an empty slot, -E2BIG past the end', () => {
    const { map, memory, stack } = make();
    map.update(u32(2), u32(8));
    memory.view.setUint32(stack, 2, true);
    expect(map.deleteAt(stack)).toBe(0);
    expect(map.deleteAt(stack)).toBe(-Errno.ENOENT);
    expect(map.programAt(2)).toBeUndefined();
    memory.view.setUint32(stack, 9, true);
    expect(map.deleteAt(stack)).toBe(-Errno.E2BIG);
  });

  test('programs can neither look up nor update entries', () => {
    const { map, memory, stack } = make();
    map.update(u32(0), u32(7));
    memory.view.setUint32(stack, 0, true);
    memory.view.setUint32(stack + 4, 8, true);
    expect(map.lookupAddress(stack)).toBe(0);
    expect(map.updateAt(stack, stack + 4, BPF_ANY, 0)).toBe(-Errno.EINVAL);
    expect(map.programAt(0)).toBe(programs.get(7));
  });

  test.for([
    { what: 'value size 8', spec: { valueSize: 8 } },
    { what: 'key size 8', spec: { keySize: 8 } },
    { what: 'BPF_F_RDONLY_PROG', spec: { flags: 1 << 7 } },
    { what: 'BPF_F_MMAPABLE', spec: { flags: 1 << 10 } },
  ])('creation refuses $what with -EINVAL', ({ spec }) => {
    expect(() => createMap(new GuestMemory(), { type: MapType.PROG_ARRAY, name: 'bad', keySize: 4, valueSize: 4, maxEntries: 4, ...spec })).toThrow(/EINVAL/);
  });
});
