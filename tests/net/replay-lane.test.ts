// The replay lane gives what the datapath gives, record for record: each capture here (pcap and
// pcapng) is replayed with the lane and without it (and on the interpreter), and everything the
// replay reports is compared: the summary, the interface counters, every map, the programs' run
// counts, the clock and the trace. tests/fixtures/replay_lane.c picks each frame's verdict by its
// first byte, among every kind the datapath handles differently (the lane counts PASS and DROP, and
// hands the rest back).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime, type RuntimeOptions } from '../../runtime/runtime.js';
import { createCaptureFileWriter } from '../../net/capture/file.js';
import { readCaptures } from '../../net/replay-files.js';
import { replay, type ReplayOptions, type ReplaySummary } from '../../net/replay.js';
import { REPLAY_LANE_BASE64 } from '../../net/replay-lane-module.js';
import { PROJECT_ROOT } from '../support/suite.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-lane-'));
const fixture = join(PROJECT_ROOT, 'tests', 'fixtures', 'replay_lane.o');

/** A seeded xorshift32, so that every capture here is the same on every run. */
function random(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
}

interface Frame {
  readonly bytes: Uint8Array;
  readonly seconds: number;
  readonly nanoseconds: number;
}

/**
 * `count` frames, mostly passed and dropped, with every other pick among them; lengths of 14 to 300
 * bytes, with a few too short for an Ethernet header and a few longer than a frame's linear part;
 * times that mostly advance, sometimes repeat and sometimes step back.
 */
function traffic(count: number, seed: number): Frame[] {
  const next = random(seed);
  const frames: Frame[] = [];
  let seconds = 1_700_000_000;
  let nanoseconds = 0;
  for (let i = 0; i < count; i++) {
    const roll = next(100);
    const pick = roll < 45 ? 0 : roll < 80 ? 1 : 2 + next(6);
    const kind = next(200);
    const length = kind === 0 ? 10 : kind === 1 ? 3600 : 14 + next(287);
    const bytes = new Uint8Array(length);
    for (let j = 0; j < length; j++) bytes[j] = next(256);
    bytes[0] = pick;
    // Pick 5 loops bytes[1] times: a few frames loop past a small budget.
    if (length > 1) bytes[1] = next(20) === 0 ? 250 : next(16);
    const step = next(10);
    if (step < 7) nanoseconds += 1000 * (1 + next(50));
    else if (step === 7) nanoseconds -= 5000;
    if (nanoseconds >= 1e9) {
      seconds++;
      nanoseconds -= 1e9;
    }
    nanoseconds = Math.max(0, nanoseconds);
    frames.push({ bytes, seconds, nanoseconds });
  }
  return frames;
}

function writeCapture(name: string, frames: readonly Frame[], snapLength?: number): string {
  const path = join(dir, name);
  const writer = createCaptureFileWriter(path, 'pcap', snapLength ? { snapLength } : {});
  for (const f of frames) writer.write({ data: f.bytes, seconds: f.seconds, nanoseconds: f.nanoseconds });
  writer.close();
  return path;
}

/** Offsets of a pcap file's record headers, or of a pcapng file's enhanced packet blocks. */
function recordOffsets(bytes: Uint8Array, format: 'pcap' | 'pcapng' = 'pcap'): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  if (format === 'pcap') {
    for (let at = 24; at + 16 <= bytes.length; at += 16 + view.getUint32(at + 8, true)) offsets.push(at);
  } else {
    for (let at = 0; at + 8 <= bytes.length; at += view.getUint32(at + 4, true)) if (view.getUint32(at, true) === 6) offsets.push(at);
  }
  return offsets;
}

/** A pcapng capture of `frames` on interfaces named as given (frame i on interface i % names.length), with options on some. */
function writePcapng(name: string, frames: readonly Frame[], names: readonly string[], options: (i: number) => { comments?: string[]; direction?: 'in' } = () => ({})): string {
  const path = join(dir, name);
  const writer = createCaptureFileWriter(path, 'pcapng', { interfaces: names.map((n) => ({ name: n })) });
  frames.forEach((f, i) => writer.write({ data: f.bytes, seconds: f.seconds, nanoseconds: f.nanoseconds, interfaceId: i % names.length, ...options(i) }));
  writer.close();
  return path;
}

interface Outcome {
  summary: Omit<ReplaySummary, 'ns_per_packet' | 'packets_per_second' | 'duration_ms' | 'lane_packets'>;
  lanePackets: number;
  counters: unknown;
  maps: Record<string, string[]>;
  runs: number;
  clock: bigint;
  progress: number[];
}

interface Setup {
  readonly runtime?: RuntimeOptions;
  /** Also attach a tc ingress program (the lane then hands PASS back). */
  readonly tc?: boolean;
  /** The capture's interface names pick the interface (pcapng), rather than the input. */
  readonly byName?: boolean;
}

