// PERF_EVENT_ARRAY: bpf_perf_event_output's index rules and errnos, per-CPU buffers opened from JS,
// lost-sample counting when a buffer is full, draining by callback and async iterator.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { BPF_F_CURRENT_CPU, createMap, Errno, MapFlag, MapType, PerfEventArrayMap, type PerfEvent } from '../../maps/index.js';
import { readU32 } from './support.js';

const make = (maxEntries = 4) => {
  const memory = new GuestMemory();
  const map = createMap(memory, { type: MapType.PERF_EVENT_ARRAY, name: 'events', keySize: 4, valueSize: 4, maxEntries }) as PerfEventArrayMap;
  const stack = memory.allocate(512, 'stack').start;
  memory.view.setUint32(stack, 0xabcd, true);
  return { memory, map, stack };
};

describe('perf_event_array', () => {
  test.for([
    { what: 'BPF_F_CURRENT_CPU', index: BPF_F_CURRENT_CPU, cpu: 2, open: [2], errno: 0 },
    { what: 'its own index', index: 1, cpu: 1, open: [1], errno: 0 },
    { what: "another CPU's buffer", index: 1, cpu: 2, open: [1, 2], errno: Errno.EOPNOTSUPP },
    { what: 'a slot with no buffer', index: BPF_F_CURRENT_CPU, cpu: 3, open: [0], errno: Errno.ENOENT },
    { what: 'an index past the end', index: 4, cpu: 0, open: [0], errno: Errno.E2BIG },
    { what: 'a CPU past the end', index: BPF_F_CURRENT_CPU, cpu: 7, open: [0], errno: Errno.E2BIG },
  ])('output to $what -> errno $errno', ({ index, cpu, open, errno }) => {
    const { map, stack } = make();
    for (const i of open) map.open(i);
    expect(map.outputAt(index, cpu, stack, 4)).toBe(errno ? -errno : 0);
  });

  test('samples arrive per CPU as copies, with appended packet bytes', () => {
    const { map, stack, memory } = make();
    map.openAll();
    map.outputAt(BPF_F_CURRENT_CPU, 1, stack, 4);
    memory.view.setUint32(stack, 7, true);
    map.outputAt(BPF_F_CURRENT_CPU, 3, stack, 4, Uint8Array.of(9, 9));
    const events: PerfEvent[] = [];
    expect(map.pending()).toHaveLength(2); // pending() leaves them for the drain
    expect(map.drain((e) => events.push(e))).toBe(2);
    expect(map.pending()).toEqual([]);
    expect(events.map((e) => ('data' in e ? [e.cpu, readU32(e.data), e.data.length] : []))).toEqual([[1, 0xabcd, 4], [3, 7, 6]]);
    expect(map.drain(() => {})).toBe(0);
  });

  test('a full buffer counts lost samples, reported before the kept ones', () => {
    const { map, stack } = make(1);
    map.open(0, 1); // 4096 bytes: 8 + roundUp8(4 + 100) = 112 per sample, so 36 fit
    for (let i = 0; i < 40; i++) map.outputAt(0, 0, stack, 100);
    const events: PerfEvent[] = [];
    map.drain((e) => events.push(e));
    expect(events[0]).toEqual({ cpu: 0, lost: 4 });
    expect(events.length).toBe(37);
  });

  test('an async iterator yields events as they are output and ends on close', async () => {
    const { map, stack } = make();
    map.open(0);
    const got: PerfEvent[] = [];
    const reading = (async () => {
      for await (const e of map) got.push(e);
    })();
    map.outputAt(0, 0, stack, 4);
    await new Promise((r) => setTimeout(r, 1));
    map.outputAt(0, 0, stack, 2);
    map.close();
    await reading;
    expect(got.map((e) => ('data' in e ? e.data.length : -1))).toEqual([4, 2]);
  });

  test('delete closes a slot (-ENOENT when empty, -E2BIG past the end); lookups are -ENOTSUPP', () => {
    const { map, memory, stack } = make();
    map.open(2);
    memory.view.setUint32(stack + 8, 2, true);
    expect(map.deleteAt(stack + 8)).toBe(0);
    expect(map.deleteAt(stack + 8)).toBe(-Errno.ENOENT);
    memory.view.setUint32(stack + 8, 4, true);
    expect(map.deleteAt(stack + 8)).toBe(-Errno.E2BIG);
    expect(() => map.lookup(new Uint8Array(4))).toThrow(/ENOTSUPP/);
  });

  test.for([
    { what: 'BPF_F_PRESERVE_ELEMS', flags: MapFlag.PRESERVE_ELEMS, ok: true },
    { what: 'BPF_F_RDONLY_PROG', flags: MapFlag.RDONLY_PROG, ok: false },
    { what: 'BPF_F_MMAPABLE', flags: MapFlag.MMAPABLE, ok: false },
  ])('creation with $what', ({ flags, ok }) => {
    const create = () => createMap(new GuestMemory(), { type: MapType.PERF_EVENT_ARRAY, name: 'p', keySize: 4, valueSize: 4, maxEntries: 2, flags });
    if (ok) expect(create().flags).toBe(flags);
    else expect(create).toThrow(/EINVAL/);
  });
});
