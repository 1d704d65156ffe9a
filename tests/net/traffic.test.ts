// net/traffic: the generator is deterministic in its seed, streams lazily, keeps time moving
// forward, and speaks the protocols correctly, as decoded by an independent decoder: checksums
// verify, TCP sequence and acknowledgement numbers follow each other through handshake, data and
// teardown, echoes answer their requests, malformed frames are broken in the stated way.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MemorySink, PcapngWriter } from '../../net/capture/index.js';
import { MALFORMED_VARIANTS, randomTraffic, trafficFrames, type FlowSpec, type TrafficFrame } from '../../net/traffic/index.js';
import { TcpFlag } from '../../net/packets.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { decodeFrame, type DecodedFrame } from './support/frames.js';

function digest(frames: Iterable<TrafficFrame>): string {
  const hash = createHash('sha256');
  for (const f of frames) hash.update(`${f.seconds}.${f.nanoseconds}/${f.flow}/`).update(f.data);
  return hash.digest('hex');
}

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

/** Checks a TCP flow's frames (in capture order) segment by segment; returns the flags in order. */
function checkTcpFlow(frames: DecodedFrame[], client: string): number[] {
  const next = new Map<string, number>(); // the next sequence number each side will send
  const flags: number[] = [];
  for (const [i, f] of frames.entries()) {
    const from = f.src!;
    const to = f.dst!;
    const where = `segment ${i} (flags 0x${f.flags!.toString(16)})`;
    expect(f.l4ChecksumOk, where).toBe(true);
    if (i === 0) {
      expect(from, where).toBe(client);
      expect(f.flags, where).toBe(SYN);
    } else {
      expect(f.seq, where).toBe(next.get(from) ?? f.seq); // the server's first segment sets its number
      expect(f.flags! & ACK, where).toBe(ACK);
      expect(f.ack, where).toBe(next.get(to));
    }
    const advance = f.payload!.length + (f.flags! & SYN ? 1 : 0) + (f.flags! & FIN ? 1 : 0);
    next.set(from, (f.seq! + advance) >>> 0);
    flags.push(f.flags!);
  }
  return flags;
}

