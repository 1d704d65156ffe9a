// Objects as real projects write them (issue 11): two initialised prog arrays in `.maps`, legacy
// map-in-maps named by id or by index, map definitions libbpf completes, map types that hold
// nothing here, and sections of program types this runtime has no model of. Each loads, and its
// programs give the same results on the interpreter and the JIT.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadObjectSpec } from '../../loader/object.js';
import { programTypeOf } from '../../loader/program-types.js';
import { DifferentialObject } from '../../runtime/differential.js';
import { Runtime } from '../../runtime/runtime.js';
import { buildPacket } from '../../net/packets.js';
import { MapType } from '../../maps/index.js';
import { PROJECT_ROOT } from '../support/suite.js';

const fixture = (name: string) => join(PROJECT_ROOT, 'tests', 'fixtures', name);
const u32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
const readU32 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getUint32(0, true) : undefined);

describe('two initialised prog arrays in .maps', () => {
  test('each slot comes from its own map\'s relocations', () => {
    const spec = loadObjectSpec(new Uint8Array(readFileSync(fixture('prog_arrays.o'))), 'prog_arrays.o');
    const values = (name: string) => Object.entries(spec.maps.find((m) => m.name === name)!.initialValues ?? []).filter(([, v]) => v);
    expect(values('map_prog1_socket')).toEqual([['4', 'classify_ipv4'], ['6', 'classify_ipv6']]);
    expect(values('map_prog2_socket')).toEqual([['7', 'count_ipv4'], ['11', 'count_ipv6']]);
  });

  test('the chain of tail calls runs through both arrays, on both engines', async () => {
    const d = await DifferentialObject.load(fixture('prog_arrays.o'));
    expect(d.testRun('dispatch', { dataIn: buildPacket() }).retval).toBe(40);
    expect(d.testRun('dispatch', { dataIn: buildPacket({ ipVersion: 6 }) }).retval).toBe(60);
    expect(readU32(d.interp.map('map_prog2_socket').lookup(u32(11)))).toBe(d.interp.program('count_ipv6').id);
  });
});

describe('legacy maps-section map-in-maps', () => {
  test('iproute2 layout: the inner map by inner_id, placed at inner_idx; the perf event array sized to the CPUs', async () => {
    const rt = new Runtime({ cpus: 3 });
    const obj = await rt.loadObject(fixture('legacy_maps.o'));
    expect(obj.map('events').maxEntries).toBe(3);
    const inner = obj.map('policy_inner');
    expect(readU32(obj.map('policy_outer').lookup(u32(0)))).toBe(rt.mapId(inner));
    const d = await DifferentialObject.load(fixture('legacy_maps.o'));
    const packet = buildPacket({ payload: 'x'.repeat(10) });
    expect(d.testRun('legacy_policy', { dataIn: packet }).retval).toBe(0);
    for (const o of [d.interp, d.jit]) o.map('policy_inner').update(u32(packet.length & 3), u32(1));
    expect(d.testRun('legacy_policy', { dataIn: packet }).retval).toBe(2);
  });

  test('bpf_load layout: inner_map_idx names the template by position', async () => {
    const spec = loadObjectSpec(new Uint8Array(readFileSync(fixture('legacy_map_idx.o'))), 'legacy_map_idx.o');
    expect(spec.maps.find((m) => m.name === 'a_of_port_a')!.innerMap?.name).toBe('port_a');
    expect(spec.maps.find((m) => m.name === 'h_of_port_h')!.innerMap?.name).toBe('port_h');
    const d = await DifferentialObject.load(fixture('legacy_map_idx.o'));
    expect(d.testRun('map_in_map_by_index', { dataIn: buildPacket() }).retval).toBe(2);
  });
});

