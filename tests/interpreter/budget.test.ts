// The interpreter charges its instruction budget a straight run at a time (prepare.ts,
// straightRuns), and goes an instruction at a time only when what is left does not cover a run.
// Whatever the budget, a run must end as a run checked instruction by instruction ends (a traced
// run is one): the same error at the same pc, or the same r0 and instruction count.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { callbackHelpers } from '../../helpers/callbacks.js';
import { CONFORMANCE_HELPERS } from '../../conformance/helpers.js';
import { generateProgram } from '../../fuzz/generator.js';
import type { Instruction } from '../../isa/instruction.js';
import { helperTable } from '../../helpers/table.js';
import { Interpreter } from '../../interpreter/interpreter.js';
import { straightRuns, prepare } from '../../interpreter/prepare.js';
import { GuestMemory } from '../../runtime/memory.js';
import { createMap, MapType } from '../../maps/index.js';

const HELPERS = helperTable(callbackHelpers({ mapAt: () => undefined, cpu: () => 0 }));

const PROGRAMS = [
  {
    name: 'a loop whose test is taken and not, with a division and a fused zero-extension',
    asm: 'mov %r0, 0\nmov %r1, 1\nloop:\nmov %r3, %r1\nlsh %r3, 32\nrsh %r3, 32\ndiv %r3, 3\nadd %r0, %r3\n'
      + 'jgt %r0, 1000, out\nadd %r1, 1\njeq %r1, 20, +1\nja loop\nout:\nexit',
  },
  {
    name: 'jumps that land inside a straight run, and lddw',
    asm: 'mov %r0, 1\nlddw %r2, 0x100000000\njne %r2, 0, mid\nmov %r0, 2\nmid:\nadd %r0, 3\nadd %r0, 4\njeq %r0, 8, +2\nmov %r0, 0\nexit\nadd %r0, 1\nexit',
  },
  {
    name: 'a bpf-to-bpf call inside a loop',
    asm: 'mov %r6, 0\nmov %r7, 5\nloop:\nmov %r1, %r7\ncall local fn\nadd %r6, %r0\nsub %r7, 1\njne %r7, 0, loop\nmov %r0, %r6\nexit\n'
      + 'fn:\nmov %r0, %r1\nmul %r0, %r1\nexit',
  },
  {
    // The budget may not cover the callee's run (it goes on past the jump the callee takes) and
    // still cover what runs: the caller's registers must come back as written.
    name: 'a callee whose straight run goes on past a jump it takes',
    asm: 'mov %r6, 5\nmov %r1, 0\ncall local fn\nadd %r0, %r6\nadd %r0, 1\nadd %r0, 1\nexit\n'
      + 'fn:\njeq %r1, 0, +4\nmov %r0, 1\nmov %r0, 2\nmov %r0, 3\nmov %r0, 4\nmov %r0, 10\nexit',
  },
  {
    name: 'bpf_loop, its callbacks counting as bpf-to-bpf calls',
    asm: 'stdw [%r10-8], 0\nmov %r1, 4\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n'
      + 'ldxdw %r0, [%r10-8]\nexit\ncb:\nldxdw %r3, [%r2+0]\nadd %r3, %r1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit',
  },
  {
    name: 'a fault in the middle of a straight run',
    asm: 'mov %r0, 0\nmov %r1, 0\nadd %r0, 1\nadd %r0, 2\nldxw %r2, [%r1+0]\nadd %r0, 3\nexit',
  },
];

/** How a run ends: its r0 and count, or its error's class, pc and message. */
function outcome(asm: string, budget: number, traced: boolean): string {
  return ended(assemble(asm), budget, traced);
}

function ended(insns: readonly Instruction[], budget: number, traced: boolean, input?: Uint8Array): string {
  const memory = new GuestMemory();
  const helpers = input ? CONFORMANCE_HELPERS : HELPERS;
  const vm = new Interpreter(insns, { memory, helpers, budget, ...(traced ? { trace: () => {} } : {}) });
  const buffer = input ? memory.allocate(input.length, 'input') : undefined;
  if (buffer) memory.bytes.set(input!, buffer.start);
  try {
    const r = vm.run(buffer ? { args: [buffer.start, input!.length], packet: { start: buffer.start, end: buffer.end } } : { args: [] });
    return `r0 ${r.r0} after ${r.instructions}`;
  } catch (err) {
    return `${(err as Error).constructor.name} at pc ${(err as { pc?: number }).pc}: ${(err as Error).message}`;
  }
}

