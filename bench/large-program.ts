// A large synthetic program for measuring compile time: blocks of ALU work on several registers,
// stack traffic, a forward conditional jump per block and a bounded loop every few blocks,
// roughly the mix clang produces for packet-processing code.

/** Assembler text of a program of about `instructions` instructions. */
export function largeProgram(instructions: number): string {
  const lines = ['mov %r0, 0', 'mov %r6, %r1', 'mov %r7, 1', 'mov %r8, 2', 'mov %r9, 3'];
  let block = 0;
  while (lines.length < instructions - 2) {
    const b = block++;
    lines.push(
      `add %r7, ${b + 1}`,
      'xor %r8, %r7',
      `lsh %r9, ${b % 7}`,
      'add32 %r9, %r8',
      `stxdw [%r10-${8 + (b % 16) * 8}], %r9`,
      `ldxdw %r2, [%r10-${8 + ((b + 3) % 16) * 8}]`,
      'add %r0, %r2',
      `and %r0, 0x${(0xffff + b).toString(16)}`,
      `jgt %r0, ${b * 13}, +1`,
      'mov %r0, %r8',
    );
    if (b % 8 === 7) {
      lines.push('mov %r3, 4', `loop${b}:`, 'add %r0, %r3', 'sub %r3, 1', `jne %r3, 0, loop${b}`);
    }
  }
  lines.push('exit');
  return lines.join('\n');
}
