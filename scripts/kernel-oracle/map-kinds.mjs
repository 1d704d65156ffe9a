// Opt-in check of issue 11's map kinds and objects against the running kernel (root, bpffs at
// /sys/fs/bpf, bpftool, a built dist/):
// - map creation: each definition of the table goes to `bpftool map create` and to createMap; the
//   verdicts (created, or the errno) must agree. Kinds that need BTF (task and inode storage) are
//   left to unit tests: bpftool cannot pass key and value BTF.
// - test runs: tests/fixtures/prog_arrays.o is loaded with `bpftool prog loadall`, and `dispatch`
//   (tail calls through both initialised prog arrays) runs over packets with `bpftool prog run`; the
//   retvals must equal ours on both engines.
//   npm run build && sudo node scripts/kernel-oracle/map-kinds.mjs [--verbose]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMap, MapCreateError, MapFlag, MapType } from '../../dist/maps/index.js';
import { GuestMemory } from '../../dist/runtime/memory.js';
import { DifferentialObject } from '../../dist/runtime/differential.js';
import { buildPacket } from '../../dist/net/packets.js';

const verbose = process.argv.includes('--verbose');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** errno values by the strerror text bpftool prints. */
const ERRNO = { 'Invalid argument': 22, 'Argument list too long': 7, 'Operation not supported': 95, 'Unknown error 524': 524, 'Cannot allocate memory': 12 };
const NAMES = { [MapType.STACK_TRACE]: 'stack_trace', [MapType.CGROUP_ARRAY]: 'cgroup_array', [MapType.XSKMAP]: 'xskmap', [MapType.SOCKMAP]: 'sockmap', [MapType.SOCKHASH]: 'sockhash', [MapType.PERF_EVENT_ARRAY]: 'perf_event_array', [MapType.RINGBUF]: 'ringbuf', [MapType.REUSEPORT_SOCKARRAY]: 'reuseport_sockarray', [MapType.USER_RINGBUF]: 'user_ringbuf', [MapType.CGROUP_STORAGE]: 'cgroup_storage', [MapType.PERCPU_CGROUP_STORAGE]: 'percpu_cgroup_storage' };

