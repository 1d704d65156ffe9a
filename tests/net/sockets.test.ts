// Sockets in the datapath: frames match the runtime's sockets by 5-tuple; the cgroup's egress
// programs see what a socket sends (before tc egress, which then has the socket in __sk_buff->sk)
// and its ingress programs what a socket receives (after tc ingress, which has no socket yet, as in
// Linux); verdict 0 drops. And the topology's "sockets" and "cgroup" keys. Both engines.
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { buildPacket } from '../../net/packets.js';
import { Datapath, type FrameEvent } from '../../net/datapath.js';
import { loadTopologyFile } from '../../net/topology-file.js';
import { TopologyError } from '../../net/topology.js';
import { encode } from '../../isa/instruction.js';
import { assemble } from '../../isa/assembler.js';
import { writeElf } from '../../scripts/kernel-oracle/elf.mjs';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURE = join(PROJECT_ROOT, 'tests', 'fixtures', 'sk_storage.o');
const ENGINES = ['interp', 'jit'] as const;
const HOST_MAC = '02:00:00:00:00:02';

/** An object with one program in `section`, written in assembler. */
function objectOf(asm: string, section: string): Uint8Array {
  const code = encode(assemble(asm));
  return writeElf({ programs: [{ name: section, code }], functions: [{ name: 'prog', section, offset: 0, size: code.length, global: true }], calls: [], license: 'GPL' });
}

/** tc: TC_ACT_SHOT when `__sk_buff->sk` is NULL (`shotWhen` 'none') or set ('some'), TC_ACT_OK otherwise. */
const tcOnSocket = (shotWhen: 'none' | 'some') => `
  ldxdw %r2, [%r1+168]
  mov %r0, 0
  ${shotWhen === 'none' ? 'jne' : 'jeq'} %r2, 0, out
  mov %r0, 2
out:
  exit`;

async function network(engine: 'interp' | 'jit') {
  const rt = new Runtime({ engine });
  const obj = await rt.loadObject(FIXTURE);
  const eth0 = rt.network.addInterface({ name: 'eth0', mac: HOST_MAC });
  const frames: { fate: FrameEvent['fate']; hook: string; cause?: string }[] = [];
  const dp = new Datapath(rt, { onFrame: (e) => frames.push({ fate: e.fate, hook: e.hook, ...(e.cause ? { cause: e.cause } : {}) }) });
  const server = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
  const dns = rt.sockets.open({ protocol: 'udp', local: '*:53' });
  const inbound = (fields = {}) => buildPacket({ proto: 'tcp', dstMac: HOST_MAC, src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, payload: 'x'.repeat(20), ...fields });
  const outbound = (fields = {}) => buildPacket({ proto: 'tcp', srcMac: HOST_MAC, src: '10.0.0.2', dst: '10.0.0.1', srcPort: 80, dstPort: 40000, payload: 'y'.repeat(100), ...fields });
  const fates = () => frames.splice(0).map((f) => `${f.fate} ${f.hook}${f.cause ? `: ${f.cause}` : ''}`);
  return { rt, obj, eth0, dp, server, dns, inbound, outbound, fates };
}

