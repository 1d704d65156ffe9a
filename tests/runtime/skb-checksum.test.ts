// Checksum arithmetic (helpers/checksum.ts) and bpf_csum_diff on both engines. The csum_diff values
// are Linux 6.18's (x86-64), read with bpftool through scripts/kernel-oracle/skb-test-run.mjs.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { createExecutor, type EngineName } from '../../runtime/engine.js';
import { helperTable } from '../../helpers/table.js';
import { GuestMemory } from '../../runtime/memory.js';
import { csumAdd, csumDiff, csumFold, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, from32to16 } from '../../helpers/checksum.js';
import { SkbRunner } from '../../runtime/skb.js';
import { BODIES } from '../../scripts/kernel-oracle/skb-programs.mjs';

describe('checksum arithmetic', () => {
  test('csum_add carries around; csum_fold complements the 16-bit fold', () => {
    expect(csumAdd(0xffffffff, 1)).toBe(1);
    expect(csumAdd(0xfffffffe, 1)).toBe(0xffffffff);
    expect(csumAdd(0, 0)).toBe(0);
    expect(csumFold(0)).toBe(0xffff);
    expect(csumFold(0xffffffff)).toBe(0);
    expect(csumFold(0x0001fffe)).toBe(0);
    expect(csumFold(0x12345678)).toBe(~(0x1234 + 0x5678) & 0xffff);
    expect(from32to16(0xffffffff)).toBe(0xffff);
    expect(from32to16(0x0001fffe)).toBe(0xffff);
  });

  test('a valid IPv4 header sums to all ones', () => {
    const header = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(csumFold(csumPartial(header, 0))).toBe(0);
    header[10] = 0;
    header[11] = 0;
    expect(csumFold(csumPartial(header, 0))).toBe(0x61b8);
  });

  test('csum_partial: little-endian words, a zero-padded tail, and 0 only for all-zero input', () => {
    expect(csumPartial(new Uint8Array(0), 0)).toBe(0);
    expect(csumPartial(new Uint8Array(7), 0)).toBe(0);
    expect(csumPartial(Uint8Array.from([1, 2, 3]), 0)).toBe(0x030201);
    expect(csumPartial(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 0)).toBe(0xffffffff);
    expect(csumPartial(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]), 0)).toBe(1);
    expect(csumPartial(new Uint8Array(4096).fill(0xff), 5)).toBe(5);
  });

  // Linux: csum_replace2 stays in 16 bits; csum_replace4 folds a 32-bit sum; they disagree on zeros.
  test.for([
    { check: 0xffff, from: 0xffff, to: 0, two: 0xffff, four: 0x0000 },
    { check: 0x0000, from: 0, to: 0xffff, two: 0x0000, four: 0x0000 },
    { check: 0x1234, from: 0x4000, to: 0x0040, two: 0x51f4, four: 0x51f4 },
    { check: 0xfffe, from: 0xffff, to: 0, two: 0xfffe, four: 0xfffe },
  ])('replacing $from by $to under $check: $two (16-bit), $four (32-bit)', ({ check, from, to, two, four }) => {
    expect(csumReplace2(check, from, to)).toBe(two);
    expect(csumReplace4(check, from, to)).toBe(four);
  });

  test('csum_replace_by_diff and csum_replace4 agree with a checksum recomputed from scratch', () => {
    const data = Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 11) & 0xff);
    const before = csumFold(csumPartial(data, 0));
    const changed = data.slice();
    changed.set([0xde, 0xad, 0xbe, 0xef], 8);
    const after = csumFold(csumPartial(changed, 0));
    const word = (b: Uint8Array) => (b[8]! | (b[9]! << 8) | (b[10]! << 16) | (b[11]! << 24)) >>> 0;
    expect(csumReplace4(before, word(data), word(changed))).toBe(after);
    expect(csumReplaceByDiff(before, csumDiff(data.subarray(8, 12), changed.subarray(8, 12), 0))).toBe(after);
  });
});

// The stack buffers of the kernel-checked program: 32 bytes of `from`, then 32 bytes of `to`.
const FROM = Uint8Array.from(Buffer.from('efcdab89674523011032547698badcfeffffffffffffffff0000000000000000', 'hex'));
const TO = Uint8Array.from(Buffer.from('8877665544332211' + '00ffeeddccbbaa99' + '0000000000000000' + '01000000ffffffff', 'hex'));
/** The oracle's csum_diff program: two 32-byte stack buffers, FROM at -64 and TO at -32. */
const csumDiffProgram = (fromSize: number, toSize: number, seed: number): string => `${BODIES.csumDiff(fromSize, toSize, seed)}\n  exit`;

// Linux 6.18: since 6.13 bpf_csum_diff folds to 16 bits and takes any size the verifier allows.
const CSUM_DIFF = [
  { from: 0, to: 0, seed: 0, result: 0 },
  { from: 0, to: 0, seed: 0x12345678, result: 26796 },
  { from: 0, to: 0, seed: 0xffffffff, result: 65535 },
  { from: 4, to: 4, seed: 0, result: 30035 },
  { from: 8, to: 8, seed: 0, result: 29487 },
  { from: 32, to: 32, seed: 0, result: 17341 },
  { from: 32, to: 0, seed: 0, result: 0 },
  { from: 0, to: 32, seed: 0, result: 17341 },
  { from: 16, to: 16, seed: 0xabcdef01, result: 56971 },
  { from: 3, to: 0, seed: 0, result: 12645 },
  { from: 0, to: 5, seed: 0, result: 52530 },
  { from: 7, to: 9, seed: 1, result: 29744 },
  { from: 24, to: 24, seed: 0, result: 17340 },
  { from: 4, to: 0, seed: 0xffffffff, result: 43108 },
  { from: 0, to: 4, seed: 0xffffffff, result: 52462 },
  { from: 20, to: 28, seed: 0xfffffffe, result: 17340 },
  { from: 1, to: 1, seed: 0, result: 65432 },
  { from: 31, to: 2, seed: 0, result: 30600 },
];

test.for(CSUM_DIFF)('csumDiff($from bytes, $to bytes, seed $seed) = $result', ({ from, to, seed, result }) => {
  expect(csumDiff(FROM.subarray(0, from), TO.subarray(0, to), seed)).toBe(result);
});

describe.each(['interp', 'jit', 'both'] as EngineName[])('bpf_csum_diff on %s', (engine) => {
  test.for(CSUM_DIFF)('from $from, to $to, seed $seed -> $result', async ({ from, to, seed, result }) => {
    const runner = new SkbRunner(new GuestMemory());
    const exec = await createExecutor(assemble(csumDiffProgram(from, to, seed)), engine, { memory: runner.memory, helpers: helperTable(runner.helpers) });
    expect(runner.testRun(exec, 'sched_cls', { dataIn: new Uint8Array(64) }).retval).toBe(result);
    exec.dispose();
  });
});