describe('the instruction budget', () => {
  test.for(PROGRAMS)('$name: every budget ends the run as one checked instruction by instruction', ({ asm }) => {
    const full = outcome(asm, 100_000, true);
    const used = /after (\d+)$/.exec(full);
    const most = used ? Number(used[1]) + 1 : 50;
    for (let budget = 1; budget <= most; budget++) expect(outcome(asm, budget, false), `budget ${budget}`).toBe(outcome(asm, budget, true));
  });

  test('the fuzzer\'s generated programs: budgets through the run end it as one checked instruction by instruction', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const { insns, input } = generateProgram(seed);
      const full = ended(insns, 100_000, true, input);
      const used = /after (\d+)$/.exec(full);
      const n = used ? Number(used[1]) : 200;
      for (const budget of new Set([1, 2, 3, n >> 2, n >> 1, n - 2, n - 1, n, n + 1].filter((b) => b >= 1))) {
        expect(ended(insns, budget, false, input), `seed ${seed}, budget ${budget}`).toBe(ended(insns, budget, true, input));
      }
    }
  });

  test('bpf_for_each_map_elem: callbacks the helper runs, charged from what the call left', () => {
    // Each callback loops key + 1 times; the main program calls the helper from a bpf-to-bpf call.
    const run = (budget: number, traced: boolean) => {
      const memory = new GuestMemory();
      const map = createMap(memory, { type: MapType.ARRAY, name: 'a', keySize: 4, valueSize: 8, maxEntries: 4 });
      const handle = memory.allocate(8, 'handle of a', { writable: false }).start;
      const helpers = helperTable(callbackHelpers({ mapAt: (a) => (a === handle ? map : undefined), cpu: () => 0 }));
      const asm = `mov %r6, 7\ncall local walk\nadd %r0, %r6\nexit\nwalk:\nlddw %r1, ${handle}\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\n`
        + 'cb:\nldxw %r2, [%r2+0]\nadd %r2, 1\nmov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, %r2, loop\nmov %r0, 0\nexit';
      const vm = new Interpreter(assemble(asm), { memory, helpers, budget, ...(traced ? { trace: () => {} } : {}) });
      try {
        const r = vm.run({ args: [] });
        return `r0 ${r.r0} after ${r.instructions}`;
      } catch (err) {
        return `${(err as Error).constructor.name}: ${(err as Error).message}`;
      }
    };
    expect(run(100_000, true)).toBe('r0 11 after 50');
    for (let budget = 1; budget <= 51; budget++) expect(run(budget, false), `budget ${budget}`).toBe(run(budget, true));
  });

  test('a run the budget stopped leaves nothing charged to the next', () => {
    // r1 rounds of a loop: 2 + 2 * r1 instructions.
    const vm = new Interpreter(assemble('mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, %r1, loop\nexit'), { memory: new GuestMemory(), helpers: HELPERS, budget: 50 });
    expect(vm.run({ args: [5] }).instructions).toBe(12);
    expect(() => vm.run({ args: [100] })).toThrow(/pc 2: instruction budget of 50 exhausted/);
    expect(vm.run({ args: [24] }).instructions).toBe(50);
    expect(vm.run({ args: [5] }).instructions).toBe(12);
  });

  test('straight runs end at jumps, calls and exits, and go on through conditional jumps', () => {
    const p = prepare(assemble('mov %r0, 0\njeq %r0, 1, +1\nadd %r0, 1\ncall 181\nja +0\nlddw %r1, 5\nexit'), HELPERS);
    // mov, jeq, add, call | ja | lddw (two slots, one instruction), exit | past the end.
    expect([...straightRuns(p)]).toEqual([4, 3, 2, 1, 1, 2, 0, 1, 1]);
  });
});
