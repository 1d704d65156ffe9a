// The shipped examples replayed from their captures through the JS API, on both engines: the
// verdicts and per-interface outputs each example's design implies, and the bytes of selected
// frames (a load-balanced frame's rewritten MACs, a ping answered by XDP_TX, a runt dropped).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { loadTopologyFile } from '../../net/topology-file.js';
import { readCaptures } from '../../net/replay-files.js';
import { replay } from '../../net/replay.js';
import type { FrameEvent } from '../../net/datapath.js';
import { internetChecksum } from '../../net/packets.js';
import { captureRecords } from '../../net/capture/index.js';
import { frameFlow } from '../../runtime/sockets.js';
import { formatIpv6 } from '../../runtime/ip-address.js';
import { PROJECT_ROOT } from '../support/suite.js';

const example = (...parts: string[]) => join(PROJECT_ROOT, 'examples', ...parts);
const mac = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ENGINES = ['interp', 'jit'] as const;

/** Replays an example's topology and keeps every frame that left the datapath. */
async function replayExample(name: string, engine: 'interp' | 'jit') {
  const runtime = new Runtime({ engine });
  const applied = await loadTopologyFile(runtime, example(name, 'topology.json'));
  const frames: { fate: FrameEvent['fate']; dev: string; bytes: Uint8Array; cause?: string }[] = [];
  const inputs = applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }));
  const summary = await replay(runtime, readCaptures(runtime.network, inputs), {
    onFrame: (e) => frames.push({ fate: e.fate, dev: e.dev.name, bytes: e.bytes.slice(), ...(e.cause ? { cause: e.cause } : {}) }),
  });
  const out = (fate: string, dev: string) => frames.filter((f) => f.fate === fate && f.dev === dev);
  return { runtime, applied, summary, frames, out };
}

