#!/usr/bin/env node
// Kernel oracle for replay (opt-in; root, bpffs, bpftool, iproute2, tcpdump, python3 and a built
// dist/). For each example, in a network namespace this script creates (veth pairs with the
// topology's names, ifindexes, MACs and MTUs; each peer has an XDP_PASS program so that frames
// redirected into the pair arrive) and removes afterwards:
//
// 1. Per packet: the example's object is loaded with bpftool, its maps get the topology's contents,
//    and every frame of the capture goes through BPF_PROG_TEST_RUN on the ingress program (with
//    ingress_ifindex / ifindex set), in order, maps carrying over; ebpf-wasm replays the same
//    capture through the same topology on both engines. The verdict and the frame after the
//    program (data_out: metadata and packet) must agree for every frame.
// 2. The pipeline (--live, the load balancer): Linux carries the redirects out for real in live-frame
//    mode (BPF_F_TEST_XDP_LIVE_FRAMES): devmap programs run, frames leave through the veths, and
//    tcpdump records what arrives at each peer. Each interface's frames must equal, byte for byte and
//    in order, ebpf-wasm's DIR/<ifname>-tx.pcap.
//
// Time-driven behaviour cannot agree (the kernel's clock runs at its own pace): the firewall's SYN
// limit and the rate counter's byte limit are set to 0 (off) on both sides; the other rules apply.
//
//   npm run build && sudo node scripts/kernel-oracle/replay.mjs [--only lb|firewall|tc-counter] [--verbose]
//
// Last run (Linux 6.18.44): per packet, lb 486 of 486 runs agree (243 frames on each engine), firewall
// 714 of 714, tc-counter 370 of 370; 0 mismatches (the 10-byte runts, which the kernel's test run
// refuses, left out). Live frames: wan0 6, be1 86, be2 70, be3 66 frames, identical to ebpf-wasm's.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  Runtime, assemble, captureRecords, encode, encodeXdpMd, encodeSkBuff, loadTopologyFile, readCaptures, replay, ReplayOutput, MapType,
} from '../../dist/index.js';
import { writeElf } from './elf.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const verbose = process.argv.includes('--verbose');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const ns = `ebpfwasm-oracle-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'replay-oracle-'));
// A bpffs of our own: `ip netns exec` remounts /sys, which hides /sys/fs/bpf from the namespace.
const bpffs = join(work, 'bpffs');
const pins = join(bpffs, 'pins');
const hex = (b) => Buffer.from(b).toString('hex');
const sh = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }).toString();
const inNs = (cmd, args) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The bpf(2) service, run inside the namespace: one JSON request, one JSON answer. */
class BpfService {
  constructor() {
    this.child = spawn('ip', ['netns', 'exec', ns, 'python3', join(here, 'bpf-service.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async ask(request) {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const { value } = await this.lines.next();
    const answer = JSON.parse(value);
    if (answer.failure) throw new Error(`bpf-service: ${answer.failure} (${request.op} ${request.path ?? request.map ?? request.prog})`);
    return answer;
  }

  close() {
    this.child.stdin.end();
  }
}

/** The examples: topology, the program whose runs are compared, and how to switch time-driven limits off. */
const EXAMPLES = [
  { name: 'lb', hook: 'xdp', object: 'lb', program: 'xdp_lb', live: true },
  { name: 'firewall', hook: 'xdp', object: 'fw', program: 'xdp_firewall', off: (o) => o.typedMap('config').update(0, { syn_limit: 0 }) },
  { name: 'tc-counter', hook: 'tc_egress', object: 'rate', program: 'tc_rate', type: 'classifier', off: (o) => o.typedMap('config').update(0, { limit_bytes_per_sec: 0 }) },
];

/** Our side: the example replayed on `engine`, with every run of the compared program, and the output captures. */
async function ours(example, engine, outDir) {
  const runtime = new Runtime({ engine });
  const applied = await loadTopologyFile(runtime, join(root, 'examples', example.name, 'topology.json'));
  example.off?.(applied.objects.get(example.object));
  const runs = [];
  const output = outDir ? new ReplayOutput(outDir, runtime.network) : undefined;
  const inputs = applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }));
  await replay(runtime, readCaptures(runtime.network, inputs), {
    onProgram: (r) => { if (r.hook === example.hook && r.program.name === example.program) runs.push({ number: r.packet.number, verdict: r.verdict >>> 0, data: r.data, dev: r.dev }); },
    ...(output ? { onFrame: (e, p) => output.frame(e, p) } : {}),
  });
  output?.close();
  return { runtime, applied, runs };
}

