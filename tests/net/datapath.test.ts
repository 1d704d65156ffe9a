// The datapath carries out verdicts as Linux would: every XDP action, redirects through bpf_redirect,
// devmaps (with entry programs and broadcast) and cpumaps, the egress hook, tc ingress and egress,
// packet sockets and loopback interfaces. tests/fixtures/datapath.c picks each program's action by
// the frame's UDP destination port and records what each program saw; every case runs on both engines.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { buildPacket, type PacketFields } from '../../net/packets.js';
import { Datapath, type FrameEvent } from '../../net/datapath.js';
import { encode } from '../../isa/instruction.js';
import { assemble } from '../../isa/assembler.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

const fixture = (name: string) => join(PROJECT_ROOT, 'tests', 'fixtures', name);
const ENGINES = ['interp', 'jit'] as const;

/** The slots of `seen` (datapath.c enum slot). */
const Slot = { XDP_INGRESS: 0, XDP_EGRESS: 1, DEVMAP_IN: 2, DEVMAP_OUT: 3, DEVMAP_META: 4, CPUMAP_IN: 5, CPUMAP_CPU: 6, EGRESS_IN: 7, EGRESS_OUT: 8, TC_META: 9, TC_VLAN: 10, TC_IFINDEX: 11, TC_OUT_IFINDEX: 12, BUFF_LEN: 13 } as const;
const META_TAG = 0xfeedf00d;

interface Seen {
  fate: FrameEvent['fate'];
  dev: string;
  hook: string;
  program?: string;
  cause?: string;
  bytes: Uint8Array;
}

/** eth0 (2), eth1 (3) and eth2 (4) with datapath.c's programs: XDP on eth0, the egress hook on eth1, tc on eth0 and eth2. */
async function network(engine: 'interp' | 'jit', options: { egressHook?: boolean; mtu?: number } = {}) {
  const rt = new Runtime({ engine, cpus: 2 });
  const obj = await rt.loadObject(fixture('datapath.o'));
  const eth0 = rt.network.addInterface({ name: 'eth0', mac: '02:00:00:00:00:02' });
  const eth1 = rt.network.addInterface({ name: 'eth1', mac: '02:00:00:00:00:03', ...(options.mtu ? { mtu: options.mtu } : {}) });
  const eth2 = rt.network.addInterface({ name: 'eth2', mac: '02:00:00:00:00:04' });
  eth0.attach('xdp', obj.program('xdp_ingress'));
  if (options.egressHook ?? true) eth1.attach('xdp_egress', obj.program('xdp_egress'));
  const frames: Seen[] = [];
  const dp = new Datapath(rt, {
    onFrame: (e) => frames.push({ fate: e.fate, dev: e.dev.name, hook: e.hook, bytes: e.bytes.slice(), ...(e.program ? { program: e.program } : {}), ...(e.cause ? { cause: e.cause } : {}) }),
  });
  const seen = (slot: number) => obj.typedMap('seen').lookup(slot) as number;
  const udp = (port: number, fields: PacketFields = {}) => buildPacket({ proto: 'udp', dstPort: port, dstMac: '02:00:00:00:00:02', ...fields });
  const fates = () => frames.map((f) => `${f.fate} ${f.dev}${f.cause ? `: ${f.cause}` : ''}`);
  return { rt, obj, eth0, eth1, eth2, dp, frames, seen, udp, fates };
}

