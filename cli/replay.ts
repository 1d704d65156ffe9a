// `ebpf-wasm replay`: pushes captured traffic through a simulated network of interfaces and their
// programs (a topology file, or one interface `eth0` with one program), as Linux would carry out the
// verdicts, and reports what happened: a summary (or --json), per-packet lines with --verbose, and
// with --out the captures of what left each interface, reached each stack, was dropped or aborted.
import { mkdirSync } from 'node:fs';
import {
  hookFor, Runtime, readCaptures, loadTopologyFile, replay, ReplayOutput,
  type CaptureInput, type CaptureProgress, type ControlPlaneHooks, type LoadedObject, type PacketReport, type Program, type ReplayRecord, type ReplaySummary,
} from '../index.js';
import { parseEngine } from './conformance.js';
import { blameGlobals, fillMaps, globalsOf, parseMapOptions, topologyMaps } from './map-state.js';
import { UsageError } from './errors.js';
import { dumpMaps } from './maps.js';
import { printMaps, printSockets, printSummary, packetLine } from './replay-report.js';
import { ProgressBar } from './progress.js';

export interface ReplayCliOptions {
  pcap?: string;
  program?: string;
  topology?: string;
  interface?: string;
  engine?: string;
  out?: string;
  pcapng?: boolean;
  json?: boolean;
  dumpMaps?: boolean;
  limit?: string;
  verbose?: boolean;
  cpus?: string;
  progress?: boolean;
  lane?: boolean;
  metaKey?: string[];
  map?: string[];
}

/** The program a plain replay runs: the one named, or the only one that can sit on an interface's hook. */
function pickProgram(obj: LoadedObject, name: string | undefined): Program {
  if (name !== undefined) return obj.program(name);
  const candidates = [...obj.programs.values()].filter((p) => hookFor(p));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw new UsageError(`${obj.file}: has no XDP, tc or socket-filter program to replay through`);
  throw new UsageError(`${obj.file}: has ${candidates.length} programs that could take the capture; choose one with --program (${candidates.map((p) => p.name).join(', ')})`);
}

