// Captures into replay: a pcapng's interface names pick interfaces and its epb_flags say which way
// a frame went; raw IP and Linux cooked frames become Ethernet frames; several captures merge by
// time; what the replay writes carries interface names and directions.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { buildPacket } from '../../net/packets.js';
import { captureRecords, LinkType } from '../../net/capture/index.js';
import { createCaptureFileWriter } from '../../net/capture/file.js';
import { readCaptures, ReplayInputError, ReplayOutput } from '../../net/replay-files.js';
import { replay } from '../../net/replay.js';
import { toEthernet } from '../../net/link-layer.js';
import { PROJECT_ROOT } from '../support/suite.js';

const dir = mkdtempSync(join(tmpdir(), 'replay-files-'));
const at = (ms: number) => ({ seconds: 1_800_000_000, nanoseconds: ms * 1_000_000 });

/** Two interfaces with no programs: everything received passes, everything sent goes out. */
function network() {
  const runtime = new Runtime();
  const wan0 = runtime.network.addInterface({ name: 'wan0', mac: '02:00:00:00:00:01' });
  const lan0 = runtime.network.addInterface({ name: 'lan0', mac: '02:00:00:00:00:02' });
  return { runtime, wan0, lan0 };
}

async function fates(runtime: Runtime, source: Parameters<typeof replay>[1]) {
  const seen: string[] = [];
  const summary = await replay(runtime, source, { onFrame: (e, p) => seen.push(`${p.number} ${e.fate} ${e.dev.name} ${e.bytes.length}`) });
  return { seen, summary };
}