describe.each(ENGINES)('the datapath on %s', (engine) => {
  test('each XDP action is carried out: pass to the stack, drop, abort, tx out of the ingress interface; an invalid action aborts', async () => {
    const n = await network(engine);
    for (const port of [0, 1, 2, 3, 5]) n.dp.receive(n.eth0, n.udp(port));
    expect(n.fates()).toEqual([
      'aborted eth0: XDP_ABORTED',
      'drop eth0: XDP_DROP',
      'pass eth0',
      'tx eth0',
      'aborted eth0: invalid 9 is not a verdict XDP may return',
    ]);
    expect(n.dp.stats.verdicts).toEqual({ aborted: 2, drop: 1, pass: 1, tx: 1, redirect: 0 });
    expect(n.seen(Slot.XDP_INGRESS)).toBe(2);
    expect(n.eth0.counters).toMatchObject({ rxPackets: 5, txPackets: 1, pass: 1, rxDropped: 1, aborted: 2 });
    expect(n.frames[3]!.bytes).toEqual(n.udp(3));
  });

  test('a devmap entry sends the frame out of its interface after the entry program, which sees both interfaces and the metadata', async () => {
    const n = await network(engine, { egressHook: false });
    const devmapProgram = n.obj.program('devmap_prog').id;
    n.obj.typedMap('ports').update(0, { ifindex: 3, bpf_prog: { fd: devmapProgram } });
    n.obj.typedMap('ports').update(2, { ifindex: 4, bpf_prog: { fd: devmapProgram } });
    n.dp.receive(n.eth0, n.udp(13));
    expect(n.fates()).toEqual(['tx eth1']);
    expect([n.seen(Slot.DEVMAP_IN), n.seen(Slot.DEVMAP_OUT), n.seen(Slot.DEVMAP_META)]).toEqual([2, 3, META_TAG]);
    // The entry program stamped the egress ifindex into the source MAC; the metadata does not go on the wire.
    const expected = n.udp(13);
    expected[11] = 3;
    expect(n.frames[0]!.bytes).toEqual(expected);
    // The entry program's XDP_DROP drops on the target; an empty key falls back to the flags' action.
    n.dp.receive(n.eth0, n.udp(12));
    n.dp.receive(n.eth0, n.udp(11));
    expect(n.fates().slice(1)).toEqual(['drop eth2: XDP_DROP', 'drop eth0: XDP_DROP']);
    expect(n.eth2.counters.txDropped).toBe(1);
    expect(n.dp.stats.redirects()).toEqual([
      { from: 'eth0', via: 'ports', key: 0, to: 'eth1', frames: 1 },
      { from: 'eth0', via: 'ports', key: 2, to: 'eth2', frames: 1 },
    ]);
  });

  test('broadcast sends a copy through every entry but the receiving interface, each with its own entry program run', async () => {
    const n = await network(engine, { egressHook: false });
    const id = n.obj.program('devmap_prog').id;
    for (const [key, ifindex] of [[0, 2], [1, 3], [2, 4]] as const) n.obj.typedMap('ports').update(key, { ifindex, bpf_prog: { fd: id } });
    n.dp.receive(n.eth0, n.udp(30));
    expect(n.fates()).toEqual(['tx eth1', 'tx eth2']);
    expect(n.dp.stats.redirects().map((r) => `${r.via} ${r.key} ${r.to}`)).toEqual(['ports (broadcast) 1 eth1', 'ports (broadcast) 2 eth2']);
    expect(n.frames.map((f) => f.bytes[11])).toEqual([3, 4]);
  });

  test('a cpumap entry runs its program on that CPU; PASS reaches the receiving interface\'s stack, REDIRECT redirects again', async () => {
    const n = await network(engine, { egressHook: false });
    n.obj.typedMap('cpus').update(1, { qsize: 64, bpf_prog: { fd: n.obj.program('cpumap_prog').id } });
    n.obj.typedMap('ports').update(1, { ifindex: 4, bpf_prog: { fd: 0 } });
    n.dp.receive(n.eth0, n.udp(21));
    expect([n.seen(Slot.CPUMAP_IN), n.seen(Slot.CPUMAP_CPU)]).toEqual([2, 1]);
    expect(n.fates()).toEqual(['tx eth2']);
    n.obj.typedMap('cpus').update(0, { qsize: 64, bpf_prog: { fd: 0 } });
    n.dp.receive(n.eth0, n.udp(20));
    expect(n.fates().slice(1)).toEqual(['pass eth0']);
    expect(n.dp.stats.redirects().map((r) => r.to)).toEqual(['cpu 1', 'eth2', 'cpu 0']);
  });

  test('bpf_redirect: to an interface; failures drop on the receiving interface with the errno Linux gives', async () => {
    const n = await network(engine, { egressHook: false, mtu: 68 });
    n.dp.receive(n.eth0, n.udp(31));
    n.dp.receive(n.eth0, n.udp(31, { payload: new Uint8Array(100) }));
    expect(n.fates()).toEqual(['tx eth1', 'drop eth0: redirect failed (-EMSGSIZE): a frame of 142 bytes exceeds eth1\'s MTU of 68']);
    // Interfaces that take no XDP frames (lo), and ifindexes with no interface.
    const m = await network(engine, { egressHook: false });
    m.obj.typedMap('ports').update(0, { ifindex: 1, bpf_prog: { fd: 0 } });
    m.dp.receive(m.eth0, m.udp(10));
    expect(m.fates()).toEqual(['drop eth0: redirect failed (-EOPNOTSUPP): lo does not take XDP frames (no ndo_xdp_xmit)']);
  });

  test('the egress hook sees every frame an interface transmits, with both interfaces; its DROP drops', async () => {
    const n = await network(engine);
    n.obj.typedMap('ports').update(0, { ifindex: 3, bpf_prog: { fd: 0 } });
    n.dp.receive(n.eth0, n.udp(10));
    expect(n.fates()).toEqual(['tx eth1']);
    expect([n.seen(Slot.EGRESS_IN), n.seen(Slot.EGRESS_OUT)]).toEqual([2, 3]);
    n.eth0.attach('xdp_egress', n.obj.program('xdp_egress'));
    n.dp.receive(n.eth0, n.udp(3)); // XDP_TX, then the hook on eth0 drops port 3
    expect(n.fates().slice(1)).toEqual(['drop eth0: XDP_DROP']);
    expect(n.eth0.counters.txDropped).toBe(1);
  });

  test('tc ingress sees XDP metadata and untagged VLAN frames; SHOT, STOLEN and redirects are carried out', async () => {
    const n = await network(engine, { egressHook: false });
    n.eth0.attach('tc_ingress', n.obj.program('tc_ingress'));
    n.eth2.attach('tc_egress', n.obj.program('tc_egress'));
    n.obj.typedMap('tc_target').update(0, 4);
    n.dp.receive(n.eth0, n.udp(40));
    expect(n.seen(Slot.TC_META)).toBe(META_TAG);
    n.dp.receive(n.eth0, n.udp(7, { vlans: [100] }));
    expect(n.seen(Slot.TC_VLAN)).toBe(0x10000 | 100);
    // The stack's copy shows the tag again, as a capture on the interface would.
    expect(n.frames[1]!.bytes).toEqual(n.udp(7, { vlans: [100] }));
    for (const port of [50, 53, 51, 52]) n.dp.receive(n.eth0, n.udp(port));
    expect(n.fates()).toEqual(['pass eth0', 'pass eth0', 'drop eth0: TC_ACT_SHOT', 'drop eth0: STOLEN: consumed by the program', 'tx eth2', 'pass eth2']);
    expect(n.seen(Slot.TC_OUT_IFINDEX)).toBe(4);
    expect(n.dp.stats.redirects()).toEqual([
      { from: 'eth0', via: 'bpf_redirect', key: 4, to: 'eth2', frames: 1 },
      { from: 'eth0', via: 'bpf_redirect', key: 4, to: 'eth2 (ingress)', frames: 1 },
    ]);
  });

  test('what a stack sends goes through tc egress, packet sockets and the egress hook', async () => {
    const n = await network(engine);
    n.eth1.attach('tc_egress', n.obj.program('tc_egress'));
    n.eth1.attach('socket_filter', n.obj.program('packet_filter'));
    n.dp.send(n.eth1, n.udp(54));
    n.dp.send(n.eth1, n.udp(60));
    expect(n.fates()).toEqual(['drop eth1: TC_ACT_SHOT', 'socket eth1', 'tx eth1']);
    expect(n.frames[1]!.bytes).toEqual(n.udp(60).subarray(0, 20));
    expect([n.seen(Slot.EGRESS_IN), n.seen(Slot.EGRESS_OUT)]).toEqual([0, 3]);
  });

  test('a packet socket keeps what its filter says and the frame goes on', async () => {
    const n = await network(engine);
    n.eth0.attach('socket_filter', n.obj.program('packet_filter'));
    for (const port of [60, 61, 7]) n.dp.receive(n.eth0, n.udp(port));
    expect(n.fates()).toEqual(['socket eth0', 'pass eth0', 'pass eth0', 'socket eth0', 'pass eth0']);
    expect(n.frames.map((f) => f.bytes.length)).toEqual([20, 42, 42, 42, 42]);
    expect(n.dp.stats.hookTallies().find((t) => t.hook === 'socket_filter')!.verdicts).toEqual({ truncate: 1, drop: 1, accept: 1 });
  });

  test('a loopback interface receives what it sends, up to the hop limit', async () => {
    const rt = new Runtime({ engine });
    const obj = await rt.loadObject(fixture('datapath.o'));
    const loop = rt.network.addInterface({ name: 'loop0', loopback: true });
    loop.attach('xdp', obj.program('xdp_ingress'));
    const frames: string[] = [];
    const dp = new Datapath(rt, { maxHops: 3, onFrame: (e) => frames.push(`${e.fate} ${e.cause ?? ''}`.trim()) });
    dp.receive(loop, buildPacket({ proto: 'udp', dstPort: 3 }));
    expect(frames).toEqual(['tx', 'tx', 'tx', 'tx', 'drop hop limit of 3 reached']);
    expect(loop.counters.rxPackets).toBe(4);
  });

  test('an xdp.frags program takes a jumbo frame whole; a redirect checks the target\'s MTU against all of it', async () => {
    const n = await network(engine, { egressHook: false, mtu: 9000 });
    n.eth0.attach('xdp', n.obj.program('xdp_frags'));
    n.obj.typedMap('jumbo_ports').update(0, { ifindex: 3, bpf_prog: { fd: 0 } });
    const jumbo = n.udp(3, { payload: new Uint8Array(8958) });
    n.dp.receive(n.eth0, jumbo);
    expect(n.seen(Slot.BUFF_LEN)).toBe(9000);
    const expected = jumbo.slice();
    expected[8999] = 0xee;
    expect(n.frames[0]!.bytes).toEqual(expected);
    n.dp.receive(n.eth0, n.udp(10, { payload: new Uint8Array(8958) }));
    n.eth1.mtu = 1500;
    n.dp.receive(n.eth0, n.udp(10, { payload: new Uint8Array(8958) }));
    expect(n.fates()).toEqual(['tx eth0', 'tx eth1', "drop eth0: redirect failed (-EMSGSIZE): a frame of 9000 bytes exceeds eth1's MTU of 1500"]);
  });

  test('tail calls run through the datapath as in a test run: entry, a stage per protocol, a final stage', async () => {
    const rt = new Runtime({ engine });
    const obj = await rt.loadObject(fixture('tail_calls.o'));
    const eth0 = rt.network.addInterface({ name: 'eth0' }).attach('xdp', obj.program('entry'));
    const verdicts: number[] = [];
    const dp = new Datapath(rt, { onProgram: (r) => verdicts.push(r.verdict!) });
    const packets = [buildPacket({ ttl: 0 }), buildPacket({ ipVersion: 6 }), buildPacket({ payload: new Uint8Array(1500) }), buildPacket()];
    for (const p of packets) dp.receive(eth0, p);
    // The chain's last program decides: XDP_DROP for TTL 0 (stage_ipv4), PASS, DROP for over 1,500 bytes (stage_final), PASS.
    expect(verdicts).toEqual(packets.map((p) => obj.program('entry').testRun({ dataIn: p }).retval));
    expect(verdicts).toEqual([1, 2, 1, 2]);
    expect(dp.stats.verdicts).toMatchObject({ drop: 2, pass: 2 });
  });

  test('a frame larger than one buffer is dropped for a program that does not take multi-buffer frames', async () => {
    const n = await network(engine);
    n.dp.receive(n.eth0, n.udp(2, { payload: new Uint8Array(4000) }));
    expect(n.fates()).toEqual([expect.stringMatching(/^drop eth0: frame of 4042 bytes is larger than one 4096-byte buffer .* 'xdp_ingress' is not an xdp.frags program$/)]);
  });
});