describe.each(ENGINES)('the examples on %s', (engine) => {
  test('the load balancer spreads flows to the VIP over three backends, answers pings with XDP_TX and floods ARP', async () => {
    const { summary, out, applied } = await replayExample('lb', engine);
    expect(summary.errors).toEqual([]);
    expect(summary.packets).toBe(244);
    // 216 frames of 36 flows to 10.0.0.100:80, 2 ARP broadcasts, 6 pings; the rest (port 22, IPv6, VLAN, a truncated IPv4 header) pass; a runt drops.
    expect(summary.verdicts).toEqual({ redirect: 218, tx: 6, pass: 19, drop: 1, aborted: 0 });
    const backends = ['be1', 'be2', 'be3'].map((be) => out('tx', be));
    expect(backends.map((b) => b.length).reduce((a, b) => a + b)).toBe(216 + 2 * 3);
    for (const [i, frames] of backends.entries()) {
      expect(frames.length).toBeGreaterThan(40);
      for (const f of frames) {
        if (f.bytes[12] === 0x08 && f.bytes[13] === 0x06) {
          // Broadcast ARP goes out as it came.
          expect(mac(f.bytes.subarray(0, 6))).toBe('ff:ff:ff:ff:ff:ff');
          continue;
        }
        // rewrite_mac: the backend's MAC, and the backend interface's own as the source.
        expect(mac(f.bytes.subarray(0, 6))).toBe(`02:00:00:00:02:0${i + 1}`);
        expect(mac(f.bytes.subarray(6, 12))).toBe(`02:00:00:00:01:0${i + 1}`);
        expect([...f.bytes.subarray(30, 34)]).toEqual([10, 0, 0, 100]);
      }
    }
    // Every packet of a flow goes to one backend: no client port shows up behind two of them.
    const owner = new Map<string, number>();
    backends.forEach((frames, i) => frames.filter((f) => f.bytes[23] === 6).forEach((f) => {
      const flow = `${[...f.bytes.subarray(26, 30)].join('.')}:${(f.bytes[34]! << 8) | f.bytes[35]!}`;
      expect(owner.get(flow) ?? i).toBe(i);
      owner.set(flow, i);
    }));
    // Pings come back out of wan0 as echo replies, addresses swapped, checksums still valid.
    const replies = out('tx', 'wan0');
    expect(replies.length).toBe(6);
    for (const r of replies) {
      expect(r.bytes[34]).toBe(0);
      expect([...r.bytes.subarray(26, 30)]).toEqual([10, 0, 0, 100]);
      expect(mac(r.bytes.subarray(6, 12))).toBe('02:00:00:00:00:01');
      expect(internetChecksum(r.bytes.subarray(34))).toBe(0);
    }
    expect(out('drop', 'wan0').map((f) => f.bytes.length)).toEqual([10]);
    expect(out('pass', 'wan0').length).toBe(19);
    // The egress hook counted what each interface sent.
    const counters = applied.objects.get('lb')!.typedMap('tx_counters');
    expect([2, 3, 4, 5].map((ifindex) => (counters.lookup(ifindex) as { packets: number }).packets)).toEqual([6, ...backends.map((b) => b.length)]);
  });

  test('the firewall drops blocked prefixes, denied ports, a SYN flood and malformed frames, and passes the rest', async () => {
    const { summary, applied, out } = await replayExample('firewall', engine);
    expect(summary.packets).toBe(358);
    expect(summary.verdicts).toEqual({ pass: 313, drop: 45, tx: 0, redirect: 0, aborted: 0 });
    const stats = applied.objects.get('fw')!.typedMap('stats');
    const packets = (reason: number) => (stats.lookup(reason) as { packets: number }[])[0]!.packets;
    // PASS, BLOCKED_PREFIX (3 IPv4 and 1 IPv6 connection, 6 inbound frames each), DENIED_PORT (telnet, SNMP),
    // SYN_FLOOD (30 SYNs from one source in 300 ms, 20 allowed a second), MALFORMED (4 variants).
    expect([0, 1, 2, 3, 4].map(packets)).toEqual([313, 24, 7, 10, 4]);
    expect(summary.trace).toEqual([
      { line: 'blocked 198.51.100.7', count: 6 }, { line: 'blocked 198.51.100.8', count: 6 }, { line: 'blocked 198.51.100.9', count: 6 },
      { line: 'blocked 2001:0db8:0bad:0000:0000:0000:0000:0001', count: 6 },
      { line: 'syn flood from 203.0.113.66: over 20 SYNs in a second', count: 1 },
    ]);
    expect(out('drop', 'eth0').length).toBe(45);
    expect(out('pass', 'eth0').length).toBe(313);
  });

  test('the tc egress rate counter counts each destination and shoots what goes over the limit', async () => {
    const { summary, applied, out } = await replayExample('tc-counter', engine);
    expect(summary.packets).toBe(185);
    expect(summary.hooks).toEqual([{ interface: 'eth0', hook: 'tc_egress', program: 'tc_rate', verdicts: { ok: 105, shot: 80 } }]);
    expect(out('tx', 'eth0').length).toBe(105);
    const destinations = applied.objects.get('rate')!.typedMap('destinations');
    const heavy = destinations.lookup({ family: 4, addr: [192, 0, 2, 99] }) as { bytes: number; dropped: number; peak_bytes_per_sec: number };
    expect(heavy).toMatchObject({ bytes: 20000, dropped: 80, peak_bytes_per_sec: 20000 });
    expect([...destinations.keys()].length).toBe(12);
  });
});

/** The sockstat topology's sockets, as predicates on a frame's 5-tuple from the socket's side (its local end first). */
const SOCKSTAT_SOCKETS: { name: string; matches: (proto: number, local: string, localPort: number, remote: string, remotePort: number) => boolean }[] = [
  { name: 'tcp 10.0.0.30:443 <-> 203.0.113.10:40001', matches: (p, l, lp, r, rp) => p === 6 && l === '10.0.0.30' && lp === 443 && r === '203.0.113.10' && rp === 40001 },
  { name: 'tcp 10.0.0.30:443 <-> 203.0.113.11:40002', matches: (p, l, lp, r, rp) => p === 6 && l === '10.0.0.30' && lp === 443 && r === '203.0.113.11' && rp === 40002 },
  { name: 'tcp [fd00::30]:443 <-> [2001:db8::7]:40003', matches: (p, l, lp, r, rp) => p === 6 && l === 'fd00::30' && lp === 443 && r === '2001:db8::7' && rp === 40003 },
  { name: 'tcp 0.0.0.0:443', matches: (p, l, lp) => p === 6 && !l.includes(':') && lp === 443 },
  { name: 'udp 0.0.0.0:53', matches: (p, l, lp) => p === 17 && !l.includes(':') && lp === 53 },
  { name: 'tcp 10.0.0.30:50000 <-> 198.51.100.5:80', matches: (p, l, lp, r, rp) => p === 6 && l === '10.0.0.30' && lp === 50000 && r === '198.51.100.5' && rp === 80 },
];

