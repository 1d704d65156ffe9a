// The Runtime: one guest memory, the simulated machine (CPUs, clock, random source, trace pipe), and
// the objects loaded into it. Loading turns an object's plain description (loader/) into live maps
// and programs: maps are created with their initial contents, references are bound to guest
// addresses, every program passes the gate (verifier/gate.ts), and executors are built on the
// engine chosen at load.
import { monotonicNs, readHostFile } from './host.js';
import { BpfError } from '../isa/errors.js';
import { GlobalDataError, RuntimeError } from './errors.js';
import { linkKfuncCalls } from '../helpers/kfuncs.js';
import { helperTable, resolveHelperCalls, UnknownHelperError, type HelperSpec, type HelperTable } from '../helpers/table.js';
import { mapHelpers } from '../helpers/maps.js';
import { callbackHelpers } from '../helpers/callbacks.js';
import { systemHelpers } from '../helpers/system.js';
import { loadObjectSpec, type ObjectSpec, type ProgramSpec } from '../loader/object.js';
import type { Btf } from '../loader/btf.js';
import { LoaderError } from '../loader/errors.js';
import type { MapDefinition } from '../loader/map-specs.js';
import { MapCreateError } from '../maps/errors.js';
import { MapFlag, MapType } from '../maps/constants.js';
import type { BpfMap, MapOptions, MapSpec } from '../maps/map.js';
import { Descriptor, DESCRIPTOR_BYTES } from '../maps/descriptor.js';
import { mapSpecOf } from './map-spec.js';
import { createMap } from '../maps/registry.js';
import { RingbufMap } from '../maps/ringbuf.js';
import { gateProgram, sanitizeDeadCode } from '../verifier/gate.js';
import { VerifierError } from '../verifier/diagnostics.js';
import { verifierInputOf } from '../verifier/program-input.js';
import { applyCoreRelocations } from '../loader/core.js';
import { currentTaskCgroupHelpers, skbCgroupHelpers, stackTraceHelpers } from '../helpers/map-kinds.js';
import { isTracingProgramType, type ProgramType } from '../loader/program-types.js';
import { parseBtf } from '../loader/btf.js';
import { corePoisonHelper, tracingHelpers } from '../helpers/tracing.js';
import { perfEventHelpers } from '../helpers/perf-event.js';
import { csumDiffHelper } from '../helpers/checksum.js';
import { xdpRedirectHelpers } from '../helpers/xdp.js';
import { socketHelpers } from '../helpers/sockets.js';
import { SkStorageMap } from '../maps/sk-storage.js';
import { CgroupStorageMap } from '../maps/cgroup-storage.js';
import { kernelBtf } from './kernel-btf.js';
import { SKB_PROGRAM_TYPES, SkbRunner, type SkbProgramType } from './skb.js';
import { TaskTable } from './task.js';
import { bindReferences } from './bind.js';
import type { Instruction } from '../isa/instruction.js';
import type { EngineKind } from './engine.js';
import { GuestMemory, type Region } from './memory.js';
import { DEFAULT_BUDGET } from './run.js';
import { Program } from './program.js';
import { XdpRunner } from './xdp.js';
import { Network } from './network.js';
import { MetadataKeys } from './metadata-store.js';
import { controlSources, sockAttrSource } from './control.js';
import type { ControlSource } from '../maps/control.js';
import { TypedMap, type TypedMapOptions } from './typed-map.js';
import { SocketTable } from './sockets.js';
import { Cgroup } from './cgroup.js';
import { XdpMdOffset } from './packet-frame.js';

/** How a runtime is set up. */
export interface RuntimeOptions {
  /**
   * Engine programs run on unless loadObject says otherwise (default 'interp'). There is no 'both'
   * here: maps keep state outside guest memory, so one runtime cannot replay a run on the other
   * engine from the same state; compare two runtimes instead (DifferentialObject).
   */
  readonly engine?: EngineKind;
  /** Simulated CPUs (per-CPU maps keep one value per CPU; default 1). */
  readonly cpus?: number;
  /**
   * The clock every ktime helper reads: 'manual' (default) starts at `clockStart` and moves only
   * when `runtime.clock.set/advance` is called, so replays are deterministic; 'monotonic' is the host's.
   */
  readonly clock?: 'manual' | 'monotonic';
  /**
   * Start of the manual clock, in ns. The default, DEFAULT_CLOCK_START, is a machine up for an hour:
   * on Linux `bpf_ktime_get_ns()` is never 0, and programs (a kernel selftest among them) branch on it.
   */
  readonly clockStart?: bigint;
  /** Seed of bpf_get_prandom_u32's generator (default 1). */
  readonly seed?: number;
  /** Receives each bpf_trace_printk line with the program that printed it (default: kept in `runtime.traceLines`). */
  readonly onTrace?: (line: string, program: Program | undefined) => void;
  /** Instruction budget of one interpreter run; loop back-edges of one JIT run (default 100,000,000). */
  readonly budget?: number;
  /** Guest memory limit in 64 KiB pages (default 16384, 1 GiB). */
  readonly maximumPages?: number;
  /** JIT optimisation level 0..4 (default 1). */
  readonly optimize?: number;
  /**
   * The kernel's BTF as this runtime presents it: what CO-RE relocations resolve against and what
   * the simulated tasks are laid out by (default: the runtime's own, runtime/kernel-btf.ts, which
   * describes the contexts it provides and a small task_struct). A raw .BTF blob or a parsed Btf.
   */
  readonly btf?: Btf | Uint8Array;
  /**
   * CO-RE relocations that find no target fail the load (true), instead of becoming libbpf's
   * poisoned call that fails only if it runs (false, the default: code guarded by
   * bpf_core_field_exists and friends loads, as with libbpf).
   */
  readonly strictCore?: boolean;
}

