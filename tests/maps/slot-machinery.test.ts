// The machinery under the hash-like maps: SlotPool (chunked guest-memory slots with a free list),
// KeyIndex (buckets over refs whose keys stay in guest memory) and SlotList (intrusive order lists),
// all with their tables in guest memory.
import { describe, expect, test } from 'vitest';
import { KeyIndex } from '../../maps/key-index.js';
import { SlotList } from '../../maps/slot-list.js';
import { NONE, SlotPool } from '../../maps/slot-pool.js';
import { GuestMemory, type Region } from '../../runtime/memory.js';

/** A pool in a fresh memory, with the capacities its onGrow reported. */
function pool(slotSize: number, maxSlots: number) {
  const memory = new GuestMemory();
  const regions: Region[] = [];
  const grown: number[] = [];
  const slots = new SlotPool(memory, slotSize, maxSlots, 'test elements', regions, (capacity) => grown.push(capacity));
  return { memory, regions, grown, slots };
}

/** Takes `n` slots, returning their numbers. */
const take = (slots: SlotPool, n: number) => Array.from({ length: n }, () => slots.take());

describe('SlotPool', () => {
  test('numbers slots from 0 and grows its bookkeeping by doubling, from 16, up to maxSlots', () => {
    const { slots, grown } = pool(24, 100);
    expect(take(slots, 40)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(grown).toEqual([16, 32, 64]);
    take(slots, 60);
    expect(grown).toEqual([16, 32, 64, 100]);
    expect(slots.live).toBe(100);
  });

  test('chunks of 256 slots: addresses stay put across chunk boundaries; the last chunk is cut to maxSlots', () => {
    const { slots, regions, memory } = pool(24, 600);
    const chunks = () => regions.filter((r) => r.name === 'test elements');
    // The table of chunk addresses: one word per chunk of 256.
    const table = regions.find((r) => r.name === 'test elements chunk table')!;
    expect(table).toMatchObject({ start: slots.chunks.address, end: slots.chunks.address + 3 * 4 });
    const addresses = take(slots, 257).map((s) => slots.address(s));
    expect(chunks()).toHaveLength(2);
    expect(chunks()[0]).toMatchObject({ start: addresses[0], end: addresses[0]! + 256 * 24 });
    expect(addresses[255]).toBe(addresses[0]! + 255 * 24);
    expect(addresses[256]).toBe(chunks()[1]!.start);
    take(slots, 300);
    expect(chunks().map((r) => r.end - r.start)).toEqual([256 * 24, 256 * 24, 88 * 24]);
    expect([0, 255, 256].map((s) => slots.address(s))).toEqual([addresses[0], addresses[255], addresses[256]]);
    expect([...memory.i32.subarray(slots.chunks.base, slots.chunks.base + 3)]).toEqual(chunks().map((r) => r.start));
  });

  test('preallocate: every chunk and all bookkeeping up front, nothing more later', () => {
    const { slots, regions, grown } = pool(8, 513);
    slots.preallocate();
    const chunks = () => regions.filter((r) => r.name === 'test elements');
    expect(chunks().map((r) => r.end - r.start)).toEqual([256 * 8, 256 * 8, 8]);
    expect(grown).toEqual([513]);
    const before = regions.length;
    take(slots, 513);
    expect(regions).toHaveLength(before);
    expect(grown).toEqual([513]);
  });

  test('freed slots are reused last-freed first, before fresh ones, and keep their bytes', () => {
    const { slots, memory } = pool(8, 32);
    take(slots, 10);
    memory.bytes[slots.address(7)] = 0xab;
    slots.give(3);
    slots.give(7);
    expect(slots.live).toBe(8);
    expect(slots.take()).toBe(7);
    expect(memory.bytes[slots.address(7)]).toBe(0xab);
    expect(slots.take()).toBe(3);
    expect(slots.take()).toBe(10);
    expect(slots.live).toBe(11);
  });
});

describe('KeyIndex', () => {
  /** A pool of 8-byte slots holding u32 keys, and an index over it (one key per slot). */
  function index(maxSlots: number) {
    const { memory, slots, regions } = pool(8, maxSlots);
    const keys = new KeyIndex(memory, slots, 4, regions, 'test index');
    keys.grow(maxSlots);
    const scratch = memory.allocate(8, 'scratch').start;
    const at = (key: number) => {
      memory.view.setUint32(scratch, key, true);
      return scratch;
    };
    const find = (key: number) => keys.find(at(key), keys.hash(at(key)));
    const insert = (key: number) => {
      const s = slots.take();
      memory.view.setUint32(slots.address(s), key, true);
      keys.link(s, keys.hash(slots.address(s)));
      return s;
    };
    return { memory, slots, keys, at, find, insert };
  }

  test('every key stays findable while the buckets double (16 -> 2048)', () => {
    const { find, insert } = index(2000);
    const slotOf = new Map<number, number>();
    for (let k = 0; k < 2000; k++) {
      slotOf.set(k * 7919, insert(k * 7919));
      if ([15, 16, 17, 33, 1024, 1025].includes(k)) for (const [key, s] of slotOf) expect(find(key)).toBe(s);
    }
    for (const [key, s] of slotOf) expect(find(key)).toBe(s);
    expect(find(1)).toBe(NONE);
  });

  test.for(['head', 'middle', 'tail'] as const)('unlink takes a ref from the %s of its chain', (where) => {
    const { find, insert, keys, at } = index(16);
    // Three keys in one of the 16 buckets, and two elsewhere; chains list refs newest first.
    const bucketOf = (key: number) => keys.hash(at(key)) & 15;
    const same = Array.from({ length: 200 }, (_, k) => k + 1).filter((k) => bucketOf(k) === bucketOf(0));
    const others = [100, 101, 102, 103].filter((k) => bucketOf(k) !== bucketOf(0)).slice(0, 2);
    expect(same.length).toBeGreaterThanOrEqual(2);
    expect(others).toHaveLength(2);
    const chain = [0, same[0]!, same[1]!];
    const refs = new Map([...chain, ...others].map((k) => [k, insert(k)]));
    const gone = { head: chain[2]!, middle: chain[1]!, tail: chain[0]! }[where];
    keys.unlink(refs.get(gone)!);
    for (const [key, ref] of refs) expect(find(key)).toBe(key === gone ? NONE : ref);
    insert(gone);
    expect(find(gone)).not.toBe(NONE);
  });

  test('two keys per slot: refs are slot * 2 + side, side 1 at keyStride', () => {
    const { memory, slots, regions } = pool(16, 8);
    const keys = new KeyIndex(memory, slots, 4, regions, 'test index', undefined, 1, 8);
    keys.grow(16);
    const s = slots.take();
    memory.view.setUint32(slots.address(s), 111, true);
    memory.view.setUint32(slots.address(s) + 8, 222, true);
    expect(keys.keyAddress(s * 2 + 1)).toBe(slots.address(s) + 8);
    keys.link(s * 2, keys.hash(keys.keyAddress(s * 2)));
    keys.link(s * 2 + 1, keys.hash(keys.keyAddress(s * 2 + 1)));
    const probe = memory.allocate(4, 'probe').start;
    memory.view.setUint32(probe, 222, true);
    expect(keys.find(probe, keys.hash(probe))).toBe(s * 2 + 1);
    memory.view.setUint32(probe, 111, true);
    expect(keys.find(probe, keys.hash(probe))).toBe(s * 2);
  });
  test('tables that move keep their words, free their old regions, and tell the owner', () => {
    const { memory, slots, regions } = pool(8, 64);
    let moves = 0;
    const keys = new KeyIndex(memory, slots, 4, regions, 'test index', () => moves++);
    keys.grow(64);
    expect(moves).toBe(1);
    const before = keys.buckets.address;
    const scratch = memory.allocate(4, 'scratch').start;
    const hashOf = (at: number) => keys.hash(at);
    for (let k = 0; k < 40; k++) {
      const s = slots.take();
      memory.view.setUint32(slots.address(s), k, true);
      keys.link(s, hashOf(slots.address(s)));
    }
    // 40 refs outgrew 16 and then 32 buckets.
    expect(moves).toBe(3);
    expect(keys.buckets.length).toBe(64);
    expect(memory.find(before, 4)).toBeUndefined();
    expect(regions.some((r) => r.start === before)).toBe(false);
    for (let k = 0; k < 40; k++) {
      memory.view.setUint32(scratch, k, true);
      expect(keys.find(scratch, hashOf(scratch))).not.toBe(NONE);
    }
  });
});

describe('SlotList', () => {
  const walk = (list: SlotList) => {
    const out: number[] = [];
    for (let s = list.head; s !== NONE; s = list.after(s)) out.push(s);
    return out;
  };
  const list = (...slots: number[]) => {
    const l = new SlotList(new GuestMemory(), 'test list', []);
    l.grow(16);
    for (const s of slots) l.append(s);
    return l;
  };

  test('append keeps order; an empty list has no head or tail', () => {
    const l = list();
    expect([l.head, l.tail]).toEqual([NONE, NONE]);
    for (const s of [5, 2, 9]) l.append(s);
    expect(walk(l)).toEqual([5, 2, 9]);
    expect([l.head, l.tail]).toEqual([5, 9]);
  });

  test.for([
    { at: 'head', slot: 5, rest: [2, 9, 7] },
    { at: 'middle', slot: 9, rest: [5, 2, 7] },
    { at: 'tail', slot: 7, rest: [5, 2, 9] },
  ])('unlink at the $at', ({ slot, rest }) => {
    const l = list(5, 2, 9, 7);
    l.unlink(slot);
    expect(walk(l)).toEqual(rest);
    expect([l.head, l.tail]).toEqual([rest[0], rest[rest.length - 1]]);
    l.append(slot);
    expect(walk(l)).toEqual([...rest, slot]);
  });

  test('unlinking the only slot empties the list', () => {
    const l = list(3);
    l.unlink(3);
    expect([l.head, l.tail, walk(l).length]).toEqual([NONE, NONE, 0]);
  });

  test('moveToTail: head, middle and tail (a no-op) moves', () => {
    const l = list(1, 2, 3, 4);
    l.moveToTail(1);
    expect(walk(l)).toEqual([2, 3, 4, 1]);
    l.moveToTail(3);
    expect(walk(l)).toEqual([2, 4, 1, 3]);
    l.moveToTail(3);
    expect(walk(l)).toEqual([2, 4, 1, 3]);
  });

  test('grow keeps the links', () => {
    const l = list(1, 15, 0);
    l.grow(64);
    l.append(40);
    expect(walk(l)).toEqual([1, 15, 0, 40]);
  });
});
