// The cost of a bpf_loop callback against an iteration of a plain counted loop doing the same work
// (issue 11: 1.4 µs a callback on the interpreter and 0.46 µs on the JIT, where Linux takes about
// 0.01 µs). Both engines run the loop themselves, each callback a call inside the engine.
import { assemble, createExecutor, GuestMemory, helperTable, type EngineKind } from '../index.js';
import { callbackHelpers } from '../helpers/callbacks.js';

const ITERATIONS = 10_000;

/** Sums the indexes into a stack slot through bpf_loop's context. */
const VIA_LOOP = `
  stdw [%r10-8], 0
  mov %r1, ${ITERATIONS}
  lddw %r2, func cb
  mov %r3, %r10
  add %r3, -8
  mov %r4, 0
  call 181
  ldxdw %r0, [%r10-8]
  exit
cb:
  ldxdw %r3, [%r2+0]
  add %r3, %r1
  stxdw [%r2+0], %r3
  mov %r0, 0
  exit`;

/** The same sum in a counted loop. */
const PLAIN = `
  stdw [%r10-8], 0
  mov %r1, 0
loop:
  ldxdw %r3, [%r10-8]
  add %r3, %r1
  stxdw [%r10-8], %r3
  add %r1, 1
  jlt %r1, ${ITERATIONS}, loop
  ldxdw %r0, [%r10-8]
  exit`;

/** ns per bpf_loop callback and per plain loop iteration, on one engine. */
export interface CallbackFigure {
  readonly engine: EngineKind;
  readonly callbackNs: number;
  readonly iterationNs: number;
}

/** Median ns per iteration of `asm`, over several runs after a warm-up. */
async function perIteration(asm: string, engine: EngineKind): Promise<number> {
  const memory = new GuestMemory();
  const helpers = helperTable(callbackHelpers({ mapAt: () => undefined, cpu: () => 0 }));
  const executor = await createExecutor(assemble(asm), engine, { memory, helpers });
  try {
    for (let i = 0; i < 20; i++) executor.run({});
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = performance.now();
      executor.run({});
      samples.push(((performance.now() - start) * 1e6) / ITERATIONS);
    }
    return samples.sort((a, b) => a - b)[7]!;
  } finally {
    executor.dispose();
  }
}

export async function callbackFigures(): Promise<CallbackFigure[]> {
  const figures: CallbackFigure[] = [];
  for (const engine of ['interp', 'jit'] as const) {
    figures.push({ engine, callbackNs: await perIteration(VIA_LOOP, engine), iterationNs: await perIteration(PLAIN, engine) });
  }
  return figures;
}