/** Options of one load. */
export interface LoadOptions {
  /** Engine for this object's programs (default: the runtime's). */
  readonly engine?: EngineKind;
  /** Name to report in errors (default: the path, or '<object>' for bytes). */
  readonly fileName?: string;
  /**
   * Load only these programs (libbpf's autoload): each must load, and nothing else in the object is
   * linked or verified. Without it every program is tried, and one that fails is reported in
   * `failures` instead of failing the load.
   */
  readonly programs?: readonly string[];
  /**
   * Unsafe: run programs without verifying them. Allowed only on the checked interpreter, which
   * traps at run time what the verifier would have refused; the JIT runs verified programs only.
   */
  readonly unsafeSkipVerification?: boolean;
  /** BPF_F_STRICT_ALIGNMENT: verify as for a machine without efficient unaligned access. */
  readonly strictAlignment?: boolean;
  /** Keep the verifier's log of every instruction it walked in each program's verdict (slower). */
  readonly verifierLog?: boolean;
  /**
   * Global variables to set before the programs load, by section: `{ '.rodata': { debug: 1 } }`,
   * as a libbpf skeleton sets `skel->rodata->debug` before loading. Values are JSON decoded through
   * BTF; variables not named keep the object's values. The only way to set `.rodata`, which is
   * frozen once the programs load (the verifier takes its contents as constants).
   */
  readonly globals?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Where the manual clock starts unless told: one hour after boot, in ns. */
export const DEFAULT_CLOCK_START = 3_600_000_000_000n;

/** The runtime's clock. */
export class RuntimeClock {
  /** The manual clock reads manualNs + offsetNs: a replay moves the number part per packet, without a BigInt. */
  private manualNs: bigint;
  /** manualNs as a number when it is a safe integer, else NaN. */
  private manualNumber: number;
  private offsetNs = 0;

  constructor(readonly mode: 'manual' | 'monotonic', start: bigint) {
    this.manualNs = start;
    this.manualNumber = safeNumber(start);
  }

  /** Nanoseconds now. */
  now(): bigint {
    if (this.mode !== 'manual') return monotonicNs();
    return this.offsetNs === 0 ? this.manualNs : BigInt.asUintN(64, this.manualNs + BigInt(this.offsetNs));
  }

  /** now() as a number, when the manual clock's reading is a safe integer (it is, unless set past 2^53 ns); else undefined. */
  nowSafe(): number | undefined {
    if (this.mode !== 'manual') return undefined;
    const ns = this.manualNumber + this.offsetNs;
    return Number.isSafeInteger(ns) ? ns : undefined;
  }

  /** Sets the manual clock. */
  set(ns: bigint): void {
    if (this.mode !== 'manual') throw new RangeError('the monotonic clock cannot be set');
    this.manualNs = BigInt.asUintN(64, ns);
    this.manualNumber = safeNumber(this.manualNs);
    this.offsetNs = 0;
  }

  /** Sets the manual clock to `base` plus `offsetNs` (a non-negative safe integer), cheaply enough to do per packet. */
  setSince(base: bigint, offsetNs: number): void {
    if (this.mode !== 'manual') throw new RangeError('the monotonic clock cannot be set');
    if (base !== this.manualNs) {
      this.manualNs = base;
      this.manualNumber = safeNumber(base);
    }
    this.offsetNs = offsetNs;
  }

  /** Moves the manual clock forward. */
  advance(ns: bigint): void {
    this.set(this.manualNs + ns);
  }
}

/** A BigInt as a number when it is a safe integer, else NaN (which no sum makes safe). */
function safeNumber(n: bigint): number {
  return n >= 0n && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : Number.NaN;
}

/** xorshift32: a small, seedable source for bpf_get_prandom_u32 (Linux's is not reproducible; ours is, by design). */
function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
}

/** A map together with its handle: the guest address programs hold as the map pointer. */
interface LiveMap {
  readonly map: BpfMap;
  readonly id: number;
  readonly handle: number;
}

/** One loaded object: its programs and maps by name. */
export class LoadedObject {
  constructor(
    /** The runtime it lives in. */
    readonly runtime: Runtime,
    readonly spec: ObjectSpec,
    readonly programs: ReadonlyMap<string, Program>,
    readonly maps: ReadonlyMap<string, BpfMap>,
    /** Programs of the object that did not load, with why (a verifier rejection, an unknown helper, ...). */
    readonly failures: ReadonlyMap<string, BpfError> = new Map(),
  ) {}

