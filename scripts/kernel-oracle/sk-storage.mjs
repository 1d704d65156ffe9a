#!/usr/bin/env node
// Kernel oracle for socket storage and the socket helpers (opt-in; needs root, bpffs, bpftool and a
// built dist/). tests/fixtures/sk_storage.o is loaded with `bpftool prog loadall` and run with
// `bpftool prog run`; sk-storage-service.py holds real sockets and makes maps with hand-written BTF.
// Compared with a Runtime on each engine:
//   1. test runs (`bpftool prog run ... repeat N`) of the cgroup_skb programs that keep storage on
//      the test run's dummy socket: retval, data_out and ctx_out;
//   2. tc and XDP lookups (bpf_sk_lookup_tcp/udp, bpf_sk_release, storage on the found socket) of
//      real sockets on 127.0.0.1 (listeners, an accepted and a connecting socket, bound UDP sockets),
//      which the runtime opens alike: ctx_out and retval;
//   3. BPF_MAP_CREATE's answers for socket storage (flags, max_entries, key size, value size limit, BTF);
//   4. user-space element operations on a socket fd (the runtime takes the cookie): errnos and values,
//      and option memory running out (-ENOMEM) at the same value sizes.
// With --bench it also reports the kernel's ns per run of bench_storage and bench_hash. Exits 1 on a mismatch.
//
//   npm run build && node scripts/kernel-oracle/sk-storage.mjs [--verbose] [--bench]   (as root)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Runtime, buildPacket, encodeSkBuff, MapType, socketStorageKey } from '../../dist/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const FIXTURE = join(here, '..', '..', 'tests', 'fixtures', 'sk_storage.o');
const verbose = process.argv.includes('--verbose');
const pin = `/sys/fs/bpf/ebpf_wasm_sk_oracle_${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'sk-oracle-'));
const hex = (b) => Buffer.from(b).toString('hex');
let cases = 0;
let mismatches = 0;

/** Records one comparison: equal JSON is agreement. */
function compare(name, kernel, ours) {
  cases++;
  const same = JSON.stringify(kernel) === JSON.stringify(ours);
  if (!same) mismatches++;
  if (!same || verbose) console.log(`${same ? 'AGREE   ' : 'MISMATCH'} ${name}${same ? '' : `\n  kernel: ${JSON.stringify(kernel)}\n  ours:   ${JSON.stringify(ours)}`}`);
}

class Service {
  constructor() {
    this.child = spawn('python3', [join(here, 'sk-storage-service.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async ask(request) {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const answer = JSON.parse((await this.lines.next()).value);
    if (answer.failure) throw new Error(`sk-storage-service: ${answer.failure} (${request.op})`);
    return answer;
  }

  close() {
    this.child.stdin.end();
  }
}

const ZERO_CTX = encodeSkBuff({});
const CTX_SIZE = ZERO_CTX.length;

/**
 * A test run on the kernel through `bpftool prog run` (with a zeroed ctx_in, so that ctx_out comes
 * back, unless `ctx` is false), and its comparable part; `duration` is the kernel's average per run.
 */
function kernelRun(program, dataIn, repeat, ctx = true) {
  const file = (name) => join(work, name);
  writeFileSync(file('in'), dataIn);
  writeFileSync(file('ctx'), ZERO_CTX);
  const argv = ['prog', 'run', 'pinned', `${pin}/${program}`, 'data_in', file('in'), 'data_out', file('out'), 'data_size_out', '8192'];
  if (ctx) argv.push('ctx_in', file('ctx'), 'ctx_out', file('ctxout'), 'ctx_size_out', String(CTX_SIZE));
  argv.push('repeat', String(repeat));
  try {
    const text = execFileSync('bpftool', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const retval = Number(/Return value: (\d+)/.exec(text)?.[1]);
    const duration = Number(/duration[^:]*: (\d+) ?ns/.exec(text)?.[1]);
    return { retval, dataOut: hex(readFileSync(file('out'))), ...(ctx ? { ctxOut: hex(readFileSync(file('ctxout'))) } : {}), duration };
  } catch (err) {
    return { failure: String(err.stderr ?? err.message).trim() };
  }
}

/** A kernel run without its duration, which cannot be compared. */
const comparable = ({ duration, ...rest }) => rest;

function ourRun(obj, program, dataIn, repeat) {
  try {
    const r = obj.program(program).testRun({ dataIn, ctxIn: ZERO_CTX, ctxOut: true, dataSizeOut: 8192, repeat });
    return { retval: r.retval, dataOut: hex(r.dataOut), ctxOut: hex(r.ctxOut) };
  } catch (err) {
    return err.errno ? { errno: err.errno } : { error: err.message };
  }
}

const PACKETS = {
  tcp4: buildPacket({ proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, payload: 'hello' }),
  udp6: buildPacket({ ipVersion: 6, proto: 'udp', src: 'fd00::1', dst: 'fd00::2', payload: 'x'.repeat(30) }),
  udp4: buildPacket({ proto: 'udp', src: '192.0.2.1', dst: '198.51.100.2', payload: 'y'.repeat(300) }),
  arp: (() => { const p = new Uint8Array(42); p.fill(0xff, 0, 6); p.set([0x08, 0x06], 12); return p; })(),
};

async function testRuns(objs) {
  for (const program of ['count', 'tag', 'cases', 'sock_fields', 'bench_storage', 'bench_hash', 'bench_empty']) {
    for (const [name, packet] of Object.entries(PACKETS)) {
      for (const repeat of [1, 3, 50]) {
        const kernel = comparable(kernelRun(program, packet, repeat));
        for (const [engine, obj] of objs) compare(`test run ${program} ${name} repeat ${repeat} (${engine})`, kernel, ourRun(obj, program, packet, repeat));
      }
    }
  }
}

async function lookups(service, objs) {
  const ports = await service.ask({ op: 'sockets' });
  const lo = '127.0.0.1';
  for (const [, obj] of objs) {
    const s = obj.runtime.sockets;
    s.open({ protocol: 'tcp', local: `${lo}:${ports.tcp_listener}` });
    s.open({ protocol: 'tcp', local: `${lo}:${ports.tcp_listener2}` });
    s.open({ protocol: 'tcp', local: `${lo}:${ports.tcp_listener2}`, remote: `${lo}:${ports.tcp_client}` });
    s.open({ protocol: 'tcp', local: `${lo}:${ports.tcp_client}`, remote: `${lo}:${ports.tcp_listener2}` });
    s.open({ protocol: 'udp', local: `${lo}:${ports.udp_bound}` });
    s.open({ protocol: 'udp', local: `0.0.0.0:${ports.udp_any}` });
  }
  const to = (proto, srcPort, dstPort) => buildPacket({ proto, src: lo, dst: lo, srcPort, dstPort, payload: 'z' });
  const packets = {
    'tcp to the listener': to('tcp', 50000, ports.tcp_listener),
    'tcp to the accepted socket': to('tcp', ports.tcp_client, ports.tcp_listener2),
    'tcp to the connecting socket': to('tcp', ports.tcp_listener2, ports.tcp_client),
    'tcp to the second listener from elsewhere': to('tcp', 50001, ports.tcp_listener2),
    'udp to the bound socket': to('udp', 50002, ports.udp_bound),
    'udp to the wildcard socket': to('udp', 50003, ports.udp_any),
    'tcp to a closed port': to('tcp', 50004, ports.udp_spare),
  };
  for (const [name, packet] of Object.entries(packets)) {
    for (const repeat of [1, 2]) {
      const kernel = comparable(kernelRun('lookup', packet, repeat));
      for (const [engine, obj] of objs) compare(`tc lookup: ${name}, repeat ${repeat} (${engine})`, kernel, ourRun(obj, 'lookup', packet, repeat));
    }
    const kernel = kernelRun('xdp_lookup', packet, 1, false);
    for (const [engine, obj] of objs) compare(`xdp lookup: ${name} (${engine})`, kernel.retval, obj.program('xdp_lookup').testRun({ dataIn: packet }).retval);
  }
}

/** BPF_MAP_CREATE cases: [name, request]. */
const CREATES = [
  ['valid', {}], ['BPF_F_CLONE', { flags: 0x201 }], ['no BPF_F_NO_PREALLOC', { flags: 0 }], ['BPF_F_RDONLY', { flags: 0x9 }],
  ['max_entries 1', { max_entries: 1 }], ['key_size 8', { key_size: 8 }], ['value_size 0', { value_size: 0 }],
  ['no key BTF', { key_btf: 'none' }], ['no value BTF', { value_btf: false }], ['a 16-bit int key', { key_btf: 'int16' }],
  ['value_size 65407', { value_size: 65407 }], ['value_size 65408', { value_size: 65408 }],
];

async function creates(service) {
  for (const [name, over] of CREATES) {
    const req = { op: 'map_create', flags: 1, max_entries: 0, key_size: 4, value_size: 16, key_btf: 'int', value_btf: true, ...over };
    const kernel = await service.ask(req);
    let ours = 0;
    try {
      new Runtime().createMap({
        type: MapType.SK_STORAGE, name, keySize: req.key_size, valueSize: req.value_size, maxEntries: req.max_entries, flags: req.flags,
        btfKeyTypeId: req.key_btf === 'none' ? 0 : 1, btfValueTypeId: req.value_btf ? 4 : 0, btfKeyInt: { bits: req.key_btf === 'int16' ? 16 : 32, bitOffset: 0 },
      });
    } catch (err) {
      ours = -err.errno;
    }
    compare(`map create: ${name}`, kernel.errno ?? 0, ours);
  }
}

/** User-space operations on one socket: the kernel with its fd, the runtime with its cookie. */
async function userSpace(service) {
  const make = async (valueSize) => (await service.ask({ op: 'map_create', flags: 1, max_entries: 0, key_size: 4, value_size: valueSize, key_btf: 'int', value_btf: true })).fd;
  const rt = new Runtime();
  const spec = (valueSize) => ({ type: MapType.SK_STORAGE, name: `m${valueSize}`, keySize: 4, valueSize, maxEntries: 0, flags: 1, btfKeyTypeId: 1, btfValueTypeId: 4, btfKeyInt: { bits: 32, bitOffset: 0 } });
  const sock = rt.sockets.open({ protocol: 'udp', local: '127.0.0.1:9' });
  const ourOp = (map, cmd, value, flags = 0) => {
    const key = socketStorageKey(sock.cookie);
    try {
      if (cmd === 'lookup') {
        const v = map.lookup(key, flags);
        return v ? { errno: 0, value: hex(v) } : { errno: -2 };
      }
      if (cmd === 'update') map.update(key, value, flags);
      else if (cmd === 'delete') return map.delete(key) ? { errno: 0, value: null } : { errno: -2 };
      else if (cmd === 'next') return { errno: map.nextKeyAt(0, 0) };
      else if (cmd === 'lookup_and_delete') map.lookupAndDelete(key);
      return { errno: 0, value: null };
    } catch (err) {
      return { errno: -err.errno };
    }
  };
  const steps = [
    ['lookup'], ['delete'], ['update', 2], ['update', 0], ['update', 1], ['lookup'], ['update', 2, 'ff'], ['lookup'], ['update', 3], ['update', 4],
    ['next'], ['lookup_and_delete'], ['delete'], ['delete'],
  ];
  const kernelMap = await make(8);
  const ourMap = rt.createMap(spec(8));
  for (const [i, [cmd, flags = 0, fill]] of steps.entries()) {
    const value = new Uint8Array(8).fill(fill ? 0xff : i);
    const kernel = await service.ask({ op: 'map_op', map: kernelMap, cmd, socket: 'udp_spare', value: cmd === 'update' ? hex(value) : null, value_size: 8, flags });
    compare(`user space step ${i}: ${cmd} flags ${flags}`, kernel, ourOp(ourMap, cmd, value, flags));
  }
  // A file descriptor that is no socket: the kernel says EBADF or ENOTSOCK; the runtime, for a cookie of no open socket, EBADF.
  const bad = await service.ask({ op: 'map_op', map: kernelMap, cmd: 'lookup', socket: null, fd: 999, value_size: 8 });
  compare('user space: an fd of nothing', bad.errno, (() => { try { ourMap.lookup(socketStorageKey(999n)); return 0; } catch (err) { return -err.errno; } })());
  // Option memory: values of these sizes on one socket until it runs out (one map each).
  for (const [i, sizes] of [[43690, 43690, 43690], [40000, 40000, 50679], [40000, 40000, 50680], [65407, 65407], [30000, 30000, 30000, 30000, 30000]].entries()) {
    const results = { kernel: [], ours: [] };
    const name = `optmem${i}`;
    await service.ask({ op: 'udp_socket', name });
    for (const size of sizes) {
      const fd = await make(size);
      results.kernel.push((await service.ask({ op: 'map_op', map: fd, cmd: 'update', socket: name, value: hex(new Uint8Array(size)), flags: 0 })).errno);
    }
    const fresh = rt.sockets.open({ protocol: 'udp', local: `127.0.0.1:${2000 + i}` });
    for (const size of sizes) {
      try {
        rt.createMap(spec(size)).update(socketStorageKey(fresh.cookie), new Uint8Array(size));
        results.ours.push(0);
      } catch (err) {
        results.ours.push(-err.errno);
      }
    }
    compare(`option memory: values of ${sizes.join(', ')} bytes`, results.kernel, results.ours);
  }
}

function bench(objs) {
  const packet = buildPacket({ proto: 'tcp', payload: 'x'.repeat(60) });
  const best = {};
  for (let round = 0; round < 7; round++) {
    for (const program of ['bench_storage', 'bench_hash', 'bench_empty']) {
      best[program] = Math.min(best[program] ?? Infinity, kernelRun(program, packet, 1_000_000, false).duration);
    }
  }
  console.log(`kernel: bench_storage ${best.bench_storage} ns, bench_hash ${best.bench_hash} ns per run (${(best.bench_hash / best.bench_storage).toFixed(2)}x), bench_empty ${best.bench_empty} ns`);
  for (const [engine, obj] of objs) {
    const ours = {};
    for (const program of ['bench_storage', 'bench_hash', 'bench_empty']) ours[program] = Math.min(...[0, 1, 2, 3, 4].map(() => obj.program(program).testRun({ dataIn: packet, repeat: 200_000 }).durationNs));
    console.log(`${engine.padEnd(6)}: bench_storage ${ours.bench_storage} ns, bench_hash ${ours.bench_hash} ns per run (${(ours.bench_hash / ours.bench_storage).toFixed(2)}x), bench_empty ${ours.bench_empty} ns`);
  }
}

rmSync(pin, { recursive: true, force: true });
execFileSync('bpftool', ['prog', 'loadall', FIXTURE, pin]);
const service = new Service();
try {
  const objs = [];
  for (const engine of ['interp', 'jit']) {
    const runtime = new Runtime({ engine });
    const obj = await runtime.loadObject(FIXTURE);
    objs.push([engine, obj]);
  }
  await testRuns(objs);
  await lookups(service, objs);
  await creates(service);
  await userSpace(service);
  if (process.argv.includes('--bench')) bench(objs);
} finally {
  service.close();
  rmSync(pin, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
console.log(`${cases} comparisons, ${cases - mismatches} agree, ${mismatches} mismatch`);
process.exit(mismatches ? 1 : 0);
