// Side by side with Linux: the same objects and packets through `bpftool prog run ... repeat N`
// (BPF_PROG_TEST_RUN in the kernel, its JIT) and through our Program.testRun with the same repeat
// (what `ebpf-wasm test-run --repeat N` prints), interleaved round by round, medians. Ours run each
// program on each engine in a worker thread of its own (linux-row.ts), as the CLI and bpftool run
// one program a process. Without
// bpftool and root, the Linux figures recorded at the last run with them (bench/linux-figures.json)
// are printed instead, marked as recorded. uBPF's interpreter is measured in the same rounds when
// its harness is built (scripts/ubpf-reference: $UBPF_DIR/harness-interp); else its figures as
// recorded in bench/ubpf-figures.json are printed beside the interpreter's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildPacket, Runtime, type EngineKind, type Program } from '../index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROGRAMS = join(ROOT, 'bench', 'programs');
const RECORDED = join(ROOT, 'bench', 'linux-figures.json');
const UBPF = join(ROOT, 'bench', 'ubpf-figures.json');
/** The uBPF harness scripts/ubpf-reference/build.sh builds, where it builds it. */
const UBPF_HARNESS = join(process.env.UBPF_DIR ?? '/work/ubpf-scratch', 'harness-interp');
const PIN_ROOT = '/sys/fs/bpf';

/** A map entry set before the runs, on both sides: map name, key and value bytes. */
interface MapEntry {
  readonly map: string;
  readonly key: readonly number[];
  readonly value: readonly number[];
}

/**
 * One row: an XDP object, its program, the packets it runs on (the figure is their mean), repeats
 * per engine. Ours are large enough for a steady state: a test run leaves its first tenth untimed,
 * and V8 compiles the interpreter's loop and a program's module in tiers over the first 100-400 ms.
 */
export interface Row {
  readonly name: string;
  readonly what: string;
  readonly object: string;
  readonly program: string;
  readonly packets: readonly Uint8Array[];
  readonly entries?: readonly MapEntry[];
  readonly repeat: { readonly linux: number; readonly jit: number; readonly interp: number; readonly ubpf?: number };
  /** A compute row: part of the geomean the compute targets are stated over. */
  readonly compute?: boolean;
  /** Callbacks a run makes: the row's figures are per callback. */
  readonly callbacks?: number;
}

const TCP_1500 = new Uint8Array(readFileSync(join(PROGRAMS, 'tcp1500.bin')));

/** The firewall fixture's traffic mix (bench/objects.ts): allowed TCP, a blocked IPv4 source, a denied UDP port, IPv6 behind a VLAN tag. */
const FIREWALL_MIX = [
  buildPacket({ proto: 'tcp', dstPort: 80, payload: 'x'.repeat(64) }),
  buildPacket({ src: '192.0.2.9' }),
  buildPacket({ dstPort: 53, payload: 'q'.repeat(30) }),
  buildPacket({ ipVersion: 6, vlans: [7], proto: 'tcp', dstPort: 443 }),
];

export const ROWS: readonly Row[] = [
  { name: 'empty', what: 'empty program (return XDP_PASS)', object: join(PROGRAMS, 'empty.o'), program: 'empty', packets: [TCP_1500], repeat: { linux: 1_000_000, jit: 1_000_000, interp: 3_000_000, ubpf: 3_000_000 } },
  { name: 'parse', what: 'parse Eth/IPv4/TCP', object: join(PROGRAMS, 'parse.o'), program: 'parse', packets: [TCP_1500], repeat: { linux: 1_000_000, jit: 1_000_000, interp: 3_000_000, ubpf: 3_000_000 } },
  {
    name: 'firewall', what: 'XDP firewall: parse, LPM and hash lookups, a counter', object: join(ROOT, 'tests', 'fixtures', 'xdp_firewall.o'), program: 'xdp_firewall', packets: FIREWALL_MIX,
    entries: [{ map: 'blocked_v4', key: [24, 0, 0, 0, 192, 0, 2, 0], value: [1, 0, 0, 0] }, { map: 'denied_ports', key: [17, 0, 0, 53], value: [0, 0, 0, 0, 0, 0, 0, 0] }],
    repeat: { linux: 1_000_000, jit: 1_000_000, interp: 1_000_000 },
  },
  { name: 'csum', what: 'csum of 1,500 bytes', object: join(PROGRAMS, 'csum.o'), program: 'csum', packets: [TCP_1500], repeat: { linux: 100_000, jit: 100_000, interp: 20_000, ubpf: 10_000 }, compute: true },
  { name: 'fnv', what: 'FNV-1a of 1,500 bytes', object: join(PROGRAMS, 'fnv.o'), program: 'fnv', packets: [TCP_1500], repeat: { linux: 30_000, jit: 30_000, interp: 10_000, ubpf: 5_000 }, compute: true },
  { name: 'alu', what: 'ALU with divides, 30,000 rounds', object: join(PROGRAMS, 'alu.o'), program: 'alu', packets: [TCP_1500], repeat: { linux: 300, jit: 1_000, interp: 600, ubpf: 150 }, compute: true },
  { name: 'bpf_loop', what: 'a bpf_loop callback (10,000 a run)', object: join(PROGRAMS, 'loop.o'), program: 'loop', packets: [TCP_1500], repeat: { linux: 1_000, jit: 10_000, interp: 2_000 }, callbacks: 10_000 },
  { name: 'for_each', what: 'a bpf_for_each_map_elem callback (an array of 1,000)', object: join(PROGRAMS, 'foreach.o'), program: 'foreach', packets: [TCP_1500], repeat: { linux: 1_000, jit: 20_000, interp: 3_000 }, callbacks: 1_000 },
];