describe.each(ENGINES)('sockets in the datapath on %s', (engine) => {
  test('cgroup egress counts what each socket sends, from the network header; frames no socket sent are not its', async () => {
    const n = await network(engine);
    n.rt.cgroup.attach('egress', n.obj.program('count'));
    n.dp.send(n.eth0, n.outbound());
    n.dp.send(n.eth0, n.outbound());
    n.dp.send(n.eth0, buildPacket({ proto: 'udp', srcMac: HOST_MAC, src: '10.0.0.2', srcPort: 53, dstPort: 5353 }));
    n.dp.send(n.eth0, n.outbound({ srcPort: 81 }));
    expect(n.fates()).toEqual(['tx wire', 'tx wire', 'tx wire', 'tx wire']);
    const counters = n.obj.typedMap('counters');
    // skb->len counts from the IP header: 154 bytes of frame less 14 of Ethernet.
    expect(counters.lookup(n.server)).toEqual({ packets: 2, bytes: 2 * (n.outbound().length - 14) });
    expect(counters.lookup(n.dns)).toEqual({ packets: 1, bytes: 28 });
    expect(counters.dump().length).toBe(2);
  });

  test('cgroup ingress sees what a socket receives after tc ingress; frames for other hosts and frames without a socket pass uncounted', async () => {
    const n = await network(engine);
    n.rt.cgroup.attach('ingress', n.obj.program('tag'));
    n.dp.receive(n.eth0, n.inbound());
    n.dp.receive(n.eth0, n.inbound());
    n.dp.receive(n.eth0, n.inbound({ dstMac: '02:00:00:00:00:99' }));
    n.dp.receive(n.eth0, n.inbound({ dstPort: 8080 }));
    expect(n.fates()).toEqual(['pass stack', 'pass stack', 'pass stack', 'pass stack']);
    // The tag started at skb->len + 0x100 and went up once per frame the socket received.
    expect(n.obj.typedMap('tags').dump()).toEqual([{ key: Number(n.server.cookie), value: 0x100 + (n.inbound().length - 14) + 2 }]);
  });

  test('a verdict of 0 drops: on egress before tc egress, on ingress after tc ingress; every attached program runs', async () => {
    const n = await network(engine);
    const deny = await n.rt.loadObject(objectOf('mov %r0, 0\n exit', 'cgroup_skb/egress'), { fileName: 'deny.o' });
    const cn = await n.rt.loadObject(objectOf('mov %r0, 3\n exit', 'cgroup_skb/egress'), { fileName: 'cn.o' });
    n.rt.cgroup.attach('egress', cn.program('prog'));
    n.dp.send(n.eth0, n.outbound());
    n.rt.cgroup.attach('egress', deny.program('prog'));
    n.rt.cgroup.attach('egress', n.obj.program('count'));
    n.dp.send(n.eth0, n.outbound());
    expect(n.fates()).toEqual(['tx wire', `drop cgroup_egress: cgroup_skb/egress verdict: drop (socket ${n.server.cookie})`]);
    // The program after the one that dropped still ran, as bpf_prog_run_array_cg runs them all.
    expect(n.obj.typedMap('counters').lookup(n.server)).toEqual({ packets: 1, bytes: n.outbound().length - 14 });
    const denyIn = await n.rt.loadObject(objectOf('mov %r0, 0\n exit', 'cgroup_skb/ingress'), { fileName: 'deny-in.o' });
    n.rt.cgroup.attach('ingress', denyIn.program('prog'));
    n.dp.receive(n.eth0, n.inbound());
    expect(n.fates()).toEqual([`drop cgroup_ingress: cgroup_skb/ingress verdict: drop (socket ${n.server.cookie})`]);
    expect(n.eth0.counters.rxDropped).toBe(1);
    expect(n.eth0.counters.txDropped).toBe(1);
  });

  test('tc egress has the sending socket in __sk_buff->sk; tc ingress has none (Linux looks the socket up after tc)', async () => {
    const n = await network(engine);
    const egress = await n.rt.loadObject(objectOf(tcOnSocket('none'), 'tc'), { fileName: 'egress.o' });
    const ingress = await n.rt.loadObject(objectOf(tcOnSocket('some'), 'tc'), { fileName: 'ingress.o' });
    n.eth0.attach('tc_egress', egress.program('prog'));
    n.eth0.attach('tc_ingress', ingress.program('prog'));
    n.dp.send(n.eth0, n.outbound());
    n.dp.send(n.eth0, n.outbound({ srcPort: 81 }));
    n.dp.receive(n.eth0, n.inbound());
    expect(n.fates()).toEqual(['tx wire', 'drop tc_egress: TC_ACT_SHOT', 'pass stack']);
  });

  test('a closed socket\'s frames match nothing, and its storage is gone', async () => {
    const n = await network(engine);
    n.rt.cgroup.attach('egress', n.obj.program('count'));
    n.dp.send(n.eth0, n.outbound());
    n.rt.sockets.close(n.server);
    n.dp.send(n.eth0, n.outbound());
    expect(n.obj.map('counters').size).toBe(0);
    const again = n.rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    n.dp.send(n.eth0, n.outbound());
    expect(n.obj.typedMap('counters').lookup(again)).toEqual({ packets: 1, bytes: n.outbound().length - 14 });
  });

  test('a faulting cgroup program is refused; run unverified, it aborts the frame with its cause', async () => {
    const n = await network(engine);
    // bpf_sk_release of a stack address: the verifier refuses it; unverified, the helper fails at run time.
    const object = objectOf('mov %r1, %r10\n add %r1, -8\n call 86\n mov %r0, 1\n exit', 'cgroup_skb/ingress');
    await expect(n.rt.loadObject(object, { fileName: 'fault.o' }).then((o) => o.program('prog'))).rejects.toThrow(/R1 type=fp expected=/);
    if (engine !== 'interp') return;
    const fault = await n.rt.loadObject(object, { fileName: 'fault.o', unsafeSkipVerification: true });
    n.rt.cgroup.attach('ingress', fault.program('prog'));
    n.dp.receive(n.eth0, n.inbound());
    const [fate] = n.fates();
    expect(fate).toMatch(/^aborted cgroup_ingress: pc 2: helper bpf_sk_release failed: .* holds no reference/);
    expect(n.eth0.counters.aborted).toBe(1);
  });
});