test('a program that faults aborts the frame, with the pc and the cause', async () => {
  const code = encode(assemble('ldxw %r0, [%r1+0]\n ldxb %r0, [%r0+5000]\n exit'));
  const bytes = writeElf({ programs: [{ name: 'xdp', code }], functions: [{ name: 'reader', section: 'xdp', offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' });
  const rt = new Runtime();
  // The verifier refuses this program (no bounds check): only the checked interpreter may run it, unverified.
  const obj = await rt.loadObject(bytes, { unsafeSkipVerification: true });
  const eth0 = rt.network.addInterface({ name: 'eth0' }).attach('xdp', obj.program('reader'));
  const dp = new Datapath(rt);
  dp.receive(eth0, buildPacket());
  expect(dp.stats.abortCauses()).toEqual([{ interface: 'eth0', hook: 'xdp', program: 'reader', pc: 1, cause: expect.stringMatching(/^pc 1: read of 1 byte at 0x[0-9a-f]+ is outside/), frames: 1 }]);
  expect(dp.stats.verdicts.aborted).toBe(1);
});

test('hooks take only the programs Linux would attach there', async () => {
  const rt = new Runtime();
  const obj = await rt.loadObject(fixture('datapath.o'));
  const eth0 = rt.network.addInterface({ name: 'eth0' });
  expect(() => eth0.attach('xdp', obj.program('tc_ingress'))).toThrow("eth0: xdp takes an XDP program; 'tc_ingress' is a sched_cls program");
  expect(() => eth0.attach('xdp', obj.program('devmap_prog'))).toThrow(/'devmap_prog' is an xdp\/devmap program, which runs only from a devmap entry/);
  expect(() => eth0.attach('tc_ingress', obj.program('xdp_ingress'))).toThrow(/takes a tc \(sched_cls\) program/);
  // Devmap entries take devmap programs only (expected_attach_type).
  expect(() => obj.typedMap('ports').update(0, { ifindex: 2, bpf_prog: { fd: obj.program('xdp_ingress').id } })).toThrow(/EINVAL/);
  // Maps that hold programs take only programs like the ones they hold (bpf_prog_map_compatible).
  const tails = await rt.loadObject(fixture('tail_calls.o'));
  expect(() => tails.map('stages').update(new Uint8Array(4), Uint8Array.of(obj.program('tc_ingress').id, 0, 0, 0))).toThrow(/stages/);
  expect(() => obj.typedMap('jumbo_ports').update(0, { ifindex: 2, bpf_prog: { fd: obj.program('devmap_prog').id } })).toThrow(/EINVAL/);
  expect(() => rt.network.addInterface({ name: 'eth0' })).toThrow("there is already an interface named 'eth0'");
  expect(() => rt.network.addInterface({ name: 'x', ifindex: 1 })).toThrow('x: ifindex 1 is taken by lo');
});

describe.each(ENGINES)('the metadata store through the datapath on %s', (engine) => {
  test('what the ingress program stores reaches devmap, cpumap and egress programs, and broadcast copies', async () => {
    const rt = new Runtime({ engine });
    const obj = await rt.loadObject(fixture('kv_store.o'));
    const eth0 = rt.network.addInterface({ name: 'eth0' });
    const eth1 = rt.network.addInterface({ name: 'eth1' });
    const eth2 = rt.network.addInterface({ name: 'eth2' });
    eth0.attach('xdp', obj.program('kv_ingress'));
    for (const dev of [eth0, eth1, eth2]) dev.attach('xdp_egress', obj.program('kv_egress'));
    obj.typedMap('ports').update(0, { ifindex: 3, bpf_prog: { fd: obj.program('kv_devmap').id } });
    obj.typedMap('ports').update(1, { ifindex: 4, bpf_prog: { fd: obj.program('kv_devmap').id } });
    obj.typedMap('cpus').update(0, { qsize: 16, bpf_prog: { fd: obj.program('kv_cpumap').id } });
    const seen = (slot: number) => obj.typedMap('seen').lookup(slot) as number;
    const events: string[] = [];
    const dp = new Datapath(rt, { metadata: true, onFrame: (e) => events.push(`${e.fate} ${e.dev.name} ${(e.metadata ?? []).map(([k, v]) => `${k}=${v}`).join(',')}`) });
    dp.receive(eth0, buildPacket({ proto: 'udp', dstPort: 10 }));
    expect([seen(0), seen(2), seen(3)]).toEqual([10 | (3 << 16), 10 | (3 << 16), 1]);
    dp.receive(eth0, buildPacket({ proto: 'udp', dstPort: 20 }));
    expect(seen(1)).toBe(20);
    dp.receive(eth0, buildPacket({ proto: 'udp', dstPort: 7 }));
    expect(seen(2)).toBe(7 | (2 << 16));
    dp.receive(eth0, buildPacket({ proto: 'udp', dstPort: 30 }));
    expect(events).toEqual(['tx eth1 2=10', 'pass eth0 2=20', 'tx eth0 2=7', 'tx eth1 2=30', 'tx eth2 2=30']);
  });
});
