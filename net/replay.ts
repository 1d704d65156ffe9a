// Replaying traffic through a runtime's network: each record arrives on (or is sent from) an
// interface and goes through the datapath; the runtime's manual clock follows the capture's
// timestamps so that programs see the capture's time; the result is a summary with the keys
// DESIGN.md's replay section fixes (verdicts, interfaces, redirects, trace, timing, errors).
import { BpfError } from '../isa/errors.js';
import type { Netdev } from '../runtime/netdev.js';
import type { Runtime } from '../runtime/runtime.js';
import { Datapath, type DatapathOptions, type FrameEvent, type FrameFate, type PacketInfo } from './datapath.js';
import { isLaneSource, ReplayLanes, type MutablePacketInfo, type ReplayTimeline } from './replay-lane.js';
import type { CauseTally, HookTally, RedirectTally, XdpVerdictName } from './datapath-stats.js';

/** One frame to replay. */
export interface ReplayRecord {
  /** The interface (name, ifindex, or the interface itself) it arrives on, or whose stack sends it. */
  readonly interface: string | number | Netdev;
  readonly data: Uint8Array;
  /** Capture time: whole seconds since the epoch (default 0). */
  readonly seconds?: number;
  /** Capture time: nanoseconds within the second (default 0). */
  readonly nanoseconds?: number;
  /** 'in' (received from the wire; the default) or 'out' (sent by the interface's stack). */
  readonly direction?: 'in' | 'out';
  /** Its number in its capture (default: its position in the replay, from 1). */
  readonly number?: number;
}

/**
 * Records one by one, or (faster for big captures) in batches from an async source. A record is
 * read before the next is asked for, so a source may hand out one record object, refilled.
 */
export type ReplaySource = Iterable<ReplayRecord> | AsyncIterable<Iterable<ReplayRecord>>;

/** What happened to one replayed record, for per-packet output. */
export interface PacketReport {
  readonly number: number;
  readonly interface: string;
  readonly direction: 'in' | 'out';
  readonly length: number;
  /** Every frame that left the datapath because of it (a broadcast gives several). */
  readonly fates: readonly { fate: FrameFate; interface: string; hook: string; program?: string; cause?: string; length: number }[];
  /** bpf_trace_printk lines printed while it was processed. */
  readonly trace: readonly string[];
}

/** How to replay. */
export interface ReplayOptions {
  /** Stop after this many records. */
  readonly limit?: number;
  /** Times a frame may come back into the datapath (loopback, tc redirects to an ingress); default 8. */
  readonly maxHops?: number;
  /** Every frame that leaves the datapath (to write captures). Its bytes are valid only during the call. */
  readonly onFrame?: (event: FrameEvent, packet: PacketInfo) => void;
  /** Every program run with its verdict and the frame it left (see DatapathOptions.onProgram). */
  readonly onProgram?: DatapathOptions['onProgram'];
  /** Frame events carry the XDP metadata store's pairs (see DatapathOptions.metadata). */
  readonly metadata?: boolean;
  /** Called after each record has gone through the datapath (cheap: no report is built). */
  readonly afterPacket?: (packet: PacketInfo) => void;
  /**
   * Frames a control plane queued while a record went through (a SYN handed back, a reply sent):
   * taken after each record, and after afterPacket, with the record's number and time.
   */
  readonly outbox?: ReplayRecord[];
  /** A report per record (costs an allocation or two per record). */
  readonly onPacket?: (report: PacketReport) => void;
  /** Called about every `progressEvery` records with the count so far (default every 65,536). */
  readonly onProgress?: (records: number) => void;
  readonly progressEvery?: number;
  /** Distinct trace lines kept in the summary, after folding repeats (default 1,000). */
  readonly traceLimit?: number;
  /**
   * Whether records may go through the WebAssembly lane where it serves (default true). It gives
   * the same results as the datapath; turn it off to compare, or to time the datapath alone.
   */
  readonly lane?: boolean;
}

/** One interface's figures in a summary. */
export interface InterfaceSummary {
  readonly ifindex: number;
  readonly rx: number;
  readonly rx_bytes: number;
  readonly tx: number;
  readonly tx_bytes: number;
  /** Delivered to its stack. */
  readonly pass: number;
  readonly drop: number;
  readonly aborted: number;
  /** Redirected away by its ingress XDP program. */
  readonly redirected: number;
}

