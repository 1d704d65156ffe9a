#!/usr/bin/env node
// Kernel oracle for the C fixtures (opt-in; needs root, bpffs, bpftool and a built dist/): every
// XDP, tc and socket-filter (and cgroup_skb) fixture is loaded into the running kernel with
// `bpftool prog loadall`, its maps are set up, and a set of packets (the common 18, or the
// scenario's own) goes through `bpftool prog run` in order. The same object, set-up and packets go through our Runtime on the interpreter and
// the JIT (two runtimes in lockstep). retval and data_out must agree run by run, and so must the
// final contents of the hash, array and LPM maps.
//
//   npx tsc -p . && node scripts/kernel-oracle/fixtures.mjs [--verbose] [--record] [--only X.o]    (as root)
//
// --record writes what the kernel returned to tests/fixtures/golden/kernel-runs.json, which
// tests/runtime/kernel-fidelity.test.ts replays in `npm test` without a kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DifferentialObject, buildPacket, mapContents } from '../../dist/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const FIXTURES = join(ROOT, 'tests', 'fixtures');
const GOLDEN = join(FIXTURES, 'golden', 'kernel-runs.json');
const verbose = process.argv.includes('--verbose');
const record = process.argv.includes('--record');
const work = mkdtempSync(join(tmpdir(), 'fixture-oracle-'));

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const le32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return hex(b); };
const le64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return hex(b); };

/** Packets every fixture sees: a spread of protocols, encapsulations and malformed frames. */
const PACKETS = [
  ['udp dns', buildPacket({ dstPort: 53 })],
  ['udp other', buildPacket({ srcPort: 5000, dstPort: 9999, payload: 'hello' })],
  ['tcp syn-ish to 80', buildPacket({ proto: 'tcp', dstPort: 80 })],
  ['tcp to 22 from 10.1.2.3', buildPacket({ proto: 'tcp', src: '10.1.2.3', dstPort: 22, payload: 'x'.repeat(40) })],
  ['icmp echo', buildPacket({ proto: 'icmp', payload: 'ping' })],
  ['blocked v4 source', buildPacket({ src: '192.0.2.77', proto: 'tcp' })],
  ['ipv6 udp', buildPacket({ ipVersion: 6, dstPort: 53 })],
  ['ipv6 tcp', buildPacket({ ipVersion: 6, proto: 'tcp', dstPort: 443 })],
  ['blocked v6 source', buildPacket({ ipVersion: 6, src: '2001:db8::5' })],
  ['icmpv6', buildPacket({ ipVersion: 6, proto: 'icmp' })],
  ['vlan udp', buildPacket({ vlans: [10], dstPort: 53 })],
  ['qinq tcp', buildPacket({ vlans: [10, 20], proto: 'tcp', dstPort: 22 })],
  ['ipv4 fragment', buildPacket({ fragOff: 0x2000 | 10, payload: 'frag' })],
  ['ttl 0', buildPacket({ ttl: 0 })],
  ['tenant 2', buildPacket({ dstMac: '02:00:00:00:00:06', srcMac: '02:00:aa:bb:cc:dd' })],
  ['large udp', buildPacket({ dstPort: 7, payload: 'z'.repeat(1480) })],
  ['arp-like', Uint8Array.from([...Buffer.from('ffffffffffff020000000001', 'hex'), 0x08, 0x06, ...new Array(28).fill(1)])],
  ['runt 20 bytes', buildPacket().subarray(0, 20)],
];

/** The dynptr parser's packets: the common ones, TTL 1 (dropped), and multi-buffer frames (plain xdp programs get them in test runs). */
const DYNPTR_PACKETS = [
  ...PACKETS,
  ['ttl 1', buildPacket({ ttl: 1 })],
  ['ttl 1, 9000 bytes', buildPacket({ ttl: 1, payload: 'j'.repeat(8958) })],
  ['ttl 64, 9000 bytes', buildPacket({ ttl: 64, payload: 'j'.repeat(8958) })],
];

