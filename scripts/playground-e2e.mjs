// End-to-end check of the playground in a real browser (Debian's Chromium, headless, driven by
// puppeteer-core): the page loads within 2 s on the interpreter; every shipped example with a
// topology replays on both engines with the verdicts, interface counts and first output frame the
// CLI gives (`ebpf-wasm replay --json --out`); the JIT says it is loading binaryen while it does; the
// example the verifier rejects shows the error with its source line. A screenshot is kept in
// artifacts/playground.png (`--readme` also copies it to docs/playground.png). Run by .ci/run after
// `npm test`; Chromium is installed from Debian when it is absent and we may.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { buildPacket, captureRecords } from '../dist/index.js';
import { playgroundCommand } from '../dist/cli/playground.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'ebpf-wasm.mjs');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
};

if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM}: no Chromium (apt-get install chromium, or set CHROMIUM)`);
  process.stdout.write('installing chromium from Debian...\n');
  execFileSync('apt-get', ['install', '-y', '-q', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

let url;
await playgroundCommand({ port: '0' }, (u) => (url = u));
const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
const out = mkdtempSync(join(tmpdir(), 'playground-e2e-'));
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('pageerror', (e) => check(false, `no page error (${e.message})`));
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready', { timeout: 20000 });
  const loadMs = Date.now() - t0;
  check(loadMs < 2000, `the page is ready in ${loadMs} ms (under 2 s)`);

  const examples = JSON.parse(readFileSync(join(ROOT, 'dist', 'playground', 'examples', 'index.json'), 'utf8'));
  const runExample = async (name, engine) => {
    await page.select('#example', name);
    await page.select('#engine', engine);
    await page.evaluate(() => { window.playground.done = false; });
    await page.click('#run');
    const firstStatus = await page.$eval('#status', (e) => e.textContent);
    await page.waitForFunction(() => window.playground.done, { timeout: 120000 });
    return {
      firstStatus,
      state: await page.evaluate(() => {
        const s = window.playground;
        return { error: s.error, summary: s.summary, programs: s.programs, outputs: Object.fromEntries(Object.entries(s.outputs).map(([k, v]) => [k, [...v]])) };
      }),
    };
  };

  for (const example of examples.filter((e) => e.topology)) {
    for (const engine of ['interp', 'jit']) {
      const { firstStatus, state } = await runExample(example.name, engine);
      const what = `${example.name} on ${engine}`;
      if (engine === 'jit') check(firstStatus.startsWith('loading binaryen'), `${what}: the JIT says what it is doing first ('${firstStatus}')`);
      if (state.error) {
        check(false, `${what}: ran (${state.error})`);
        continue;
      }
      const dir = join(out, `${example.name}-${engine}`);
      const cli = spawnSync(process.execPath, [CLI, 'replay', '--topology', join(ROOT, 'examples', example.name, 'topology.json'), '--engine', engine, '--json', '--no-progress', '--out', dir], { encoding: 'utf8' });
      if (cli.status !== 0) {
        check(false, `${what}: the CLI replays it (${cli.stderr.trim()})`);
        continue;
      }
      const expected = JSON.parse(cli.stdout);
      check(JSON.stringify(state.summary.verdicts) === JSON.stringify(expected.verdicts), `${what}: verdicts ${JSON.stringify(state.summary.verdicts)} as the CLI's`);
      check(JSON.stringify(state.summary.interfaces) === JSON.stringify(expected.interfaces), `${what}: per-interface counts as the CLI's`);
      // One output frame: the first of the first capture the CLI wrote with frames in it.
      const file = expected.files?.find((f) => f.frames > 0) ?? (expected.outputs ?? []).find((f) => f.frames > 0);
      const name = file && file.path.split('/').pop().replace(/\.pcap$/, '');
      const cliFirst = file && captureRecords(readFileSync(file.path)).next().value?.data;
      const pageFirst = name && state.outputs[name] && captureRecords(Uint8Array.from(state.outputs[name])).next().value?.data;
      check(Boolean(cliFirst && pageFirst && Buffer.compare(Buffer.from(cliFirst), Buffer.from(pageFirst)) === 0), `${what}: the first frame of ${name ?? '(none)'} equals the CLI's`);
    }
  }

  const { state: rejected } = await runExample('rejected', 'interp');
  const refusal = rejected.programs.find((p) => !p.verified);
  check(Boolean(refusal?.line?.match(/packet_bounds\.c:\d+/)), `rejected: the verifier's error shows with its source line (${refusal?.line})`);
  const shown = await page.$eval('#verifier', (e) => e.textContent);
  check(Boolean(refusal?.line && shown.includes(refusal.line) && shown.includes(refusal.error.split('\n')[0])), 'rejected: the page shows the error and the line');

  check(await page.$$eval('.causal-line', (l) => l.length) > 0, 'rejected: the causal path is highlighted in the disassembly');

  await runExample('firewall', 'interp');
  check(await page.$$eval('#cfg svg rect', (l) => l.length) > 10, 'firewall: the control-flow graph is drawn');
  check(await page.$$eval('#replay svg rect', (l) => l.length) > 0, 'firewall: the verdicts over time are charted');
  mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'artifacts', 'playground.png'), fullPage: false });
  // Maps edited before the run: a /0 prefix in blocked_v4 drops every IPv4 packet the firewall sees.
  const dropsBefore = (await runExample('firewall', 'interp')).state.summary.verdicts.drop;
  await page.evaluate(() => { window.playground.done = false; });
  await page.click('#load');
  await page.waitForFunction(() => window.playground.done, { timeout: 60000 });
  const rows = await page.$$('#maps tr.map-row[data-map="blocked_v4"]');
  const last = rows.at(-1);
  await (await last.$('.map-key')).type('{"prefixlen": 0, "addr": "0.0.0.0"}');
  await (await last.$('.map-value')).type('0');
  await page.evaluate(() => { window.playground.done = false; });
  await page.click('#run');
  await page.waitForFunction(() => window.playground.done, { timeout: 60000 });
  const edited = await page.evaluate(() => ({ error: window.playground.error, drop: window.playground.summary?.verdicts.drop }));
  const shownAfter = await page.$$eval('#maps-after tr[data-map="blocked_v4"]', (l) => l.map((r) => r.dataset.key));
  check(!edited.error && edited.drop > dropsBefore && shownAfter.some((k) => k.includes('"prefixlen":0')),
    `maps edited before a run: drops ${dropsBefore} -> ${edited.drop}, and the new entry is in the maps after it`);

  // An object of one's own with packets typed in: examples/xdp_ttl.o forwards a UDP packet with its TTL decremented.
  await (await page.$('#object')).uploadFile(join(ROOT, 'examples', 'xdp_ttl.o'));
  const hex = Buffer.from(buildPacket({ ttl: 64, payload: 'hi' })).toString('hex').replace(/(..)/g, '$1 ');
  await page.type('#packets', hex);
  const { state: typed } = await runExample('firewall', 'interp');
  const forwarded = typed.outputs['eth0-tx'] && captureRecords(Uint8Array.from(typed.outputs['eth0-tx'])).next().value?.data;
  check(typed.summary?.verdicts.tx === 1 && Buffer.compare(Buffer.from(forwarded ?? []), Buffer.from(buildPacket({ ttl: 63, payload: 'hi' }))) === 0,
    'a dropped-in object on typed packet bytes: XDP_TX with the TTL decremented');
  if (process.argv.includes('--readme')) {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    copyFileSync(join(ROOT, 'artifacts', 'playground.png'), join(ROOT, 'docs', 'playground.png'));
  }
} finally {
  await browser.close();
  rmSync(out, { recursive: true, force: true });
}
process.stdout.write(failures.length ? `${failures.length} check(s) failed\n` : 'playground: every check passed\n');
process.exit(failures.length ? 1 : 0);