describe('captures into replay', () => {
  test('a pcapng\'s interface names pick the interfaces, and epb_flags send outbound frames through the stack\'s path', async () => {
    const path = join(dir, 'two.pcapng');
    const w = createCaptureFileWriter(path, 'pcapng', { interfaces: [{ name: 'wan0' }, { name: 'lan0' }] });
    w.write({ data: buildPacket({ payload: 'a' }), ...at(1), interfaceId: 0, direction: 'in' });
    w.write({ data: buildPacket({ payload: 'bb' }), ...at(2), interfaceId: 1, direction: 'out' });
    w.write({ data: buildPacket({ payload: 'ccc' }), ...at(3), interfaceId: 1 });
    w.close();
    expect([...captureRecords(readFileSync(path))].map((r) => r.direction)).toEqual(['in', 'out', undefined]);
    const { runtime } = network();
    const { seen } = await fates(runtime, readCaptures(runtime.network, [{ path, interface: undefined, direction: 'in' }]));
    expect(seen).toEqual(['1 pass wan0 43', '2 tx lan0 44', '3 pass lan0 45']);
  });

  test('a pcapng interface that names no interface of the topology is one error naming the capture and the record', async () => {
    const path = join(dir, 'unknown.pcapng');
    const w = createCaptureFileWriter(path, 'pcapng', { interfaces: [{ name: 'wan0' }, { name: 'eth9' }] });
    w.write({ data: buildPacket(), ...at(1), interfaceId: 0 });
    w.write({ data: buildPacket(), ...at(2), interfaceId: 1 });
    w.close();
    const { runtime } = network();
    const { seen, summary } = await fates(runtime, readCaptures(runtime.network, [{ path, interface: undefined, direction: 'in' }]));
    expect(seen).toEqual(['1 pass wan0 42']);
    expect(summary.errors).toEqual([`${path}: record 2: captured on 'eth9', which is not an interface of the topology (there are: lo, wan0, lan0)`]);
    await expect(async () => {
      for await (const batch of readCaptures(runtime.network, [{ path, interface: undefined, direction: 'in' }])) for (const _ of batch) { /* read */ }
    }).rejects.toThrow(ReplayInputError);
  });

  test('captures merge by time across interfaces', async () => {
    const { runtime, wan0, lan0 } = network();
    const write = (name: string, times: number[]) => {
      const path = join(dir, `${name}.pcap`);
      const w = createCaptureFileWriter(path, 'pcap', { precision: 'nanoseconds' });
      for (const t of times) w.write({ data: buildPacket({ payload: new Uint8Array(t) }), ...at(t) });
      w.close();
      return path;
    };
    const a = write('a', [1, 4, 5, 9]);
    const b = write('b', [2, 3, 6, 7, 8]);
    const { seen } = await fates(runtime, readCaptures(runtime.network, [{ path: a, interface: wan0, direction: 'in' }, { path: b, interface: lan0, direction: 'in' }]));
    expect(seen.map((s) => s.split(' ').slice(2).join(' '))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => `${[1, 4, 5, 9].includes(t) ? 'wan0' : 'lan0'} ${42 + t}`));
  });

  test('raw IP and Linux cooked frames become Ethernet frames on their interface', () => {
    const { wan0 } = network();
    const ip = buildPacket({ proto: 'udp' }).subarray(14);
    const raw = toEthernet(ip, LinkType.RAW, wan0)!;
    expect([...raw.data.subarray(0, 14)]).toEqual([2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x08, 0x00]);
    expect(raw.data.subarray(14)).toEqual(ip);
    const v6 = buildPacket({ ipVersion: 6 }).subarray(14);
    expect([...toEthernet(v6, LinkType.IPV6, wan0)!.data.subarray(12, 14)]).toEqual([0x86, 0xdd]);
    // SLL: packet type 4 (outgoing), ARPHRD_ETHER, 6-byte address, protocol 0x0800.
    const sll = Uint8Array.from([0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, 0x08, 0x00, ...ip]);
    const out = toEthernet(sll, 113, wan0)!;
    expect(out.direction).toBe('out');
    expect([...out.data.subarray(6, 12)]).toEqual([2, 0, 0, 0, 0, 9]);
    // SLL2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type 1 (broadcast), address length 6, address.
    const sll2 = Uint8Array.from([0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 1, 6, 2, 0, 0, 0, 0, 7, 0, 0, ...ip]);
    const bcast = toEthernet(sll2, 276, wan0)!;
    expect(bcast.direction).toBe('in');
    expect([...bcast.data.subarray(0, 14)]).toEqual([255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 7, 0x08, 0x00]);
    expect(toEthernet(ip, 105, wan0)).toBeUndefined();
  });

  test('the replay\'s pcapng output names interfaces and marks which way each frame went', async () => {
    const { runtime, wan0 } = network();
    const out = join(dir, 'out');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out);
    const output = new ReplayOutput(out, runtime.network, 'pcapng');
    await replay(runtime, [{ interface: wan0, data: buildPacket(), ...at(1) }, { interface: wan0, data: buildPacket(), ...at(2), direction: 'out' }], { onFrame: (e, p) => output.frame(e, p) });
    output.close();
    const pass = [...captureRecords(readFileSync(join(out, 'wan0-pass.pcapng')))];
    const tx = [...captureRecords(readFileSync(join(out, 'wan0-tx.pcapng')))];
    expect(pass.map((r) => [r.interface.name, r.direction, r.nanoseconds])).toEqual([['wan0', 'in', 1_000_000]]);
    expect(tx.map((r) => [r.interface.name, r.direction, r.nanoseconds])).toEqual([['wan0', 'out', 2_000_000]]);
  });
});

describe('captures held in memory (no files: a browser)', () => {
  test('captureReplayRecords replays an example as readCaptures does, and names the capture in its errors', async () => {
    const { captureReplayRecords } = await import('../../net/replay-records.js');
    const { loadTopologyFile } = await import('../../net/topology-file.js');
    const topology = join(PROJECT_ROOT, 'examples', 'lb', 'topology.json');
    const summaries = [];
    for (const inMemory of [false, true]) {
      const runtime = new Runtime({ engine: 'interp' });
      const applied = await loadTopologyFile(runtime, topology);
      const inputs = applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }));
      const source = inMemory ? captureReplayRecords(readFileSync(inputs[0]!.path), runtime.network, inputs[0]!) : readCaptures(runtime.network, inputs);
      const { duration_ms: _d, ns_per_packet: _n, packets_per_second: _p, ...summary } = await replay(runtime, source);
      summaries.push(summary);
    }
    expect(summaries[0]!.packets).toBe(244);
    expect(summaries[1]).toEqual(summaries[0]);
    const runtime = new Runtime();
    const truncated = readFileSync(join(PROJECT_ROOT, 'examples', 'lb', 'traffic.pcap')).subarray(0, 100);
    const summary = await replay(runtime, captureReplayRecords(truncated, runtime.network, { path: 'cut.pcap', interface: runtime.network.addInterface({ name: 'eth0' }), direction: 'in' }));
    expect(summary.errors).toEqual([expect.stringMatching(/^cut\.pcap: /)]);
  });
});
