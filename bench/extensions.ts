// Benchmarks of the extensions' helpers from programs, on both engines: flow-map lookups per second,
// the metadata store's get and set, and a control-map lookup, each against an array-map lookup as
// the baseline of a helper call. A program makes 1,000 calls in a counted loop; the figure is the
// median time a call over several runs.
import { assemble, createExecutor, MapType, Runtime, type EngineKind } from '../index.js';

const CALLS = 1000;
const RUNS = 41;

/** A program that runs `body` (which may use r6 = ctx and the stack) CALLS times, then returns XDP_PASS. */
function loop(body: string, setup = ''): string {
  return `
    mov %r6, %r1
    ${setup}
    mov %r7, ${CALLS}
  again:
    ${body}
    sub %r7, 1
    jne %r7, 0, again
    mov %r0, 2
    exit`;
}

export interface HelperFigure {
  readonly helper: string;
  readonly interpNs: number;
  readonly jitNs: number;
}

async function nsPerCall(rt: Runtime, engine: EngineKind, asm: string): Promise<number> {
  const executor = await createExecutor(assemble(asm), engine, { memory: rt.memory, helpers: rt.helpersFor('xdp') });
  const frame = rt.xdp.createFrame(new Uint8Array(64));
  const samples: number[] = [];
  // A warm-up as long as the measurement: the engines' own code gets optimised by V8 first.
  for (let i = 0; i < 2 * RUNS; i++) {
    const start = process.hrtime.bigint();
    rt.xdp.run(executor, frame);
    if (i >= RUNS) samples.push(Number(process.hrtime.bigint() - start) / CALLS);
  }
  rt.xdp.release(frame);
  executor.dispose();
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** ns per call of each extension helper, and of an array-map lookup, on each engine. */
export async function extensionFigures(): Promise<HelperFigure[]> {
  const programs = async (engine: EngineKind) => {
    const rt = new Runtime({ engine });
    const array = rt.createMap({ type: MapType.ARRAY, name: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    const flows = rt.createMap({ type: MapType.FLOW, name: 'flows', keySize: 16, valueSize: 16, maxEntries: 1024 }) as unknown as { insert(a: Uint8Array, b: Uint8Array, v: Uint8Array): void };
    for (let i = 0; i < 1000; i++) flows.insert(Uint8Array.of(i & 0xff, i >> 8, ...new Array<number>(14).fill(1)), Uint8Array.of(i & 0xff, i >> 8, ...new Array<number>(14).fill(2)), new Uint8Array(16));
    const control = rt.createMap({ type: MapType.CONTROL, name: 'ctl', keySize: 4, valueSize: 8, maxEntries: 4, mapExtra: 1 });
    const key16 = 'stdw [%r10-16], 16843009\n stdw [%r10-8], 16843009\n stb [%r10-16], 7';
    const lookup = (map: object, keyAt: number, extra = '') => `
      lddw %r1, ${rt.mapHandle(map as never)}
      mov %r2, %r10
      add %r2, ${keyAt}
      ${extra}`;
    return {
      'array map lookup (baseline)': loop(`${lookup(array, -4)}\n call 1`, 'stw [%r10-4], 1'),
      'flow map lookup': loop(`${lookup(flows, -16, 'mov %r3, %r10\n add %r3, -24')}\n call 65553`, key16),
      'metadata store set (8 bytes)': loop('mov %r1, %r6\n mov %r2, 5\n mov %r3, %r10\n add %r3, -8\n mov %r4, 8\n mov %r5, 0\n call 65538', 'stdw [%r10-8], 42'),
      'metadata store get (8 bytes)': loop('mov %r1, %r6\n mov %r2, 5\n mov %r3, %r10\n add %r3, -16\n mov %r4, 8\n call 65537',
        'stdw [%r10-8], 42\n mov %r1, %r6\n mov %r2, 5\n mov %r3, %r10\n add %r3, -8\n mov %r4, 8\n mov %r5, 0\n call 65538'),
      'control map lookup (XDP_ATTR)': loop(`${lookup(control, -4)}\n call 1`, 'stw [%r10-4], 1'),
      rt,
    };
  };
  const byEngine = { interp: await programs('interp'), jit: await programs('jit') };
  const rows: HelperFigure[] = [];
  for (const helper of Object.keys(byEngine.interp).filter((k) => k !== 'rt')) {
    const ns = async (engine: EngineKind) => {
      const p = byEngine[engine];
      return nsPerCall(p.rt, engine, (p as unknown as Record<string, string>)[helper]!);
    };
    rows.push({ helper, interpNs: await ns('interp'), jitNs: await ns('jit') });
  }
  return rows;
}