/** The result of a replay (JSON-ready: DESIGN.md's keys, snake_case). */
export interface ReplaySummary {
  /** Records replayed. */
  packets: number;
  /** Ingress XDP verdicts of received frames (no XDP program counts as pass). */
  verdicts: Record<XdpVerdictName, number>;
  interfaces: Record<string, InterfaceSummary>;
  /** Each program's verdicts on each hook. */
  hooks: HookTally[];
  redirects: RedirectTally[];
  /** Why frames were aborted: XDP_ABORTED, invalid verdicts, faults with their pc. */
  aborted: CauseTally[];
  /** Why frames were dropped. */
  drops: CauseTally[];
  /** bpf_trace_printk lines, consecutive repeats folded into a count. */
  trace: { line: string; count: number }[];
  /** Trace lines printed in all (the summary keeps traceLimit distinct runs). */
  trace_lines: number;
  /** Time in the datapath per record. */
  ns_per_packet: number;
  /** Records per second over the whole replay, reading and writing included. */
  packets_per_second: number;
  /** Records the WebAssembly lane carried (net/replay-lane.ts): the rest went through the datapath record by record. */
  lane_packets: number;
  duration_ms: number;
  /** What stopped the replay early (a corrupt capture, a record for an unknown interface). */
  errors: string[];
}

