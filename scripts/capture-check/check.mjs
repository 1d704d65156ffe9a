#!/usr/bin/env node
// Opt-in check of capture I/O against Debian's tcpdump (libpcap) and tshark (Wireshark):
// 1. captures our writers make (pcap in both precisions and byte orders, pcap of raw IP link
//    types, pcapng in both byte orders with named interfaces and comments) read in tcpdump and
//    tshark without a complaint or warning, with the packet count, lengths, nanosecond timestamps,
//    interface names and comments we wrote;
// 2. captures Wireshark's editcap and mergecap and libpcap write from ours read back in our
//    reader with the same bytes.
// Uses the built library (run.sh builds it). Prints one line per check; exits 1 on any failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureRecords, createCaptureFileWriter, LinkType, randomTraffic } from '../../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'capture-check-'));
let failures = 0;
let checks = 0;

function report(ok, what, detail = '') {
  checks++;
  if (!ok) failures++;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}\n`);
}

/** Runs a tool; its exit status, stdout, and the stderr lines that are not its usual chatter. */
function run(tool, args) {
  const result = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const chatter = [/^reading from file .*, link-type .*, snapshot length \d+$/, /^Running as user "root" and group "root"\. This could be dangerous\.$/];
  const complaints = result.stderr.split('\n').filter((line) => line.trim() !== '' && !chatter.some((re) => re.test(line)));
  return { status: result.status, stdout: result.stdout, complaints };
}

// The packets: generated traffic with every protocol, malformed frames included (they are the
// packets' problem, not the file's: tools decode them as malformed without complaining about
// the capture), and per-packet comments as the replay writes them.
const frames = [...randomTraffic({ seed: 11, packets: 3000, mix: { maxPayload: 1400 } })];
const interfaces = ['wan0', 'be1', 'lo'];
const packets = frames.map((f, i) => ({
  ...f,
  interfaceId: i % interfaces.length,
  comments: i % 5 === 0 ? [`xdp.verdict=pass flow=${f.flow}`] : i % 7 === 0 ? ['meta=ünïcödé', 'second comment'] : [],
  // Every other packet says which way it went (epb_flags), as the replay's outputs do.
  ...(i % 2 === 0 ? { direction: i % 4 === 0 ? 'in' : 'out' } : {}),
}));
const ns = (p) => `${p.seconds}.${String(p.nanoseconds).padStart(9, '0')}`;
const us = (p) => `${p.seconds}.${String(Math.floor(p.nanoseconds / 1000)).padStart(6, '0')}`;

/** An IP packet without its Ethernet header and VLAN tags, for the raw IP link types; undefined for non-IP frames. */
function ipOf(frame) {
  let p = 12;
  while (p + 2 <= frame.length && frame[p] === 0x81 && frame[p + 1] === 0x00) p += 4;
  if (p + 2 > frame.length) return undefined;
  const type = (frame[p] << 8) | frame[p + 1];
  return type === 0x0800 || type === 0x86dd ? { version: type === 0x0800 ? 4 : 6, data: frame.subarray(p + 2) } : undefined;
}

const files = [];
function write(name, format, options, list) {
  const path = join(dir, name);
  const writer = createCaptureFileWriter(path, format, options);
  for (const p of list) writer.write(p);
  writer.close();
  files.push({ name, path, format, options, list });
}

write('us-le.pcap', 'pcap', { precision: 'microseconds' }, packets);
write('ns-le.pcap', 'pcap', { precision: 'nanoseconds' }, packets);
write('us-be.pcap', 'pcap', { precision: 'microseconds', littleEndian: false }, packets);
write('ns-be.pcap', 'pcap', { precision: 'nanoseconds', littleEndian: false }, packets);
const ip = packets.map((p) => ({ ...p, ip: ipOf(p.data) })).filter((p) => p.ip !== undefined);
write('raw.pcap', 'pcap', { linkType: LinkType.RAW, precision: 'nanoseconds' }, ip.map((p) => ({ ...p, data: p.ip.data })));
write('ipv4.pcap', 'pcap', { linkType: LinkType.IPV4 }, ip.filter((p) => p.ip.version === 4).map((p) => ({ ...p, data: p.ip.data })));
write('ipv6.pcap', 'pcap', { linkType: LinkType.IPV6 }, ip.filter((p) => p.ip.version === 6).map((p) => ({ ...p, data: p.ip.data })));
const ngInterfaces = interfaces.map((name) => ({ name, description: `simulated ${name}` }));
write('le.pcapng', 'pcapng', { interfaces: ngInterfaces }, packets);
write('be.pcapng', 'pcapng', { interfaces: ngInterfaces, littleEndian: false }, packets);
write('snap64.pcapng', 'pcapng', { interfaces: [{ name: 'cut0', snapLength: 64 }] }, packets.map((p) => ({ ...p, interfaceId: 0 })));

for (const file of files) {
  const { name, path, format, options, list } = file;
  const nano = format === 'pcapng' || options.precision === 'nanoseconds';
  const cut = (p) => Math.min(p.data.length, name.startsWith('snap64') ? 64 : 262144);

  const tcpdump = run('tcpdump', ['-r', path, '-n', '-tt', '-nn', ...(nano ? ['--time-stamp-precision=nano'] : [])]);
  const lines = tcpdump.stdout.split('\n').filter(Boolean);
  report(tcpdump.status === 0 && tcpdump.complaints.length === 0, `tcpdump reads ${name} without complaint`, tcpdump.complaints.slice(0, 3).join(' | '));
  report(lines.length === list.length, `tcpdump sees ${list.length} packets in ${name}`, `${lines.length}`);
  const stamps = lines.map((l) => l.split(' ')[0]);
  const wantStamps = list.map(nano ? ns : us);
  report(stamps.every((s, i) => s === wantStamps[i]), `tcpdump's timestamps in ${name} are ours`, stamps.find((s, i) => s !== wantStamps[i]));

  const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.interface_name', 'frame.comment', 'frame.packet_flags_direction'];
  const tshark = run('tshark', ['-r', path, '-T', 'fields', '-E', 'separator=\t', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])]);
  report(tshark.status === 0 && tshark.complaints.length === 0, `tshark reads ${name} without complaint`, tshark.complaints.slice(0, 3).join(' | '));
  const rows = tshark.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
  report(rows.length === list.length, `tshark sees ${list.length} packets in ${name}`, `${rows.length}`);
  const mismatch = rows.findIndex((row, i) => {
    const p = list[i];
    const time = nano ? ns(p) : `${us(p)}000`;
    const lengths = row[1] === String(p.originalLength ?? p.data.length) && row[2] === String(cut(p));
    const named = format !== 'pcapng' || row[3] === (name.startsWith('snap64') ? 'cut0' : interfaces[p.interfaceId]);
    const commented = format !== 'pcapng' || (row[4] ?? '') === p.comments.join('|');
    const directed = format !== 'pcapng' || (row[5] ?? '') === (p.direction === 'in' ? '0x00000001' : p.direction === 'out' ? '0x00000002' : '');
    return row[0] !== time || !lengths || !named || !commented || !directed;
  });
  report(mismatch === -1, `tshark's timestamps, lengths${format === 'pcapng' ? ', interface names, comments and directions' : ''} in ${name} are ours`, mismatch === -1 ? '' : `packet ${mismatch + 1}: ${rows[mismatch].join(' / ')}`);
}

