// Topology files: applied to a runtime, they load objects, create interfaces with their programs and
// fill maps through BTF with program and interface references resolved; every mistake is one error
// naming the file and the JSON path, and leaves nothing loaded behind.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { loadTopologyFile } from '../../net/topology-file.js';
import { TopologyError } from '../../net/topology.js';
import { PROJECT_ROOT } from '../support/suite.js';

const examples = join(PROJECT_ROOT, 'examples');
const lbTopology = () => JSON.parse(readFileSync(join(examples, 'lb', 'topology.json'), 'utf8')) as Record<string, unknown>;

/** Writes a topology beside the lb example's object (so "lb.o" resolves) and applies it. */
async function apply(doc: unknown, runtime = new Runtime()) {
  const dir = mkdtempSync(join(tmpdir(), 'topology-'));
  writeFileSync(join(dir, 'lb.o'), readFileSync(join(examples, 'lb', 'lb.o')));
  const path = join(dir, 'topo.json');
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return { runtime, path, applied: await loadTopologyFile(runtime, path) };
}

describe('a topology applied', () => {
  test('the load balancer example: interfaces by position, programs on hooks, devmap entries naming programs and interfaces', async () => {
    const runtime = new Runtime();
    const applied = await loadTopologyFile(runtime, join(examples, 'lb', 'topology.json'));
    expect(runtime.network.list().map((d) => `${d.name}:${d.ifindex}`)).toEqual(['lo:1', 'wan0:2', 'be1:3', 'be2:4', 'be3:5']);
    const lb = applied.objects.get('lb')!;
    expect(runtime.network.get('wan0').program('xdp')).toBe(lb.program('xdp_lb'));
    expect(runtime.network.get('be2').program('xdp_egress')).toBe(lb.program('count_tx'));
    expect(lb.typedMap('tx_ports').lookup(1)).toEqual({ ifindex: 4, bpf_prog: { fd: lb.program('rewrite_mac').id, id: lb.program('rewrite_mac').id } });
    expect(lb.typedMap('config').lookup(0)).toEqual({ vip: 0x0a000064, port: 80, backends: 3 });
    expect(lb.typedMap('backends').lookup(2)).toEqual({ mac: [2, 0, 0, 0, 2, 3], src_mac: [2, 0, 0, 0, 1, 3] });
    expect(applied.captures).toEqual([{ path: join(examples, 'lb', 'traffic.pcap'), interface: runtime.network.get('wan0'), direction: 'in', jsonPath: 'interfaces[0].pcap' }]);
  });

  const broken = (edit: (doc: Record<string, any>) => void) => {
    const doc = lbTopology();
    edit(doc);
    return doc;
  };

  test.for([
    { name: 'an unknown interface in a devmap value', doc: broken((d) => (d.maps['lb/tx_ports'][0].value.ifindex = 'be9')), message: /: maps\["lb\/tx_ports"\]\[0\]\.value\.ifindex: no interface 'be9' \(there are: lo, wan0, be1, be2, be3\)$/ },
    { name: 'an unknown program', doc: broken((d) => (d.interfaces[0].xdp = 'lb/nope')), message: /: interfaces\[0\]\.xdp: object 'lb' has no program 'nope' \(it has: xdp_lb, rewrite_mac, count_tx\)$/ },
    { name: 'an unknown object', doc: broken((d) => (d.interfaces[0].xdp = 'fw/xdp')), message: /: interfaces\[0\]\.xdp: no object 'fw' \(there are: lb\)$/ },
    { name: 'a program on the wrong hook', doc: broken((d) => (d.interfaces[0].xdp = 'lb/rewrite_mac')), message: /interfaces\[0\]\.xdp: wan0: 'rewrite_mac' is an xdp\/devmap program, which runs only from a devmap entry/ },
    { name: 'an unknown map', doc: broken((d) => (d.maps['lb/nope'] = [])), message: /: maps\["lb\/nope"\]: object 'lb' has no map 'nope'/ },
    { name: 'a value that does not fit the BTF', doc: broken((d) => (d.maps['lb/config'][0].value.port = 70000)), message: /: maps\["lb\/config"\]\[0\]\.value\.port: 70000 is out of range for __be16/ },
    { name: 'a member the value lacks', doc: broken((d) => (d.maps['lb/config'][0].value.vport = 1)), message: /: maps\["lb\/config"\]\[0\]\.value\.vport: struct lb_config has no member 'vport'/ },
    { name: 'a key past the end', doc: broken((d) => d.maps['lb/config'].push({ key: 1, value: {} })), message: /: maps\["lb\/config"\]\[1\]: .*E2BIG/ },
    { name: 'a typo in an interface key', doc: broken((d) => (d.interfaces[1].xpd = 'lb/xdp_lb')), message: /: interfaces\[1\]\.xpd: unknown key \(known: name, ifindex/ },
    { name: 'ifindex 1, which is lo\'s', doc: broken((d) => (d.interfaces[0].ifindex = 1)), message: /: interfaces\[0\]: wan0: ifindex 1 is taken by lo$/ },
    { name: 'a bad MAC', doc: broken((d) => (d.interfaces[2].mac = '02:00')), message: /: interfaces\[2\]: '02:00' is not a MAC address/ },
    { name: 'an object that is not there', doc: broken((d) => (d.objects.lb = 'missing.o')), message: /: objects\.lb: cannot read missing\.o: ENOENT/ },
    { name: 'globals of an object that has none', doc: broken((d) => (d.maps['lb/.rodata'] = { debug: 1 })), message: /: maps\["lb\/\.rodata"\]: no such global data section \(there are: none\)$/ },
    { name: 'global data given as entries', doc: broken((d) => (d.maps['lb/.data'] = [{ key: 0, value: {} }])), message: /: maps\["lb\/\.data"\]: a global data section takes an object of its variables/ },
    { name: 'invalid JSON', doc: '{ "objects": { "lb": "lb.o" },\n  "interfaces": [ }', message: /: not valid JSON: .*"faces": \[ }/ },
  ])('$name is one error naming the file and the JSON path', async ({ doc, message }) => {
    const runtime = new Runtime();
    const error = await apply(doc, runtime).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as Error).message).toMatch(/^\/.*topo\.json: /);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  test('global data is set before its object loads, so .rodata reaches the verifier; --map contents come after the file\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topology-'));
    writeFileSync(join(dir, 'g.o'), readFileSync(join(PROJECT_ROOT, 'tests', 'fixtures', 'global_data.o')));
    const path = join(dir, 'topo.json');
    writeFileSync(path, JSON.stringify({
      objects: { g: 'g.o' }, interfaces: [{ name: 'eth0' }],
      maps: { 'g/.rodata': { max_len: 20 }, 'g/.data': { packets: 5, last_len: 9 } },
    }));
    const runtime = new Runtime();
    const applied = await loadTopologyFile(runtime, path, [{ ref: 'g/.data', value: { packets: 50 }, file: 'extra.json' }]);
    const g = applied.objects.get('g')!;
    expect(g.map('.rodata').frozen).toBe(true);
    expect(g.typedMap('.rodata').lookup(new Uint8Array(4))).toMatchObject({ max_len: 20 });
    expect(g.typedMap('.data').lookup(new Uint8Array(4))).toMatchObject({ packets: 50, last_len: 9 });
    const error = await loadTopologyFile(new Runtime(), path, [{ ref: 'g/.rodata', value: { max_len: 'x' }, file: 'extra.json' }]).catch((e: unknown) => e);
    expect((error as Error).message).toBe("extra.json: g/.rodata: value.max_len: const volatile __u32 takes an integer, not the string 'x'");
  });

  test('a failed topology leaves no object loaded', async () => {
    const runtime = new Runtime();
    const regions = runtime.memory.regions().length;
    await expect(apply(broken((d) => (d.maps['lb/backends'][0].value.mac = 'zz')), runtime)).rejects.toThrow(TopologyError);
    expect(runtime.memory.regions().filter((r) => r.name !== 'map handles').length).toBe(regions);
  });
});