describe('the cgroup', () => {
  test('takes cgroup_skb programs only, facing the way their section says, each once; unloading detaches them', async () => {
    const rt = new Runtime();
    const obj = await rt.loadObject(FIXTURE);
    expect(() => rt.cgroup.attach('ingress', obj.program('lookup'))).toThrow(/takes cgroup_skb programs; 'lookup' is a sched_cls program/);
    expect(() => rt.cgroup.attach('ingress', obj.program('count'))).toThrow(/'count' is a cgroup_skb\/egress program/);
    rt.cgroup.attach('egress', obj.program('count'));
    expect(() => rt.cgroup.attach('egress', obj.program('count'))).toThrow(/attached already/);
    expect(rt.cgroup.programs('egress')).toEqual([obj.program('count')]);
    obj.close();
    expect(rt.cgroup.has('egress')).toBe(false);
  });
});

describe('topology: sockets and cgroup', () => {
  const apply = async (doc: Record<string, unknown>, runtime = new Runtime()) => {
    const dir = mkdtempSync(join(tmpdir(), 'sockets-'));
    copyFileSync(FIXTURE, join(dir, 'sk.o'));
    const path = join(dir, 'topo.json');
    writeFileSync(path, JSON.stringify({ objects: { sk: 'sk.o' }, interfaces: [{ name: 'eth0' }], ...doc }));
    return { runtime, applied: await loadTopologyFile(runtime, path) };
  };

  test('opens the sockets listed (IPv4 and IPv6, bound to an interface) and attaches the cgroup programs', async () => {
    const { runtime, applied } = await apply({
      sockets: [
        { protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000', mark: 3 },
        { protocol: 'udp', local: '[::]:53', interface: 'eth0' },
      ],
      cgroup: { ingress: ['sk/tag', 'sk/cases'], egress: 'sk/count' },
    });
    expect(applied.sockets.map(String)).toEqual(['tcp 10.0.0.2:80 <-> 10.0.0.1:40000 (cookie 1)', 'udp [::]:53 (cookie 2)']);
    expect(applied.sockets[0]!.mark).toBe(3);
    expect(applied.sockets[1]!.boundIfindex).toBe(runtime.network.get('eth0').ifindex);
    const sk = applied.objects.get('sk')!;
    expect(runtime.cgroup.programs('ingress')).toEqual([sk.program('tag'), sk.program('cases')]);
    expect(runtime.cgroup.programs('egress')).toEqual([sk.program('count')]);
  });

  test.for([
    { name: 'sockets not an array', doc: { sockets: {} }, message: /: sockets: must be an array of sockets/ },
    { name: 'a socket that is no object', doc: { sockets: ['tcp'] }, message: /: sockets\[0\]: a socket is an object/ },
    { name: 'an unknown socket key', doc: { sockets: [{ protocol: 'tcp', local: '*:80', port: 1 }] }, message: /: sockets\[0\]\.port: unknown key \(known: protocol, local, remote/ },
    { name: 'a bad address', doc: { sockets: [{ protocol: 'tcp', local: '*:80' }, { protocol: 'tcp', local: '10.0.0:80' }] }, message: /: sockets\[1\]: socket tcp 10\.0\.0:80: local "10\.0\.0:80" is not an address and port/ },
    { name: 'the same socket twice', doc: { sockets: [{ protocol: 'udp', local: '*:53' }, { protocol: 'udp', local: '0.0.0.0:53' }] }, message: /: sockets\[1\]: .*EADDRINUSE/ },
    { name: 'an unknown interface', doc: { sockets: [{ protocol: 'udp', local: '*:53', interface: 'eth7' }] }, message: /: sockets\[0\]: .*no interface "eth7"/ },
    { name: 'an unknown cgroup hook', doc: { cgroup: { ingres: 'sk/tag' } }, message: /: cgroup\.ingres: unknown key \(known: ingress, egress\)/ },
    { name: 'a tc program in the cgroup', doc: { cgroup: { egress: 'sk/lookup' } }, message: /: cgroup\.egress: cgroup egress takes cgroup_skb programs/ },
    { name: 'an egress program on ingress', doc: { cgroup: { ingress: ['sk/tag', 'sk/count'] } }, message: /: cgroup\.ingress\[1\]: cgroup ingress: 'count' is a cgroup_skb\/egress program/ },
  ])('$name is one error naming the JSON path, and nothing is left open or attached', async ({ doc, message }) => {
    const runtime = new Runtime();
    const error = await apply(doc, runtime).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopologyError);
    expect((error as Error).message).toMatch(message);
    expect(runtime.sockets.list()).toEqual([]);
    expect([runtime.cgroup.has('ingress'), runtime.cgroup.has('egress')]).toEqual([false, false]);
  });
});
