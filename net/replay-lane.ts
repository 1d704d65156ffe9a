// The replay's fast lane: runs of received pcap records or pcapng packet blocks handed to
// WebAssembly (net/replay-lane.wat), which copies each frame into an XDP frame and runs the
// interface's JIT-compiled program on it with no JavaScript between runs, counting the PASS and
// DROP verdicts itself. The datapath takes over at any other verdict, at a fault, and for any
// record it must see itself. The lane serves only what it serves exactly as the datapath would
// (see laneFor); tests/net/replay-lane.test.ts replays with and without it and compares everything
// the replay reports.
import { BpfError } from '../isa/errors.js';
import { MapType } from '../maps/constants.js';
import type { Netdev } from '../runtime/netdev.js';
import { SKB_SHARED_INFO_TAILROOM, XDP_PACKET_HEADROOM, type PacketFrame } from '../runtime/packet-frame.js';
import type { ContextEntry } from '../runtime/engine.js';
import type { Region } from '../runtime/memory.js';
import type { Program } from '../runtime/program.js';
import type { Runtime } from '../runtime/runtime.js';
import { XdpAction } from '../runtime/xdp.js';
import type { Datapath, PacketInfo } from './datapath.js';
import { verdictName } from './datapath-stats.js';
import type { ReplayRecord } from './replay.js';
import { REPLAY_LANE_BASE64 } from './replay-lane-module.js';
import { PCAP_RECORD_HEADER_LENGTH } from './capture/pcap-reader.js';
import { PACKET_BLOCK_DATA_OFFSET } from './capture/pcapng-format.js';

/**
 * Received records a replay batch hands over undecoded: `chunk[start..end)`, pcap records or a
 * pcapng section's blocks, the first of them record `number` of its capture, at most `most` to
 * take, all arriving on `dev`.
 */
export interface LaneInput {
  readonly format: 'pcap' | 'pcapng';
  readonly chunk: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly number: number;
  readonly most: number;
  readonly snapLength: number;
  /** pcap: nanoseconds per unit of a timestamp's fraction. */
  readonly fractionScale: number;
  /** pcapng: the interface the packet blocks name, and the units of a second in their timestamps (10^6 or 10^9). */
  readonly interfaceId: number;
  readonly unitsPerSecond: number;
  readonly dev: Netdev;
}

/** A batch of replay records that can hand the next ones over undecoded (readCaptures' batches can). */
export interface LaneSource extends Iterable<ReplayRecord> {
  laneInput(): LaneInput | undefined;
  /** The lane took `records` records, the first `bytes` bytes of the last input. */
  took(bytes: number, records: number): void;
}

/** Whether a batch can hand records over undecoded. */
export function isLaneSource(batch: Iterable<ReplayRecord>): batch is LaneSource {
  return typeof (batch as Partial<LaneSource>).laneInput === 'function';
}

/** Where the manual clock stands in a replay: the first record's time, and the furthest offset from it set so far. */
export interface ReplayTimeline {
  firstSeconds: number | undefined;
  firstNanoseconds: number;
  lastOffset: number;
}

/**
 * Map kinds whose operations from a program touch only the map's own storage. Others reach into
 * the runtime (a control map reads counters the lane updates only after its run of records).
 */
const STORAGE_MAPS: ReadonlySet<number> = new Set([
  MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE,
]);

/** Why the module stopped (replay-lane.wat). */
const enum Stop {
  /** It took as many records as it was allowed. */
  Most = 0,
  /** The next record is not whole in the input. */
  Incomplete = 1,
  /** The next record is one the datapath decodes itself. */
  Unusual = 2,
  /** The last record taken ended in a verdict the datapath carries out. */
  Verdict = 3,
}

/** A loop of the module: the records in [at, end), at most `most` of them; why it stopped. */
type LaneLoop = (at: number, end: number, most: number) => number;

interface LaneExports {
  readonly lane: LaneLoop;
  readonly lanePcapng: LaneLoop;
  readonly [global: string]: WebAssembly.Global | LaneLoop;
}

let laneModule: WebAssembly.Module | undefined;