/** What sockstat.c should count, worked out from the capture alone: each frame to the first socket it fits, sends over the 20,000-byte quota dropped. */
function expectedSockStats(path: string) {
  const stats = SOCKSTAT_SOCKETS.map(() => ({ tx_packets: 0, tx_bytes: 0, rx_packets: 0, rx_bytes: 0, tx_dropped: 0 }));
  const text = (a: Uint8Array) => (a.length === 4 ? a.join('.') : formatIpv6(a));
  for (const record of captureRecords(readFileSync(path))) {
    const flow = frameFlow(record.data);
    if (!flow) continue;
    const out = record.direction === 'out';
    const [local, localPort, remote, remotePort] = out ? [flow.src, flow.srcPort, flow.dst, flow.dstPort] : [flow.dst, flow.dstPort, flow.src, flow.srcPort];
    const i = SOCKSTAT_SOCKETS.findIndex((s) => s.matches(flow.protocol, text(local), localPort, text(remote), remotePort));
    if (i < 0) continue;
    const s = stats[i]!;
    const len = record.data.length - 14;
    if (!out) [s.rx_packets, s.rx_bytes] = [s.rx_packets + 1, s.rx_bytes + len];
    else if (s.tx_bytes + len > 20000) s.tx_dropped++;
    else [s.tx_packets, s.tx_bytes] = [s.tx_packets + 1, s.tx_bytes + len];
  }
  return stats;
}

