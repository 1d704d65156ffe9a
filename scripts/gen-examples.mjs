#!/usr/bin/env node
// Writes the examples' captures (examples/*/traffic.pcap) from the seeded traffic generator: the same
// build writes the same bytes. Each example gets the traffic its program is about, the frames its
// interface would see in the direction the topology feeds them. Uses the built library; run by
// `npm run fixtures` (tests/fixtures/build.sh), or `npm run build && node scripts/gen-examples.mjs`.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCaptureFileWriter, trafficFrames, parseMac, parseIpv4, onesSum, foldChecksum, pseudoHeaderSum } from '../dist/index.js';

const examples = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'examples');
const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Writes the frames of `flows` that pass `keep` to examples/<name>/traffic.pcap. */
function write(name, flows, keep, extra = []) {
  const writer = createCaptureFileWriter(join(examples, name, 'traffic.pcap'), 'pcap', { precision: 'nanoseconds' });
  const frames = [...trafficFrames(flows, { seed: 2026 })].filter((f) => keep(f.data));
  // Extra frames (ARP) go in at their times.
  const all = [...frames.map((f) => ({ data: f.data.slice(), seconds: f.seconds, nanoseconds: f.nanoseconds })), ...extra]
    .sort((a, b) => a.seconds - b.seconds || a.nanoseconds - b.nanoseconds);
  for (const f of all) writer.write(f);
  writer.close();
  console.log(`wrote examples/${name}/traffic.pcap: ${all.length} frames`);
}

const at = (ms) => ({ seconds: 1_700_000_000 + Math.floor(ms / 1000), nanoseconds: Math.round((ms % 1000) * 1e6) });

/** An ARP request (who has `target`?) from `mac`/`ip`, broadcast. */
function arpRequest(mac, ip, target, ms) {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(parseMac(mac), 6);
  f.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1], 12);
  f.set(parseMac(mac), 22);
  f.set(ip.split('.').map(Number), 28);
  f.set(target.split('.').map(Number), 38);
  return { data: f, ...at(ms) };
}

// ---- The firewall: what reaches a server's uplink (inbound frames only). ----
{
  const host = '02:00:00:00:00:10';
  const gateway = '02:00:00:00:00:fe';
  const v4 = (client, extra) => ({ ipVersion: 4, client, server: '10.0.0.10', clientMac: gateway, serverMac: host, ...extra });
  const flows = [];
  for (let i = 0; i < 24; i++) flows.push({ kind: 'tcp', ...v4(`203.0.113.${10 + i}`, { serverPort: 443, exchanges: 1 + (i % 3), startNs: i * 40e6, close: i % 7 === 0 ? 'rst' : 'fin' }) });
  for (let i = 0; i < 3; i++) flows.push({ kind: 'tcp', ...v4(`198.51.100.${7 + i}`, { serverPort: 443, startNs: 100e6 + i * 50e6 }) });
  flows.push({ kind: 'tcp', ...v4('203.0.113.50', { serverPort: 23, startNs: 300e6 }) });
  for (let i = 0; i < 6; i++) flows.push({ kind: 'udp', ...v4(`203.0.113.${60 + i}`, { serverPort: 53, exchanges: 2, startNs: 50e6 + i * 90e6 }) });
  flows.push({ kind: 'udp', ...v4('203.0.113.70', { serverPort: 161, startNs: 400e6 }) });
  flows.push({ kind: 'icmp', ...v4('203.0.113.9', { echoes: 3, startNs: 20e6 }) });
  // A SYN flood: 30 connections from one client within 300 ms; the limit is 20 SYNs a second.
  for (let i = 0; i < 30; i++) flows.push({ kind: 'tcp', ...v4('203.0.113.66', { serverPort: 443, exchanges: 0, close: 'rst', startNs: 500e6 + i * 10e6 }) });
  const v6 = (client, extra) => ({ ipVersion: 6, client, server: 'fd00::10', clientMac: gateway, serverMac: host, ...extra });
  for (let i = 0; i < 4; i++) flows.push({ kind: 'tcp', ...v6(`2001:db8:1::${5 + i}`, { serverPort: 443, startNs: 200e6 + i * 60e6 }) });
  flows.push({ kind: 'tcp', ...v6('2001:db8:bad::1', { serverPort: 443, startNs: 250e6 }) });
  flows.push({ kind: 'icmp', ...v6('2001:db8:1::9', { echoes: 2, startNs: 600e6 }) });
  for (let i = 0; i < 3; i++) flows.push({ kind: 'tcp', ...v4(`203.0.113.${80 + i}`, { serverPort: 443, vlans: [100], startNs: 700e6 + i * 30e6 }) });
  for (const variant of ['truncated-ip', 'bad-ihl', 'bogus-total-length', 'runt']) flows.push({ kind: 'malformed', variant, ...v4('203.0.113.99', { startNs: 800e6 }) });
  write('firewall', flows, (data) => data.length < 6 || sameBytes(data.subarray(0, 6), parseMac(host)));
}