// The other way: what libpcap and Wireshark's tools write from our captures, read by our reader.
function sameRecords(path, list, what, { interfaces: names, comments = false, nano = true } = {}) {
  let records;
  try {
    records = [...captureRecords(new Uint8Array(readFileSync(path)), { name: path })];
  } catch (error) {
    report(false, what, error.message);
    return;
  }
  const bad = records.length !== list.length ? records.length : records.findIndex((r, i) => {
    const p = list[i];
    const data = Buffer.from(r.data).equals(Buffer.from(p.data));
    const time = r.seconds === p.seconds && r.nanoseconds === (nano ? p.nanoseconds : p.nanoseconds - (p.nanoseconds % 1000));
    const named = names === undefined || r.interface.name === names[p.interfaceId];
    const commented = !comments || r.comments.join('|') === p.comments.join('|');
    return !data || !time || !named || !commented;
  });
  report(bad === -1, what, bad === -1 ? '' : `record ${bad + 1} differs (or ${records.length} records)`);
}

const tool = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inDir = (name) => join(dir, name);
tool('tcpdump', ['-r', inDir('ns-le.pcap'), '-w', inDir('libpcap.pcap')]);
sameRecords(inDir('libpcap.pcap'), packets, 'our reader reads libpcap\'s rewrite of ns-le.pcap (tcpdump -w)', { nano: false });
tool('tcpdump', ['-r', inDir('le.pcapng'), '-w', inDir('libpcap-from-ng.pcap')]);
sameRecords(inDir('libpcap-from-ng.pcap'), packets, 'libpcap reads le.pcapng (tcpdump -w to pcap) with our data and timestamps', { nano: false });
tool('editcap', ['-F', 'pcapng', inDir('ns-be.pcap'), inDir('editcap.pcapng')]);
sameRecords(inDir('editcap.pcapng'), packets, 'our reader reads editcap\'s pcapng of ns-be.pcap');
tool('editcap', ['-F', 'nsecpcap', inDir('le.pcapng'), inDir('editcap-ns.pcap')]);
sameRecords(inDir('editcap-ns.pcap'), packets, 'our reader reads editcap\'s nanosecond pcap of le.pcapng');
tool('editcap', ['-F', 'pcapng', inDir('be.pcapng'), inDir('editcap-from-be.pcapng')]);
sameRecords(inDir('editcap-from-be.pcapng'), packets, 'our reader reads editcap\'s rewrite of be.pcapng: interfaces and comments kept', { interfaces, comments: true });
tool('mergecap', ['-F', 'pcapng', '-w', inDir('merged.pcapng'), inDir('le.pcapng'), inDir('us-le.pcap')]);
let merged;
try {
  merged = [...captureRecords(new Uint8Array(readFileSync(inDir('merged.pcapng'))))];
  const names = new Set(merged.map((r) => `${r.interface.id}:${r.interface.name ?? ''}`));
  report(merged.length === 2 * packets.length && names.size >= 4, 'our reader reads mergecap\'s pcapng of two captures (several interfaces)', `${merged.length} records, interfaces ${[...names].join(', ')}`);
} catch (error) {
  report(false, 'our reader reads mergecap\'s pcapng of two captures', error.message);
}

rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${checks - failures}/${checks} checks passed\n`);
process.exit(failures === 0 ? 0 : 1);
