// bpf_strtol and bpf_strtoul against the kernel's answers (scripts/kernel-oracle/strtox.mjs
// --record), on both engines; and bpf_jiffies64 on the runtime's clock.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DifferentialObject } from '../../runtime/differential.js';
import { DEFAULT_CLOCK_START, Runtime } from '../../runtime/runtime.js';
import { assemble } from '../../isa/assembler.js';
import { encode } from '../../isa/instruction.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';
import { frame } from '../../scripts/kernel-oracle/strtox-cases.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

interface Case {
  text: string;
  flags: number;
  unsigned: number;
  len: number;
  kernel: { retval: number; result: string; ret: number };
}

const FIXTURES = join(PROJECT_ROOT, 'tests', 'fixtures');
const CASES = JSON.parse(readFileSync(join(FIXTURES, 'golden', 'strtox-runs.json'), 'utf8')) as Case[];


describe('bpf_strtol and bpf_strtoul', () => {
  test('the recording covers bases, signs, prefixes, overflow, white space and short lengths', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(300);
    expect(new Set(CASES.map((c) => c.kernel.ret))).toEqual(new Set([-22, -34, ...CASES.filter((c) => c.kernel.ret > 0).map((c) => c.kernel.ret)]));
  });

  test('every case gives the kernel\'s result and return value, on both engines', async () => {
    const d = await DifferentialObject.load(join(FIXTURES, 'strtox.o'));
    const wrong: string[] = [];
    for (const c of CASES) {
      const r = d.testRun('strtox', { dataIn: frame(c) });
      const out = Buffer.from(r.dataOut);
      const mine = { retval: r.retval, result: out.readBigInt64LE(0).toString(), ret: out.readInt32LE(8) };
      if (JSON.stringify(mine) !== JSON.stringify(c.kernel)) wrong.push(`${JSON.stringify(c.text)} flags ${c.flags} ${c.unsigned ? 'strtoul' : 'strtol'} len ${c.len}: ${JSON.stringify(mine)} != ${JSON.stringify(c.kernel)}`);
    }
    expect(wrong).toEqual([]);
  });
});

test.for(['interp', 'jit'] as const)('bpf_jiffies64 counts HZ 250 ticks from INITIAL_JIFFIES on the runtime\'s clock (%s)', async (engine) => {
  const code = encode(assemble('call 118\nexit'));
  const bytes = writeElf({ programs: [{ name: 'socket', code }], functions: [{ name: 'jiffies', section: 'socket', offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' });
  const runtime = new Runtime({ engine });
  const program = (await runtime.loadObject(bytes, { fileName: 'jiffies.o' })).program('jiffies');
  const initial = 2 ** 32 - 300 * 250;
  expect(program.run({ ctx: new Uint8Array(256) }).r0).toBe(BigInt(initial) + (DEFAULT_CLOCK_START * 250n) / 1_000_000_000n);
  runtime.clock.advance(1_000_000_000n);
  expect(program.run({ ctx: new Uint8Array(256) }).r0).toBe(BigInt(initial) + (DEFAULT_CLOCK_START * 250n) / 1_000_000_000n + 250n);
});