const m = (type, keySize, valueSize, maxEntries, flags = 0) => ({ type, keySize, valueSize, maxEntries, flags });
const CREATION = [
  m(MapType.STACK_TRACE, 4, 128, 64), m(MapType.STACK_TRACE, 4, 12, 64), m(MapType.STACK_TRACE, 8, 8, 64), m(MapType.STACK_TRACE, 4, 127 * 8, 4),
  m(MapType.STACK_TRACE, 4, 128 * 8, 4), m(MapType.STACK_TRACE, 4, 64, 4, MapFlag.STACK_BUILD_ID), m(MapType.STACK_TRACE, 4, 40, 4, MapFlag.STACK_BUILD_ID),
  m(MapType.STACK_TRACE, 4, 8, 4, MapFlag.NO_PREALLOC), m(MapType.STACK_TRACE, 4, 8, 0),
  m(MapType.CGROUP_ARRAY, 4, 4, 2), m(MapType.CGROUP_ARRAY, 4, 8, 2), m(MapType.CGROUP_ARRAY, 8, 4, 2), m(MapType.CGROUP_ARRAY, 4, 4, 0),
  m(MapType.CGROUP_ARRAY, 4, 4, 2, MapFlag.RDONLY_PROG), m(MapType.CGROUP_ARRAY, 4, 4, 2, MapFlag.MMAPABLE), m(MapType.CGROUP_ARRAY, 4, 4, 2, MapFlag.RDONLY),
  m(MapType.XSKMAP, 4, 4, 4), m(MapType.XSKMAP, 4, 8, 4), m(MapType.XSKMAP, 8, 4, 4), m(MapType.XSKMAP, 4, 4, 0), m(MapType.XSKMAP, 4, 4, 4, MapFlag.NO_PREALLOC),
  m(MapType.XSKMAP, 4, 4, 4, MapFlag.WRONLY),
  m(MapType.SOCKMAP, 4, 8, 8), m(MapType.SOCKMAP, 4, 4, 8), m(MapType.SOCKMAP, 4, 2, 8), m(MapType.SOCKMAP, 8, 8, 8), m(MapType.SOCKMAP, 4, 8, 0),
  m(MapType.SOCKMAP, 4, 8, 8, MapFlag.RDONLY_PROG), m(MapType.SOCKMAP, 4, 8, 8, MapFlag.NO_PREALLOC),
  m(MapType.SOCKHASH, 8, 8, 8), m(MapType.SOCKHASH, 4, 4, 8), m(MapType.SOCKHASH, 0, 8, 8), m(MapType.SOCKHASH, 513, 8, 8), m(MapType.SOCKHASH, 512, 8, 8),
  m(MapType.SOCKHASH, 8, 16, 8), m(MapType.SOCKHASH, 8, 8, 0),
  // Definitions after libbpf's completions: a perf event array of 4-byte keys and values, a ring buffer of 8192 bytes.
  m(MapType.PERF_EVENT_ARRAY, 4, 4, 2), m(MapType.PERF_EVENT_ARRAY, 0, 0, 2), m(MapType.PERF_EVENT_ARRAY, 4, 4, 0),
  m(MapType.RINGBUF, 0, 0, 8192), m(MapType.RINGBUF, 0, 0, 5000),
  m(MapType.REUSEPORT_SOCKARRAY, 4, 8, 4), m(MapType.REUSEPORT_SOCKARRAY, 4, 4, 4), m(MapType.REUSEPORT_SOCKARRAY, 4, 2, 4),
  m(MapType.REUSEPORT_SOCKARRAY, 8, 8, 4), m(MapType.REUSEPORT_SOCKARRAY, 4, 8, 0), m(MapType.REUSEPORT_SOCKARRAY, 4, 8, 4, MapFlag.MMAPABLE),
  m(MapType.USER_RINGBUF, 0, 0, 4096), m(MapType.USER_RINGBUF, 0, 0, 3 * 4096), m(MapType.USER_RINGBUF, 4, 0, 4096),
  m(MapType.CGROUP_STORAGE, 16, 8, 0), m(MapType.CGROUP_STORAGE, 8, 8, 0), m(MapType.CGROUP_STORAGE, 12, 8, 0), m(MapType.CGROUP_STORAGE, 16, 0, 0),
  m(MapType.CGROUP_STORAGE, 16, 8, 1), m(MapType.CGROUP_STORAGE, 16, 8, 0, MapFlag.NO_PREALLOC), m(MapType.CGROUP_STORAGE, 16, 65536, 0),
  m(MapType.PERCPU_CGROUP_STORAGE, 16, 8, 0), m(MapType.PERCPU_CGROUP_STORAGE, 16, 40000, 0), m(MapType.PERCPU_CGROUP_STORAGE, 8, 32768, 0),
];

const dir = mkdtempSync(join(tmpdir(), 'map-kinds-'));
const pin = `/sys/fs/bpf/ebpf_wasm_map_kinds_${process.pid}`;

function kernelCreate(spec) {
  rmSync(pin, { force: true });
  try {
    execFileSync('bpftool', ['map', 'create', pin, 'type', NAMES[spec.type], 'key', String(spec.keySize), 'value', String(spec.valueSize),
      'entries', String(spec.maxEntries), 'name', 'oracle', 'flags', String(spec.flags)], { stdio: ['ignore', 'pipe', 'pipe'] });
    return 0;
  } catch (err) {
    const text = /map create failed: (.*)/.exec(String(err.stderr))?.[1]?.trim() ?? String(err.stderr).trim();
    return ERRNO[text] ?? text;
  } finally {
    rmSync(pin, { force: true });
  }
}

function ourCreate(spec) {
  try {
    createMap(new GuestMemory(), spec).free();
    return 0;
  } catch (err) {
    if (err instanceof MapCreateError) return err.errno;
    throw err;
  }
}

