// Interleaving flows into one capture: every live flow holds its next packet in a heap ordered by
// time, the earliest goes out, and the flow's following packet takes its place. Only the live
// flows are held, so millions of frames stream through in constant memory.
import { Prng } from '../../fuzz/prng.js';
import { flowPackets, PayloadPool, type FlowPacket, type FlowSpec } from './flows.js';

/** A generated frame, ready to write (`CaptureWriter.write` takes it). */
export interface TrafficFrame {
  /** The Ethernet frame. */
  readonly data: Uint8Array;
  /** Timestamp: whole seconds since 1970 UTC. */
  readonly seconds: number;
  /** Timestamp: nanoseconds within the second. */
  readonly nanoseconds: number;
  /** Index of the flow it belongs to, in the order flows started. */
  readonly flow: number;
}

/** Options every generator takes. */
export interface TrafficOptions {
  /** Same seed, same bytes. */
  readonly seed: number;
  /** The capture's first second (default 1,700,000,000: November 2023). */
  readonly startSeconds?: number;
}

/** A live flow and its next packet, due at `time` (ns after the start). */
interface Pending {
  time: number;
  readonly flow: number;
  packet: FlowPacket;
  readonly packets: Iterator<FlowPacket, void>;
}

/** A flow to start, and when (ns after the capture's start). */
export interface FlowStart {
  readonly spec: FlowSpec;
  readonly startNs: number;
}

/** The flow's own random stream: flows do not disturb each other's bytes when others are added. */
function flowRng(seed: number, flow: number): Prng {
  return new Prng((Math.imul(seed, 0x9e3779b1) + flow) >>> 0);
}

/**
 * Frames of interleaved flows, in time order. `nextFlow(nowNs)` is asked for a flow at the start
 * (`initialFlows` times) and whenever one ends; it returns undefined when there are no more.
 * Stops after `limit` frames or when every flow has ended.
 */
export function* interleave(
  options: TrafficOptions,
  initialFlows: number,
  nextFlow: (nowNs: number) => FlowStart | undefined,
  limit = Infinity,
): Generator<TrafficFrame, void, undefined> {
  const pool = new PayloadPool(new Prng(options.seed));
  const startSeconds = options.startSeconds ?? 1_700_000_000;
  const heap: Pending[] = [];
  let flows = 0;
  const start = (now: number) => {
    const next = nextFlow(now);
    if (next === undefined) return;
    const flow = flows++;
    const packets = flowPackets(next.spec, flowRng(options.seed, flow), pool);
    const first = packets.next();
    if (first.done) return;
    push(heap, { time: Math.max(now, next.startNs) + first.value.delayNs, flow, packet: first.value, packets });
  };
  for (let i = 0; i < initialFlows; i++) start(0);
  for (let emitted = 0; emitted < limit && heap.length > 0; emitted++) {
    const top = heap[0]!;
    const time = top.time;
    yield { data: top.packet.data, seconds: startSeconds + Math.floor(time / 1e9), nanoseconds: time % 1e9, flow: top.flow };
    const next = top.packets.next();
    if (next.done) {
      pop(heap);
      start(time);
    } else {
      top.packet = next.value;
      top.time = time + next.value.delayNs;
      siftDown(heap, 0);
    }
  }
}

/** Whether `a` goes out before `b`: earlier time, then the earlier flow (so that ties are deterministic). */
function before(a: Pending, b: Pending): boolean {
  return a.time < b.time || (a.time === b.time && a.flow < b.flow);
}

function push(heap: Pending[], item: Pending): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function pop(heap: Pending[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  siftDown(heap, 0);
}

function siftDown(heap: Pending[], i: number): void {
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) return;
    const right = left + 1;
    const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
    if (!before(heap[child]!, heap[i]!)) return;
    [heap[i], heap[child]] = [heap[child]!, heap[i]!];
    i = child;
  }
}

/** Frames of the given flows, interleaved by time; each flow starts at its `startNs` or a seeded time in the first few ms. */
export function trafficFrames(flows: readonly FlowSpec[], options: TrafficOptions): Generator<TrafficFrame, void, undefined> {
  const rng = new Prng(options.seed ^ 0x5eed);
  let next = 0;
  let stagger = 0;
  return interleave(options, flows.length, () => {
    const spec = flows[next++];
    if (spec === undefined) return undefined;
    stagger += rng.int(0, 2_000_000);
    return { spec, startNs: spec.startNs ?? stagger };
  });
}