  get file(): string {
    return this.spec.file;
  }

  get license(): string | undefined {
    return this.spec.license;
  }

  private closed = false;

  /** Unloads the object: its programs and maps leave the runtime and give back their guest memory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.runtime.unload(this);
  }

  private open(): void {
    if (this.closed) throw new RuntimeError(`${this.file}: the object was closed`);
  }

  /** The program named `name`; throws why it did not load, or a one-line error listing the names there are. */
  program(name: string): Program {
    this.open();
    const p = this.programs.get(name);
    if (p) return p;
    const failure = this.failures.get(name);
    if (failure) throw failure;
    throw new RuntimeError(`${this.file}: no program named '${name}' (there are: ${[...this.programs.keys(), ...this.failures.keys()].join(', ') || 'none'})`);
  }

  /** The map named `name`; throws a one-line error listing the names there are. */
  map(name: string): BpfMap {
    this.open();
    const m = this.maps.get(name);
    if (!m) throw new RuntimeError(`${this.file}: no map named '${name}' (there are: ${[...this.maps.keys()].join(', ') || 'none'})`);
    return m;
  }

  /** The map named `name` taking and returning JS values through its BTF key and value types (hex for a side without). */
  typedMap(name: string, options?: TypedMapOptions): TypedMap {
    const map = this.map(name);
    const def = this.spec.maps.find((d) => d.name === name);
    return typedMapOf(map, this.spec, def, options);
  }
}

function typedMapOf(map: BpfMap, spec: ObjectSpec, def: MapDefinition | undefined, options?: TypedMapOptions): TypedMap {
  return new TypedMap(map, spec.btf, def?.keyType, def?.valueType, options, def?.data ? { section: def.section, variables: def.variables ?? [] } : undefined);
}

/**
 * Sets global variables before load (LoadOptions.globals) and returns the spec with the data
 * sections' new contents, which the verifier reads for `.rodata`.
 */
function setGlobals(spec: ObjectSpec, maps: ReadonlyMap<string, BpfMap>, globals: Readonly<Record<string, Readonly<Record<string, unknown>>>>): ObjectSpec {
  const sections = Object.keys(globals);
  if (sections.length === 0) return spec;
  const data = spec.maps.filter((d) => d.data);
  for (const section of sections) {
    const def = data.find((d) => d.name === section);
    if (!def) throw new GlobalDataError(spec.file, section, `no such global data section (there are: ${data.map((d) => d.name).join(', ') || 'none'})`);
    const typed = typedMapOf(maps.get(section)!, spec, def);
    if (!typed.typedData) throw new GlobalDataError(spec.file, section, 'BTF does not describe its variables, so they cannot be set by name');
    try {
      typed.update(new Uint8Array(4), globals[section]);
    } catch (err) {
      if (err instanceof BpfError) throw new GlobalDataError(spec.file, section, err.message);
      throw err;
    }
  }
  return { ...spec, maps: spec.maps.map((d) => (d.data && sections.includes(d.name) ? { ...d, data: maps.get(d.name)!.lookup(new Uint8Array(4))! } : d)) };
}

export { GlobalDataError, RuntimeError };

/** Map types that hold programs (Linux map_type_contains_progs). */
const PROGRAM_HOLDING_MAPS = new Set<number>([MapType.PROG_ARRAY, MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP]);

/** Handles are 8 bytes apart in blocks of this many. */
const HANDLES_PER_BLOCK = 64;
/** skb helpers Linux gives tc programs and not socket filters or cgroup_skb: store_bytes, the checksum helpers, redirect, pull_data, the hash setters, csum_diff. */
const TC_ONLY_SKB_HELPERS = new Set([9, 10, 11, 23, 28, 34, 39, 40, 41, 48, 135]);
/** bpf_ktime_get_coarse_ns. */
const KTIME_GET_COARSE_NS = 160;

/** An eBPF runtime: guest memory, maps, programs and the simulated machine they run on. */
export class Runtime {
  readonly memory: GuestMemory;
  readonly clock: RuntimeClock;
  readonly cpus: number;
  readonly engine: EngineKind;
  readonly budget: number;
  readonly optimize: number | undefined;
  /** bpf_trace_printk output, when no onTrace callback was given. */
  readonly traceLines: string[] = [];
  /** The XDP frames and their helpers. */
  readonly xdp: XdpRunner;
  /** The skb frames (socket_filter, sched_cls, cgroup_skb) and their helpers. */
  readonly skb: SkbRunner;
  /** The simulated interfaces: `lo` (ifindex 1) and what is added; test runs and devmaps name them by ifindex. */
  readonly network: Network;
  /** Names for the keys of the XDP metadata key/value store, shared by cooperating programs and JS. */
  readonly metadataKeys = new MetadataKeys();
  /** The subsystems control maps reach, by map_extra (runtime/control.ts). */
  readonly control: (subsystem: number) => ControlSource | undefined;
  /** The sockets: opened from JS or a topology; replay matches frames to them, programs look them up and keep storage on them. */
  readonly sockets: SocketTable;
  /** The cgroup every socket belongs to, with its cgroup_skb ingress and egress programs. */
  readonly cgroup = new Cgroup();
  /** The target BTF of CO-RE relocations and the layout of simulated kernel structs. */
  readonly btf: Btf;
  private taskTable: TaskTable | undefined;
  /** The word in guest memory holding the current CPU, which compiled map operations read (maps/descriptor.ts). */
  private readonly cpuCell: Region;
  private cpu = 0;

