// Benchmarks of whole objects: the loader's time per fixture object (parsing into a description,
// and a full Runtime load with maps and executors), and ns per packet of the XDP firewall fixture
// on each engine, both through a whole BPF_PROG_TEST_RUN and for the program's run alone.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildPacket, loadObjectSpec, Runtime, setJitCacheLimit, type EngineKind, type LoadedObject } from '../index.js';

const FIXTURES = fileURLToPath(new URL('../../tests/fixtures/', import.meta.url));

/** Median of `samples` timings (ms) of `fn`, after one warm-up call. */
async function medianMs(samples: number, fn: () => unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(samples / 2)]!;
}

export interface LoaderFigure {
  readonly object: string;
  readonly bytes: number;
  readonly instructions: number;
  /** ELF + BTF + maps + programs into a description. */
  readonly parseMs: number;
  /** A whole Runtime load on the interpreter: description, maps, binding, gate, executors. */
  readonly loadMs: number;
  /** The same on the JIT, compiling every program (the module cache off). */
  readonly jitLoadMs: number;
}

/** Loader time for every fixture object that holds programs, on each engine. */
export async function loaderFigures(): Promise<LoaderFigure[]> {
  const rows: LoaderFigure[] = [];
  for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort()) {
    const bytes = new Uint8Array(readFileSync(FIXTURES + name));
    let spec;
    try {
      spec = loadObjectSpec(bytes, name);
    } catch {
      continue;
    }
    if (spec.programs.length === 0) continue;
    const parseMs = await medianMs(21, () => loadObjectSpec(bytes, name));
    const loadMs = await medianMs(11, () => new Runtime().loadObject(bytes, { fileName: name }));
    setJitCacheLimit(0);
    const jitLoadMs = await medianMs(5, () => new Runtime({ engine: 'jit' }).loadObject(bytes, { fileName: name }));
    setJitCacheLimit(256);
    rows.push({ object: name, bytes: bytes.length, instructions: spec.programs.reduce((n, p) => n + p.insns.length, 0), parseMs, loadMs, jitLoadMs });
  }
  return rows;
}

/** The firewall's traffic mix: allowed TCP, a blocked IPv4 source, a denied UDP port, IPv6 behind a VLAN tag. */
const MIX = [
  buildPacket({ proto: 'tcp', dstPort: 80, payload: 'x'.repeat(64) }),
  buildPacket({ src: '192.0.2.9' }),
  buildPacket({ dstPort: 53, payload: 'q'.repeat(30) }),
  buildPacket({ ipVersion: 6, vlans: [7], proto: 'tcp', dstPort: 443 }),
];

async function firewall(engine: EngineKind): Promise<LoadedObject> {
  const obj = await new Runtime({ engine }).loadObject(FIXTURES + 'xdp_firewall.o');
  obj.map('blocked_v4').update(Uint8Array.from([24, 0, 0, 0, 192, 0, 2, 0]), Uint8Array.from([1, 0, 0, 0]));
  obj.map('denied_ports').update(Uint8Array.from([17, 0, 0, 53]), new Uint8Array(8));
  return obj;
}

export interface PacketFigure {
  readonly engine: EngineKind;
  /** ns per packet through program.testRun (frame set-up, run, data_out copy). */
  readonly testRunNs: number;
  /** ns per run of the program alone (BPF_PROG_TEST_RUN's own duration with repeat). */
  readonly runNs: number;
}

/** ns per packet of the XDP firewall fixture on each engine, over the traffic mix. */
export async function firewallFigures(): Promise<PacketFigure[]> {
  const rows: PacketFigure[] = [];
  for (const engine of ['interp', 'jit'] as const) {
    const program = (await firewall(engine)).program('xdp_firewall');
    const rounds = 20_000;
    for (let i = 0; i < rounds; i++) program.testRun({ dataIn: MIX[i % MIX.length]! });
    const samples: number[] = [];
    for (let b = 0; b < 7; b++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) program.testRun({ dataIn: MIX[i % MIX.length]! });
      samples.push(Number(process.hrtime.bigint() - start) / rounds);
    }
    const repeat = MIX.map((dataIn) => program.testRun({ dataIn, repeat: 200_000 }).durationNs);
    rows.push({ engine, testRunNs: samples.sort((a, b) => a - b)[3]!, runNs: repeat.reduce((a, b) => a + b, 0) / repeat.length });
  }
  return rows;
}