describe('fuzzed topologies', () => {
  test('mutated topologies give a TopologyError or apply; nothing else escapes and a failed one leaves nothing loaded', async () => {
    const { prng } = await import('../support/prng.js');
    const random = prng(0x70b0);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const junk = () => pick<unknown>([null, true, -1, 0, 1.5, 2 ** 40, '', 'be9', 'lb/nope', 'x/y/z', '02:00', '10.0.0.300', [], [1, 2], {}, { a: 1 }, 'lb/xdp_lb', 'lb/rewrite_mac', 'wan0']);
    /** Every object or array in a JSON value, with a way to change one of its slots. */
    const slots = (v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) => {
      if (Array.isArray(v)) v.forEach((x, i) => { out.push([v, i]); slots(x, out); });
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push([v as Record<string, unknown>, k]); slots(x, out); }
      return out;
    };
    let applied = 0;
    let refused = 0;
    for (let round = 0; round < 150; round++) {
      const doc = lbTopology();
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        const all = slots(doc);
        const [holder, key] = pick(all);
        const what = random();
        if (what < 0.5) (holder as Record<string | number, unknown>)[key] = junk();
        else if (what < 0.8 && !Array.isArray(holder)) delete (holder as Record<string, unknown>)[key as string];
        else (holder as Record<string | number, unknown>)[`${key}x`] = junk();
      }
      const runtime = new Runtime();
      const before = runtime.memory.regions().length;
      try {
        await apply(doc, runtime);
        applied++;
      } catch (err) {
        expect(err, JSON.stringify(doc)).toBeInstanceOf(TopologyError);
        expect((err as Error).message).not.toContain('\n');
        expect(runtime.memory.regions().filter((r) => r.name !== 'map handles').length).toBe(before);
        expect(runtime.network.list().map((d) => d.name)).toEqual(['lo']);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(50);
    expect(applied).toBeGreaterThan(5);
  });
});
