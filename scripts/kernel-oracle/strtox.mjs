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

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OBJECT = join(ROOT, 'tests', 'fixtures', 'strtox.o');
const RECORD = join(ROOT, 'tests', 'fixtures', 'golden', 'strtox-runs.json');
const verbose = process.argv.includes('--verbose');

/** Texts, flags (the base, or bad bits), the length to parse and which helper. */
const TEXTS = ['123', '  42xyz', '-17', '0x1f', '0X1F', '017', '0', '-0', 'abc', '', '   ', '-', '0x', '0xg', '99999999999999999999',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '18446744073709551615',
  '18446744073709551616', 'ffffffffffffffff', '\t\n\v\f\r 5', '\xa0 7', '12 34', '0777', '089', '+5', '1234567890123456789012345678901'];
const FLAGS = [0, 8, 10, 16, 2, 0x20];
const CASES = [];
for (const text of TEXTS) {
  for (const flags of FLAGS) {
    for (const unsigned of [0, 1]) CASES.push({ text, flags, unsigned, len: Math.max(1, Math.min(32, text.length)) });
  }
}
// Lengths shorter than the text: the parse stops there.
for (const text of ['123456', '  -42', '0x1234']) for (const len of [1, 2, 3, 4]) CASES.push({ text, flags: 0, unsigned: 0, len });

function frame(c) {
  const bytes = new Uint8Array(64);
  bytes[16] = c.flags;
  bytes[17] = c.unsigned;
  bytes[18] = c.len;
  bytes.set(Buffer.from(c.text, 'latin1'), 24);
  return bytes;
}

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
