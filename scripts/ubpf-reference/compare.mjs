// Our interpreter against uBPF's on the benchmark objects (issue 12): runs `ebpf-wasm test-run`
// and the uBPF harness alternately, several rounds per object, and prints the median ns per run of
// each, the spread (min-max over the rounds) and the ratio ours/uBPF, with the geomean over the
// compute rows and the parse row. The machine may be shared: only interleaved medians mean much.
// --baseline DIR adds another build of ours (a dist/ directory, with package.json in its parent),
// measured in the same rounds, for before/after figures.
//
//   npm run build && scripts/ubpf-reference/build.sh
//   node scripts/ubpf-reference/compare.mjs [--rounds 5] [--engine interp] [--harness PATH] [--json FILE]
//     [--only parse,alu] [--baseline /tmp/before/dist] [--cpu N]
// --cpu N runs both sides on processor N (taskset): on a VM whose processors run at different
// speeds (a host's other guests on one of them), a process's speed depends on where it lands.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    engine: { type: 'string', default: 'interp' },
    harness: { type: 'string', default: '/work/ubpf-scratch/harness-interp' },
    json: { type: 'string' },
    only: { type: 'string' },
    baseline: { type: 'string' },
    cpu: { type: 'string' },
  },
});

const PACKET = `${root}bench/programs/tcp1500.bin`;
/**
 * Runs per measurement, ours and uBPF's: ~0.2-2 s each. Ours needs millions of runs of the short
 * programs, and hundreds of alu's: test-run's warm-up (the first tenth) must cover V8's compiles
 * of the interpreter's loop (several hundred ms on a loaded machine), or the mean it reports is
 * mostly warm-up.
 */
const OBJECTS = [
  { name: 'empty', ours: 3_000_000, ubpf: 3_000_000 },
  { name: 'parse', ours: 3_000_000, ubpf: 3_000_000 },
  { name: 'csum', ours: 20_000, ubpf: 10_000 },
  { name: 'fnv', ours: 10_000, ubpf: 5_000 },
  { name: 'alu', ours: 600, ubpf: 150 },
];
/** The rows the issue's ratio is the geomean of (empty is the fixed cost of a run). */
const RATIO_ROWS = ['parse', 'csum', 'fnv', 'alu'];

/** A command and its arguments, pinned to --cpu's processor when given. */
const pinned = (command, args) => (values.cpu === undefined ? [command, args] : ['taskset', ['-c', values.cpu, command, ...args]]);

function ours(name, repeat, dist = `${root}dist`) {
  const out = execFileSync(...pinned('node', [`${dist}/cli/main.js`, 'test-run', `${root}bench/programs/${name}.o`, '--data-in', PACKET,
    '--repeat', String(repeat), '--engine', values.engine, '--no-progress']), { encoding: 'utf8' });
  const m = /duration \(average\): (\d+)ns/.exec(out);
  if (!m) throw new Error(`no duration in test-run's output:\n${out}`);
  return Number(m[1]);
}

function ubpf(name, runs) {
  const out = execFileSync(...pinned(values.harness, [`${root}bench/programs/${name}.o`, PACKET, String(runs)]), { encoding: 'utf8' });
  const m = /median ([\d.]+).*mean ([\d.]+)/.exec(out);
  if (!m) throw new Error(`no median in the harness's output:\n${out}`);
  return { median: Number(m[1]), mean: Number(m[2]) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => [Math.min(...xs), Math.max(...xs)];
const f = (x) => x.toFixed(x < 100 ? 1 : 0);
const geomean = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const rounds = Number(values.rounds);
const rows = [];
for (const o of OBJECTS.filter((x) => !values.only || values.only.split(',').includes(x.name))) {
  const a = [];
  const b = [];
  const bMeans = [];
  const before = [];
  for (let r = 0; r < rounds; r++) {
    if (values.baseline) before.push(ours(o.name, o.ours, values.baseline));
    a.push(ours(o.name, o.ours));
    const u = ubpf(o.name, o.ubpf);
    b.push(u.median);
    bMeans.push(u.mean);
  }
  // Per-round ratios too: the halves of a round ran under the same load.
  const ratios = a.map((x, i) => x / b[i]);
  const row = {
    // uBPF's figure is the harness's median batch; its mean over all runs (as our test-run's) is kept too.
    name: o.name, ours: median(a), oursSpread: spread(a), ubpf: median(b), ubpfSpread: spread(b), ubpfMean: median(bMeans),
    ratio: median(a) / median(b), roundRatios: spread(ratios),
    // Each side's least disturbed round: on a machine whose load comes in phases as long as a row,
    // the medians of the two sides may come from different phases; the minimums rarely do.
    leastDisturbedRatio: Math.min(...a) / Math.min(...b),
    ...(values.baseline ? { before: median(before), beforeSpread: spread(before), beforeRatio: median(before) / median(b) } : {}),
  };
  rows.push(row);
  const was = values.baseline ? `  before ${f(row.before)} ns [${row.beforeSpread.map(f).join('-')}] ratio ${row.beforeRatio.toFixed(2)}` : '';
  console.log(`${o.name.padEnd(6)} ours ${f(row.ours)} ns [${row.oursSpread.map(f).join('-')}]  uBPF ${f(row.ubpf)} ns [${row.ubpfSpread.map(f).join('-')}]  ratio ${row.ratio.toFixed(2)} (rounds ${row.roundRatios.map((x) => x.toFixed(2)).join('-')})${was}`);
}
const counted = rows.filter((r) => RATIO_ROWS.includes(r.name));
const result = {
  engine: values.engine, rounds, rows, geomean: geomean(counted.map((r) => r.ratio)),
  leastDisturbedGeomean: geomean(counted.map((r) => r.leastDisturbedRatio)),
};
if (values.baseline) result.beforeGeomean = geomean(counted.map((r) => r.beforeRatio));
console.log(`geomean ours/uBPF over ${counted.map((r) => r.name).join(', ')}: ${result.geomean.toFixed(2)}${values.baseline ? ` (before: ${result.beforeGeomean.toFixed(2)})` : ''}`
  + `; of each side's least disturbed round: ${result.leastDisturbedGeomean.toFixed(2)}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