/** The fixtures, with their programs and the map entries set before the packets. */
const SCENARIOS = [
  {
    object: 'xdp_firewall.o', program: 'xdp_firewall',
    setup: [
      { map: 'blocked_v4', key: '18000000c0000200', value: le32(1) },
      { map: 'blocked_v6', key: `20000000${'20010db8'}${'00'.repeat(12)}`, value: le32(1) },
      { map: 'denied_ports', key: '11000035', value: le64(0) },
      { map: 'denied_ports', key: '06000016', value: le64(0) },
    ],
  },
  { object: 'tail_calls.o', program: 'entry', setup: [] },
  {
    // Case by the last destination MAC byte (0..7), key by the UDP port: 0 has targets, 5 has none.
    // (Key 0 of the CPUMAP is CPU 0, which every machine and runtime has.)
    object: 'xdp_redirect.o', program: 'xdp_redirect',
    setup: [
      { map: 'ports', key: le32(0), value: `${le32(1)}${le32(0)}` },
      { map: 'by_ifindex', key: le32(0), value: le32(1) },
      { map: 'cpus', key: le32(0), value: `${le32(192)}${le32(0)}` },
    ],
    packets: [0, 1, 2, 3, 4, 5, 6, 7].flatMap((c) => [0, 5].map((port) => [`case ${c} key ${port}`, buildPacket({ dstMac: `02:00:00:00:00:0${c}`, dstPort: port })])),
  },
  { object: '../../examples/xdp_ttl.o', program: 'xdp_ttl', setup: [] },
  { object: 'map_in_map.o', program: 'map_in_map', setup: [] },
  { object: 'proto_parser.o', program: 'proto_parser', setup: [] },
  { object: 'proto_parser.v4.o', program: 'proto_parser', setup: [] },
  { object: 'signed_math.v4.o', program: 'signed_math', setup: [] },
  { object: 'atomics.o', program: 'atomics', setup: [] },
  { object: 'atomics.v4.o', program: 'atomics', setup: [] },
  { object: 'xdp_meta.o', program: 'xdp_meta', setup: [] },
  { object: 'tc_nat.o', program: 'tc_nat', setup: [] },
  { object: 'tc_nat.v3.o', program: 'tc_nat', setup: [] },
  // Its token buckets refill by the kernel's clock: the verdicts are compared, the map is not.
  { object: 'spin_lock.o', program: 'spin_lock', setup: [], clockDependentMaps: ['buckets'] },
  { object: 'socket_filter.o', program: 'socket_filter', setup: [] },
  { object: 'bpf2bpf_calls.o', program: 'bpf2bpf_calls', setup: [] },
  { object: 'global_data.o', program: 'global_data', setup: [] },
  { object: 'percpu_counter.o', program: 'percpu_counter', setup: [] },
  // The helpers that reshape skbs and report where they are: `results` holds each helper's answer.
  // (tc_where's cgroup ids assume bpftool runs in the root cgroup, as the runtime's tasks do.)
  { object: 'skb_helpers.o', program: 'tc_vlan', setup: [] },
  { object: 'skb_helpers.o', program: 'tc_ipip', setup: [] },
  { object: 'skb_helpers.o', program: 'tc_resize', setup: [] },
  { object: 'skb_helpers.o', program: 'tc_where', setup: [] },
  { object: 'skb_helpers.o', program: 'xdp_where', setup: [] },
  // A parser reading through a dynptr (bpf_dynptr_from_xdp, bpf_dynptr_slice), and the same with direct access.
  { object: 'kfunc_dynptr.o', program: 'xdp_dynptr_ttl', setup: [], packets: DYNPTR_PACKETS },
  { object: 'kfunc_dynptr.o', program: 'xdp_direct_ttl', setup: [], packets: DYNPTR_PACKETS },
  // bpf_dynptr_read and bpf_dynptr_write over the same dynptr: the TTL decremented in place.
  { object: '../verifier/cases/dynptr_read_write.o', program: 'dynptr_read_write', setup: [], packets: DYNPTR_PACKETS },
];

/** Map kinds whose contents the two sides are compared on: hash, array, LPM trie. */
const COMPARED_MAP_TYPES = new Set([1, 2, 11]);