const ROUNDS = 5;

/** Linux figures as recorded in bench/linux-figures.json. */
interface Recorded {
  readonly measured: string;
  readonly kernel: string;
  readonly cpu: string;
  /** ns per run, median over the rounds, by row name. */
  readonly ns: Record<string, number>;
}

export interface LinuxFigure {
  readonly row: string;
  readonly what: string;
  readonly compute: boolean;
  /** Callbacks a run makes; the figures are per callback when set. */
  readonly callbacks?: number;
  /** Medians, ns per run. */
  readonly linuxNs: number | undefined;
  readonly jitNs: number;
  readonly interpNs: number;
  readonly ubpfInterpNs: number | undefined;
  readonly ubpfJitNs: number | undefined;
  /** Whether uBPF's interpreter ran in the rounds (else its figure is the recorded one). */
  readonly ubpfLive: boolean;
  /** Each engine's figures over the rounds, for the spread (ubpf: when it ran in them). */
  readonly rounds: { readonly linux: number[]; readonly jit: number[]; readonly interp: number[]; readonly ubpf: number[] };
}

export interface LinuxComparison {
  /** 'live': measured now beside ours; 'recorded': from bench/linux-figures.json; 'none'. */
  readonly source: 'live' | 'recorded' | 'none';
  readonly recorded?: Recorded;
  readonly figures: LinuxFigure[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Whether bpftool can load and run programs here (root, bpffs, the tool). */
function bpftoolWorks(): boolean {
  if (process.getuid?.() !== 0 || !existsSync(PIN_ROOT)) return false;
  return spawnSync('bpftool', ['version'], { encoding: 'utf8' }).status === 0;
}

function bpftool(args: readonly string[]): string {
  const r = spawnSync('bpftool', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bpftool ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

const hex = (bytes: readonly number[]) => bytes.map((b) => b.toString(16).padStart(2, '0'));

/** A row loaded into the kernel: run(packetFile) gives the mean ns per run bpftool reports. */
class KernelRow {
  private constructor(private readonly pin: string, private readonly mapDir: string) {}

  static load(row: Row): KernelRow {
    const pin = join(PIN_ROOT, `ebpf_wasm_bench_${process.pid}_${row.name}`);
    const mapDir = `${pin}_maps`;
    bpftool(['prog', 'load', row.object, pin, 'pinmaps', mapDir]);
    const loaded = new KernelRow(pin, mapDir);
    try {
      for (const e of row.entries ?? []) bpftool(['map', 'update', 'pinned', join(mapDir, e.map), 'key', 'hex', ...hex(e.key), 'value', 'hex', ...hex(e.value)]);
    } catch (err) {
      loaded.unload();
      throw err;
    }
    return loaded;
  }

  run(packetFile: string, repeat: number): number {
    const out = bpftool(['prog', 'run', 'pinned', this.pin, 'data_in', packetFile, 'repeat', String(repeat)]);
    const m = /duration \(average\): (\d+)ns/.exec(out);
    if (!m) throw new Error(`bpftool prog run printed no duration: ${out.trim()}`);
    return Number(m[1]);
  }

  unload(): void {
    rmSync(this.pin, { force: true });
    rmSync(this.mapDir, { recursive: true, force: true });
  }
}

export async function loadOurs(row: Row, engine: EngineKind): Promise<Program> {
  const obj = await new Runtime({ engine }).loadObject(row.object);
  for (const e of row.entries ?? []) obj.map(e.map).update(Uint8Array.from(e.key), Uint8Array.from(e.value));
  return obj.program(row.program);
}

/** Mean over a row's packets of one measure, per callback for callback rows. */
export function meanOver(row: Row, measure: (packet: Uint8Array, index: number) => number): number {
  return row.packets.reduce((sum, p, i) => sum + measure(p, i), 0) / row.packets.length / (row.callbacks ?? 1);
}

/** uBPF's interpreter through its harness: the median ns per run it prints for a row's first packet. */
function ubpfRun(row: Row, packetFile: string): number {
  const r = spawnSync(UBPF_HARNESS, [row.object, packetFile, String(row.repeat.ubpf)], { encoding: 'utf8' });
  const m = /median ([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`${UBPF_HARNESS} ${row.object}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  return Number(m[1]);
}

/** A row on one of our engines, in its worker (linux-row.ts): round() gives the mean ns per run testRun reports. */
class OurRow {
  private constructor(private readonly worker: Worker) {}

  static start(row: Row, engine: EngineKind): Promise<OurRow> {
    const worker = new Worker(new URL('./linux-row.js', import.meta.url), { workerData: { row: row.name, engine } });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => {
        worker.off('error', reject);
        resolve(new OurRow(worker));
      });
    });
  }

  round(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.once('message', (ns: number) => {
        this.worker.off('error', reject);
        resolve(ns);
      });
      this.worker.postMessage('round');
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/**
 * Every row on our two engines, and on Linux when bpftool works (then the Linux medians are
 * recorded in bench/linux-figures.json unless `record` is false).
 */
export async function linuxFigures(options: { readonly record?: boolean } = {}): Promise<LinuxComparison> {
  const live = bpftoolWorks();
  const recorded = readJson<Recorded>(RECORDED);
  // The quiet run's figures when there is one, else the summary's.
  type UbpfRows = Record<string, { readonly ubpfInterpNs?: number; readonly ubpfJitNs?: number }>;
  const ubpfFile = readJson<{ readonly summary: UbpfRows; readonly quiet?: { readonly rows: UbpfRows } }>(UBPF);
  const ubpf = ubpfFile?.quiet?.rows ?? ubpfFile?.summary;
  const ubpfHarness = existsSync(UBPF_HARNESS);
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-linux-'));
  const figures: LinuxFigure[] = [];
  try {
    for (const row of ROWS) {
      const files = row.packets.map((p, i) => {
        const file = join(dir, `${row.name}-${i}.bin`);
        writeFileSync(file, p);
        return file;
      });
      const kernel = live ? KernelRow.load(row) : undefined;
      const ours: OurRow[] = [];
      try {
        const jit = await OurRow.start(row, 'jit');
        ours.push(jit);
        const interp = await OurRow.start(row, 'interp');
        ours.push(interp);
        // The harness runs the rows without maps or helpers, on one packet.
        const ubpfLive = ubpfHarness && row.repeat.ubpf !== undefined;
        const rounds = { linux: [] as number[], jit: [] as number[], interp: [] as number[], ubpf: [] as number[] };
        for (let r = 0; r < ROUNDS; r++) {
          if (kernel) rounds.linux.push(meanOver(row, (_, i) => kernel.run(files[i]!, row.repeat.linux)));
          rounds.jit.push(await jit.round());
          rounds.interp.push(await interp.round());
          if (ubpfLive) rounds.ubpf.push(ubpfRun(row, files[0]!));
        }
        const reference = ubpf?.[row.name];
        figures.push({
          row: row.name, what: row.what, compute: row.compute ?? false, ...(row.callbacks ? { callbacks: row.callbacks } : {}),
          linuxNs: kernel ? median(rounds.linux) : recorded?.ns[row.name],
          jitNs: median(rounds.jit), interpNs: median(rounds.interp),
          ubpfInterpNs: ubpfLive ? median(rounds.ubpf) : reference?.ubpfInterpNs, ubpfJitNs: reference?.ubpfJitNs, ubpfLive, rounds,
        });
      } finally {
        kernel?.unload();
        await Promise.all(ours.map((o) => o.close()));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (live && options.record !== false) {
    const record: Recorded = {
      measured: new Date().toISOString().slice(0, 10), kernel: release(), cpu: cpus()[0]?.model ?? 'unknown',
      ns: Object.fromEntries(figures.map((f) => [f.row, f.linuxNs!])),
    };
    writeFileSync(RECORDED, `${JSON.stringify(record, null, 2)}\n`);
  }
  return { source: live ? 'live' : recorded ? 'recorded' : 'none', ...(recorded && !live ? { recorded } : {}), figures };
}

/** Geometric mean of ratios. */
export function geomean(ratios: readonly number[]): number {
  return Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
}

/** The comparison as printed lines. */
export function linuxLines(c: LinuxComparison): string[] {
  const out: string[] = [];
  const source = c.source === 'live' ? 'measured now, interleaved with ours'
    : c.source === 'recorded' ? `recorded ${c.recorded!.measured} on ${c.recorded!.kernel} (no bpftool or not root here)` : 'not available (no bpftool, nothing recorded)';
  const ubpf = c.figures.some((f) => f.ubpfLive) ? 'measured now, in the same rounds' : 'as recorded';
  out.push(`side by side with Linux (BPF_PROG_TEST_RUN through bpftool prog run; ours through testRun, the same measure, each program in a worker of its own); Linux ${source}; uBPF's interpreter ${ubpf}; ns per run (per callback for bpf_loop and for_each), medians of ${ROUNDS} rounds:`);
  const n = (x: number | undefined) => (x === undefined ? '-' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const ratio = (a: number, b: number | undefined) => (b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
  const spread = (xs: readonly number[]) => (xs.length ? `${n(Math.min(...xs))}-${n(Math.max(...xs))}` : '-');
  out.push(`  ${'row'.padEnd(9)} ${'Linux'.padStart(7)} | ${'JIT'.padStart(7)} ${'(spread)'.padStart(13)} ${'/Linux'.padStart(7)} | ${'interp'.padStart(8)} ${'(spread)'.padStart(15)} ${'uBPF int'.padStart(8)} ${'/uBPF'.padStart(7)}`);
  for (const f of c.figures) {
    out.push(`  ${f.row.padEnd(9)} ${n(f.linuxNs).padStart(7)} | ${n(f.jitNs).padStart(7)} ${`(${spread(f.rounds.jit)})`.padStart(13)} ${ratio(f.jitNs, f.linuxNs).padStart(7)} | ${n(f.interpNs).padStart(8)} ${`(${spread(f.rounds.interp)})`.padStart(15)} ${n(f.ubpfInterpNs).padStart(8)} ${ratio(f.interpNs, f.ubpfInterpNs).padStart(7)}`);
  }
  const compute = c.figures.filter((f) => f.compute && f.linuxNs !== undefined);
  if (compute.length) out.push(`  compute geomean (${compute.map((f) => f.row).join(', ')}): JIT ${geomean(compute.map((f) => f.jitNs / f.linuxNs!)).toFixed(2)}x Linux`);
  const vsUbpf = c.figures.filter((f) => (f.compute || f.row === 'parse') && f.ubpfInterpNs !== undefined);
  if (vsUbpf.length) {
    const live = vsUbpf.every((f) => f.ubpfLive);
    out.push(`  interpreter geomean (${vsUbpf.map((f) => f.row).join(', ')}): ${geomean(vsUbpf.map((f) => f.interpNs / f.ubpfInterpNs!)).toFixed(2)}x uBPF's interpreter`
      + (live ? ` (uBPF's measured now through ${UBPF_HARNESS}, in the same rounds)` : ' (uBPF as recorded in bench/ubpf-figures.json by scripts/ubpf-reference; ours measured now)'));
    // Per round, both halves ran under the same load: the geomean of each round's ratios says how steady that is.
    if (live) {
      const perRound = Array.from({ length: ROUNDS }, (_, r) => geomean(vsUbpf.map((f) => f.rounds.interp[r]! / f.rounds.ubpf[r]!)));
      out.push(`  the same geomean round by round: ${perRound.map((x) => x.toFixed(2)).join(', ')}`);
    }
  }
  const spreads = c.figures.filter((f) => f.rounds.linux.length).map((f) => `${f.row} ${spread(f.rounds.linux)}`);
  if (spreads.length) out.push(`  Linux spread over the rounds: ${spreads.join(', ')}`);
  return out;
}
