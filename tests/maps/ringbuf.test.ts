// RINGBUF: reserve/submit/discard/output from the program side, Linux's record headers, ordering
// behind a still-reserved record, wrap-around, space limits, query, and draining from JS.
import { describe, expect, test } from 'vitest';
import { GuestMemory } from '../../runtime/memory.js';
import { BPF_RB_NO_WAKEUP, createMap, Errno, MapType, RingbufMap, RingbufQuery } from '../../maps/index.js';
import { readU32, u32 } from './support.js';

const make = (size = 4096) => {
  const memory = new GuestMemory();
  const rb = createMap(memory, { type: MapType.RINGBUF, name: 'events', keySize: 0, valueSize: 0, maxEntries: size }) as RingbufMap;
  const stack = memory.allocate(512, 'stack').start;
  return { memory, rb, stack };
};
const drainAll = (rb: RingbufMap) => {
  const out: Uint8Array[] = [];
  rb.drain((r) => out.push(r));
  return out;
};

describe('ringbuf', () => {
  test('reserve writes a busy header; submit publishes; drain delivers copies in order', () => {
    const { memory, rb } = make();
    const a = rb.reserve(5, 0);
    expect(a).not.toBe(0);
    expect(memory.view.getUint32(a - 8, true)).toBe((0x80000000 | 5) >>> 0);
    memory.bytes.set([1, 2, 3, 4, 5], a);
    const b = rb.reserve(4, 0);
    expect(b - a).toBe(16); // 8-byte header + 5 bytes rounded up to 8
    memory.view.setUint32(b, 0xdeadbeef, true);
    rb.commit(b, 0, false);
    expect(drainAll(rb)).toEqual([]); // the first record is still reserved, so nothing passes it
    rb.commit(a, 0, false);
    expect(memory.view.getUint32(a - 8, true)).toBe(5);
    const got = drainAll(rb);
    expect(got.map((r) => [...r])).toEqual([[1, 2, 3, 4, 5], [0xef, 0xbe, 0xad, 0xde]]);
    expect(rb.query(RingbufQuery.AVAIL_DATA)).toBe(0);
    expect(rb.query(RingbufQuery.CONS_POS)).toBe(32);
    expect(rb.query(RingbufQuery.PROD_POS)).toBe(32);
    expect(rb.query(RingbufQuery.RING_SIZE)).toBe(4096);
    expect(rb.query(99)).toBe(0);
  });

  test('pending() shows the submitted records without consuming them', () => {
    const { memory, rb } = make();
    const a = rb.reserve(3, 0);
    memory.bytes.set([1, 2, 3], a);
    rb.commit(a, 0, false);
    const b = rb.reserve(2, 0);
    memory.bytes.set([4, 5], b);
    rb.commit(b, 0, true); // discarded
    const c = rb.reserve(1, 0); // still reserved: nothing past it is visible
    expect(rb.pending().map((r) => [...r])).toEqual([[1, 2, 3]]);
    rb.commit(c, 0, false);
    expect(rb.pending().map((r) => [...r])).toEqual([[1, 2, 3], [0]]);
    expect(drainAll(rb).map((r) => [...r])).toEqual([[1, 2, 3], [0]]);
    expect(rb.pending()).toEqual([]);
  });

  test('discarded records are skipped', () => {
    const { rb, memory, stack } = make();
    const a = rb.reserve(8, 0);
    rb.commit(a, 0, true);
    expect(memory.view.getUint32(a - 8, true)).toBe((0x40000000 | 8) >>> 0);
    memory.view.setUint32(stack, 7, true);
    expect(rb.output(stack, 4, 0)).toBe(0);
    expect(drainAll(rb).map((r) => readU32(r))).toEqual([7]);
  });

  test.for([
    { what: 'non-zero reserve flags', size: 8, flags: 1, ok: false },
    { what: 'a record larger than the ring', size: 4096, flags: 0, ok: false },
    { what: 'a record that fits', size: 4000, flags: 0, ok: true },
  ])('reserve: $what', ({ size, flags, ok }) => {
    const { rb } = make();
    expect(rb.reserve(size, flags) !== 0).toBe(ok);
  });

  test('a full ring refuses reserve (NULL) and output (-EAGAIN) until drained; bad output flags are -EINVAL', () => {
    const { rb, stack } = make();
    let n = 0;
    while (rb.output(stack, 56, 0) === 0) n++;
    expect(n).toBe(63); // 64-byte records; the producer stays at most size - 1 ahead
    expect(rb.reserve(56, 0)).toBe(0);
    expect(rb.output(stack, 56, 0)).toBe(-Errno.EAGAIN);
    expect(rb.output(stack, 8, 4)).toBe(-Errno.EINVAL);
    expect(drainAll(rb)).toHaveLength(63);
    expect(rb.output(stack, 8, 0)).toBe(0);
  });

  test('records that wrap past the end stay contiguous and read back whole', () => {
    const { rb, memory, stack } = make();
    for (let i = 0; i < 200; i++) memory.bytes[stack + i] = i;
    const seen: number[] = [];
    for (let round = 0; round < 100; round++) {
      const size = 50 + (round % 7) * 20;
      memory.bytes[stack] = round;
      expect(rb.output(stack, size, 0)).toBe(0);
      rb.drain((r) => {
        expect(r.length).toBe(size);
        expect(r[size - 1]).toBe(size - 1);
        seen.push(r[0]!);
      });
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(rb.query(RingbufQuery.PROD_POS)).toBeGreaterThan(4096 * 2);
  });

  test('an async iterator yields records as they are submitted and ends on close', async () => {
    const { rb, stack, memory } = make();
    const got: number[] = [];
    const reading = (async () => {
      for await (const r of rb) got.push(readU32(r));
    })();
    for (let i = 1; i <= 3; i++) {
      memory.view.setUint32(stack, i, true);
      rb.output(stack, 4, i === 2 ? BPF_RB_NO_WAKEUP : 0);
      await new Promise((r) => setTimeout(r, 1));
    }
    rb.close();
    await reading;
    expect(got).toEqual([1, 2, 3]);
  });

  test('keyed operations are -ENOTSUPP', () => {
    const { rb, stack } = make();
    expect(rb.lookupAddress(stack)).toBe(0);
    expect(rb.updateAt(stack, stack, 0)).toBe(-Errno.ENOTSUPP);
    expect(rb.deleteAt(stack)).toBe(-Errno.ENOTSUPP);
    expect(() => rb.lookup(new Uint8Array(0))).toThrow(/ENOTSUPP/);
    expect(() => rb.getNextKey()).toThrow(/ENOTSUPP/);
  });

  test.for([
    { what: 'max_entries not a power of two', spec: { maxEntries: 3 * 4096 } },
    { what: 'max_entries below a page', spec: { maxEntries: 2048 } },
    { what: 'a key size', spec: { keySize: 4 } },
    { what: 'a value size', spec: { valueSize: 4 } },
    { what: 'BPF_F_NO_PREALLOC', spec: { flags: 1 } },
  ])('creation refuses $what with -EINVAL', ({ spec }) => {
    expect(() => createMap(new GuestMemory(), { type: MapType.RINGBUF, name: 'bad', keySize: 0, valueSize: 0, maxEntries: 4096, ...spec })).toThrow(/EINVAL/);
  });
});