function bpftool(...args) {
  return execFileSync('bpftool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const spaced = (h) => h.match(/../g).flatMap((b) => ['hex', b]).filter((_, i) => i % 2 === 1);

/** Runs a scenario in the kernel: the runs' retval and data_out, and the final map contents. */
function kernelRuns(scenario, packets) {
  const pin = `/sys/fs/bpf/ebpf_wasm_fixture_${process.pid}`;
  const maps = `${pin}_maps`;
  try {
    bpftool('prog', 'loadall', join(FIXTURES, scenario.object), pin, 'pinmaps', maps);
    for (const s of scenario.setup) bpftool('map', 'update', 'pinned', `${maps}/${s.map}`, 'key', 'hex', ...spaced(s.key), 'value', 'hex', ...spaced(s.value));
    const runs = packets.map(([name, bytes]) => {
      const input = join(work, 'in.bin');
      const output = join(work, 'out.bin');
      writeFileSync(input, bytes);
      rmSync(output, { force: true });
      let out;
      try {
        out = bpftool('prog', 'run', 'pinned', `${pin}/${scenario.program}`, 'data_in', input, 'data_out', output, 'repeat', '1');
      } catch (err) {
        // A refused run: bpftool prints strerror of the errno.
        return { name, dataIn: hex(bytes), error: /failed to run program: (.*)/.exec(err.stderr)?.[1] ?? err.message };
      }
      const retval = Number(/Return value: (\d+)/.exec(out)[1]);
      return { name, dataIn: hex(bytes), retval, dataOut: hex(readFileSync(output)) };
    });
    const contents = {};
    for (const name of listPinned(maps)) {
      const info = JSON.parse(bpftool('map', 'show', 'pinned', `${maps}/${name}`, '-j'));
      if (!COMPARED_MAP_TYPES.has(mapTypeNumber(info.type))) continue;
      const dump = JSON.parse(bpftool('map', 'dump', 'pinned', `${maps}/${name}`, '-j'));
      contents[name] = dump.map((e) => `${e.key.map((b) => b.slice(2)).join('')}=${e.value.map((b) => b.slice(2)).join('')}`).sort().join(' ');
    }
    return { runs, maps: contents };
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(maps, { recursive: true, force: true });
  }
}

function listPinned(dir) {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** strerror of the errnos test runs refuse input with, as bpftool prints them. */
const STRERROR = { 7: 'Argument list too long', 19: 'No such device', 22: 'Invalid argument', 28: 'No space left on device', 95: 'Operation not supported' };

/** The kernel's name of a pinned map: libbpf names global-data maps `<object prefix>.<section>`, pinned with '_' for '.'. */
function pinnedName(name, pinned) {
  if (!name.startsWith('.')) return name;
  return pinned.find((p) => p.endsWith(name.replace(/\./g, '_')));
}

function mapTypeNumber(name) {
  return { hash: 1, array: 2, lpm_trie: 11 }[name] ?? -1;
}

/** Runs a scenario on our runtime, both engines in lockstep; returns the same shape as kernelRuns. */
async function ourRuns(scenario, recorded, pinnedNames) {
  const d = await DifferentialObject.load(join(FIXTURES, scenario.object));
  for (const obj of [d.interp, d.jit]) {
    for (const s of scenario.setup) obj.map(s.map).update(Buffer.from(s.key, 'hex'), Buffer.from(s.value, 'hex'));
  }
  const runs = recorded.map((r) => {
    try {
      const result = d.testRun(scenario.program, { dataIn: Buffer.from(r.dataIn, 'hex') });
      return { name: r.name, retval: result.retval, dataOut: hex(result.dataOut) };
    } catch (err) {
      return { name: r.name, error: err.errno ? STRERROR[-err.errno] ?? `errno ${err.errno}` : err.message };
    }
  });
  const contents = {};
  for (const [name, map] of d.interp.maps) {
    const kernelName = pinnedName(name, pinnedNames);
    if (!COMPARED_MAP_TYPES.has(map.type) || !kernelName) continue;
    contents[kernelName] = mapContents(map).split(' ').filter(Boolean).sort().join(' ');
  }
  return { runs, maps: contents };
}

let compared = 0;
let mismatches = 0;
let mapCompared = 0;
const golden = [];
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const chosen = SCENARIOS.filter((s) => !only || s.object === only);
for (const scenario of chosen) {
  let kernel;
  try {
    kernel = kernelRuns(scenario, scenario.packets ?? PACKETS);
  } catch (err) {
    console.log(`${scenario.object}: the kernel refused it: ${(err.stderr || err.message).trim().split('\n').pop()}`);
    mismatches++;
    continue;
  }
  const maps = Object.fromEntries(Object.entries(kernel.maps).filter(([name]) => !scenario.clockDependentMaps?.includes(name)));
  golden.push({ object: scenario.object, program: scenario.program, setup: scenario.setup, runs: kernel.runs, maps });
  let ours;
  try {
    ours = await ourRuns(scenario, kernel.runs, Object.keys(kernel.maps));
  } catch (err) {
    console.log(`MISMATCH ${scenario.object}: we refused it: ${err.message}`);
    mismatches += kernel.runs.length;
    compared += kernel.runs.length;
    continue;
  }
  kernel.runs.forEach((k, i) => {
    const o = ours.runs[i];
    compared++;
    const same = k.error !== undefined ? o.error === k.error : !o.error && o.retval === k.retval && o.dataOut === k.dataOut;
    if (!same) {
      mismatches++;
      const show = (r) => r.error ?? `retval ${r.retval} data_out ${r.dataOut.slice(0, 64)}...`;
      console.log(`MISMATCH ${scenario.object} ${k.name}: kernel ${show(k)}; ours ${show(o)}`);
    } else if (verbose) {
      console.log(`ok ${scenario.object} ${k.name}: retval ${k.retval}`);
    }
  });
  for (const [name, contents] of Object.entries(kernel.maps)) {
    if (scenario.clockDependentMaps?.includes(name)) continue;
    mapCompared++;
    if (ours.maps[name] !== contents) {
      mismatches++;
      console.log(`MISMATCH ${scenario.object} map ${name}: kernel ${contents.slice(0, 200)}; ours ${(ours.maps[name] ?? '(missing)').slice(0, 200)}`);
    }
  }
}
rmSync(work, { recursive: true, force: true });
if (record) {
  // With --only, the other scenarios' recorded answers stay.
  const kept = only && existsSync(GOLDEN) ? JSON.parse(readFileSync(GOLDEN, 'utf8')).filter((g) => !chosen.some((s) => s.object === g.object && s.program === g.program)) : [];
  golden.unshift(...kept);
  writeFileSync(GOLDEN, `${JSON.stringify(golden, null, 1)}\n`);
  console.log(`recorded ${golden.length} scenarios in ${GOLDEN}`);
}
console.log(`${chosen.length} fixtures, ${compared} runs and ${mapCompared} final maps compared with Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()} on both engines: ${mismatches} mismatch${mismatches === 1 ? '' : 'es'}`);
process.exitCode = mismatches ? 1 : 0;
