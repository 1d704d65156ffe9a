// Which loops the JIT counts before they run (jit/counted-loops.ts): clang's counted loop and
// the near misses that must stay checked on every back edge.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { width } from '../../isa/instruction.js';
import { programStructure } from '../../jit/cfg.js';
import { countedLoops } from '../../jit/counted-loops.js';

function loopsOf(asm: string): { header: number; maxBackEdges: number }[] {
  const insns = assemble(asm);
  const last = insns[insns.length - 1]!;
  const { functions } = programStructure(insns, last.pc + width(last));
  return functions.flatMap((fn) => countedLoops(fn)).map(({ header, maxBackEdges }) => ({ header, maxBackEdges }));
}

describe('counted loops', () => {
  test.for([
    { name: 'counting up by 2 to 1,500 (csum)', asm: 'mov %r2, 0\nloop:\nadd %r0, %r2\nadd %r2, 2\njne %r2, 1500, loop\nexit', loops: [{ header: 1, maxBackEdges: 749 }] },
    { name: 'counting down to 0', asm: 'mov %r1, 10\nloop:\nadd %r0, 1\nadd %r1, -1\njne %r1, 0, loop\nexit', loops: [{ header: 1, maxBackEdges: 9 }] },
    { name: 'with an early exit', asm: 'mov %r2, 0\nloop:\njgt %r0, 5, out\nadd %r2, 1\njne %r2, 100, loop\nout:\nexit', loops: [{ header: 1, maxBackEdges: 99 }] },
    { name: 'inside a loop that is not counted', asm: 'mov %r6, 3\nouter:\nmov %r2, 0\ninner:\nadd %r2, 1\njne %r2, 4, inner\nadd %r6, -1\njne %r6, 0, outer\nexit', loops: [{ header: 2, maxBackEdges: 3 }] },
    { name: 'a step that passes the bound (wraps around 2^64)', asm: 'mov %r2, 0\nloop:\nadd %r2, 3\njne %r2, 100, loop\nexit', loops: [] },
    { name: 'a step away from the bound', asm: 'mov %r2, 10\nloop:\nadd %r2, 1\njne %r2, 5, loop\nexit', loops: [] },
    { name: 'a second write to the counter', asm: 'mov %r2, 0\nloop:\nmov %r2, %r3\nadd %r2, 1\njne %r2, 10, loop\nexit', loops: [] },
    { name: 'a call in the loop (callees spend budget)', asm: 'mov %r6, 0\nloop:\ncall 1\nadd %r6, 1\njne %r6, 10, loop\nexit', loops: [] },
    { name: 'a counter not set to a constant before the loop', asm: 'ldxdw %r2, [%r1+0]\nloop:\nadd %r2, 1\njne %r2, 10, loop\nexit', loops: [] },
    { name: 'a jump into the middle of the loop', asm: 'mov %r2, 0\njeq %r1, 0, mid\nloop:\nadd %r0, 1\nmid:\nadd %r2, 1\njne %r2, 10, loop\nexit', loops: [] },
  ])('$name', ({ asm, loops }) => {
    expect(loopsOf(asm)).toEqual(loops);
  });
});
