// Guest memory: the NULL guard, zero-filled regions, reuse through size classes, growth, lookups.
import { describe, expect, test } from 'vitest';
import { GuestMemory, NULL_GUARD, OutOfGuestMemoryError } from '../../runtime/memory.js';

describe('guest memory', () => {
  test('never allocates below the NULL guard', () => {
    const m = new GuestMemory();
    expect(m.allocate(1, 'a').start).toBeGreaterThanOrEqual(NULL_GUARD);
    expect(m.find(0, 1)).toBeUndefined();
  });

  test('regions are zero-filled, found by address, and reused after free', () => {
    const m = new GuestMemory();
    const a = m.allocate(100, 'a');
    m.bytes.fill(0xff, a.start, a.end);
    expect(m.find(a.start + 10, 90)).toBe(a);
    expect(m.find(a.start + 10, 91)).toBeUndefined();
    m.free(a);
    expect(m.find(a.start, 1)).toBeUndefined();
    const b = m.allocate(120, 'b');
    expect(b.start).toBe(a.start);
    expect([...m.bytes.subarray(b.start, b.end)].every((x) => x === 0)).toBe(true);
  });

  test('grows the WebAssembly memory and refreshes its views', () => {
    const m = new GuestMemory({ initialPages: 1 });
    const big = m.allocate(200_000, 'big');
    expect(m.memory.buffer.byteLength).toBeGreaterThanOrEqual(big.end);
    expect(m.bytes.length).toBe(m.memory.buffer.byteLength);
    m.bytes[big.end - 1] = 7;
    expect(m.view.getUint8(big.end - 1)).toBe(7);
  });

  test('refuses to grow past its maximum', () => {
    const m = new GuestMemory({ initialPages: 1, maximumPages: 2 });
    expect(() => m.allocate(200_000, 'too big')).toThrow(OutOfGuestMemoryError);
  });

  test('read-only regions are marked so', () => {
    const m = new GuestMemory();
    expect(m.allocate(8, 'ro', { writable: false }).writable).toBe(false);
  });
});
