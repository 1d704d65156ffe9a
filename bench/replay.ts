// Replay throughput: `ebpf-wasm replay` of the firewall example over generated captures of 1,000,000
// frames (on each engine, and on the JIT without the WebAssembly lane, to show what the lane is
// worth) and 10,000,000 frames (on the JIT), each in a process of its own, with the
// packets per second the replay reports (reading the capture included) and the process's peak RSS,
// which must stay flat as the capture grows. The captures are written to a temporary folder first
// and removed after.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCaptureFileWriter, randomTraffic } from '../index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'ebpf-wasm.mjs');

export interface ReplayFigure {
  readonly engine: 'interp' | 'jit';
  /** Whether the WebAssembly lane could take records (`--no-lane` when not). */
  readonly lane: boolean;
  /** Records the lane took. */
  readonly lanePackets: number;
  readonly packets: number;
  readonly captureMb: number;
  readonly packetsPerSecond: number;
  readonly nsPerPacket: number;
  readonly peakRssMb: number;
}

/** Writes `packets` frames of the default traffic mix with small payloads (firewall-bound frames of 60-200 bytes). */
function writeCapture(path: string, packets: number): void {
  const writer = createCaptureFileWriter(path, 'pcap');
  for (const frame of randomTraffic({ seed: 7, packets, mix: { maxPayload: 120 } })) writer.write(frame);
  writer.close();
}

/** Replays `capture` through the firewall example in a child process and reads its --json summary. */
function replayOnce(dir: string, capture: string, engine: 'interp' | 'jit', lane = true): ReplayFigure {
  const example = join(ROOT, 'examples', 'firewall');
  const topology = JSON.parse(readFileSync(join(example, 'topology.json'), 'utf8'));
  topology.objects.fw = join(example, 'firewall.o');
  topology.interfaces[0].pcap = capture;
  const path = join(dir, 'topology.json');
  writeFileSync(path, JSON.stringify(topology));
  const r = spawnSync(process.execPath, [CLI, 'replay', '--topology', path, '--engine', engine, '--json', '--no-progress', ...(lane ? [] : ['--no-lane'])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`replay failed: ${r.stderr}`);
  const s = JSON.parse(r.stdout);
  return { engine, lane, lanePackets: s.lane_packets, packets: s.packets, captureMb: statSync(capture).size / 2 ** 20, packetsPerSecond: s.packets_per_second, nsPerPacket: s.ns_per_packet, peakRssMb: s.peak_rss_mb };
}

/** The replay figures; `large` adds the 10,000,000-frame capture. */
export function replayFigures(large = true): ReplayFigure[] {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-bench-'));
  try {
    const rows: ReplayFigure[] = [];
    const million = join(dir, '1m.pcap');
    writeCapture(million, 1_000_000);
    rows.push(replayOnce(dir, million, 'jit'), replayOnce(dir, million, 'jit', false), replayOnce(dir, million, 'interp'));
    rmSync(million);
    if (large) {
      const tenMillion = join(dir, '10m.pcap');
      writeCapture(tenMillion, 10_000_000);
      rows.push(replayOnce(dir, tenMillion, 'jit'));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
