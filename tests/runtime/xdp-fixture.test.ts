// End to end on a clang-compiled object: tests/fixtures/xdp_meta.o loaded by the object loader and
// run through the XDP test run on every engine gives what Linux 6.18 gave for the same object and
// packets (recorded with `bpftool prog run ... data_in ... data_out ...`: retval 2, XDP_PASS).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadObjectSpec } from '../../loader/object.js';
import { GuestMemory } from '../../runtime/memory.js';
import { XdpRunner } from '../../runtime/xdp.js';
import { createExecutor } from '../../runtime/engine.js';
import { helperTable } from '../../helpers/table.js';
import { PROJECT_ROOT } from '../support/suite.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** Packets and the kernel's data_out for them: metadata (the original length), then the tagged frame. */
const KERNEL_CASES = [
  // Ends in the 0xfe 0xed trailer, which the program trims.
  { name: 'trailer trimmed', dataIn: '0102030405060708090a0b0c08004545454545454545454545454545454545454545feed', dataOut: '240000000102030405060708090a0b0c88b5000108004545454545454545454545454545454545454545' },
  { name: 'no trailer', dataIn: '0102030405060708090a0b0c86dd606060606060606060606060606060606060606060606060606060606060', dataOut: '2c0000000102030405060708090a0b0c88b5000186dd606060606060606060606060606060606060606060606060606060606060' },
];

describe('xdp_meta.o on the XDP test run', () => {
  const spec = loadObjectSpec(new Uint8Array(readFileSync(join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_meta.o'))), 'xdp_meta.o');
  const program = spec.programs[0]!;

  test('loads as one xdp program with no map references', () => {
    expect(spec.programs.map((p) => `${p.name}:${p.type}`)).toEqual(['xdp_meta:xdp']);
    expect(program.references).toEqual([]);
  });

  test.for((['interp', 'jit', 'both'] as const).flatMap((engine) => KERNEL_CASES.map((c) => ({ engine, ...c }))))(
    '$engine: $name gives the kernel\'s retval and data_out',
    async ({ engine, dataIn, dataOut }) => {
      const memory = new GuestMemory();
      const runner = new XdpRunner(memory);
      const executor = await createExecutor(program.insns, engine, { memory, helpers: helperTable(runner.helpers) });
      const result = runner.testRun(executor, { dataIn: hex(dataIn) });
      expect(result.retval).toBe(2);
      expect(Buffer.from(result.dataOut).toString('hex')).toBe(dataOut);
    },
  );
});