/** The namespace's interfaces: one veth pair per topology interface, the peer with an XDP_PASS program. */
function makeNetwork(runtime) {
  sh('ip', ['netns', 'add', ns]);
  inNs('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const pass = join(work, 'pass.o');
  const code = encode(assemble('mov %r0, 2\n exit'));
  writeFileSync(pass, writeElf({ programs: [{ name: 'xdp', code }], functions: [{ name: 'pass', section: 'xdp', offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' }));
  sh('bpftool', ['prog', 'load', pass, `${pins}/pass`]);
  const peers = new Map();
  for (const dev of runtime.network.list()) {
    if (dev.name === 'lo') continue;
    const peer = `p${dev.ifindex}`;
    const mac = [...dev.mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    sh('ip', ['-n', ns, 'link', 'add', dev.name, 'index', String(dev.ifindex), 'address', mac, 'mtu', String(dev.mtu), 'type', 'veth', 'peer', 'name', peer, 'index', String(dev.ifindex + 100), 'mtu', String(dev.mtu)]);
    inNs('bpftool', ['net', 'attach', 'xdpdrv', 'pinned', `${pins}/pass`, 'dev', peer]);
    sh('ip', ['-n', ns, 'link', 'set', dev.name, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', peer, 'up']);
    peers.set(dev.name, peer);
  }
  return peers;
}

let loads = 0;

/**
 * Loads every object of the topology with bpftool (afresh: new programs and maps under a new pin
 * folder) and gives its maps our maps' contents (program ids become the kernel's fds). Returns the
 * pin folder of each object's programs.
 */
async function loadKernelObjects(service, example, mine) {
  const topology = JSON.parse(readFileSync(join(root, 'examples', example.name, 'topology.json'), 'utf8'));
  const folders = new Map();
  for (const [name, obj] of mine.applied.objects) {
    const at = `${pins}/${name}-${++loads}`;
    folders.set(name, at);
    const args = ['prog', 'loadall', join(root, 'examples', example.name, topology.objects[name]), at, 'pinmaps', `${at}-maps`];
    if (example.type) args.push('type', example.type);
    sh('bpftool', args);
    for (const [mapName, map] of obj.maps) {
      if (mapName.startsWith('.')) continue; // global data: loaded from the object on both sides
      for (const [key, value] of map.entries()) {
        const fds = [];
        if ((map.type === MapType.DEVMAP || map.type === MapType.DEVMAP_HASH || map.type === MapType.CPUMAP) && value.length >= 8) {
          const id = new DataView(value.buffer, value.byteOffset).getUint32(4, true);
          const program = [...obj.programs.values()].find((p) => p.id === id);
          if (program) fds.push([4, `${at}/${program.name}`]);
        }
        const answer = await service.ask({ op: 'update', map: `${at}-maps/${mapName}`, key: hex(key), value: hex(value), fds });
        if (answer.errno) throw new Error(`${name}/${mapName}: kernel map update failed with ${answer.errno}`);
      }
    }
  }
  return folders;
}

/** Phase 1: every frame through the kernel's test run of the compared program, against our runs. */
async function perPacket(service, example, mine, engine, folders, tally) {
  const prog = `${folders.get(example.object)}/${example.program}`;
  const capture = mine.applied.captures[0];
  const frames = [...captureRecords(readFileSync(capture.path))].map((r) => r.data.slice());
  const byNumber = new Map(mine.runs.map((r) => [r.number, r]));
  for (const [i, data] of frames.entries()) {
    const ifindex = capture.interface.ifindex;
    const ctx = example.hook === 'xdp' ? encodeXdpMd({ data: 0, dataEnd: data.length, dataMeta: 0, ingressIfindex: ifindex, rxQueueIndex: 0, egressIfindex: 0 }) : encodeSkBuff({ ifindex });
    const kernel = await service.ask({ op: 'run', prog, data: hex(data), ctx: hex(ctx), repeat: 1, data_size_out: 65536 });
    const ours = byNumber.get(i + 1);
    if (kernel.errno) {
      // The kernel's test run refuses frames shorter than an Ethernet header; a NIC would too.
      if (data.length < 14 && !ours) { tally.refused++; continue; }
      if (data.length < 14) { tally.refused++; if (verbose) console.log(`  #${i + 1}: kernel refuses a ${data.length}-byte frame (${kernel.errno}); ours: ${ours.verdict}`); continue; }
    }
    const same = ours && !kernel.errno && ours.verdict === kernel.retval && hex(ours.data) === kernel.data_out;
    if (same) tally.agree++;
    else {
      tally.mismatch++;
      console.log(`MISMATCH ${example.name} #${i + 1} [${engine}]: kernel ${kernel.errno ? `errno ${kernel.errno}` : `verdict ${kernel.retval}`}; ours ${ours ? `verdict ${ours.verdict}` : 'no run'}`);
      if (verbose && ours) console.log(`  kernel ${kernel.data_out}\n  ours   ${hex(ours.data)}`);
    }
  }
}

/** Phase 2: the capture through live frames, what arrives at each peer recorded by tcpdump. */
async function live(service, example, mine, peers, outDir, folders, tally) {
  const captures = new Map();
  const dumps = [];
  for (const [name, peer] of peers) {
    const file = join(work, `${name}-kernel.pcap`);
    captures.set(name, file);
    const dump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', peer, '-Q', 'in', '-U', '-n', '-s', '0', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise((resolve) => dump.stderr.on('data', (d) => { if (String(d).includes('listening')) resolve(); }));
    dumps.push(dump);
  }
  const capture = mine.applied.captures[0];
  const frames = [...captureRecords(readFileSync(capture.path))].map((r) => r.data.slice());
  const prog = `${folders.get(example.object)}/${example.program}`;
  for (const data of frames) {
    if (data.length < 14) continue; // refused by the kernel (and dropped by ours)
    const ctx = encodeXdpMd({ data: 0, dataEnd: data.length, dataMeta: 0, ingressIfindex: capture.interface.ifindex, rxQueueIndex: 0, egressIfindex: 0 });
    const answer = await service.ask({ op: 'run', prog, data: hex(data), ctx: hex(ctx), flags: 2, repeat: 1 });
    if (answer.errno) throw new Error(`live-frame run refused: ${answer.errno}`);
  }
  await sleep(1500);
  for (const d of dumps) d.kill('SIGINT');
  await Promise.all(dumps.map((d) => new Promise((r) => d.on('close', r))));
  for (const [name, file] of captures) {
    const kernel = [...captureRecords(readFileSync(file))].map((r) => hex(r.data));
    const ours = [...captureRecords(readFileSync(join(outDir, `${name}-tx.pcap`)))].map((r) => hex(r.data));
    const same = kernel.length === ours.length && kernel.every((k, i) => k === ours[i]);
    tally.interfaces.push({ name, kernel: kernel.length, ours: ours.length, same });
    console.log(`  ${name}: kernel transmitted ${kernel.length} frames, ebpf-wasm ${ours.length}: ${same ? 'identical' : 'DIFFERENT'}`);
    if (!same && verbose) {
      const at = kernel.findIndex((k, i) => k !== ours[i]);
      console.log(`    first difference at frame ${at + 1}:\n    kernel ${kernel[at]}\n    ours   ${ours[at]}`);
    }
  }
}

let failed = false;
try {
  mkdirSync(bpffs);
  sh('mount', ['-t', 'bpf', 'bpf', bpffs]);
  mkdirSync(pins, { recursive: true });
  for (const example of EXAMPLES.filter((e) => !only || e.name === only)) {
    const outDir = join(work, `${example.name}-out`);
    mkdirSync(outDir);
    const runs = { interp: await ours(example, 'interp', outDir), jit: await ours(example, 'jit') };
    const peers = makeNetwork(runs.interp.runtime);
    const service = new BpfService();
    try {
      const tally = { agree: 0, mismatch: 0, refused: 0, interfaces: [] };
      // Each engine against a fresh kernel map state.
      for (const engine of ['interp', 'jit']) await perPacket(service, example, runs[engine], engine, await loadKernelObjects(service, example, runs.interp), tally);
      console.log(`${example.name}: ${tally.agree} frames agree (verdict and data after ${example.program}), ${tally.mismatch} mismatch, ${tally.refused} runts the kernel's test run refuses (both engines)`);
      if (tally.mismatch) failed = true;
      if (example.live) {
        const folders = await loadKernelObjects(service, example, runs.interp);
        console.log(`${example.name}, live frames (BPF_F_TEST_XDP_LIVE_FRAMES) against ebpf-wasm's <ifname>-tx.pcap:`);
        await live(service, example, runs.interp, peers, outDir, folders, tally);
        if (tally.interfaces.some((i) => !i.same)) failed = true;
      }
    } finally {
      service.close();
      sh('ip', ['netns', 'del', ns]);
      sh('rm', ['-rf', `${pins}`]);
      mkdirSync(pins, { recursive: true });
    }
  }
} finally {
  try { sh('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
  try { sh('umount', [bpffs]); } catch { /* not mounted */ }
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