let agree = 0;
let total = 0;
for (const spec of CREATION) {
  const [kernel, ours] = [kernelCreate(spec), ourCreate(spec)];
  total++;
  const ok = kernel === ours;
  if (ok) agree++;
  if (verbose || !ok) console.log(`${ok ? 'AGREE' : 'MISMATCH'} create ${NAMES[spec.type]} key ${spec.keySize} value ${spec.valueSize} entries ${spec.maxEntries} flags 0x${spec.flags.toString(16)}: kernel ${kernel}, ours ${ours}`);
}
console.log(`map creation: ${agree} of ${total} agree`);

// Test runs of prog_arrays.o's dispatch.
const object = join(ROOT, 'tests', 'fixtures', 'prog_arrays.o');
const progs = `/sys/fs/bpf/ebpf_wasm_prog_arrays_${process.pid}`;
rmSync(progs, { recursive: true, force: true });
execFileSync('bpftool', ['prog', 'loadall', object, progs, 'pinmaps', `${progs}_maps`], { stdio: ['ignore', 'pipe', 'pipe'] });
const packets = [buildPacket(), buildPacket({ ipVersion: 6 }), buildPacket({ proto: 'tcp', vlans: [3] }), buildPacket({ ipVersion: 6, proto: 'icmp' }), buildPacket({ payload: 'x'.repeat(300) })];
const d = await DifferentialObject.load(object);
let runsAgree = 0;
for (const [i, packet] of packets.entries()) {
  writeFileSync(join(dir, 'in'), packet);
  const out = execFileSync('bpftool', ['prog', 'run', 'pinned', `${progs}/dispatch`, 'data_in', join(dir, 'in'), 'repeat', '1'], { encoding: 'utf8' });
  const kernel = Number(/Return value: (\d+)/.exec(out)?.[1]);
  const ours = d.testRun('dispatch', { dataIn: packet }).retval;
  const ok = kernel === ours;
  if (ok) runsAgree++;
  if (verbose || !ok) console.log(`${ok ? 'AGREE' : 'MISMATCH'} prog_arrays.o dispatch packet ${i}: kernel ${kernel}, ours ${ours} (both engines)`);
}
console.log(`prog_arrays.o test runs: ${runsAgree} of ${packets.length} agree`);

// cgroup_storage.o: each test run has its own storage, shared by its repeats; the programs return 1
// once their counter passes 2, so the retvals of a sequence of runs show both.
const storageObject = join(ROOT, 'tests', 'fixtures', 'cgroup_storage.o');
const storageProgs = `/sys/fs/bpf/ebpf_wasm_cgroup_storage_${process.pid}`;
rmSync(storageProgs, { recursive: true, force: true });
execFileSync('bpftool', ['prog', 'loadall', storageObject, storageProgs], { stdio: ['ignore', 'pipe', 'pipe'] });
const storage = await DifferentialObject.load(storageObject);
const REPEATS = [1, 3, 1, 2, 5, 1];
let storageAgree = 0;
writeFileSync(join(dir, 'in'), packets[0]);
for (const program of ['count', 'count_per_cpu']) {
  for (const repeat of REPEATS) {
    const out = execFileSync('bpftool', ['prog', 'run', 'pinned', `${storageProgs}/${program}`, 'data_in', join(dir, 'in'), 'repeat', String(repeat)], { encoding: 'utf8' });
    const kernel = Number(/Return value: (\d+)/.exec(out)?.[1]);
    const ours = storage.testRun(program, { dataIn: packets[0], repeat }).retval;
    const ok = kernel === ours;
    if (ok) storageAgree++;
    if (verbose || !ok) console.log(`${ok ? 'AGREE' : 'MISMATCH'} cgroup_storage.o ${program} repeat ${repeat}: kernel ${kernel}, ours ${ours} (both engines)`);
  }
}
console.log(`cgroup_storage.o test runs: ${storageAgree} of ${2 * REPEATS.length} agree`);
rmSync(storageProgs, { recursive: true, force: true });
rmSync(progs, { recursive: true, force: true });
rmSync(`${progs}_maps`, { recursive: true, force: true });
rmSync(dir, { recursive: true, force: true });
process.exitCode = agree === total && runsAgree === packets.length && storageAgree === 2 * REPEATS.length ? 0 : 1;
