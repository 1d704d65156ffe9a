// QUEUE and STACK: order, overwrite of the oldest with BPF_EXIST, errnos of push/pop/peek and of
// the keyed operations Linux refuses.
import { describe, expect, test } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, Errno, MapType, QueueStackMap } from '../../maps/index.js';
import { readU32, setup, u32 } from './support.js';

const make = (type: number, maxEntries = 3) => {
  const s = setup({ type, name: type === MapType.QUEUE ? 'q' : 's', keySize: 0, valueSize: 4, maxEntries });
  return { ...s, q: s.map as QueueStackMap };
};
const drain = (q: QueueStackMap) => {
  const out: number[] = [];
  for (let v = q.pop(); v; v = q.pop()) out.push(readU32(v));
  return out;
};

describe.for([
  { kind: 'queue', type: MapType.QUEUE, order: [1, 2, 3], overwritten: [2, 3, 4] },
  { kind: 'stack', type: MapType.STACK, order: [3, 2, 1], overwritten: [4, 3, 2] },
])('$kind', ({ type, order, overwritten }) => {
  test('pops in order', () => {
    const { q } = make(type);
    for (const v of [1, 2, 3]) q.push(u32(v));
    expect([...q.values()].map((v) => readU32(v))).toEqual(order);
    expect(readU32(q.peek()!)).toBe(order[0]);
    expect(q.size).toBe(3);
    expect(drain(q)).toEqual(order);
    expect(q.pop()).toBeUndefined();
  });

  test('full: BPF_ANY is -E2BIG, BPF_EXIST overwrites the oldest', () => {
    const { q, put } = make(type);
    for (const v of [1, 2, 3]) q.push(u32(v));
    expect(q.pushAt(put(u32(4)), BPF_ANY)).toBe(-Errno.E2BIG);
    expect(q.pushAt(put(u32(4)), BPF_EXIST)).toBe(0);
    expect(drain(q)).toEqual(overwritten);
  });

  test.for([
    { flags: BPF_NOEXIST, errno: Errno.EINVAL },
    { flags: 3, errno: Errno.EINVAL },
    { flags: 8, errno: Errno.EINVAL },
    { flags: BPF_EXIST, errno: 0 },
  ])('push flags $flags -> errno $errno', ({ flags, errno }) => {
    const { q, put } = make(type);
    expect(q.pushAt(put(u32(1)), flags)).toBe(errno ? -errno : 0);
  });

  test('pop and peek from a program copy into its buffer; empty is -ENOENT', () => {
    const { q, memory, put } = make(type);
    const buf = put(new Uint8Array(4), 64);
    expect(q.popAt(buf)).toBe(-Errno.ENOENT);
    expect(q.peekAt(buf)).toBe(-Errno.ENOENT);
    q.pushAt(put(u32(7)), BPF_ANY);
    expect(q.peekAt(buf)).toBe(0);
    expect(memory.view.getUint32(buf, true)).toBe(7);
    expect(q.size).toBe(1);
    memory.view.setUint32(buf, 0, true);
    expect(q.popAt(buf)).toBe(0);
    expect(memory.view.getUint32(buf, true)).toBe(7);
    expect(q.size).toBe(0);
  });

  test('the ring wraps around many times', () => {
    const { q } = make(type, 4);
    const ref: number[] = [];
    for (let i = 0; i < 100; i++) {
      q.push(u32(i));
      ref.push(i);
      if (i % 3 === 2) {
        const got = readU32(q.pop()!);
        expect(got).toBe(type === MapType.QUEUE ? ref.shift() : ref.pop());
      }
      if (ref.length === 4) {
        q.pop();
        if (type === MapType.QUEUE) ref.shift();
        else ref.pop();
      }
    }
    expect(drain(q)).toEqual(type === MapType.QUEUE ? ref : ref.reverse());
  });

  test('keyed operations are refused as in Linux; bpf(2) lookup/update/lookup-and-delete are peek/push/pop', () => {
    const { q, put } = make(type);
    expect(q.lookupAddress(put(u32(0)))).toBe(0);
    expect(q.updateAt(0, put(u32(1)), BPF_ANY)).toBe(-Errno.EINVAL);
    expect(q.deleteAt(0)).toBe(-Errno.EINVAL);
    expect(() => q.getNextKey()).toThrow(/EINVAL/);
    expect(() => q.lookupBatch(1)).toThrow(/ENOTSUPP/);
    const none = new Uint8Array(0);
    q.update(none, u32(5));
    q.update(none, u32(6));
    expect(readU32(q.lookup(none)!)).toBe(type === MapType.QUEUE ? 5 : 6);
    expect(readU32(q.lookupAndDelete(none)!)).toBe(type === MapType.QUEUE ? 5 : 6);
    expect(q.size).toBe(1);
    expect(() => q.push(u32(1).subarray(0, 2))).toThrow('map ' + q.name + ': value must be 4 bytes, got 2');
    expect(() => q.lookup(u32(0))).toThrow(/key must be 0 bytes, got 4/);
  });
});