  /** The CPU the current run is on. */
  get currentCpu(): number {
    return this.cpu;
  }

  set currentCpu(cpu: number) {
    if (cpu === this.cpu) return;
    this.cpu = cpu;
    this.memory.refresh();
    this.memory.view.setUint32(this.cpuCell.start, cpu, true);
  }
  /** The program running now, for trace output. */
  currentProgram: Program | undefined;

  private readonly random: () => number;
  private readonly onTrace: RuntimeOptions['onTrace'];
  private readonly mapsById = new Map<number, LiveMap>();
  private readonly mapsByHandle = new Map<number, BpfMap>();
  private readonly liveByMap = new Map<BpfMap, LiveMap>();
  private readonly programsById = new Map<number, Program>();
  private readonly ringbufs = new Set<RingbufMap>();
  /** Live socket storage maps: a closing socket's values go from each. */
  private readonly storageMaps = new Set<SkStorageMap>();
  private readonly handleBlocks: Region[] = [];
  private nextHandle = 0;
  private nextMapId = 1;
  private nextProgramId = 1;
  private readonly tables = new Map<string, HelperTable>();
  /** Value addresses of global-data maps, by map. */
  private readonly dataValues = new Map<BpfMap, number>();
  private readonly strictCore: boolean;
  /** The first program each program-holding map was used with (Linux map->owner). */
  private readonly mapOwners = new WeakMap<BpfMap, { type: string; frags: boolean; attach: string | undefined }>();

  constructor(options: RuntimeOptions = {}) {
    const engine = options.engine ?? 'interp';
    this.engine = checkEngine(engine);
    this.cpus = options.cpus ?? 1;
    if (!Number.isInteger(this.cpus) || this.cpus < 1) throw new RuntimeError(`cpus ${this.cpus} must be a positive integer`);
    this.memory = new GuestMemory(options.maximumPages ? { maximumPages: options.maximumPages } : {});
    this.cpuCell = this.memory.allocate(4, 'current CPU', { writable: false });
    this.clock = new RuntimeClock(options.clock ?? 'manual', options.clockStart ?? DEFAULT_CLOCK_START);
    this.random = randomSource(options.seed ?? 1);
    this.onTrace = options.onTrace;
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.optimize = options.optimize;
    this.network = new Network();
    this.sockets = new SocketTable(this.memory, { findInterface: (which) => this.network.find(which), storageMaps: () => this.storageMaps });
    const sockAttr = sockAttrSource(this.sockets);
    this.control = controlSources({ network: this.network, programs: () => [...this.programsById.values()], program: (id) => this.programsById.get(id) }, () => sockAttr);
    this.xdp = new XdpRunner(this.memory, { devices: (ifindex) => this.network.find(ifindex), sockets: this.sockets });
    this.skb = new SkbRunner(this.memory, { devices: (ifindex) => this.network.find(ifindex), sockets: this.sockets });
    this.btf = options.btf === undefined ? kernelBtf() : options.btf instanceof Uint8Array ? parseBtf(options.btf, { file: '<runtime btf>' }) : options.btf;
    this.strictCore = options.strictCore ?? false;
  }

  /**
   * The simulated tasks tracing programs see (`tasks.current` is bpf_get_current_task's), laid out
   * by the runtime's BTF; made on first use, since a BTF without task_struct cannot hold them.
   */
  get tasks(): TaskTable {
    this.taskTable ??= new TaskTable(this.memory, this.btf);
    return this.taskTable;
  }

  // ---- helpers ----

  /** Helpers every program type may call; `packetOf` finds the packet behind a context, for types that have one. */
  private baseHelpers(packetOf?: (ctx: number) => Uint8Array | undefined): HelperSpec[] {
    const maps = {
      mapAt: (a: number) => this.mapsByHandle.get(a), cpu: () => this.currentCpu, ringbufs: () => this.ringbufs, handlesAreDescriptors: true,
      ...(packetOf ? { packetOf } : {}),
    };
    return [
      ...mapHelpers(maps),
      ...callbackHelpers(maps),
      ...systemHelpers({
        now: () => this.clock.now(),
        nowSafe: () => this.clock.nowSafe(),
        random: this.random,
        cpu: () => this.currentCpu,
        print: (line) => this.trace(line),
      }),
    ];
  }

  private trace(line: string): void {
    if (this.traceListeners.size) for (const listener of this.traceListeners) listener(line, this.currentProgram);
    else if (this.onTrace) this.onTrace(line, this.currentProgram);
    else this.traceLines.push(line);
  }

  private readonly traceListeners = new Set<(line: string, program: Program | undefined) => void>();

