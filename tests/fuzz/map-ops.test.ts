// The JIT's map operations in WebAssembly (jit/map-ops.ts) against the helpers in JavaScript: a
// fixed-seed batch of the campaign `npm run fuzz -- --maps` runs at length.
import { describe, expect, test } from 'vitest';
import { mapOpsCampaign } from '../../fuzz/map-ops.js';

describe('map operations in WebAssembly', () => {
  test('agree with the helpers on 40 random cases of 300 operations (seed 1)', async () => {
    const report = await mapOpsCampaign({ seed: 1, cases: 40, ops: 300 });
    expect(report.mismatch).toBeUndefined();
    expect(report.ops).toBe(12_000);
  }, 120_000);
});