describe('map kinds that hold nothing here', () => {
  test('libbpf\'s completions: perf event array sizes and CPU count, ring buffer rounded to pages, BTF dropped', async () => {
    const rt = new Runtime({ cpus: 2 });
    const obj = await rt.loadObject(fixture('map_kinds.o'));
    const events = obj.map('events');
    expect([events.keySize, events.valueSize, events.maxEntries]).toEqual([4, 4, 2]);
    expect(obj.map('rb').maxEntries).toBe(8192);
    expect([...obj.maps.values()].map((m) => m.type).sort((a, b) => a - b)).toEqual([
      MapType.PERF_EVENT_ARRAY, MapType.STACK_TRACE, MapType.CGROUP_ARRAY, MapType.SOCKMAP, MapType.XSKMAP, MapType.SOCKHASH,
      MapType.RINGBUF, MapType.INODE_STORAGE, MapType.TASK_STORAGE,
    ]);
  });

  test('XDP: an XSKMAP lookup gives NULL and bpf_redirect_map falls back to the action in its flags', async () => {
    const d = await DifferentialObject.load(fixture('map_kinds.o'));
    const run = d.testRun('xsk_redirect', { dataIn: buildPacket() });
    expect(run.retval).toBe(2);
    expect(run.redirect).toBeUndefined();
  });

  test('tc: the sockmap lookup misses, and bpf_skb_under_cgroup finds no cgroup (-EAGAIN)', async () => {
    const d = await DifferentialObject.load(fixture('map_kinds.o'));
    const run = d.testRun('cgroup_and_sock', { dataIn: buildPacket(), ctxOut: true });
    expect(run.retval).toBe(0);
    expect(new DataView(run.ctxOut!.buffer, run.ctxOut!.byteOffset).getInt32(8, true)).toBe(-11);
  });

  test('kprobe: bpf_get_stackid has no stack to fetch (-EFAULT), bpf_current_task_under_cgroup no cgroup (-EAGAIN)', async () => {
    const d = await DifferentialObject.load(fixture('map_kinds.o'));
    expect(d.run('stack_and_cgroup', { ctx: new Uint8Array(168) }).r0).toBe(1n);
  });
});

describe('sections libbpf knows', () => {
  test.for([
    ['lsm/file_open', 'lsm'], ['lsm.s/bprm_committed_creds', 'lsm'], ['cgroup/sendmsg6', 'cgroup_sock_addr'], ['cgroup/getsockname_unix', 'cgroup_sock_addr'],
    ['cgroup/sock_create', 'cgroup_sock'], ['cgroup/post_bind4', 'cgroup_sock'], ['cgroup/setsockopt', 'cgroup_sockopt'], ['cgroup/sysctl', 'cgroup_sysctl'],
    ['cgroup/dev', 'cgroup_device'], ['netfilter', 'netfilter'], ['struct_ops/tcp_init', 'struct_ops'], ['struct_ops.s/x', 'struct_ops'],
    ['sk_msg', 'sk_msg'], ['sk_skb/stream_parser', 'sk_skb'], ['sk_lookup', 'sk_lookup'], ['flow_dissector', 'flow_dissector'],
    ['sockops', 'sock_ops'], ['action', 'sched_act'], ['freplace/f', 'ext'], ['syscall', 'syscall'], ['perf_event', 'perf_event'],
    ['lwt_xmit', 'lwt_xmit'], ['sk_reuseport/migrate', 'sk_reuseport'], ['lirc_mode2', 'lirc_mode2'],
    ['iter/task', 'tracing'], ['iter.s/task_file', 'tracing'], ['tcx/ingress', 'sched_cls'], ['tc/egress', 'sched_cls'], ['netkit/peer', 'sched_cls'],
    ['xdp.frags', 'xdp'], ['xdp/devmap', 'xdp'], ['usdt.s/libc:probe', 'kprobe'], ['nosuch/x', 'unsupported'],
  ] as const)('%s is %s', ([section, type]) => {
    expect(programTypeOf(section).type).toBe(type);
  });

  test('the object loads; each program of a type without a model is refused alone', async () => {
    const d = await DifferentialObject.load(fixture('sections.o'));
    expect([...d.interp.programs.keys()].sort()).toEqual(['iter_task', 'tcx_pass', 'xdp_frags_pass']);
    const refused = [...d.interp.failures].map(([name, err]) => [name, /program type (\w+) is not supported by the verifier/.exec(err.message)?.[1]]);
    expect(Object.fromEntries(refused)).toEqual({
      lsm_file_open: 'lsm', lsm_sleepable: 'lsm', sendmsg6: 'cgroup_sock_addr', connect4: 'cgroup_sock_addr', getsockopt_pass: 'cgroup_sockopt',
      sysctl_allow: 'cgroup_sysctl', dev_allow: 'cgroup_device', sock_create: 'cgroup_sock', nf_accept: 'netfilter', msg_pass: 'sk_msg',
      skb_verdict: 'sk_skb', lookup_pass: 'sk_lookup', dissect: 'flow_dissector', sockops_pass: 'sock_ops',
    });
    expect(d.testRun('tcx_pass', { dataIn: buildPacket({ payload: 'x'.repeat(100) }) }).retval).toBe(0);
    expect(d.testRun('xdp_frags_pass', { dataIn: buildPacket() }).retval).toBe(2);
    expect(() => d.interp.program('iter_task').testRun({ dataIn: new Uint8Array(64) })).toThrow(/tracing program, and this runtime has no test run for those \(Linux has one\)/);
  });
});