function isAsync(source: ReplaySource): source is AsyncIterable<Iterable<ReplayRecord>> {
  return typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Replays records through `runtime`'s network. A source that fails part-way (a corrupt capture)
 * ends the replay: everything before the failure is in the summary, and the failure in `errors`.
 */
export async function replay(runtime: Runtime, source: ReplaySource, options: ReplayOptions = {}): Promise<ReplaySummary> {
  const limit = options.limit ?? Infinity;
  const traceLimit = options.traceLimit ?? 1000;
  const progressEvery = options.progressEvery ?? 65536;
  const trace: { line: string; count: number }[] = [];
  let traceLines = 0;
  let report: { fates: PacketReport['fates'][number][]; trace: string[] } | undefined;
  const onPacket = options.onPacket;
  const datapath = new Datapath(runtime, {
    ...(options.maxHops !== undefined ? { maxHops: options.maxHops } : {}),
    ...(options.onProgram ? { onProgram: options.onProgram } : {}),
    ...(options.metadata ? { metadata: true } : {}),
    // Without a listener, frames that leave are only counted: their bytes are not even looked at.
    ...(options.onFrame || onPacket ? {
      onFrame: (event: FrameEvent, packet: PacketInfo) => {
        options.onFrame?.(event, packet);
        report?.fates.push({
          fate: event.fate, interface: event.dev.name, hook: event.hook, length: event.bytes.length,
          ...(event.program ? { program: event.program } : {}), ...(event.cause ? { cause: event.cause } : {}),
        });
      },
    } : {}),
  });
  const stopListening = runtime.listenToTrace((line) => {
    traceLines++;
    const text = line.replace(/\n$/, '');
    report?.trace.push(text);
    const last = trace[trace.length - 1];
    if (last?.line === text) last.count++;
    else if (trace.length < traceLimit) trace.push({ line: text, count: 1 });
  });
  const before = snapshot(runtime);
  const devices = new Map<string | number, Netdev>();
  const clock = runtime.clock.mode === 'manual' ? runtime.clock : undefined;
  const clockBase = clock?.now() ?? 0n;
  const timeline: ReplayTimeline = { firstSeconds: undefined, firstNanoseconds: 0, lastOffset: 0 };
  // Records received on an interface whose program can run in WebAssembly without the datapath in
  // between go through a lane, unless someone listens per frame or per packet (see replay-lane.ts).
  const lanes = options.lane === false || options.onFrame || options.onProgram || options.afterPacket || options.outbox || onPacket
    ? undefined
    : new ReplayLanes(runtime, datapath, clock ? (offset) => clock.setSince(clockBase, offset) : undefined);
  let packets = 0;
  let lanePackets = 0;
  let busyNs = 0;
  const errors: string[] = [];
  const started = performance.now();

  const info: MutablePacketInfo = { number: 0, seconds: 0, nanoseconds: 0 };
  const one = (record: ReplayRecord): void => {
    const which = record.interface;
    let dev = typeof which === 'object' ? which : devices.get(which);
    if (!dev) devices.set(which as string | number, (dev = runtime.network.get(which as string | number)));
    const seconds = record.seconds ?? 0;
    const nanoseconds = record.nanoseconds ?? 0;
    if (clock) {
      // The clock starts where it was, at the first record, and follows the capture from there.
      if (timeline.firstSeconds === undefined) {
        timeline.firstSeconds = seconds;
        timeline.firstNanoseconds = nanoseconds;
      }
      const offset = (seconds - timeline.firstSeconds) * 1e9 + (nanoseconds - timeline.firstNanoseconds);
      // A capture's clock may step back; a kernel's monotonic clock does not.
      if (offset > timeline.lastOffset) clock.setSince(clockBase, (timeline.lastOffset = offset));
    }
    packets++;
    // One PacketInfo, refilled: listeners get it for the duration of their call.
    info.number = record.number ?? packets;
    info.seconds = seconds;
    info.nanoseconds = nanoseconds;
    if (onPacket) report = { fates: [], trace: [] };
    if (record.direction === 'out') datapath.send(dev, record.data, info);
    else datapath.receive(dev, record.data, info);
    options.afterPacket?.(info);
    const outbox = options.outbox;
    while (outbox?.length) {
      const queued = outbox.shift()!;
      const to = typeof queued.interface === 'object' ? queued.interface : runtime.network.get(queued.interface);
      if (queued.direction === 'out') datapath.send(to, queued.data, info);
      else datapath.receive(to, queued.data, info);
      options.afterPacket?.(info);
    }
    if (onPacket) {
      onPacket({ number: info.number, interface: dev.name, direction: record.direction ?? 'in', length: record.data.length, fates: report!.fates, trace: report!.trace });
      report = undefined;
    }
    if (options.onProgress && packets % progressEvery === 0) options.onProgress(packets);
  };

  const batch = (records: Iterable<ReplayRecord>): boolean => {
    const t0 = performance.now();
    try {
      const source = lanes && isLaneSource(records) ? records : undefined;
      const iterator = records[Symbol.iterator]();
      for (;;) {
        if (packets >= limit) return false;
        if (source) {
          // Up to the limit, and to the next progress report.
          const most = Math.min(limit - packets, options.onProgress ? progressEvery - (packets % progressEvery) : Infinity, 0x7fffffff);
          const taken = lanes!.run(source, most, timeline, info);
          if (taken > 0) {
            packets += taken;
            lanePackets += taken;
            if (options.onProgress && packets % progressEvery === 0) options.onProgress(packets);
            continue;
          }
        }
        const next = iterator.next();
        if (next.done) return packets < limit;
        one(next.value);
      }
    } finally {
      busyNs += (performance.now() - t0) * 1e6;
    }
  };

  try {
    if (isAsync(source)) {
      for await (const records of source) if (!batch(records)) break;
    } else {
      batch(source);
    }
  } catch (err) {
    if (!(err instanceof BpfError)) throw err;
    errors.push(err.message);
  } finally {
    stopListening();
    lanes?.dispose();
  }
  const durationMs = performance.now() - started;
  return {
    packets,
    verdicts: { ...datapath.stats.verdicts },
    interfaces: interfaceSummaries(runtime, before),
    hooks: datapath.stats.hookTallies(),
    redirects: datapath.stats.redirects(),
    aborted: datapath.stats.abortCauses(),
    drops: datapath.stats.dropCauses(),
    trace,
    trace_lines: traceLines,
    ns_per_packet: packets ? Math.round(busyNs / packets) : 0,
    packets_per_second: durationMs > 0 ? Math.round(packets / (durationMs / 1000)) : 0,
    lane_packets: lanePackets,
    duration_ms: Math.round(durationMs * 1000) / 1000,
    errors,
  };
}

/** Every interface's counters now (they count from the interface's creation, as Linux's do). */
function snapshot(runtime: Runtime): Map<Netdev, Omit<InterfaceSummary, 'ifindex'>> {
  return new Map(runtime.network.list().map((dev) => {
    const c = dev.counters;
    return [dev, { rx: c.rxPackets, rx_bytes: c.rxBytes, tx: c.txPackets, tx_bytes: c.txBytes, pass: c.pass, drop: c.drop, aborted: c.aborted, redirected: c.redirected }];
  }));
}

/** What each interface counted during the replay (lo only when something happened on it). */
function interfaceSummaries(runtime: Runtime, before: Map<Netdev, Omit<InterfaceSummary, 'ifindex'>>): Record<string, InterfaceSummary> {
  const out: Record<string, InterfaceSummary> = {};
  for (const [dev, now] of snapshot(runtime)) {
    const then = before.get(dev);
    const delta = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (then?.[k as keyof typeof now] ?? 0)])) as Omit<InterfaceSummary, 'ifindex'>;
    if (dev === runtime.network.lo && delta.rx === 0 && delta.tx === 0) continue;
    out[dev.name] = { ifindex: dev.ifindex, ...delta };
  }
  return out;
}