// ---- The load balancer: what clients send to the VIP on wan0 (replies go back from the backends). ----
{
  const wan = '02:00:00:00:00:01';
  const router = '02:00:00:00:00:fe';
  const vip = (client, extra) => ({ ipVersion: 4, client, server: '10.0.0.100', clientMac: router, serverMac: wan, ...extra });
  const flows = [];
  for (let i = 0; i < 30; i++) flows.push({ kind: 'tcp', ...vip(`198.18.${i >> 4}.${1 + (i & 15)}`, { serverPort: 80, exchanges: 1 + (i % 2), startNs: i * 25e6 }) });
  for (let i = 0; i < 6; i++) flows.push({ kind: 'udp', ...vip(`198.18.9.${1 + i}`, { serverPort: 80, exchanges: 1, startNs: 100e6 + i * 70e6 }) });
  for (let i = 0; i < 3; i++) flows.push({ kind: 'icmp', ...vip(`198.18.8.${1 + i}`, { echoes: 2, startNs: 150e6 + i * 120e6 }) });
  flows.push({ kind: 'tcp', ...vip('198.18.7.1', { serverPort: 22, startNs: 300e6 }) });
  flows.push({ kind: 'tcp', ipVersion: 6, client: '2001:db8:2::1', server: '2001:db8:100::100', clientMac: router, serverMac: wan, serverPort: 80, startNs: 350e6 });
  flows.push({ kind: 'tcp', ...vip('198.18.6.1', { serverPort: 80, vlans: [42], startNs: 400e6 }) });
  flows.push({ kind: 'malformed', variant: 'runt', ...vip('198.18.5.1', { startNs: 450e6 }) });
  flows.push({ kind: 'malformed', variant: 'truncated-ip', ...vip('198.18.5.2', { startNs: 460e6 }) });
  const arp = [arpRequest(router, '10.0.0.1', '10.0.0.100', 5), arpRequest(router, '10.0.0.1', '10.0.0.100', 500)];
  write('lb', flows, (data) => data.length < 6 || sameBytes(data.subarray(0, 6), parseMac(wan)), arp);
}

// ---- The tc egress rate counter: what a host sends (outbound frames only). ----
{
  const host = '02:00:00:00:00:20';
  const router = '02:00:00:00:00:fe';
  const out = (server, extra) => ({ ipVersion: 4, client: '10.0.0.20', server, clientMac: host, serverMac: router, ...extra });
  const flows = [];
  for (let i = 0; i < 8; i++) flows.push({ kind: 'tcp', ...out(`192.0.2.${10 + i}`, { serverPort: 443, exchanges: 2, requestBytes: 200 + 100 * i, responseBytes: 100, startNs: i * 100e6 }) });
  // One destination gets far more than 20,000 bytes in a second: big uploads in quick succession.
  for (let i = 0; i < 4; i++) flows.push({ kind: 'tcp', ...out('192.0.2.99', { serverPort: 443, exchanges: 3, requestBytes: 8000, responseBytes: 50, startNs: 200e6 + i * 50e6, rttNs: 2e6 }) });
  for (let i = 0; i < 5; i++) flows.push({ kind: 'udp', ...out('192.0.2.53', { serverPort: 53, exchanges: 2, requestBytes: 40, responseBytes: 200, startNs: 50e6 + i * 200e6 }) });
  flows.push({ kind: 'tcp', ipVersion: 6, client: 'fd00::20', server: '2001:db8:3::1', clientMac: host, serverMac: router, serverPort: 443, exchanges: 2, startNs: 300e6 });
  flows.push({ kind: 'icmp', ...out('192.0.2.1', { echoes: 3, startNs: 10e6 }) });
  write('tc-counter', flows, (data) => data.length >= 12 && sameBytes(data.subarray(6, 12), parseMac(host)));
}

// ---- Metadata tags: traffic of every class arriving on eth0. ----
{
  const eth0 = '02:00:00:00:00:30';
  const router = '02:00:00:00:00:fe';
  const flow = (client, extra) => ({ ipVersion: 4, client, server: '10.0.3.2', clientMac: router, serverMac: eth0, ...extra });
  const flows = [];
  for (let i = 0; i < 4; i++) flows.push({ kind: 'tcp', ...flow(`198.51.100.${20 + i}`, { serverPort: [443, 22, 80, 8080][i], exchanges: 2, startNs: i * 30e6 }) });
  flows.push({ kind: 'udp', ...flow('198.51.100.30', { serverPort: 53, exchanges: 2, startNs: 20e6 }) });
  flows.push({ kind: 'udp', ...flow('198.51.100.31', { serverPort: 123, exchanges: 1, startNs: 40e6 }) });
  flows.push({ kind: 'icmp', ...flow('198.51.100.32', { echoes: 2, startNs: 60e6 }) });
  write('kv-tags', flows, (data) => data.length >= 6 && sameBytes(data.subarray(0, 6), parseMac(eth0)));
}

