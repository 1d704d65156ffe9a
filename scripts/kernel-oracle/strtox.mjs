// Opt-in check of bpf_strtol and bpf_strtoul against the running kernel (root, bpffs at
// /sys/fs/bpf, bpftool, a built dist/): tests/fixtures/strtox.o parses the text each case puts in
// a frame and writes the result and the return value into data_out; every case runs through
// `bpftool prog run` and through our test run on both engines, and the outputs must be equal.
// `--record` writes the kernel's answers to tests/fixtures/golden/strtox-runs.json, which
// `npm test` replays.
//
//   npm run build && sudo node scripts/kernel-oracle/strtox.mjs [--record] [--verbose]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DifferentialObject } from '../../dist/runtime/differential.js';
import { CASES, frame } from './strtox-cases.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OBJECT = join(ROOT, 'tests', 'fixtures', 'strtox.o');
const RECORD = join(ROOT, 'tests', 'fixtures', 'golden', 'strtox-runs.json');
const verbose = process.argv.includes('--verbose');

/** The result and return value a run wrote into its frame. */
function outcome(retval, dataOut) {
  const view = Buffer.from(dataOut);
  return { retval, result: view.readBigInt64LE(0).toString(), ret: view.readInt32LE(8) };
}

const dir = mkdtempSync(join(tmpdir(), 'strtox-'));
const pin = `/sys/fs/bpf/ebpf_wasm_strtox_${process.pid}`;
const kernel = [];
try {
  execFileSync('bpftool', ['prog', 'load', OBJECT, pin], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const c of CASES) {
    writeFileSync(join(dir, 'in'), frame(c));
    const out = execFileSync('bpftool', ['prog', 'run', 'pinned', pin, 'data_in', join(dir, 'in'), 'data_out', join(dir, 'out'), 'repeat', '1'], { encoding: 'utf8' });
    kernel.push(outcome(Number(/Return value: (\d+)/.exec(out)[1]), readFileSync(join(dir, 'out'))));
  }
} finally {
  rmSync(pin, { force: true });
  rmSync(dir, { recursive: true, force: true });
}

const ours = await DifferentialObject.load(OBJECT);
let agree = 0;
CASES.forEach((c, i) => {
  const r = ours.testRun('strtox', { dataIn: frame(c) });
  const mine = outcome(r.retval, r.dataOut);
  const same = JSON.stringify(mine) === JSON.stringify(kernel[i]);
  if (same) agree++;
  if (!same || verbose) console.log(`${same ? 'ok  ' : 'DIFF'} ${JSON.stringify(c)}: kernel ${JSON.stringify(kernel[i])}, ours ${JSON.stringify(mine)}`);
});
console.log(`bpf_strtol/bpf_strtoul: ${agree} of ${CASES.length} cases agree with the kernel (both engines)`);
if (process.argv.includes('--record')) {
  writeFileSync(RECORD, `${JSON.stringify(CASES.map((c, i) => ({ ...c, kernel: kernel[i] })), null, 1)}\n`);
  console.log(`recorded ${RECORD}`);
}
if (agree !== CASES.length) process.exitCode = 1;
