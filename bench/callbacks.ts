// The cost of a bpf_loop callback against an iteration of a plain counted loop doing the same work
// (issue 11: 1.4 µs a callback on the interpreter and 0.46 µs on the JIT, where Linux takes about
// 0.01 µs), and of a bpf_for_each_map_elem callback over an array and a hash map of 1,000 elements.
// Both engines run the loops themselves, each callback a call inside the engine (the JIT's map walks
// are WebAssembly; the interpreter's go through the helper).
import { assemble, createExecutor, GuestMemory, helperTable, MapType, Runtime, type EngineKind, type Executor } from '../index.js';
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

/** ns per bpf_loop callback and per plain loop iteration, and per bpf_for_each_map_elem callback, on one engine. */
export interface CallbackFigure {
  readonly engine: EngineKind;
  readonly callbackNs: number;
  readonly iterationNs: number;
  readonly forEachArrayNs: number;
  readonly forEachHashNs: number;
}

const ELEMENTS = 1_000;

/** Sums the first u64 of every value into a stack slot through bpf_for_each_map_elem's context. */
const forEach = (handle: number) => `
  stdw [%r10-8], 0
  lddw %r1, ${handle}
  lddw %r2, func cb
  mov %r3, %r10
  add %r3, -8
  mov %r4, 0
  call 164
  ldxdw %r0, [%r10-8]
  exit
cb:
  ldxdw %r0, [%r4+0]
  ldxdw %r1, [%r3+0]
  add %r0, %r1
  stxdw [%r4+0], %r0
  mov %r0, 0
  exit`;

/** Median ns per element of the walk over a map of `type` with ELEMENTS elements. */
async function perElement(type: number, engine: EngineKind): Promise<number> {
  const runtime = new Runtime({ engine });
  const map = runtime.createMap({ type, name: 'walked', keySize: 4, valueSize: 8, maxEntries: ELEMENTS });
  for (let i = 0; i < ELEMENTS; i++) map.update(Uint8Array.from([i & 0xff, i >> 8, 0, 0]), new Uint8Array(8));
  const executor = await createExecutor(assemble(forEach(runtime.mapHandle(map))), engine, { memory: runtime.memory, helpers: runtime.helpersFor('xdp') });
  return timed(executor, ELEMENTS);
}

/** Median ns per iteration of `asm`, over several runs after a warm-up. */
async function perIteration(asm: string, engine: EngineKind): Promise<number> {
  const memory = new GuestMemory();
  const helpers = helperTable(callbackHelpers({ mapAt: () => undefined, cpu: () => 0 }));
  return timed(await createExecutor(assemble(asm), engine, { memory, helpers }), ITERATIONS);
}

/** Median ns per one of `per` iterations of a run, over several runs after a warm-up; disposes of the executor. */
function timed(executor: Executor, per: number): number {
  try {
    for (let i = 0; i < 20; i++) executor.run({});
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = performance.now();
      executor.run({});
      samples.push(((performance.now() - start) * 1e6) / per);
    }
    return samples.sort((a, b) => a - b)[7]!;
  } finally {
    executor.dispose();
  }
}

export async function callbackFigures(): Promise<CallbackFigure[]> {
  const figures: CallbackFigure[] = [];
  for (const engine of ['interp', 'jit'] as const) {
    figures.push({
      engine, callbackNs: await perIteration(VIA_LOOP, engine), iterationNs: await perIteration(PLAIN, engine),
      forEachArrayNs: await perElement(MapType.ARRAY, engine), forEachHashNs: await perElement(MapType.HASH, engine),
    });
  }
  return figures;
}