// ---- The MTU guard: frames of every size arriving on eth0, to be forwarded out of eth1. ----
{
  const eth0 = '02:00:00:00:00:40';
  const router = '02:00:00:00:00:fe';
  const flow = (client, extra) => ({ ipVersion: 4, client, server: '10.0.4.2', clientMac: router, serverMac: eth0, ...extra });
  const flows = [];
  for (let i = 0; i < 6; i++) flows.push({ kind: 'tcp', ...flow(`198.51.100.${40 + i}`, { serverPort: 80, exchanges: 3, requestBytes: 400 + 400 * i, responseBytes: 10, startNs: i * 40e6 }) });
  for (let i = 0; i < 4; i++) flows.push({ kind: 'udp', ...flow(`198.51.100.${50 + i}`, { serverPort: 5000, exchanges: 3, requestBytes: 300 * (i + 1), responseBytes: 10, startNs: 20e6 + i * 50e6 }) });
  write('mtu-guard', flows, (data) => data.length >= 6 && sameBytes(data.subarray(0, 6), parseMac(eth0)));
}

// ---- NAT: a pcapng of both sides, as a router's two interfaces see them. LAN hosts open TCP
// connections to servers outside; the servers' answers arrive on wan0 addressed to the router's
// public address and the port the control plane (examples/nat/control.mjs) allocates: 40000 for
// the first connection's SYN, 40001 for the next, in the order the SYNs appear. ----
{
  const lanMac = '02:00:00:00:00:50';
  const wanMac = '02:00:00:00:00:51';
  const gateway = '02:00:00:00:00:ee';
  const wanAddr = parseIpv4('203.0.113.1');
  const hosts = ['192.168.1.10', '192.168.1.11', '192.168.1.12'];
  const hostMac = (i) => `02:00:00:00:01:${(0x10 + i).toString(16)}`;
  const flows = [];
  for (let i = 0; i < 6; i++) {
    flows.push({ kind: 'tcp', ipVersion: 4, client: hosts[i % 3], server: `198.51.100.${80 + i}`, clientMac: hostMac(i % 3), serverMac: lanMac, serverPort: i % 2 ? 80 : 443, exchanges: 2, requestBytes: 120, responseBytes: 900, close: i === 4 ? 'rst' : 'fin', startNs: i * 50e6, rttNs: 4e6 });
  }
  flows.push({ kind: 'icmp', ipVersion: 4, client: hosts[0], server: '198.51.100.1', clientMac: hostMac(0), serverMac: lanMac, echoes: 2, startNs: 30e6 });
  const frames = [...trafficFrames(flows, { seed: 2026 })].map((f) => ({ data: f.data.slice(), seconds: f.seconds, nanoseconds: f.nanoseconds }));
  const ports = new Map();
  const flowKey = (ip, sport, dport) => `${ip.join('.')}:${sport}>${dport}`;
  const writer = createCaptureFileWriter(join(examples, 'nat', 'traffic.pcapng'), 'pcapng', { interfaces: [{ name: 'lan0' }, { name: 'wan0' }] });
  for (const f of frames) {
    const d = f.data;
    const fromLan = sameBytes(d.subarray(0, 6), parseMac(lanMac));
    const tcp = d[23] === 6;
    if (fromLan) {
      if (tcp && (d[47] & 0x12) === 0x02) ports.set(flowKey(d.subarray(26, 30), (d[34] << 8) | d[35], (d[36] << 8) | d[37]), 40000 + ports.size);
      writer.write({ ...f, interfaceId: 0 });
      continue;
    }
    // A server's answer, as it arrives outside: to our public address and the allocated port.
    d.set(parseMac(wanMac), 0);
    d.set(parseMac(gateway), 6);
    if (tcp) {
      const port = ports.get(flowKey(d.subarray(30, 34), (d[36] << 8) | d[37], (d[34] << 8) | d[35]));
      d[36] = port >> 8;
      d[37] = port & 0xff;
    }
    d.set(wanAddr, 30);
    d[24] = d[25] = 0;
    const ipSum = foldChecksum(onesSum(d, 14, 34));
    d[24] = ipSum >> 8;
    d[25] = ipSum & 0xff;
    if (tcp) {
      d[50] = d[51] = 0;
      const tcpSum = foldChecksum(onesSum(d, 34, d.length, pseudoHeaderSum(d.subarray(26, 30), d.subarray(30, 34), 6, d.length - 34)));
      d[50] = tcpSum >> 8;
      d[51] = tcpSum & 0xff;
    }
    writer.write({ ...f, interfaceId: 1 });
  }
  writer.close();
  console.log(`wrote examples/nat/traffic.pcapng: ${frames.length} frames`);
}