function positiveInteger(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what}: '${text}' is not a positive integer`);
  return n;
}

export async function replayCommand(objectFile: string | undefined, options: ReplayCliOptions): Promise<void> {
  const engine = parseEngine(options.engine ?? 'jit');
  if (engine === 'both') throw new UsageError("--engine: replay runs one engine (interp or jit); compare engines with test-run --engine both");
  if (objectFile === undefined && options.topology === undefined) throw new UsageError('give an object file (with --pcap) or a --topology');
  if (objectFile !== undefined && options.topology !== undefined) throw new UsageError('give either an object file or a --topology, not both (a topology names its objects)');
  const limit = positiveInteger(options.limit, '--limit');
  const cpus = positiveInteger(options.cpus, '--cpus') ?? 1;
  const mapOptions = parseMapOptions(options.map);
  const runtime = new Runtime({ engine, cpus });
  for (const spec of options.metaKey ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(spec);
    if (!m) throw new UsageError(`--meta-key: '${spec}' is not name=key (a key 0 to 63)`);
    try {
      runtime.metadataKeys.register(m[1]!, Number(m[2]));
    } catch (err) {
      throw new UsageError(`--meta-key: ${(err as Error).message}`);
    }
  }

  // The network: a topology, or eth0 (ifindex 2) with the object's program.
  const objects = new Map<string, LoadedObject>();
  const inputs: CaptureInput[] = [];
  let hopLimit: number | undefined;
  let program: Program | undefined;
  let hooks: ControlPlaneHooks | undefined;
  let outbox: ReplayRecord[] | undefined;
  if (options.topology !== undefined) {
    const applied = await loadTopologyFile(runtime, options.topology, topologyMaps(mapOptions));
    for (const [name, obj] of applied.objects) objects.set(name, obj);
    hopLimit = applied.hopLimit;
    hooks = applied.hooks;
    outbox = applied.outbox;
    if (options.pcap !== undefined) {
      const dev = options.interface !== undefined ? runtime.network.get(options.interface) : undefined;
      inputs.push({ path: options.pcap, interface: dev, direction: 'in' });
    } else {
      for (const c of applied.captures) inputs.push({ path: c.path, interface: c.interface, direction: c.direction });
    }
    if (inputs.length === 0) throw new UsageError(`${options.topology}: names no capture; give one with --pcap, or "pcap" on an interface`);
  } else {
    if (options.pcap === undefined) throw new UsageError('--pcap: required (the capture to replay)');
    if (options.interface !== undefined) throw new UsageError('--interface: only with --topology (a plain replay has one interface, eth0)');
    const globals = globalsOf(mapOptions);
    const obj = await runtime.loadObject(objectFile!, {
      // Only the program asked for needs to load (libbpf's autoload); others are not even verified.
      ...(options.program !== undefined ? { programs: [options.program] } : {}),
      ...(Object.keys(globals).length ? { globals } : {}),
    }).catch((err: unknown) => { throw blameGlobals(mapOptions, err); });
    fillMaps(obj, mapOptions);
    objects.set(obj.file, obj);
    program = pickProgram(obj, options.program);
    const place = hookFor(program);
    if (!place) throw new UsageError(`${obj.file}: program '${program.name}' is a ${program.type}${program.attach ? `/${program.attach}` : ''} program, which does not sit on an interface (use a topology to put it in a devmap, cpumap or prog array)`);
    const eth0 = runtime.network.addInterface({ name: 'eth0' });
    eth0.attach(place.hook, program);
    inputs.push({ path: options.pcap, interface: eth0, direction: place.direction });
  }

  const output = options.out !== undefined ? prepareOutput(options.out, runtime, options.pcapng ?? false) : undefined;
  const bar = ProgressBar.onTerminal('packets', !options.json && options.progress !== false);
  let progress: CaptureProgress | undefined;
  const onPacket = options.verbose && !options.json ? (r: PacketReport) => process.stdout.write(`${packetLine(r)}\n`) : undefined;
  let summary: ReplaySummary;
  // Resident memory, sampled after each batch of records: getrusage's maxRSS would report the
  // parent's size when a bigger process spawned this one (a fork's high-water mark survives exec).
  let peakRss = process.memoryUsage.rss();
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  try {
    summary = await replay(runtime, readCaptures(runtime.network, inputs, (p) => {
      progress = p;
      sampleRss();
    }), {
      ...(limit !== undefined ? { limit } : {}),
      ...(hopLimit !== undefined ? { maxHops: hopLimit } : {}),
      ...(output || hooks?.frame ? { onFrame: (e, p) => { hooks?.frame?.(e, p); output?.frame(e, p); }, metadata: options.pcapng ?? false } : {}),
      ...(hooks?.packet ? { afterPacket: hooks.packet } : {}),
      ...(outbox ? { outbox } : {}),
      ...(options.lane === false ? { lane: false } : {}),
      ...(onPacket ? { onPacket } : {}),
      ...(bar ? { onProgress: (n: number) => bar.update(n, progress && progress.totalBytes ? progress.bytesRead / progress.totalBytes : 0), progressEvery: 16384 } : {}),
    });
  } catch (err) {
    output?.abort();
    throw err;
  } finally {
    bar?.clear();
  }
  sampleRss();
  const files = output?.close() ?? [];
  const verified = [...objects.values()].flatMap((o) => [...o.programs.values()]).every((p) => p.verified);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({
      engine, verified,
      captures: inputs.map((i) => i.path),
      ...summary,
      ...(output ? { outputs: files } : {}),
      // The process's peak resident memory: what a capture's size must not drive up.
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      ...(options.dumpMaps ? { maps: mapsOf(objects), sockets: socketsOf(runtime) } : {}),
    }, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  } else {
    printSummary(process.stdout, summary, { engine, verified, captures: inputs.map((i) => i.path), files, interfaces: runtime.network.list() });
    if (options.dumpMaps) {
      printMaps(process.stdout, mapsOf(objects));
      printSockets(process.stdout, socketsOf(runtime));
    }
  }
  // What stopped the replay early (a corrupt capture) is an error, after everything before it was reported.
  if (summary.errors.length) throw new UsageError(summary.errors[0]!);
}

function prepareOutput(dir: string, runtime: Runtime, pcapng: boolean): ReplayOutput {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UsageError(`${dir}: cannot create the output folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return new ReplayOutput(dir, runtime.network, pcapng ? 'pcapng' : 'pcap', (pairs) => runtime.metadataKeys.describe(pairs));
}

/** The open sockets, by the cookie socket storage dumps are keyed by. */
function socketsOf(runtime: Runtime): { cookie: number; socket: string; state: number }[] {
  return runtime.sockets.list().map((s) => ({ cookie: Number(s.cookie), socket: String(s).replace(/ \(cookie \d+\)$/, ''), state: s.state }));
}

/** Every map of every object, as `object/map`, typed by BTF. */
function mapsOf(objects: ReadonlyMap<string, LoadedObject>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, obj] of objects) {
    for (const [map, value] of Object.entries(dumpMaps(obj))) out[objects.size === 1 && name === obj.file ? map : `${name}/${map}`] = value;
  }
  return out;
}