describe('trafficFrames', () => {
  test('a TCP connection: handshake, segmented data both ways, FIN/FIN teardown', () => {
    const spec: FlowSpec = { kind: 'tcp', exchanges: 2, requestBytes: 3000, responseBytes: 5000, client: '10.0.0.9', server: '10.1.0.1', serverPort: 80, clientPort: 40000 };
    const frames = [...trafficFrames([spec], { seed: 1 })];
    const decoded = frames.map((f) => decodeFrame(f.data));
    const exchange = [ACK, ACK, ACK | PSH, ACK, ACK, ACK, ACK | PSH, ACK];
    expect(checkTcpFlow(decoded, '10.0.0.9')).toEqual([SYN, SYN | ACK, ACK, ...exchange, ...exchange, FIN | ACK, FIN | ACK, ACK]);
    expect(decoded.slice(3, 6).map((f) => f.payload!.length)).toEqual([1460, 1460, 80]);
    expect(decoded.slice(6, 10).map((f) => f.payload!.length)).toEqual([1460, 1460, 1460, 620]);
    expect(decoded.every((f) => f.ipChecksumOk && (f.srcPort === 40000 || f.dstPort === 40000))).toBe(true);
  });

  test('a TCP connection closed by a RST, over IPv6 behind two VLAN tags', () => {
    const spec: FlowSpec = { kind: 'tcp', ipVersion: 6, vlans: [100, 200], close: 'rst', requestBytes: 10, responseBytes: 0 };
    const decoded = [...trafficFrames([spec], { seed: 3 })].map((f) => decodeFrame(f.data));
    const flags = checkTcpFlow(decoded, 'fd000000000000000000000000000001');
    expect(flags).toEqual([SYN, SYN | ACK, ACK, ACK | PSH, ACK, RST | ACK]);
    expect(decoded.every((f) => f.ipVersion === 6 && f.vlans.join() === '100,200')).toBe(true);
  });

  test.for([4, 6] as const)('UDP exchanges and ICMP echoes over IPv%d', (ipVersion) => {
    const flows: FlowSpec[] = [
      { kind: 'udp', ipVersion, exchanges: 3, serverPort: 53 },
      { kind: 'icmp', ipVersion, echoes: 3, payloadBytes: 56 },
    ];
    const frames = [...trafficFrames(flows, { seed: 9 })];
    const byFlow = (flow: number) => frames.filter((f) => f.flow === flow).map((f) => decodeFrame(f.data));
    const udp = byFlow(0);
    expect(udp.map((f) => f.dstPort === 53)).toEqual([true, false, true, false, true, false]);
    expect(udp.every((f) => f.proto === 17 && f.l4ChecksumOk)).toBe(true);
    const icmp = byFlow(1);
    const [request, reply] = ipVersion === 4 ? [8, 0] : [128, 129];
    expect(icmp.map((f) => [f.icmpType, f.icmpSeq])).toEqual([[request, 1], [reply, 1], [request, 2], [reply, 2], [request, 3], [reply, 3]]);
    for (let i = 0; i < 6; i += 2) expect([icmp[i + 1]!.icmpId, [...icmp[i + 1]!.payload!]]).toEqual([icmp[i]!.icmpId, [...icmp[i]!.payload!]]);
    expect(icmp.every((f) => f.l4ChecksumOk && f.payload!.length === 56)).toBe(true);
  });

  test.for(MALFORMED_VARIANTS)('a malformed frame: %s', (variant) => {
    const [frame] = [...trafficFrames([{ kind: 'malformed', variant, vlans: [5] }], { seed: 1 })];
    expect(decodeFrame(frame!.data).malformed).toBe(variant);
  });

  test('flows start at their startNs and interleave by time', () => {
    const frames = [...trafficFrames([
      { kind: 'icmp', echoes: 2, startNs: 5_000_000, rttNs: 1_000_000 },
      { kind: 'icmp', echoes: 1, startNs: 5_500_000, rttNs: 100_000 },
    ], { seed: 1, startSeconds: 100 })];
    expect(frames.map((f) => [f.flow, f.seconds, f.nanoseconds])).toEqual([[0, 100, 5_000_000], [1, 100, 5_500_000], [1, 100, 5_600_000], [0, 100, 6_000_000], [0, 101, 5_000_000], [0, 101, 6_000_000]]);
  });
});

