// Our interpreter against uBPF's on the benchmark objects (issue 12): runs `ebpf-wasm test-run`
// and the uBPF harness alternately, several rounds per object, and prints the median ns per run of
// each, the spread (min-max over the rounds) and the ratio ours/uBPF, with the geomean over the
// compute rows and the parse row. The machine may be shared: only interleaved medians mean much.
//
//   npm run build && scripts/ubpf-reference/build.sh
//   node scripts/ubpf-reference/compare.mjs [--rounds 5] [--engine interp] [--harness PATH] [--json FILE]
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
  },
});

const PACKET = `${root}bench/programs/tcp1500.bin`;
/**
 * Runs per measurement, ours and uBPF's: enough for ~0.1-0.5 s each. Ours needs many runs of the
 * short programs, since test-run's warm-up (the first tenth) is what lets V8 optimise the loop.
 */
const OBJECTS = [
  { name: 'empty', ours: 200_000, ubpf: 1_000_000 },
  { name: 'parse', ours: 200_000, ubpf: 1_000_000 },
  { name: 'csum', ours: 4_000, ubpf: 6_200 },
  { name: 'fnv', ours: 2_000, ubpf: 3_100 },
  { name: 'alu', ours: 40, ubpf: 62 },
];
/** The rows the ratio is the geomean of (empty is the fixed cost of a run). */
const RATIO_ROWS = ['parse', 'csum', 'fnv', 'alu'];

function ours(name, repeat) {
  const out = execFileSync('node', [`${root}dist/cli/main.js`, 'test-run', `${root}bench/programs/${name}.o`, '--data-in', PACKET,
    '--repeat', String(repeat), '--engine', values.engine, '--no-progress'], { encoding: 'utf8' });
  const m = /duration \(average\): (\d+)ns/.exec(out);
  if (!m) throw new Error(`no duration in test-run's output:\n${out}`);
  return Number(m[1]);
}

function ubpf(name, runs) {
  const out = execFileSync(values.harness, [`${root}bench/programs/${name}.o`, PACKET, String(runs)], { encoding: 'utf8' });
  const m = /median ([\d.]+)/.exec(out);
  if (!m) throw new Error(`no median in the harness's output:\n${out}`);
  return Number(m[1]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rounds = Number(values.rounds);
const rows = [];
for (const o of OBJECTS.filter((x) => !values.only || values.only.split(',').includes(x.name))) {
  const a = [];
  const b = [];
  for (let r = 0; r < rounds; r++) {
    a.push(ours(o.name, o.ours));
    b.push(ubpf(o.name, o.ubpf));
  }
  // Per-round ratios too: the two halves of a round ran under the same load.
  const ratios = a.map((x, i) => x / b[i]);
  const row = {
    name: o.name, ours: median(a), oursSpread: [Math.min(...a), Math.max(...a)],
    ubpf: median(b), ubpfSpread: [Math.min(...b), Math.max(...b)],
    ratio: median(a) / median(b), roundRatios: [Math.min(...ratios), Math.max(...ratios)],
  };
  rows.push(row);
  const f = (x) => x.toFixed(x < 100 ? 1 : 0);
  console.log(`${o.name.padEnd(6)} ours ${f(row.ours)} ns [${row.oursSpread.map(f).join('-')}]  uBPF ${f(row.ubpf)} ns [${row.ubpfSpread.map(f).join('-')}]  ratio ${row.ratio.toFixed(2)} (rounds ${row.roundRatios.map((x) => x.toFixed(2)).join('-')})`);
}
const counted = rows.filter((r) => RATIO_ROWS.includes(r.name));
const geomean = Math.exp(counted.reduce((s, r) => s + Math.log(r.ratio), 0) / counted.length);
console.log(`geomean ours/uBPF over ${RATIO_ROWS.join(', ')}: ${geomean.toFixed(2)}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ engine: values.engine, rounds, rows, geomean }, null, 2)}\n`);
