// Fused instructions (interpreter/fusion.ts) behave as the instructions they fuse: same r0, same
// instruction count, and a budget that runs out on any of them stops at that one's pc. Traced runs
// check every instruction on its own, so they are the reference.
import { describe, expect, test } from 'vitest';
import { BudgetExhaustedError } from '../../interpreter/errors.js';
import { runAsm } from '../support/run.js';

const PAIRS = [
  { name: 'mov64 + add64 reg', asm: 'mov %r0, 5\nmov %r3, -1\nmov %r4, %r3\nadd %r4, %r0\nmov %r0, %r4\nexit' },
  { name: 'mov64 + add64 reg, same source', asm: 'lddw %r3, 0x80000000ffffffff\nmov %r4, %r3\nadd %r4, %r4\nmov %r0, %r4\nrsh %r0, 1\nexit' },
  { name: 'mov64 + add64 imm with a carry', asm: 'mov32 %r3, -1\nmov %r0, %r3\nadd %r0, 1\nexit' },
  { name: 'lsh64 32 + rsh64 32', asm: 'mov %r0, -7\nlsh %r0, 32\nrsh %r0, 32\nexit' },
  { name: 'add64 + jne64 loop', asm: 'mov %r0, 0\nmov %r1, 0\nloop:\nadd %r0, 3\nadd %r1, 1\njne %r1, 10, loop\nexit' },
  { name: 'and64 + jne64', asm: 'mov %r0, 0\nmov %r1, 0x1234\nand %r1, 0x1200\njne %r1, 0x200, +1\nmov %r0, 1\nmov %r1, 0x0200\nand %r1, 0x1200\njne %r1, 0x200, +1\nadd %r0, 2\nexit' },
  { name: 'bounds check, in bounds', asm: 'mov %r0, 0\nmov %r2, 100\nmov %r3, 80\nmov %r1, %r3\nadd %r1, 14\njgt %r1, %r2, +1\nmov %r0, %r1\nexit' },
  { name: 'bounds check, out of bounds', asm: 'mov %r0, 0\nmov %r2, 100\nmov %r3, 90\nmov %r1, %r3\nadd %r1, 14\njgt %r1, %r2, +1\nmov %r0, %r1\nexit' },
  { name: 'bounds check wrapping past 2^64', asm: 'mov %r0, 0\nmov %r2, 100\nmov %r3, -1\nmov %r1, %r3\nadd %r1, 14\njgt %r1, %r2, +1\nmov %r0, %r1\nexit' },
  { name: 'mov64 imm + jne64/jeq64 on another register', asm: 'mov %r5, 8\nmov %r0, 2\njne %r5, 8, +3\nmov %r0, 3\njeq %r5, 8, +1\nmov %r0, 4\nmov %r1, 7\njne %r1, 7, +1\nadd %r0, 10\nexit' },
  { name: 'mov64 imm + jeq64 on the moved register', asm: 'mov %r0, 5\njeq %r0, 5, +1\nmov %r0, 6\nexit' },
  { name: 'mov64 imm + jgt64 reg', asm: 'mov %r2, 10\nmov %r4, 11\nmov %r0, 0\njgt %r4, %r2, +1\nmov %r0, 1\nmov %r5, 12\njgt %r5, %r0, +1\nadd %r0, 2\nexit' },
  { name: 'mov64 + lsh64 32 + rsh64 32', asm: 'mov %r3, -7\nmov %r0, %r3\nlsh %r0, 32\nrsh %r0, 32\nexit' },
  { name: 'mov64 + a shift pair on another register is not fused', asm: 'mov %r3, -7\nmov %r0, %r3\nmov %r1, %r3\nlsh %r1, 32\nrsh %r0, 32\nexit' },
  { name: 'jeq64 over ja: a loop leaving on equality', asm: 'mov %r0, 0\nmov %r1, 0\nloop:\nadd %r0, 5\nadd %r1, 1\njeq %r1, 7, +1\nja loop\nexit' },
  { name: 'jeq32 over ja, with a high half that jeq64 would see', asm: 'lddw %r1, 0x100000000\nmov %r0, 0\nloop:\nadd %r0, 1\nadd %r1, 1\njeq32 %r1, 3, +1\nja loop\nexit' },
  { name: 'a jump onto the second half', asm: 'mov %r0, 1\nmov %r2, 2\njeq %r0, 1, +1\nmov %r0, %r2\nadd %r0, 40\nexit' },
];

describe('fused pairs', () => {
  test.for(PAIRS)('$name gives what its instructions give', ({ asm }) => {
    const plain = runAsm(asm, [], { trace: () => {} });
    const fused = runAsm(asm);
    expect(fused.r0).toBe(plain.r0);
    expect(fused.instructions).toBe(plain.instructions);
  });

  test.for(PAIRS)('$name: every budget stops at the same pc', ({ asm }) => {
    const { instructions } = runAsm(asm, [], { trace: () => {} });
    for (let budget = 1; budget < instructions!; budget++) {
      const stop = (options: { budget: number; trace?: () => void }) => {
        try {
          runAsm(asm, [], options);
        } catch (err) {
          return err;
        }
        throw new Error(`budget ${budget} did not stop the run`);
      };
      const plain = stop({ budget, trace: () => {} });
      const fused = stop({ budget });
      expect(fused).toBeInstanceOf(BudgetExhaustedError);
      expect((fused as BudgetExhaustedError).pc).toBe((plain as BudgetExhaustedError).pc);
    }
  });
});
