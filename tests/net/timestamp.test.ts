// net/capture/timestamp.ts: pcapng's 64-bit unit counts to seconds + nanoseconds and back, exact
// for every resolution and every count below 2^64, checked against BigInt arithmetic.
import { describe, expect, test } from 'vitest';
import { Prng } from '../../fuzz/prng.js';
import { nanosecondUnits, tsresolUnits, unitsToTime } from '../../net/capture/timestamp.js';

const RESOLUTIONS = [1, 10, 1e3, 1e6, 1e9, 1e12, 1e15, 2 ** 10, 2 ** 20, 2 ** 30, 2 ** 40];

describe('unitsToTime', () => {
  test.for(RESOLUTIONS)('at %d units a second, 20,000 counts agree with BigInt division', (ups) => {
    const rng = new Prng(ups);
    const out = { seconds: 0, nanoseconds: 0 };
    const U = BigInt(ups);
    for (let i = 0; i < 20_000; i++) {
      // Counts of every magnitude, the edges of the exact-double range, and around whole seconds.
      const kind = i % 4;
      let units = kind === 0 ? rng.u64() : kind === 1 ? rng.u64() >> BigInt(rng.int(1, 63)) : kind === 2 ? (1n << 53n) + BigInt(rng.int(-3, 3)) : BigInt(rng.int(0, 1e6)) * U + BigInt(rng.int(-1, 1));
      units = units < 0n ? 0n : units & 0xffffffffffffffffn;
      const seconds = units / U;
      if (seconds > BigInt(Number.MAX_SAFE_INTEGER)) continue; // not representable as a number at all
      unitsToTime(Number(units >> 32n), Number(units & 0xffffffffn), ups, out);
      expect([out.seconds, out.nanoseconds], `${units} units`).toEqual([Number(seconds), Number(((units % U) * 1_000_000_000n) / U)]);
    }
  });
});

describe('nanosecondUnits', () => {
  test('splits seconds * 1e9 + ns into exact 32-bit halves, and unitsToTime inverts it', () => {
    const rng = new Prng(7);
    const parts: [number, number] = [0, 0];
    const out = { seconds: 0, nanoseconds: 0 };
    for (let i = 0; i < 20_000; i++) {
      const seconds = rng.pick([0, 1, 0xffffffff, rng.int(0, 0xffffffff), 1_700_000_000 + rng.int(0, 1e6)]);
      const nanoseconds = rng.pick([0, 999_999_999, rng.int(0, 999_999_999)]);
      nanosecondUnits(seconds, nanoseconds, parts);
      const units = BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds);
      expect(parts).toEqual([Number(units >> 32n), Number(units & 0xffffffffn)]);
      unitsToTime(parts[0], parts[1], 1e9, out);
      expect([out.seconds, out.nanoseconds]).toEqual([seconds, nanoseconds]);
    }
  });
});

describe('tsresolUnits', () => {
  test.for([
    [6, 1e6],
    [9, 1e9],
    [0, 1],
    [15, 1e15],
    [16, undefined],
    [0x80 | 20, 2 ** 20],
    [0x80 | 52, 2 ** 52],
    [0x80 | 53, undefined],
  ] as const)('if_tsresol %d is %d units a second', ([tsresol, units]) => {
    expect(tsresolUnits(tsresol)).toBe(units);
  });
});
