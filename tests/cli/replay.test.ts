// `ebpf-wasm replay` as a user runs it: the README's example, JSON output, the capture files it
// writes (read back with our reader), per-packet lines, and the one-line errors for a corrupt
// capture (after everything before it was replayed) and a wrong topology.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { captureRecords } from '../../net/capture/index.js';
import { Runtime } from '../../runtime/runtime.js';
import { loadTopologyFile } from '../../net/topology-file.js';
import { readCaptures } from '../../net/replay-files.js';
import { replay } from '../../net/replay.js';
import { PROJECT_ROOT } from '../support/suite.js';

// The bundled command line, as the package's bin runs it.
const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'ebpf-wasm.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ebpf-wasm-replay-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const framesOf = (path: string) => [...captureRecords(readFileSync(path))].map((r) => r.data.slice());

describe('ebpf-wasm replay', () => {
  test('the README\'s first command replays the load balancer example and prints the summary', () => {
    const r = cli(['replay', '--topology', 'examples/lb/topology.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^replayed 244 packets from examples\/lb\/traffic\.pcap on the JIT/);
    expect(r.stdout).toContain('ingress XDP verdicts: pass 19, drop 1, tx 6, redirect 218, aborted 0');
    expect(r.stdout).toMatch(/\n {2}be1 +3 +0 +86 /);
    expect(r.stdout).toMatch(/wan0 +tx_ports \(broadcast\) +0 +be1 +2/);
  });

  test.for(['interp', 'jit'])('--json on %s has the summary\'s keys', (engine) => {
    const r = cli(['replay', '--topology', 'examples/lb/topology.json', '--engine', engine, '--json', '--dump-maps']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const key of ['packets', 'verdicts', 'interfaces', 'redirects', 'trace', 'maps', 'ns_per_packet', 'packets_per_second', 'errors', 'engine', 'verified']) expect(s).toHaveProperty(key);
    expect(s).toMatchObject({ engine, packets: 244, verdicts: { pass: 19, drop: 1, tx: 6, redirect: 218, aborted: 0 }, errors: [] });
    expect(s.interfaces.be2).toEqual({ ifindex: 4, rx: 0, rx_bytes: 0, tx: 70, tx_bytes: expect.any(Number), pass: 0, drop: 0, aborted: 0, redirected: 0 });
    expect(s.maps['lb/counters']).toEqual([0, 1, 2, 3, 4].map((key, i) => ({ key, value: [216, 6, 2, 19, 0][i] })));
  });

  test('--out writes what left each interface, reached each stack, and was dropped; our reader reads them back', () => {
    const out = join(dir, 'lb');
    const r = cli(['replay', '--topology', 'examples/lb/topology.json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['aborted.pcap', 'be1-pass.pcap', 'be1-tx.pcap', 'be2-pass.pcap', 'be2-tx.pcap', 'be3-pass.pcap', 'be3-tx.pcap', 'drop.pcap', 'wan0-pass.pcap', 'wan0-tx.pcap']);
    const counts = Object.fromEntries(readdirSync(out).map((f) => [f, framesOf(join(out, f)).length]));
    expect(counts).toMatchObject({ 'be1-tx.pcap': 86, 'be2-tx.pcap': 70, 'be3-tx.pcap': 66, 'wan0-tx.pcap': 6, 'wan0-pass.pcap': 19, 'drop.pcap': 1, 'aborted.pcap': 0 });
    // The first frame out of be1 is a client's SYN with the backend's MACs.
    const first = framesOf(join(out, 'be1-tx.pcap'))[0]!;
    expect([...first.subarray(0, 12)]).toEqual([2, 0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 1]);
    expect(first[47]).toBe(0x02);
    expect(r.stdout).toMatch(/wrote 10 captures to .*:\n {2}wan0-tx\.pcap \(6\), wan0-pass\.pcap \(19\)/);
  });

  test('--pcapng writes interface names and the cause of each drop as a comment', () => {
    const out = join(dir, 'fw');
    const r = cli(['replay', '--topology', 'examples/firewall/topology.json', '--out', out, '--pcapng']);
    expect(r.code, r.stderr).toBe(0);
    const dropped = [...captureRecords(readFileSync(join(out, 'drop.pcapng')))];
    expect(dropped.length).toBe(45);
    expect(dropped[0]!.interface.name).toBe('eth0');
    expect(dropped[0]!.comments).toEqual(['eth0 xdp xdp_firewall: XDP_DROP']);
  });

  test('--pcapng comments carry each frame\'s metadata pairs, named by the topology or by --meta-key', () => {
    const out = join(dir, 'tags');
    expect(cli(['replay', '--topology', 'examples/kv-tags/topology.json', '--out', out, '--pcapng']).code).toBe(0);
    const tx = [...captureRecords(readFileSync(join(out, 'eth1-tx.pcapng')))];
    expect(tx.slice(0, 2).map((r) => r.comments)).toEqual([['kv: packet_id=1 class=1'], ['kv: packet_id=2 class=1']]);
    // A plain replay (no devmap entry: the redirect falls back to XDP_PASS) with names from the command line.
    const plain = join(dir, 'tags-plain');
    const r = cli(['replay', 'examples/kv-tags/tags.o', '--program', 'xdp_tag', '--pcap', 'examples/kv-tags/traffic.pcap', '--out', plain, '--pcapng', '--meta-key', 'id=0', '--meta-key', 'class=1', '--limit', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect([...captureRecords(readFileSync(join(plain, 'eth0-pass.pcapng')))].map((x) => x.comments)).toEqual([['kv: id=1 class=1']]);
    expect(cli(['replay', 'examples/kv-tags/tags.o', '--pcap', 'examples/kv-tags/traffic.pcap', '--meta-key', 'id=70']).stderr).toMatch(/--meta-key: metadata key 70 for 'id' must be an integer from 0 to 63/);
  });

  test.for(['interp', 'jit'])('topologies with a control-plane module: the NAT and the MTU guard (%s)', (engine) => {
    const nat = JSON.parse(cli(['replay', '--topology', 'examples/nat/topology.json', '--engine', engine, '--json', '--dump-maps']).stdout);
    expect(nat).toMatchObject({ packets: 74, interfaces: { lan0: { tx: 19, pass: 13 }, wan0: { tx: 41, pass: 7 } }, maps: { 'nat/flows': [] } });
    const guard = JSON.parse(cli(['replay', '--topology', 'examples/mtu-guard/topology.json', '--engine', engine, '--json', '--dump-maps']).stdout);
    expect(guard.maps['guard/counters']).toEqual([{ key: 0, value: 76 }, { key: 1, value: 5 }]);
  });

  test('a control-plane module that is not one is an error naming the topology', () => {
    const path = join(PROJECT_ROOT, 'examples', 'mtu-guard', `.broken-${process.pid}.json`);
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', 'mtu-guard', 'topology.json'), 'utf8')), control: 'guard.c' }));
    try {
      const r = cli(['replay', '--topology', path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^ebpf-wasm: ${path.replace(/[.]/g, '\\.')}: control: .*guard\\.c: `));
    } finally {
      spawnSync('rm', ['-f', path]);
    }
  });

  test('a plain replay puts the object\'s program on eth0; a tc/egress program takes the capture as sent frames', () => {
    const r = cli(['replay', 'examples/tc-counter/rate.o', '--pcap', 'examples/tc-counter/traffic.pcap', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.interfaces.eth0).toMatchObject({ ifindex: 2, rx: 0, tx: 185 });
    expect(s.hooks).toEqual([{ interface: 'eth0', hook: 'tc_egress', program: 'tc_rate', verdicts: { ok: 185 } }]);
  });

  test('--verbose prints a line per packet; --limit stops early', () => {
    const r = cli(['replay', '--topology', 'examples/firewall/topology.json', '--verbose', '--limit', '40']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('#'));
    expect(lines).toHaveLength(40);
    expect(lines[0]).toMatch(/^#1 on eth0 \(\d+ bytes\): pass eth0$/);
    expect(r.stdout).toContain('trace: blocked 198.51.100.7');
    expect(r.stdout).toMatch(/^replayed 40 packets/m);
  });

  test('a truncated capture: everything before the bad record is replayed and reported, then one line naming the file, the record and the offset', () => {
    const whole = readFileSync(join(PROJECT_ROOT, 'examples', 'lb', 'traffic.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, 10000));
    const r = cli(['replay', 'examples/lb/lb.o', '--program', 'xdp_lb', '--pcap', cut, '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.packets).toBeGreaterThan(50);
    expect(s.errors).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^ebpf-wasm: ${cut.replace(/[.]/g, '\\.')}: record ${s.packets + 1} at byte \\d+: .*truncated.*\\n$`));
  });

  test.for(['interp', 'jit'])('the socket statistics example on %s: per-socket counters keyed by cookie, the sockets listed', async (engine) => {
    const r = cli(['replay', '--topology', 'examples/sockstat/topology.json', '--engine', engine, '--json', '--dump-maps']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    // The same topology through the JS API gives the same counters.
    const runtime = new Runtime({ engine });
    const applied = await loadTopologyFile(runtime, join(PROJECT_ROOT, 'examples', 'sockstat', 'topology.json'));
    await replay(runtime, readCaptures(runtime.network, applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }))));
    expect(s.maps['sockstat/sock_stats']).toEqual(applied.objects.get('sockstat')!.typedMap('sock_stats', { bigint: 'string' }).dump());
    expect(s.maps['sockstat/sock_stats']).toHaveLength(6);
    expect(s.sockets.map((x: { cookie: number; socket: string }) => `${x.cookie} ${x.socket}`)).toEqual(applied.sockets.map((x) => String(x).replace(/(.*) \(cookie (\d+)\)$/, '$2 $1')));
    expect(s.hooks.map((h: { hook: string }) => h.hook)).toEqual(['cgroup_ingress', 'cgroup_egress']);
    const text = cli(['replay', '--topology', 'examples/sockstat/topology.json', '--engine', engine, '--dump-maps']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/eth0 +cgroup_egress +count_tx +pass \d+, drop \d+/);
    expect(text.stdout).toMatch(/sockets \(socket storage is keyed by cookie\)\n +1 +tcp 10\.0\.0\.30:443 <-> 203\.0\.113\.10:40001 +state 1\n/);
  });

  test('a wrong topology is one line naming the file and the JSON path', () => {
    const doc = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', 'lb', 'topology.json'), 'utf8'));
    doc.maps['lb/tx_ports'][0].value.ifindex = 'be9';
    const path = join(PROJECT_ROOT, 'examples', 'lb', `.broken-${process.pid}.json`);
    writeFileSync(path, JSON.stringify(doc));
    try {
      const r = cli(['replay', '--topology', path]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`ebpf-wasm: ${path}: maps["lb/tx_ports"][0].value.ifindex: no interface 'be9' (there are: lo, wan0, be1, be2, be3)\n`);
    } finally {
      spawnSync('rm', ['-f', path]);
    }
  });

  test.for([
    { args: ['replay', 'tests/fixtures/datapath.o', '--pcap', 'examples/lb/traffic.pcap'], message: /datapath\.o: has 5 programs that could take the capture; choose one with --program \(xdp_ingress, xdp_frags, tc_ingress, tc_egress, packet_filter\)/ },
    { args: ['replay', 'examples/lb/lb.o', '--program', 'rewrite_mac', '--pcap', 'examples/lb/traffic.pcap'], message: /program 'rewrite_mac' is a xdp\/devmap program, which does not sit on an interface/ },
    { args: ['replay', 'examples/lb/lb.o', '--program', 'xdp_lb', '--pcap', 'nope.pcap'], message: /nope\.pcap: .*no such file/i },
    { args: ['replay', 'examples/lb/lb.o', '--program', 'xdp_lb', '--pcap', 'examples/lb/lb.c'], message: /examples\/lb\/lb\.c: .*(magic|not a pcap)/i },
    { args: ['replay', '--pcap', 'examples/lb/traffic.pcap'], message: /give an object file \(with --pcap\) or a --topology/ },
    { args: ['replay', 'examples/lb/lb.o', '--program', 'xdp_lb', '--pcap', 'examples/lb/traffic.pcap', '--engine', 'both'], message: /replay runs one engine/ },
  ])('bad input is one line: $args', ({ args, message }) => {
    const r = cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