/** Replays `capture` into eth0, whose XDP program is replay_lane.c's, and collects what can be compared. */
async function replayed(capture: string, options: ReplayOptions, setup: Setup = {}): Promise<Outcome> {
  const runtime = new Runtime({ engine: 'jit', ...setup.runtime });
  const obj = await runtime.loadObject(fixture);
  const eth0 = runtime.network.addInterface({ name: 'eth0' });
  eth0.attach('xdp', obj.program('xdp_pick'));
  if (setup.tc) {
    const tc = await runtime.loadObject(join(PROJECT_ROOT, 'tests', 'fixtures', 'datapath.o'), { programs: ['tc_ingress'] });
    eth0.attach('tc_ingress', tc.program('tc_ingress'));
  }
  const progress: number[] = [];
  const summary = await replay(runtime, readCaptures(runtime.network, [{ path: capture, interface: setup.byName ? undefined : eth0, direction: 'in' }]), {
    ...options,
    ...(options.progressEvery ? { onProgress: (n) => progress.push(n) } : {}),
  });
  const { ns_per_packet: _ns, packets_per_second: _pps, duration_ms: _ms, lane_packets: lanePackets, ...rest } = summary;
  const maps: Record<string, string[]> = {};
  for (const [name, map] of obj.maps) {
    maps[name] = [...map.entries()].map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`).sort();
  }
  return { summary: rest, lanePackets, counters: { ...eth0.counters }, maps, runs: obj.program('xdp_pick').stats.runs, clock: runtime.clock.now(), progress };
}

/** The same replay with the lane and without it; what they report must be the same. */
async function bothWays(capture: string, options: ReplayOptions = {}, setup: Setup = {}) {
  const lane = await replayed(capture, options, setup);
  const datapath = await replayed(capture, { ...options, lane: false }, setup);
  expect(datapath.lanePackets).toBe(0);
  const { lanePackets: _a, ...withLane } = lane;
  const { lanePackets: _b, ...without } = datapath;
  expect(withLane).toEqual(without);
  // In the same order too: tallies list verdicts and causes in the order first seen.
  expect(JSON.stringify(lane.summary)).toBe(JSON.stringify(datapath.summary));
  return { lane, datapath };
}

const frames = traffic(6000, 7);
// 6,000 frames of ~170 bytes: past the 256 KiB chunks the capture is read in, so records straddle chunks.
const capture = writeCapture('mixed.pcap', frames);

describe('the replay lane', () => {
  test('gives what the datapath gives: verdicts, causes, counters, maps, run counts, clock and trace', async () => {
    const { lane } = await bothWays(capture, {}, { runtime: { budget: 100 } });
    const s = lane.summary;
    expect(s.packets).toBe(6000);
    expect(s.errors).toEqual([]);
    // Every kind of outcome happened: the test covers what it says.
    expect(s.verdicts.pass).toBeGreaterThan(2000);
    expect(s.verdicts.drop).toBeGreaterThan(1500);
    expect(s.verdicts.tx).toBeGreaterThan(50);
    expect(s.aborted.map((a) => a.cause)).toEqual(expect.arrayContaining(['XDP_ABORTED', 'invalid 9 is not a verdict XDP may return']));
    expect(s.aborted.some((a) => a.pc !== undefined)).toBe(true);
    expect(s.drops.map((d) => d.cause)).toEqual(expect.arrayContaining(['XDP_DROP', expect.stringMatching(/larger than one 4096-byte buffer/)]));
    expect(s.trace_lines).toBeGreaterThan(50);
    expect(s.trace[0]!.line).toMatch(/^pick 6 at \d+$/);
    // The lane carried most records; the others were the datapath's.
    expect(lane.lanePackets).toBeGreaterThan(5000);
    expect(lane.lanePackets).toBeLessThan(6000);
  });

  test('agrees with the interpreter, which has no lane', async () => {
    const jit = await replayed(capture, {});
    const interp = await replayed(capture, {}, { runtime: { engine: 'interp' } });
    expect(jit.lanePackets).toBeGreaterThan(5000);
    expect(interp.lanePackets).toBe(0);
    const { lanePackets: _a, ...a } = jit;
    const { lanePackets: _b, ...b } = interp;
    expect(a).toEqual(b);
  });

  test('stops at the limit and at every progress report, as the datapath does', async () => {
    const { lane } = await bothWays(capture, { limit: 4321, progressEvery: 1000 });
    expect(lane.summary.packets).toBe(4321);
    expect(lane.progress).toEqual([1000, 2000, 3000, 4000]);
  });

  test('hands back what it must not decode itself: a fraction of a second too large, a snapshot length exceeded, a corrupt record', async () => {
    const bytes = new Uint8Array(readFileSync(capture));
    const view = new DataView(bytes.buffer);
    const offsets = recordOffsets(bytes);
    // A microsecond fraction of 1.5 s (carried into the seconds), and a snapshot length of 200 in
    // the header: most frames are within it, and the first far longer one is the reader's error.
    view.setUint32(offsets[100]! + 4, 1_500_000, true);
    view.setUint32(16, 200, true);
    const odd = join(dir, 'odd.pcap');
    writeFileSync(odd, bytes);
    const { lane } = await bothWays(odd);
    expect(lane.summary.packets).toBeLessThan(6000);
    expect(lane.summary.errors).toEqual([expect.stringMatching(/is far over the snapshot length 200/)]);
    expect(lane.lanePackets).toBeGreaterThan(0);
  });

  test('counts the verdicts it sees first in the order it sees them', async () => {
    // The first record is the datapath's (TX); the lane then meets DROP before PASS, both new to the tallies.
    const ordered = [2, 1, 0, 1, 0].map((pick, i) => ({ bytes: Uint8Array.of(pick, 0, ...new Array(40).fill(i)), seconds: 1_700_000_000, nanoseconds: i * 1000 }));
    const { lane } = await bothWays(writeCapture('ordered.pcap', ordered));
    expect(lane.lanePackets).toBe(4);
    expect(Object.keys(lane.summary.hooks[0]!.verdicts)).toEqual(['tx', 'drop', 'pass']);
  });

  test('takes records cut to the snapshot length as they are', async () => {
    const { lane } = await bothWays(writeCapture('snapped.pcap', frames, 128));
    expect(lane.summary.errors).toEqual([]);
    expect(lane.lanePackets).toBeGreaterThan(5000);
  });

  test('agrees with the datapath on captures with corrupt record headers (fuzzed)', async () => {
    const small = new Uint8Array(readFileSync(writeCapture('small.pcap', traffic(300, 11))));
    const offsets = recordOffsets(small);
    const next = random(99);
    for (let round = 0; round < 25; round++) {
      const bytes = small.slice();
      const view = new DataView(bytes.buffer);
      for (let k = 0; k < 3; k++) {
        const at = offsets[next(offsets.length)]! + 4 * next(4);
        const choice = next(3);
        view.setUint32(at, choice === 0 ? next(0x10000) : choice === 1 ? (next(0x10000) << 16) | next(0x10000) : view.getUint32(at, true) ^ (1 << next(32)), true);
      }
      const path = join(dir, `fuzzed-${round}.pcap`);
      writeFileSync(path, bytes);
      await bothWays(path);
    }
  });

  test('runs the module generated from replay-lane.wat', async () => {
    const wabt = await (await import('wabt')).default();
    const text = readFileSync(join(PROJECT_ROOT, 'net', 'replay-lane.wat'), 'utf8');
    const module = wabt.parseWat('replay-lane.wat', text, { bulk_memory: true, mutable_globals: true });
    try {
      const { buffer } = module.toBinary({});
      expect(Buffer.from(buffer).toString('base64')).toBe(REPLAY_LANE_BASE64);
    } finally {
      module.destroy();
    }
  });

  test('takes the packet blocks of a pcapng of one interface, found by its name, and hands back those with options', async () => {
    const path = writePcapng('mixed.pcapng', frames, ['eth0'], (i) => (i % 97 === 0 ? { comments: ['an option'] } : i % 89 === 0 ? { direction: 'in' } : {}));
    const { lane } = await bothWays(path, {}, { runtime: { budget: 100 }, byName: true });
    expect(lane.summary.packets).toBe(6000);
    expect(lane.summary.errors).toEqual([]);
    expect(lane.lanePackets).toBeGreaterThan(5000);
    expect(lane.lanePackets).toBeLessThan(5900);
    // With the interface given, the same.
    expect((await bothWays(path, {}, { runtime: { budget: 100 } })).lane.lanePackets).toBe(lane.lanePackets);
  });

  test('stands aside for a pcapng section of several interfaces', async () => {
    const { lane } = await bothWays(writePcapng('two.pcapng', frames.slice(0, 500), ['eth0', 'eth0']), {}, { byName: true });
    expect(lane.summary.packets).toBe(500);
    expect(lane.lanePackets).toBe(0);
  });

  test('agrees with the datapath on pcapng captures with corrupt packet blocks (fuzzed)', async () => {
    const small = new Uint8Array(readFileSync(writePcapng('small.pcapng', traffic(300, 13), ['eth0'])));
    const offsets = recordOffsets(small, 'pcapng');
    const next = random(77);
    for (let round = 0; round < 25; round++) {
      const bytes = small.slice();
      const view = new DataView(bytes.buffer);
      for (let k = 0; k < 3; k++) {
        const at = offsets[next(offsets.length)]! + 4 * (1 + next(6));
        const choice = next(3);
        view.setUint32(at, choice === 0 ? next(0x10000) : choice === 1 ? (next(0x10000) << 16) | next(0x10000) : view.getUint32(at, true) ^ (1 << next(32)), true);
      }
      const path = join(dir, `fuzzed-${round}.pcapng`);
      writeFileSync(path, bytes);
      await bothWays(path, {}, { byName: true });
    }
  });

  test('hands PASS back when a tc ingress program is to see the frame, and stands aside on several CPUs and for listeners', async () => {
    const tc = await bothWays(capture, {}, { tc: true });
    expect(tc.lane.lanePackets).toBeGreaterThan(1000);
    const cpus = await bothWays(capture, {}, { runtime: { cpus: 2 } });
    expect(cpus.lane.lanePackets).toBe(0);
    const listened = await replayed(capture, { afterPacket: () => {} });
    expect(listened.lanePackets).toBe(0);
  });
});