  /**
   * Sends bpf_trace_printk lines to `listener` instead of onTrace or traceLines until the returned
   * function is called (a replay collects a run's lines this way).
   */
  listenToTrace(listener: (line: string, program: Program | undefined) => void): () => void {
    this.traceListeners.add(listener);
    return () => this.traceListeners.delete(listener);
  }

  /** The helper table of a program type (built once per type). */
  helpersFor(type: ProgramType): HelperTable {
    let table = this.tables.get(type);
    if (!table) {
      let specific: readonly HelperSpec[] = [];
      let packetOf: ((ctx: number) => Uint8Array | undefined) | undefined;
      if (type === 'xdp') {
        packetOf = (ctx) => this.xdp.frameAt(ctx)?.packet();
        specific = [
          ...this.xdp.helpers,
          ...xdpRedirectHelpers({
            mapAt: (a) => this.mapsByHandle.get(a),
            mapId: (m) => this.mapId(m),
            setRedirect: (r) => {
              if (this.xdp.current) this.xdp.current.redirect = r;
            },
          }),
          csumDiffHelper,
          ...this.socketHelpers('xdp'),
          ...this.xdp.dynptrHelpers,
        ];
      }
      else if (SKB_PROGRAM_TYPES.includes(type as SkbProgramType)) {
        // Linux gives socket filters none of the socket helpers; tc and cgroup_skb programs all of them.
        // Only tc programs change the packet or its checksums (tc_cls_act_func_proto; sk_filter_func_proto has none of it).
        const skbType = type as SkbProgramType;
        specific = [
          ...(skbType === 'sched_cls' ? [...this.skb.helpers, ...this.skb.tcHelpers] : this.skb.helpers.filter((h) => !TC_ONLY_SKB_HELPERS.has(h.id))),
          ...(skbType === 'socket_filter' ? [] : this.socketHelpers(skbType as 'sched_cls' | 'cgroup_skb')),
          ...this.skb.contextHelpers(skbType),
          ...this.skb.dynptrHelpers(skbType),
        ];
        if (type === 'cgroup_skb') specific = [...specific, this.localStorageHelper()];
        if (type === 'sched_cls') {
          specific = [...specific, ...skbCgroupHelpers({ mapAt: (a) => this.mapsByHandle.get(a), hasFullSocket: (ctx) => this.skb.frameAt(ctx)?.socket !== undefined })];
        }
        packetOf = (ctx) => this.skb.frameAt(ctx)?.packet();
      }
      else if (isTracingProgramType(type)) {
        specific = [...stackTraceHelpers(), ...currentTaskCgroupHelpers({ mapAt: (a) => this.mapsByHandle.get(a) })];
      }
      const tasks = { currentTask: () => this.tasks.currentTask() };
      // Every type reads the current task (bpf_base_func_proto); only tracing programs the legacy probe_read,
      // and tc programs take bpf_get_cgroup_classid's class from the skb.
      const taskHelpers = tracingHelpers(tasks, { tracing: isTracingProgramType(type), skbClassid: type === 'sched_cls' });
      const perfEvents = perfEventHelpers({ mapAt: (a) => this.mapsByHandle.get(a), cpu: () => this.currentCpu });
      // Linux keeps bpf_ktime_get_coarse_ns from tracing programs (bpf_tracing_func_proto lacks it).
      const base = this.baseHelpers(packetOf).filter((h) => !(isTracingProgramType(type) && h.id === KTIME_GET_COARSE_NS));
      table = helperTable([...base, ...specific, ...taskHelpers, ...perfEvents, corePoisonHelper]);
      this.tables.set(type, table);
    }
    return table;
  }

  /** The socket helpers of a program type, over this runtime's maps, sockets and frames. */
  /** Test runs so far: each gets its own cgroup storage (bpf_get_local_storage), as in Linux. */
  testRunSerial = 0;

  /**
   * bpf_get_local_storage (81), for cgroup_skb programs: the storage of the map argument (a cgroup
   * storage map) for the running test run, per CPU for the per-CPU kind. Linux's verifier refuses
   * flags other than 0 and any other map; the helper never returns NULL.
   */
  private localStorageHelper(): HelperSpec {
    return {
      id: 81, name: 'bpf_get_local_storage',
      proto: { ret: 'ptr_to_map_value', args: ['const_map_ptr', 'anything'], mapTypes: [MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE] },
      impl: (call) => {
        const map = this.mapsByHandle.get(call.argU32(1));
        if (!(map instanceof CgroupStorageMap)) return call.returnNumber(0);
        call.returnNumber(map.storageFor(this.testRunSerial, this.currentCpu));
      },
    };
  }

  private socketHelpers(type: 'xdp' | 'sched_cls' | 'cgroup_skb'): HelperSpec[] {
    const sockets = this.sockets;
    return socketHelpers({
      mapAt: (a) => this.mapsByHandle.get(a),
      socketAt: (a) => sockets.socketAt(a),
      lookup: (protocol, local, localPort, remote, remotePort, ifindex) => sockets.lookup(protocol, local, localPort, remote, remotePort, ifindex),
      // skb->dev for skb programs; for XDP the receiving device (ctx->rxq->dev).
      ifindexOf: type === 'xdp'
        ? (ctx) => (this.xdp.frameAt(ctx) ? this.memory.view.getUint32(ctx + XdpMdOffset.ingressIfindex, true) : undefined)
        : (ctx) => this.skb.frameAt(ctx)?.ifindex,
      acquire: (address) => sockets.acquire(address),
      release: (address) => sockets.release(address),
    }, type);
  }