/** The module, compiled once per process. */
function compiledLane(): WebAssembly.Module {
  if (laneModule === undefined) {
    const text = atob(REPLAY_LANE_BASE64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    laneModule = new WebAssembly.Module(bytes);
  }
  return laneModule;
}

const EMPTY = new Uint8Array(0);

/** The replay's PacketInfo, refilled per record. */
export type MutablePacketInfo = { -readonly [K in keyof PacketInfo]: PacketInfo[K] };

/**
 * The lanes of one replay, one per interface whose ingress program can have one. `tick` moves the
 * manual clock to an offset from the replay's base (undefined when the clock is not the replay's).
 */
export class ReplayLanes {
  /** Per interface: the ingress program last seen there, and its lane if it can have one. */
  private readonly lanes = new Map<Netdev, { readonly program: Program | undefined; readonly lane: ReplayLane | undefined }>();

  constructor(private readonly runtime: Runtime, private readonly datapath: Datapath, private readonly tick: ((offset: number) => void) | undefined) {}

  /**
   * Hands the batch's next records to the lane of their interface, up to `most`; returns how many it
   * took (each carried out in full), 0 when the next record is the caller's to replay.
   */
  run(source: LaneSource, most: number, timeline: ReplayTimeline, info: MutablePacketInfo): number {
    // The clock starts at a record the datapath replayed.
    if (this.tick !== undefined && timeline.firstSeconds === undefined) return 0;
    const input = source.laneInput();
    if (input === undefined) return 0;
    const lane = this.laneFor(input.dev);
    if (lane === undefined) return 0;
    return lane.run(input, Math.min(most, input.most), source, timeline, info);
  }

  /** Gives the lanes' guest memory back (at the end of the replay). */
  dispose(): void {
    for (const { lane } of this.lanes.values()) lane?.dispose();
    this.lanes.clear();
  }

  private laneFor(dev: Netdev): ReplayLane | undefined {
    const program = dev.program('xdp');
    const known = this.lanes.get(dev);
    if (known !== undefined && known.program === program) return known.lane;
    known?.lane?.dispose();
    const lane = program ? laneFor(this.runtime, this.datapath, dev, program, this.tick) : undefined;
    this.lanes.set(dev, { program, lane });
    return lane;
  }
}

/**
 * The lane of an interface's ingress program, when it can serve exactly as the datapath would: the
 * program is verified and compiled to WebAssembly, calls only helpers that keep no state of a run
 * on the host (ContextEntry) and uses only maps that are storage, and the interface has one queue on
 * a one-CPU runtime (so the lane needs no flow hash).
 */
function laneFor(runtime: Runtime, datapath: Datapath, dev: Netdev, program: Program, tick: ((offset: number) => void) | undefined): ReplayLane | undefined {
  if (!program.verified || dev.rxQueues !== 1 || runtime.cpus !== 1) return undefined;
  if (!program.maps.every((map) => STORAGE_MAPS.has(map.type))) return undefined;
  const entry = program.executor.contextEntry();
  if (entry === undefined) return undefined;
  return new ReplayLane(runtime, datapath, dev, program, entry, tick);
}

/** One interface's lane: the module instantiated over the guest memory with the program's `run`. */
class ReplayLane {
  private readonly exports: LaneExports;
  /** Guest memory the records are copied to, and what is there now. */
  private staging: Region | undefined;
  private stagedChunk: Uint8Array | undefined;
  private stagedFrom = 0;
  private stagedTo = 0;

  constructor(
    private readonly runtime: Runtime,
    private readonly datapath: Datapath,
    private readonly dev: Netdev,
    private readonly program: Program,
    private readonly entry: ContextEntry,
    tick: ((offset: number) => void) | undefined,
  ) {
    const instance = new WebAssembly.Instance(compiledLane(), {
      env: { memory: runtime.memory.memory, run: entry.run, tick: tick ?? (() => {}) },
    });
    this.exports = instance.exports as unknown as LaneExports;
    this.set('registers', entry.registers);
    this.set('framePointer', entry.framePointer);
    this.set('budget', entry.budget);
    // The longest packet a frame's linear part holds (longer ones the datapath drops or fragments).
    this.set('linear', runtime.xdp.frameSize - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_TAILROOM);
    this.set('clock', tick === undefined ? 0 : 1);
  }

  private set(name: string, value: number): void {
    (this.exports[name] as WebAssembly.Global).value = value;
  }

  private get(name: string): number {
    return (this.exports[name] as WebAssembly.Global).value as number;
  }

  /** Takes up to `most` records of `input` (see ReplayLanes.run), `source` told what it took. */
  run(input: LaneInput, most: number, source: LaneSource, timeline: ReplayTimeline, info: MutablePacketInfo): number {
    const { runtime, datapath, dev, program, entry } = this;
    const at = this.stage(input);
    const xdp = runtime.xdp;
    // One frame for the run of records, refilled by the module: a received frame's layout, no metadata.
    const frame = xdp.receiveFrame(EMPTY, dev.ifindex, 0);
    try {
      // What XdpRunner.run resets before a run (no helper the lane allows sets it again).
      frame.redirect = undefined;
      this.set('ctx', frame.ctx);
      this.set('data', frame.data);
      this.set('highestEnd', frame.data);
      this.set('snapLength', input.snapLength);
      this.set('fractionScale', input.fractionScale);
      this.set('interfaceId', input.interfaceId);
      this.set('unitsPerSecond', input.unitsPerSecond);
      this.set('nanosecondsPerUnit', 1e9 / input.unitsPerSecond);
      this.set('passHere', datapath.skb.hasPrograms(dev) ? 0 : 1);
      this.set('firstSeconds', timeline.firstSeconds ?? 0);
      this.set('firstNanoseconds', timeline.firstNanoseconds);
      this.set('lastOffset', timeline.lastOffset);

      // What datapath.runXdp and XdpRunner.run set around a run, for the whole run of records.
      const savedCpu = runtime.currentCpu;
      const savedProgram = runtime.currentProgram;
      const savedFrame = xdp.current;
      runtime.currentCpu = 0;
      runtime.currentProgram = program;
      xdp.current = frame;
      entry.begin();
      const started = performance.now();
      let stop: number;
      let thrown: { error: unknown } | undefined;
      try {
        const loop = input.format === 'pcap' ? this.exports.lane : this.exports.lanePcapng;
        stop = loop(at, at + (input.end - input.start), most);
      } catch (error) {
        thrown = { error };
        stop = Stop.Verdict;
      } finally {
        runtime.currentCpu = savedCpu;
        runtime.currentProgram = savedProgram;
        xdp.current = savedFrame;
      }
      const records = this.get('records');
      entry.counted(records, (performance.now() - started) * 1e6);
      if (records === 0) {
        if (thrown !== undefined) throw thrown.error;
        return 0;
      }
      source.took(this.get('position') - at, records);
      timeline.lastOffset = this.get('lastOffset');
      frame.filledTo(this.get('highestEnd'));
      this.count(records, this.get('bytes'));
      if (stop === Stop.Verdict) this.finish(input, at, records, frame, thrown, info);
      return records;
    } finally {
      xdp.release(frame);
    }
  }

  dispose(): void {
    if (this.staging !== undefined) this.runtime.memory.free(this.staging);
    this.staging = undefined;
    this.stagedChunk = undefined;
  }

  /** Copies the input's bytes to guest memory, unless they are there already; the guest address of `input.start`. */
  private stage(input: LaneInput): number {
    const memory = this.runtime.memory;
    if (input.chunk !== this.stagedChunk || input.start < this.stagedFrom || input.end > this.stagedTo) {
      const length = input.end - input.start;
      if (this.staging === undefined || this.staging.end - this.staging.start < length) {
        if (this.staging !== undefined) memory.free(this.staging);
        this.staging = memory.allocate(Math.max(length, 1 << 16), 'replay lane');
      }
      memory.refresh();
      memory.bytes.set(input.chunk.subarray(input.start, input.end), this.staging.start);
      this.stagedChunk = input.chunk;
      this.stagedFrom = input.start;
      this.stagedTo = input.end;
    }
    return this.staging!.start + (input.start - this.stagedFrom);
  }

  /** The counters and tallies of the records taken, in the order the datapath would have counted them. */
  private count(records: number, bytes: number): void {
    const { dev, program } = this;
    const stats = this.datapath.stats;
    dev.counters.rxPackets += records;
    dev.counters.rxBytes += bytes;
    const passed = this.get('passed');
    const dropped = this.get('dropped');
    // A program's tally lists verdicts in the order first seen.
    const order = this.get('firstCounted') === XdpAction.DROP ? [XdpAction.DROP, XdpAction.PASS] : [XdpAction.PASS, XdpAction.DROP];
    for (const action of order) {
      const frames = action === XdpAction.DROP ? dropped : passed;
      if (frames === 0) continue;
      stats.verdict(dev, 'xdp', program, verdictName('xdp', action), frames);
      stats.ingressVerdict(action, frames);
      if (action === XdpAction.PASS) {
        dev.counters.pass += frames;
      } else {
        dev.counters.rxDropped += frames;
        stats.dropped(dev, 'xdp', 'XDP_DROP', program.name, frames);
      }
    }
  }

  /** The last record taken, whose verdict (or fault) the datapath carries out. */
  private finish(input: LaneInput, at: number, records: number, frame: PacketFrame, thrown: { error: unknown } | undefined, info: MutablePacketInfo): void {
    let outcome: number | BpfError;
    if (thrown === undefined) {
      outcome = this.get('verdict') >>> 0;
    } else {
      try {
        outcome = this.entry.settle(thrown.error);
      } catch (err) {
        if (!(err instanceof BpfError)) throw err;
        outcome = err;
      }
    }
    // The record's packet, where the module copied it from: the capture's bytes, as the datapath would have them.
    const seconds = this.get('lastSeconds');
    const nanoseconds = this.get('lastNanoseconds');
    info.number = input.number + records - 1;
    info.seconds = seconds;
    info.nanoseconds = nanoseconds;
    const packet = input.start + (this.get('last') - at) + (input.format === 'pcap' ? PCAP_RECORD_HEADER_LENGTH : PACKET_BLOCK_DATA_OFFSET);
    frame.received(input.chunk.subarray(packet, packet + frame.dataEnd - frame.data), seconds, nanoseconds);
    this.datapath.afterLaneRun(this.dev, frame, this.program, outcome, info);
  }
}
