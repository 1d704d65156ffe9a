// Benchmark workloads: small BPF programs in assembler text, each a loop that stresses one kind
// of work. r1 = address of a memory block of `memBytes` bytes, r2 = its length.

/** One benchmark program. */
export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly asm: string;
  readonly memBytes: number;
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'alu-loop',
    description: '64-bit ALU ops in a counted loop (7 instructions an iteration)',
    memBytes: 0,
    asm: `
      mov %r0, 0
      mov %r1, 100000
    loop:
      add %r0, %r1
      xor %r0, 0x5555
      lsh %r0, 3
      rsh %r0, 1
      add32 %r0, 7
      sub %r1, 1
      jne %r1, 0, loop
      exit`,
  },
  {
    name: 'byte-copy',
    description: 'copies 1024 bytes one at a time between two halves of a buffer (6 an iteration)',
    memBytes: 2048,
    asm: `
      mov %r3, 0
      mov %r4, %r1
      add %r4, 1024
    loop:
      ldxb %r5, [%r1+0]
      stxb [%r4+0], %r5
      add %r1, 1
      add %r4, 1
      add %r3, 1
      jlt %r3, 1024, loop
      mov %r0, %r3
      exit`,
  },
  {
    name: 'call-loop',
    description: 'a bpf-to-bpf call every iteration (8 instructions an iteration, callee included)',
    memBytes: 0,
    asm: `
      mov %r6, 20000
      mov %r7, 0
    loop:
      mov %r1, %r6
      call local f
      add %r7, %r0
      sub %r6, 1
      jne %r6, 0, loop
      mov %r0, %r7
      exit
    f:
      mov %r0, %r1
      and %r0, 7
      exit`,
  },
  {
    name: 'divide-loop',
    description: '32 and 64-bit multiply, divide and modulo (8 an iteration)',
    memBytes: 0,
    asm: `
      mov %r6, 50000
      mov %r7, 0
    loop:
      mov %r0, %r6
      mul %r0, 7919
      div %r0, 13
      mod32 %r0, 1009
      add %r7, %r0
      sub %r6, 1
      jne %r6, 0, loop
      mov %r0, %r7
      exit`,
  },
  {
    name: 'empty',
    description: 'mov r0, 0; exit: the cost of one run',
    memBytes: 0,
    asm: `
      mov %r0, 0
      exit`,
  },
];