  // ---- maps ----

  private allocateHandle(map: BpfMap, id: number): number {
    if (this.nextHandle % HANDLES_PER_BLOCK === 0) this.handleBlocks.push(this.memory.allocate(HANDLES_PER_BLOCK * DESCRIPTOR_BYTES, 'map handles', { writable: false }));
    const block = this.handleBlocks.at(-1)!;
    const handle = block.start + (this.nextHandle++ % HANDLES_PER_BLOCK) * DESCRIPTOR_BYTES;
    // The handle holds the map's id and type, so a program (or a person in a trace) reading it sees
    // which map it is, then the map's descriptor, for compiled code that operates on it directly.
    this.memory.view.setUint32(handle + Descriptor.Id, id, true);
    this.memory.view.setUint32(handle + Descriptor.Type, map.type, true);
    map.attachDescriptor(handle, this.cpuCell.start);
    return handle;
  }

  private mapOptions(): MapOptions {
    return {
      cpus: this.cpus,
      resolveProgram: (id, use, map) => {
        const program = this.programsById.get(id);
        if (!program) return undefined;
        // Linux's devmap and cpumap refuse programs not loaded for them (expected_attach_type).
        if (use !== 'prog_array' && (program.type !== 'xdp' || program.attach !== use)) return undefined;
        return this.incompatibility(map, program) ? undefined : program;
      },
      resolveMap: (id) => this.mapsById.get(id)?.map,
      mapHandle: (map) => this.liveByMap.get(map)?.handle ?? 0,
      netdevExists: (ifindex) => this.network.find(ifindex) !== undefined,
      control: this.control,
      resolveSocket: (cookie) => this.sockets.byCookieOf(cookie),
    };
  }

  /** Creates a map in this runtime (for JS, and for inner maps written into a map-in-map); throws MapCreateError. */
  createMap(spec: MapSpec): BpfMap {
    const map = createMap(this.memory, spec, this.mapOptions());
    const id = this.nextMapId++;
    const live = { map, id, handle: this.allocateHandle(map, id) };
    this.mapsById.set(id, live);
    this.mapsByHandle.set(live.handle, map);
    this.liveByMap.set(map, live);
    if (map instanceof RingbufMap) this.ringbufs.add(map);
    if (map instanceof SkStorageMap) this.storageMaps.add(map);
    return map;
  }

  /** The id of a map this runtime created (what JS writes into a map-in-map, as Linux takes an fd). */
  mapId(map: BpfMap): number {
    const live = this.liveByMap.get(map);
    if (!live) throw new RuntimeError(`map '${map.name}' does not belong to this runtime`);
    return live.id;
  }

  /** The map with a given id, if it is still loaded. */
  mapById(id: number): BpfMap | undefined {
    return this.mapsById.get(id)?.map;
  }

  /**
   * Why `program` may not use, or be put into, a map that holds programs (bpf_prog_map_compatible):
   * the first program to do either makes the map's owner, and later ones must have its program type
   * and xdp.frags flag (and, for a prog array, its attach type). Undefined when it may.
   */
  private incompatibility(map: BpfMap, program: Program): string | undefined {
    const frags = program.section.startsWith('xdp.frags');
    const owner = this.mapOwners.get(map);
    if (!owner) {
      this.mapOwners.set(map, { type: program.type, frags, attach: program.attach });
      return undefined;
    }
    if (owner.type !== program.type) return `it holds ${owner.type} programs, and '${program.name}' is a ${program.type} program`;
    if (owner.frags !== frags) return `programs ${owner.frags ? 'with' : 'without'} xdp.frags use it, and '${program.name}' is ${frags ? '' : 'not '}an xdp.frags program`;
    if (map.type === MapType.PROG_ARRAY && owner.attach !== program.attach) return `it holds programs attached at ${owner.attach ?? 'the default hook'}, and '${program.name}' attaches at ${program.attach ?? 'the default hook'}`;
    return undefined;
  }

  /** The guest address programs use as the pointer to `map`. */
  mapHandle(map: BpfMap): number {
    const live = this.liveByMap.get(map);
    if (!live) throw new RuntimeError(`map '${map.name}' does not belong to this runtime`);
    return live.handle;
  }

  /** The program with a given id. */
  programById(id: number): Program | undefined {
    return this.programsById.get(id);
  }

  // ---- objects ----