// ---- The egress ACL: traffic arriving on in0, some of it to denied destinations, and pings. ----
{
  const in0 = '02:00:00:00:00:60';
  const router = '02:00:00:00:00:fe';
  const flow = (client, server, extra) => ({ ipVersion: 4, client, server, clientMac: router, serverMac: in0, ...extra });
  const flows = [];
  for (let i = 0; i < 5; i++) flows.push({ kind: 'tcp', ...flow(`192.0.2.${10 + i}`, `198.51.100.${10 + i}`, { serverPort: 443, exchanges: 1, startNs: i * 30e6 }) });
  for (let i = 0; i < 3; i++) flows.push({ kind: 'tcp', ...flow(`192.0.2.${20 + i}`, `10.9.0.${5 + i}`, { serverPort: 22, exchanges: 1, startNs: 15e6 + i * 40e6 }) });
  flows.push({ kind: 'udp', ...flow('192.0.2.30', '198.51.100.99', { serverPort: 53, exchanges: 2, startNs: 60e6 }) });
  flows.push({ kind: 'icmp', ...flow('192.0.2.31', '198.51.100.1', { echoes: 2, startNs: 5e6 }) });
  flows.push({ kind: 'icmp', ...flow('10.9.0.9', '198.51.100.2', { echoes: 1, startNs: 90e6 }) });
  write('egress-acl', flows, (data) => data.length >= 6 && sameBytes(data.subarray(0, 6), parseMac(in0)));
}

// ---- Per-socket counters: a server's traffic both ways (pcapng: each frame says its direction). ----
{
  const host = '02:00:00:00:00:30';
  const router = '02:00:00:00:00:fe';
  const v4 = (client, extra) => ({ ipVersion: 4, client, server: '10.0.0.30', clientMac: router, serverMac: host, ...extra });
  const flows = [
    // Connections the topology has sockets for: a small download, one past the 20,000-byte quota, IPv6.
    { kind: 'tcp', ...v4('203.0.113.10', { clientPort: 40001, serverPort: 443, exchanges: 2, requestBytes: 300, responseBytes: 3000, startNs: 0 }) },
    { kind: 'tcp', ...v4('203.0.113.11', { clientPort: 40002, serverPort: 443, exchanges: 1, requestBytes: 200, responseBytes: 30000, startNs: 20e6 }) },
    { kind: 'tcp', ipVersion: 6, client: '2001:db8::7', server: 'fd00::30', clientMac: router, serverMac: host, clientPort: 40003, serverPort: 443, exchanges: 1, requestBytes: 500, responseBytes: 1200, startNs: 40e6 },
    // A connection only the wildcard listener on port 443 matches.
    { kind: 'tcp', ...v4('203.0.113.12', { clientPort: 40004, serverPort: 443, exchanges: 1, requestBytes: 100, responseBytes: 100, startNs: 60e6 }) },
    // DNS to the unconnected UDP socket on 0.0.0.0:53, from three clients.
    ...[20, 21, 22].map((n, i) => ({ kind: 'udp', ...v4(`203.0.113.${n}`, { serverPort: 53, exchanges: 2, requestBytes: 40, responseBytes: 120, startNs: 80e6 + i * 10e6 }) })),
    // The host as a client: an HTTP fetch from 198.51.100.5.
    { kind: 'tcp', ipVersion: 4, client: '10.0.0.30', server: '198.51.100.5', clientMac: host, serverMac: router, clientPort: 50000, serverPort: 80, exchanges: 1, requestBytes: 150, responseBytes: 5000, startNs: 120e6 },
    // No socket: SSH and a ping reach the stack uncounted.
    { kind: 'tcp', ...v4('203.0.113.30', { clientPort: 40005, serverPort: 22, exchanges: 1, startNs: 140e6 }) },
    { kind: 'icmp', ...v4('203.0.113.31', { echoes: 2, startNs: 150e6 }) },
  ];
  const writer = createCaptureFileWriter(join(examples, 'sockstat', 'traffic.pcapng'), 'pcapng', { interfaces: [{ name: 'eth0' }] });
  let n = 0;
  for (const f of trafficFrames(flows, { seed: 2026 })) {
    const out = sameBytes(f.data.subarray(6, 12), parseMac(host));
    writer.write({ data: f.data.slice(), seconds: f.seconds, nanoseconds: f.nanoseconds, direction: out ? 'out' : 'in' });
    n++;
  }
  writer.close();
  console.log(`wrote examples/sockstat/traffic.pcapng: ${n} frames`);
}
