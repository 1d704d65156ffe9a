// Fuzzing the capture readers: seeded mutations (byte flips, length fields set to edge values,
// insertions, deletions, splices) and truncations of valid pcap and pcapng files. Whatever the
// input, reading ends in records and at most one CaptureError: never another exception, never a
// hang; and reading it whole or in random chunks gives the same records and the same error.
import { describe, expect, test } from 'vitest';
import { Prng } from '../../fuzz/prng.js';
import { CaptureError, MemorySink, PcapngWriter, PcapWriter } from '../../net/capture/index.js';
import { concat, counting, epb, idb, opb, pcapHeader, pcapRecord, shb, spb, block } from './support/blocks.js';
import { readChunked } from './support/read.js';

/** Valid captures of every shape the readers know, as mutation seeds. */
function seeds(): Uint8Array[] {
  const rng = new Prng(99);
  const out: Uint8Array[] = [];
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      out.push(concat(pcapHeader({ le, nano, snap: 1514 }), ...Array.from({ length: 6 }, (_, i) => pcapRecord(rng.bytes(rng.int(0, 120)), { le, sec: i, frac: i * 7 }))));
    }
    out.push(concat(
      shb({ le }),
      idb({ le, options: [{ code: 2, value: 'eth0' }, { code: 9, value: Uint8Array.of(9) }] }),
      idb({ le, linkType: 101, snap: 64, options: [{ code: 13, value: Uint8Array.of(32) }] }),
      epb(rng.bytes(60), { le, iface: 1, options: [{ code: 1, value: 'a comment' }] }),
      spb(rng.bytes(70), { le }),
      opb(rng.bytes(33), { le, iface: 1 }),
      block(5, (b) => b.u32(1).u32(2).u32(3), { le }),
      shb({ le: !le }),
      idb({ le: !le }),
      epb(counting(17), { le: !le }),
    ));
  }
  for (const Writer of [PcapWriter, PcapngWriter]) {
    const sink = new MemorySink();
    const writer = new Writer(sink, { littleEndian: rng.chance(0.5) });
    for (let i = 0; i < 8; i++) writer.write({ data: rng.bytes(rng.int(0, 100)), seconds: i, nanoseconds: i, comments: i % 3 === 0 ? ['k=v'] : [] });
    writer.close();
    out.push(sink.bytes());
  }
  return out;
}

const EDGE_U32 = [0, 1, 3, 4, 0x7fffffff, 0x80000000, 0xffffffff, 262144, 262145, 16 * 1024 * 1024, 0x0a0d0d0a, 0x1a2b3c4d];

/** One seeded mutation of `bytes`. */
function mutate(rng: Prng, bytes: Uint8Array, others: Uint8Array[]): Uint8Array {
  const out = bytes.slice();
  const at = rng.below(Math.max(1, out.length));
  switch (rng.below(7)) {
    case 0: // flip bits in a few bytes
      for (let i = rng.int(1, 4); i > 0; i--) out[rng.below(out.length)]! ^= 1 << rng.below(8);
      return out;
    case 1: // a 32-bit field (a length, a type, an id) set to an edge value, either byte order
    {
      const p = at & ~3;
      const dv = new DataView(out.buffer);
      if (p + 4 <= out.length) dv.setUint32(p, rng.pick(EDGE_U32) + (rng.chance(0.3) ? rng.int(-4, 4) : 0), rng.chance(0.5));
      return out;
    }
    case 2: // truncation
      return out.subarray(0, at);
    case 3: // insertion of random bytes
      return concat(out.subarray(0, at), rng.bytes(rng.int(1, 12)), out.subarray(at));
    case 4: // deletion
      return concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.int(1, 12))));
    case 5: // splice with another capture
    {
      const other = rng.pick(others);
      return concat(out.subarray(0, at), other.subarray(rng.below(Math.max(1, other.length))));
    }
    default: // random bytes over a stretch
      out.set(rng.bytes(Math.min(out.length - at, rng.int(1, 32))), at);
      return out;
  }
}

describe('capture reader fuzz', () => {
  const CASES = 20_000;

  test(`${CASES} mutated captures end in records and at most one CaptureError, the same in any chunking`, () => {
    const base = seeds();
    const rng = new Prng(2024);
    let errors = 0;
    for (let i = 0; i < CASES; i++) {
      let input = rng.pick(base);
      for (let m = rng.int(1, 3); m > 0; m--) input = mutate(rng, input, base);
      const whole = readChunked(input);
      if (whole.error !== undefined && !(whole.error instanceof CaptureError)) {
        throw new Error(`case ${i}: ${String(whole.error)}`, { cause: whole.error });
      }
      if (whole.error !== undefined) errors++;
      // Records are numbered 1.. in order, their offsets increase, none is over the maximum.
      whole.records.forEach((r, n) => {
        if (r.number !== n + 1 || (n > 0 && r.offset <= whole.records[n - 1]!.offset) || r.data.length > 262144) {
          throw new Error(`case ${i}: record ${n + 1} inconsistent: ${JSON.stringify({ ...r, data: r.data.length })}`);
        }
      });
      if (i % 4 === 0) {
        const chunked = readChunked(input, rng.int(1, 64));
        expect(chunked.records.length, `case ${i}`).toBe(whole.records.length);
        expect((chunked.error as Error | undefined)?.message, `case ${i}`).toBe((whole.error as Error | undefined)?.message);
      }
    }
    // The mutations reach the error paths, and leave some inputs readable.
    expect(errors).toBeGreaterThan(CASES / 3);
    expect(errors).toBeLessThan(CASES);
  });

  test('every truncation of every seed capture is a truncation error after the whole records before it', () => {
    for (const bytes of seeds()) {
      const full = readChunked(bytes).records;
      for (let cut = 0; cut < bytes.length; cut++) {
        const { records, error } = readChunked(bytes.subarray(0, cut));
        // Cutting at a record boundary leaves a valid shorter capture (pcapng's second section
        // may also start there); anywhere else it is a truncation.
        if (error !== undefined) expect((error as CaptureError).code, `cut at ${cut}`).toBe('capture-truncated');
        expect(records, `cut at ${cut}`).toEqual(full.slice(0, records.length));
        expect(records.every((r) => r.offset + r.data.length <= cut)).toBe(true);
      }
    }
  });
});