  /** Loads an object from a path or from its bytes: maps, then programs, each through the gate. */
  async loadObject(source: string | Uint8Array, options: LoadOptions = {}): Promise<LoadedObject> {
    const fileName = options.fileName ?? (typeof source === 'string' ? source : '<object>');
    let bytes: Uint8Array;
    try {
      bytes = typeof source === 'string' ? readHostFile(source) : source;
    } catch (err) {
      throw new RuntimeError(`${fileName}: cannot read: ${(err as Error).message}`);
    }
    const parsed = loadObjectSpec(bytes, fileName);
    const engine = checkEngine(options.engine ?? this.engine);
    if (options.unsafeSkipVerification && engine !== 'interp') {
      throw new RuntimeError(`${fileName}: skipping verification is allowed only with the checked interpreter (engine 'interp'): the JIT runs verified programs only`);
    }
    const wanted = options.programs ? new Set(options.programs) : undefined;
    for (const name of wanted ?? []) {
      if (!parsed.programs.some((p) => p.name === name) && !parsed.failures?.some((f) => f.name === name)) {
        throw new RuntimeError(`${fileName}: no program named '${name}' (there are: ${[...parsed.programs, ...parsed.failures ?? []].map((p) => p.name).join(', ') || 'none'})`);
      }
    }
    const maps = this.createObjectMaps(parsed);
    let spec: ObjectSpec;
    try {
      spec = setGlobals(parsed, maps, options.globals ?? {});
    } catch (err) {
      for (const m of maps.values()) this.releaseMap(m);
      throw err;
    }
    // libbpf freezes .rodata once written: programs see constants, and the verifier relies on them.
    for (const def of spec.maps) if (def.data && def.flags & MapFlag.RDONLY_PROG) maps.get(def.name)!.freeze();
    const programs = new Map<string, Program>();
    // Per program, as libbpf loads them: one that fails is reported, and fails the load only when asked for.
    const failures = new Map<string, BpfError>((spec.failures ?? []).filter((f) => !wanted || wanted.has(f.name)).map((f) => [f.name, f.error]));
    try {
      for (const p of spec.programs) {
        if (wanted && !wanted.has(p.name)) continue;
        try {
          programs.set(p.name, await this.loadProgram(spec, p, maps, engine, options));
        } catch (err) {
          if (!(err instanceof LoaderError || err instanceof VerifierError)) throw err;
          failures.set(p.name, err);
        }
      }
      for (const name of wanted ?? []) {
        const failure = failures.get(name);
        if (failure) throw failure;
      }
      this.fillInitialValues(spec, maps, programs, failures);
    } catch (err) {
      for (const p of programs.values()) p.dispose();
      for (const m of maps.values()) this.releaseMap(m);
      throw err;
    }
    return new LoadedObject(this, spec, programs, maps, failures);
  }

  /** Takes a loaded object's programs and maps out of the runtime (LoadedObject.close). */
  unload(obj: LoadedObject): void {
    for (const p of obj.programs.values()) {
      this.programsById.delete(p.id);
      this.cgroup.detach('ingress', p);
      this.cgroup.detach('egress', p);
      p.dispose();
    }
    for (const m of obj.maps.values()) this.releaseMap(m);
  }

  private releaseMap(map: BpfMap): void {
    const live = this.liveByMap.get(map);
    if (live) {
      this.mapsById.delete(live.id);
      this.mapsByHandle.delete(live.handle);
      this.liveByMap.delete(map);
    }
    if (map instanceof RingbufMap) this.ringbufs.delete(map);
    if (map instanceof SkStorageMap) this.storageMaps.delete(map);
    this.dataValues.delete(map);
    map.free();
  }

  private createObjectMaps(spec: ObjectSpec): Map<string, BpfMap> {
    const maps = new Map<string, BpfMap>();
    try {
      for (const def of spec.maps) {
        let map: BpfMap;
        try {
          map = this.createMap(mapSpecOf(def, spec.btf, this.cpus));
        } catch (err) {
          if (err instanceof MapCreateError) throw new LoaderError(spec.file, def.section, def.offset, err.message);
          throw err;
        }
        maps.set(def.name, map);
        if (def.data && def.data.length > 0) map.update(new Uint8Array(4), padTo(def.data, map.valueSize));
      }
    } catch (err) {
      for (const m of maps.values()) this.releaseMap(m);
      throw err;
    }
    return maps;
  }

