// Small programs whose WebAssembly is kept as golden .wat files, one per lowering concern.
export const GOLDEN_PROGRAMS: Readonly<Record<string, string>> = {
  // 64-bit division: by zero gives 0, by -1 negates (WebAssembly would trap on INT64_MIN / -1).
  'sdiv64': 'mov %r0, %r1\nsdiv %r0, %r2\nexit',
  // 32-bit modulo by a register: zero keeps the dividend's low half, zero-extended.
  'mod32': 'mov %r0, %r1\nmod32 %r0, %r2\nexit',
  // Constant divisors: the rules for 0 and -1 apply when compiling, so the code holds no test.
  'div-constant': 'mov %r0, %r1\ndiv %r0, 13\nsdiv32 %r0, -1\nmod %r0, 0\nsmod %r0, 7\nexit',
  // Shifting left then right by 32 extends the low half: one extension, zero or sign.
  'extend32': 'mov %r0, %r1\nlsh %r0, 32\nrsh %r0, 32\nmov %r2, %r1\nlsh %r2, 32\narsh %r2, 32\nadd %r0, %r2\nexit',
  // Byte swaps have no WebAssembly instruction.
  'be64': 'mov %r0, %r1\nbe64 %r0\nexit',
  // A loop: the Relooper's structure, the budget spent on the back edge from a local, its trap after the loop.
  'loop': 'mov %r0, 0\nloop:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, loop\nexit',
  // A counted loop: a checked copy and one that spends the budget untested, chosen before the loop.
  'counted-loop': 'mov %r0, 0\nmov %r2, 0\nloop:\nadd %r0, %r2\nadd %r2, 1\njne %r2, 10, loop\nexit',
  // A bpf-to-bpf call, a helper call through the register file, and callx through the table.
  'calls': 'lddw %r6, func f\nmov %r1, 3\ncall local f\nmov %r1, %r0\ncall 5\nmov %r1, %r0\ncall %r6\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit',
  // Atomics return old values; cmpxchg compares with r0.
  'atomics': 'stdw [%r10-8], 5\nmov %r1, 2\nlock fetch add [%r10-8], %r1\nmov %r0, %r1\nlock cmpxchg [%r10-8], %r1\nexit',
};
