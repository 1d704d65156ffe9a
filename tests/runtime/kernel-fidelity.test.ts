// Fidelity with Linux, replayed without a kernel: tests/fixtures/golden/kernel-runs.json holds what
// Linux 6.18 returned (retval, data_out, refused runs, and the final hash, array and LPM maps) when
// scripts/kernel-oracle/fixtures.mjs ran every XDP, tc, socket-filter and cgroup_skb fixture over
// its packets with bpftool. Both engines, in lockstep, must give the same.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DifferentialObject, mapContents } from '../../runtime/differential.js';
import { PROJECT_ROOT } from '../support/suite.js';

interface KernelRun { name: string; dataIn: string; retval?: number; dataOut?: string; error?: string }
interface Scenario { object: string; program: string; setup: { map: string; key: string; value: string }[]; runs: KernelRun[]; maps: Record<string, string> }

const FIXTURES = join(PROJECT_ROOT, 'tests', 'fixtures');
const SCENARIOS: Scenario[] = JSON.parse(readFileSync(join(FIXTURES, 'golden', 'kernel-runs.json'), 'utf8'));
/** strerror of the errnos a refused test run returns, as bpftool printed them. */
const STRERROR: Record<number, string> = { 7: 'Argument list too long', 19: 'No such device', 22: 'Invalid argument', 28: 'No space left on device', 95: 'Operation not supported' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('the recording covers every packet program fixture', () => {
  const types = new Set(SCENARIOS.map((s) => s.object));
  for (const name of ['xdp_firewall.o', 'tc_nat.o', 'socket_filter.o', 'global_data.o', 'percpu_counter.o', 'spin_lock.o', 'tail_calls.o']) expect(types).toContain(name);
  expect(SCENARIOS.reduce((n, s) => n + s.runs.length, 0)).toBeGreaterThanOrEqual(300);
});

describe.for(SCENARIOS)('$object ($program) against Linux', (scenario) => {
  test('every run gives the kernel\'s retval and data_out, and the maps end the same', async () => {
    const d = await DifferentialObject.load(join(FIXTURES, scenario.object));
    for (const obj of [d.interp, d.jit]) {
      for (const s of scenario.setup) obj.map(s.map).update(Buffer.from(s.key, 'hex'), Buffer.from(s.value, 'hex'));
    }
    for (const run of scenario.runs) {
      let ours: { retval?: number; dataOut?: string; error?: string };
      try {
        const r = d.testRun(scenario.program, { dataIn: Buffer.from(run.dataIn, 'hex') });
        ours = { retval: r.retval, dataOut: hex(r.dataOut) };
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        ours = { error: errno ? STRERROR[-errno] ?? `errno ${errno}` : (err as Error).message };
      }
      const kernel = run.error !== undefined ? { error: run.error } : { retval: run.retval, dataOut: run.dataOut };
      expect(ours, run.name).toEqual(kernel);
    }
    for (const [pinned, contents] of Object.entries(scenario.maps)) {
      // libbpf pins global-data maps as `<object prefix>_<section with _ for .>`.
      const name = [...d.interp.maps.keys()].find((n) => n === pinned || (n.startsWith('.') && pinned.endsWith(n.replace(/\./g, '_'))));
      expect(name, `map ${pinned}`).toBeDefined();
      expect(mapContents(d.interp.map(name!)).split(' ').filter(Boolean).sort().join(' '), `map ${pinned}`).toBe(contents);
    }
  });
});