  private async loadProgram(spec: ObjectSpec, p: ProgramSpec, maps: ReadonlyMap<string, BpfMap>, engine: EngineKind, options: LoadOptions): Promise<Program> {
    let relocated: readonly Instruction[];
    try {
      relocated = applyCoreRelocations(p, spec, this.btf, { poison: !this.strictCore }).insns;
    } catch (err) {
      if (err instanceof BpfError && !err.message.startsWith(spec.file)) throw new LoaderError(spec.file, p.section, 0, `program '${p.name}': ${err.message}`);
      throw err;
    }
    const insns = bindReferences(relocated, p.references, (ref) => {
      const map = maps.get(ref.map);
      if (!map) throw new LoaderError(spec.file, p.section, ref.pc * 8, `program '${p.name}' refers to map '${ref.map}', which the object does not define`);
      return ref.kind === 'map' ? this.mapHandle(map) : this.valueAddressOf(map) + ref.offset;
    });
    const helpers = this.helpersFor(p.type);
    // Kfuncs the runtime implements become calls of their helper ids (helpers/kfuncs.ts), so both
    // engines and the verifier serve them as helpers; a program calling any other fails alone, saying which.
    const missing = linkKfuncCalls(insns, p.kfuncCalls ?? [], helpers);
    if (missing) throw new LoaderError(spec.file, p.section, missing.pc * 8, `program '${p.name}' calls kernel function '${missing.name}' (a kfunc), which this runtime does not implement for ${p.type} programs`);
    try {
      resolveHelperCalls(insns, helpers);
    } catch (err) {
      if (err instanceof UnknownHelperError) {
        throw new LoaderError(spec.file, p.section, err.pc * 8, `program '${p.name}' calls ${err.helperName ? `${err.helperName} (helper ${err.helperId})` : `helper ${err.helperId}`}, which this runtime does not provide for ${p.type} programs`);
      }
      throw err;
    }
    const verdict = gateProgram(verifierInputOf(spec, p, insns, helpers, { strictAlignment: options.strictAlignment ?? false, fullLog: options.verifierLog ?? false }), {
      skipVerification: options.unsafeSkipVerification ?? false,
    });
    if (verdict.error) throw verdict.error;
    const id = this.nextProgramId++;
    let program: Program;
    try {
      const used = [...new Set(p.references.map((ref) => maps.get(ref.map)!))];
      program = await Program.create(this, { spec: p, object: spec, insns: sanitizeDeadCode(insns, verdict.deadCode), helpers, verdict, id, engine, maps: used });
    } catch (err) {
      // An engine refusing the code (a bad jump, an invalid register) names the object and program.
      if (!(err instanceof BpfError)) throw err;
      const pc = (err as { pc?: number }).pc ?? 0;
      throw new LoaderError(spec.file, p.section, pc * 8, `program '${p.name}': ${err.message}`);
    }
    // Maps that hold programs take only programs compatible with the first that used them (bpf_check_tail_call).
    for (const ref of p.references) {
      const map = maps.get(ref.map)!;
      if (ref.kind !== 'map' || !PROGRAM_HOLDING_MAPS.has(map.type)) continue;
      const why = this.incompatibility(map, program);
      if (why) {
        program.dispose();
        throw new LoaderError(spec.file, p.section, ref.pc * 8, `program '${p.name}' cannot use map '${map.name}': ${why} (-EINVAL, as on Linux)`);
      }
    }
    this.programsById.set(id, program);
    return program;
  }

  /** Address of element 0's value of a single-value array map (global data); stable while the map lives. */
  private valueAddressOf(map: BpfMap): number {
    let address = this.dataValues.get(map);
    if (address === undefined) {
      const key = this.memory.allocate(4, 'key');
      try {
        address = map.lookupAddress(key.start);
      } finally {
        this.memory.free(key);
      }
      this.dataValues.set(map, address);
    }
    return address;
  }

  /**
   * Prog arrays and map-in-maps declared with initial values get their entries once every program
   * exists; a slot naming a program that did not load (reported in `failures`) or was not asked for stays empty.
   */
  private fillInitialValues(spec: ObjectSpec, maps: ReadonlyMap<string, BpfMap>, programs: ReadonlyMap<string, Program>, failures: ReadonlyMap<string, BpfError>): void {
    for (const def of spec.maps) {
      const values = def.initialValues;
      if (!values) continue;
      const map = maps.get(def.name)!;
      values.forEach((name, index) => {
        if (name === undefined) return;
        const isProgArray = def.type === MapType.PROG_ARRAY;
        // A program that did not load, or was not asked for, leaves its slot empty.
        if (isProgArray && !programs.has(name) && (failures.has(name) || spec.programs.some((p) => p.name === name))) return;
        const id = isProgArray ? programs.get(name)?.id : (maps.get(name) ? this.mapId(maps.get(name)!) : undefined);
        if (id === undefined) throw new LoaderError(spec.file, def.section, def.offset, `map '${def.name}' slot ${index} names ${isProgArray ? 'program' : 'map'} '${name}', which the object does not define`);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, index, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, id, true);
        try {
          map.update(key, value);
        } catch (err) {
          throw new LoaderError(spec.file, def.section, def.offset, `map '${def.name}' slot ${index}: ${(err as Error).message}`);
        }
      });
    }
  }

  /** Runs `fn` as the given program on a CPU (what the helpers see as current). */
  enter<T>(program: Program, cpu: number, fn: () => T): T {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) throw new RuntimeError(`cpu ${cpu} is not one of the runtime's ${this.cpus} CPUs`);
    const [savedCpu, savedProgram] = [this.currentCpu, this.currentProgram];
    this.currentCpu = cpu;
    this.currentProgram = program;
    try {
      return fn();
    } finally {
      this.currentCpu = savedCpu;
      this.currentProgram = savedProgram;
    }
  }
}

function checkEngine(engine: string): EngineKind {
  if (engine === 'interp' || engine === 'jit') return engine;
  if (engine === 'both') throw new RuntimeError("a runtime runs one engine; to compare engines, load the object into two runtimes (one 'interp', one 'jit')");
  throw new RuntimeError(`unknown engine '${engine}' (use interp or jit)`);
}

function padTo(data: Uint8Array, size: number): Uint8Array {
  if (data.length === size) return data;
  const out = new Uint8Array(size);
  out.set(data.subarray(0, size));
  return out;
}