describe('randomTraffic', () => {
  test('same seed, same bytes; another seed, other bytes', () => {
    const a = digest(randomTraffic({ seed: 42, packets: 3000 }));
    expect(digest(randomTraffic({ seed: 42, packets: 3000 }))).toBe(a);
    expect(digest(randomTraffic({ seed: 43, packets: 3000 }))).not.toBe(a);
  });

  test('streams lazily: the first frames of a billion come at once', () => {
    const frames = randomTraffic({ seed: 1, packets: 1e9 });
    for (let i = 0; i < 10; i++) expect(frames.next().done).toBe(false);
    frames.return();
  });

  test('20,000 frames of the default mix: time moves forward, every protocol is right', () => {
    const frames = [...randomTraffic({ seed: 7, packets: 20_000 })];
    expect(frames.length).toBe(20_000);
    expect(frames[0]!.seconds).toBe(1_700_000_000);
    for (let i = 1; i < frames.length; i++) {
      const [a, b] = [frames[i - 1]!, frames[i]!];
      expect(a.seconds * 1e9 + a.nanoseconds <= b.seconds * 1e9 + b.nanoseconds, `frame ${i}`).toBe(true);
    }
    const flows = new Map<number, DecodedFrame[]>();
    for (const f of frames) {
      const list = flows.get(f.flow) ?? [];
      list.push(decodeFrame(f.data));
      flows.set(f.flow, list);
    }
    const seen = { tcp: 0, udp: 0, icmp: 0, malformed: 0, ipv6: 0, vlan: 0, rst: 0 };
    for (const list of flows.values()) {
      const first = list[0]!;
      if (first.malformed !== undefined) {
        seen.malformed++;
        expect(MALFORMED_VARIANTS as readonly string[]).toContain(first.malformed);
        expect(list.length).toBe(1);
        continue;
      }
      if (first.ipVersion === 6) seen.ipv6++;
      if (first.vlans.length > 0) seen.vlan++;
      expect(list.every((f) => f.malformed === undefined && f.l4ChecksumOk && (f.ipVersion === 6 || f.ipChecksumOk))).toBe(true);
      if (first.proto === 6) {
        seen.tcp++;
        const flags = checkTcpFlow(list, first.src!);
        if (flags.includes(RST | ACK)) seen.rst++;
      } else if (first.proto === 17) {
        seen.udp++;
      } else {
        seen.icmp++;
        list.forEach((f, i) => expect(f.icmpType).toBe(first.ipVersion === 4 ? (i % 2 ? 0 : 8) : (i % 2 ? 129 : 128)));
      }
    }
    // The default mix's proportions (60/25/10/5 flows, 20% IPv6, 10% VLAN), loosely.
    const total = seen.tcp + seen.udp + seen.icmp + seen.malformed;
    expect(seen.tcp / total).toBeGreaterThan(0.5);
    expect(seen.udp / total).toBeGreaterThan(0.18);
    expect(seen.icmp / total).toBeGreaterThan(0.06);
    expect(seen.malformed / total).toBeGreaterThan(0.02);
    expect(seen.ipv6 / total).toBeGreaterThan(0.12);
    expect(seen.vlan / total).toBeGreaterThan(0.05);
    expect(seen.rst).toBeGreaterThan(0);
  });

  test('a mix of one kind gives only that kind; a mix of none is refused', () => {
    const frames = [...randomTraffic({ seed: 1, packets: 500, mix: { tcp: 0, udp: 1, icmp: 0, malformed: 0, ipv6: 0, vlan: 0 } })];
    expect(frames.every((f) => decodeFrame(f.data).proto === 17)).toBe(true);
    expect(() => randomTraffic({ seed: 1, packets: 1, mix: { tcp: 0, udp: 0, icmp: 0, malformed: 0 } })).toThrow(RangeError);
  });

  test('maxPayload bounds the frame size', () => {
    const frames = [...randomTraffic({ seed: 1, packets: 2000, mix: { maxPayload: 20 } })];
    expect(Math.max(...frames.map((f) => f.data.length))).toBeLessThanOrEqual(14 + 8 + 40 + 20 + 56);
  });
});

describe('scripts/gen-traffic.mjs', () => {
  const script = join(PROJECT_ROOT, 'scripts', 'gen-traffic.mjs');

  test('writes the capture randomTraffic gives for its seed, count and mix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-traffic-'));
    try {
      const out = join(dir, 'mix.pcapng');
      const run = spawnSync(process.execPath, [script, '--seed', '3', '--packets', '400', '--mix', 'tcp=2,icmp=1', '--vlan', '0.5', '-o', out], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const sink = new MemorySink();
      const writer = new PcapngWriter(sink, { interfaces: [{ name: 'eth0' }] });
      for (const frame of randomTraffic({ seed: 3, packets: 400, mix: { tcp: 2, udp: 0, icmp: 1, malformed: 0, vlan: 0.5 } })) writer.write(frame);
      writer.close();
      expect(new Uint8Array(readFileSync(out))).toEqual(sink.bytes());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad argument is one line and exit code 1', () => {
    const run = spawnSync(process.execPath, [script, '--packets', 'many', '-o', join(tmpdir(), 'never.pcap')], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe('gen-traffic: --packets many: not a whole number in [0, Infinity]');
  });
});