describe.each(ENGINES)('the socket statistics example on %s', (engine) => {
  test('cgroup_skb programs count each socket\'s traffic in socket storage, and egress drops what passes the quota', async () => {
    const { summary, applied, out, runtime } = await replayExample('sockstat', engine);
    expect(summary.errors).toEqual([]);
    expect(summary.packets).toBe(101);
    const expected = expectedSockStats(example('sockstat', 'traffic.pcapng'));
    expect(applied.sockets.map(String)).toEqual(SOCKSTAT_SOCKETS.map((s, i) => `${s.name} (cookie ${i + 1})`));
    const stats = applied.objects.get('sockstat')!.typedMap('sock_stats');
    expect(applied.sockets.map((s) => stats.lookup(s))).toEqual(expected);
    // The counts are not trivial: every socket saw traffic both ways, and one went over its quota.
    expect(expected.every((s) => s.tx_packets > 0 && s.rx_packets > 0)).toBe(true);
    const dropped = expected.reduce((n, s) => n + s.tx_dropped, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(out('drop', 'eth0').length).toBe(dropped);
    const matched = (key: 'tx_packets' | 'rx_packets') => expected.reduce((n, s) => n + s[key], 0);
    expect(summary.hooks).toEqual([
      { interface: 'eth0', hook: 'cgroup_ingress', program: 'count_rx', verdicts: { pass: matched('rx_packets') } },
      { interface: 'eth0', hook: 'cgroup_egress', program: 'count_tx', verdicts: { pass: matched('tx_packets'), drop: dropped } },
    ]);
    // Closing a socket takes its counters with it.
    runtime.sockets.close(applied.sockets[0]!);
    expect(stats.dump().map((e) => e.key)).toEqual([2, 3, 4, 5, 6]);
  });
});

test('the README\'s network-and-replay example does what it says', async () => {
  const { TcpFlag, buildPacket } = await import('../../net/packets.js');
  const runtime = new Runtime({ engine: 'jit' });
  const lb = await runtime.loadObject(example('lb', 'lb.o'));
  const wan0 = runtime.network.addInterface({ name: 'wan0', mac: '02:00:00:00:00:01' });
  const be1 = runtime.network.addInterface({ name: 'be1', mac: '02:00:00:00:01:01' });
  wan0.attach('xdp', lb.program('xdp_lb'));
  lb.typedMap('config').update(0, { vip: '10.0.0.100', port: 80, backends: 1 });
  lb.typedMap('backends').update(0, { mac: '02:00:00:00:02:01', src_mac: '02:00:00:00:01:01' });
  lb.typedMap('tx_ports').update(0, { ifindex: be1.ifindex, bpf_prog: { id: lb.program('rewrite_mac').id } });
  const syn = buildPacket({ dst: '10.0.0.100', proto: 'tcp', dstPort: 80, tcpFlags: TcpFlag.SYN });
  const seen: string[] = [];
  const summary = await replay(runtime, [{ interface: 'wan0', data: syn }], { onFrame: (e) => seen.push(`${e.fate} ${e.dev.name} ${[...e.bytes.subarray(0, 6)]}`) });
  expect(seen).toEqual(['tx be1 2,0,0,0,2,1']);
  expect(summary.verdicts.redirect).toBe(1);
  expect(summary.interfaces.be1!.tx).toBe(1);
});

describe.each(ENGINES)('the metadata tags example on %s', (engine) => {
  test('frames are tagged on eth0, and the devmap program sets the DSCP of their class on eth1', async () => {
    const runtime = new Runtime({ engine });
    const applied = await loadTopologyFile(runtime, example('kv-tags', 'topology.json'));
    const out: { bytes: Uint8Array; metadata: string }[] = [];
    const inputs = applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }));
    const summary = await replay(runtime, readCaptures(runtime.network, inputs), {
      metadata: true,
      onFrame: (e) => out.push({ bytes: e.bytes.slice(), metadata: runtime.metadataKeys.describe(e.metadata ?? []) }),
    });
    expect(summary.packets).toBe(37);
    expect(out.length).toBe(37);
    const dscp = (b: Uint8Array) => b[15]! >> 2;
    const port = (b: Uint8Array) => (b[36]! << 8) | b[37]!;
    for (const [i, f] of out.entries()) {
      expect(f.metadata).toMatch(new RegExp(`^packet_id=${i + 1} class=[012]$`));
      const klass = Number(f.metadata.split('class=')[1]);
      expect(dscp(f.bytes)).toBe([0, 46, 8][klass]);
      if (f.bytes[23] === 6 && port(f.bytes) === 443) expect(klass).toBe(1);
      expect(internetChecksum(f.bytes.subarray(14, 34))).toBe(0);
    }
    expect(applied.objects.get('tags')!.typedMap('per_class').dump()).toEqual([{ key: 0, value: 11 }, { key: 1, value: 18 }, { key: 2, value: 8 }]);
    expect(summary.trace).toEqual([{ line: expect.stringMatching(/^first packet: flow hash [0-9a-f]+$/), count: 1 }]);
  });
});

describe.each(ENGINES)('the NAT example on %s', (engine) => {
  test('the control plane sets connections up from their SYNs; XDP translates both ways, and a FIN or RST sends the rest to the stack', async () => {
    const runtime = new Runtime({ engine });
    const applied = await loadTopologyFile(runtime, example('nat', 'topology.json'));
    const seen: { number: number; fate: string; dev: string; bytes: Uint8Array }[] = [];
    const flowsAfter: number[] = [];
    const flows = applied.objects.get('nat')!.map('flows');
    const inputs = applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }));
    const summary = await replay(runtime, readCaptures(runtime.network, inputs), {
      onFrame: (e, p) => {
        applied.hooks?.frame?.(e, p);
        seen.push({ number: p.number, fate: e.fate, dev: e.dev.name, bytes: e.bytes.slice() });
      },
      afterPacket: () => flowsAfter.push(flows.size),
      outbox: applied.outbox,
    });
    expect(summary.packets).toBe(74);
    const ip = (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].join('.');
    const port = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
    // Out of wan0: every frame from our public address, from the port allocated to its connection.
    const out = seen.filter((s) => s.fate === 'tx' && s.dev === 'wan0');
    expect(out.length).toBe(41);
    for (const o of out) {
      expect(ip(o.bytes, 26)).toBe('203.0.113.1');
      expect(port(o.bytes, 34)).toBeGreaterThanOrEqual(40000);
      expect(internetChecksum(o.bytes.subarray(14, 34))).toBe(0);
    }
    expect(new Set(out.map((o) => port(o.bytes, 34)))).toEqual(new Set([40000, 40001, 40002, 40003, 40004, 40005]));
    // Into lan0: to the hosts, their own ports, the hosts' MACs.
    const back = seen.filter((s) => s.fate === 'tx' && s.dev === 'lan0');
    expect(back.length).toBe(19);
    for (const b of back) expect(ip(b.bytes, 30)).toMatch(/^192\.168\.1\.1[0-2]$/);
    // Each SYN went to the stack first (the control plane's cue), then out translated.
    const syns = seen.filter((s) => s.dev === 'lan0' && s.fate === 'pass' && s.bytes.length === 54 && (s.bytes[47]! & 0x12) === 0x02);
    expect(syns.length).toBe(6);
    // Every connection was torn down by a FIN or a RST: the map ends empty, and what followed went to the stack.
    expect(Math.max(...flowsAfter)).toBeGreaterThan(0);
    expect(flows.size).toBe(0);
    expect(summary.interfaces.wan0!.pass).toBe(7);
  });
});

describe.each(ENGINES)('the egress ACL example on %s', (engine) => {
  test('the egress hook drops frames to denied prefixes, whether redirected or bounced with XDP_TX', async () => {
    const { summary, out, applied } = await replayExample('egress-acl', engine);
    expect(summary.packets).toBe(53);
    const dst = (b: Uint8Array) => [...b.subarray(30, 34)].join('.');
    expect(out('tx', 'out0').length).toBe(30);
    expect(out('tx', 'out0').every((f) => !dst(f.bytes).startsWith('10.9.0.') && dst(f.bytes) !== '198.51.100.99')).toBe(true);
    expect(out('drop', 'out0').length).toBe(20);
    // The pings' echo replies leave in0 (XDP_TX) through its egress hook: the one to a denied host is dropped.
    expect(out('tx', 'in0').map((f) => dst(f.bytes))).toEqual(['192.0.2.31', '192.0.2.31']);
    expect(out('drop', 'in0').map((f) => dst(f.bytes))).toEqual(['10.9.0.9']);
    expect(applied.objects.get('acl')!.typedMap('per_interface').lookup(3)).toEqual({ allowed: 30, denied: 20 });
  });
});

test('the README\'s socket storage example does what it says', async () => {
  const { buildPacket } = await import('../../net/packets.js');
  const runtime = new Runtime();
  const obj = await runtime.loadObject(example('sockstat', 'sockstat.o'));
  const sock = runtime.sockets.open({ protocol: 'tcp', local: '10.0.0.30:443', remote: '203.0.113.10:40001' });
  runtime.cgroup.attach('egress', obj.program('count_tx'));
  const eth0 = runtime.network.addInterface({ name: 'eth0' });
  await replay(runtime, [{ interface: eth0, direction: 'out', data: buildPacket({ proto: 'tcp', src: '10.0.0.30', srcPort: 443, dst: '203.0.113.10', dstPort: 40001 }) }]);
  const stats = obj.typedMap('sock_stats');
  expect(stats.lookup(sock)).toEqual({ tx_packets: 1, tx_bytes: 40, rx_packets: 0, rx_bytes: 0, tx_dropped: 0 });
  stats.update(sock, { tx_packets: 0, tx_bytes: 0, rx_packets: 0, rx_bytes: 0, tx_dropped: 0 });
  expect(stats.lookup(sock.cookie)).toEqual({ tx_packets: 0, tx_bytes: 0, rx_packets: 0, rx_bytes: 0, tx_dropped: 0 });
  runtime.sockets.close(sock);
  expect(stats.dump()).toEqual([]);
});
