// Control maps (an extension: BPF_MAP_TYPE_CONTROL, map_extra the subsystem): lookups snapshot the
// live interfaces and program statistics at the map's value size, updates change the writable
// fields only, and bad use gets its errno; the MTU guard example on both engines.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { MapCreateError, MapOpError } from '../../maps/errors.js';
import { MapType } from '../../maps/constants.js';
import { ControlType } from '../../maps/control.js';
import { controlBtf, describeControl, PROG_STATS_LAYOUT, SOCK_ATTR_LAYOUT, XDP_ATTR_LAYOUT } from '../../runtime/control.js';
import { loadTopologyFile } from '../../net/topology-file.js';
import { readCaptures } from '../../net/replay-files.js';
import { replay } from '../../net/replay.js';
import { buildPacket } from '../../net/packets.js';
import { decodeBtfValue } from '../../loader/btf-value.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { errnoOf } from './support.js';

const u32 = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
const control = (rt: Runtime, subsystem: number, valueSize: number, keySize = 4) =>
  rt.createMap({ type: MapType.CONTROL, name: 'ctl', keySize, valueSize, maxEntries: 16, mapExtra: subsystem });

describe('an XDP_ATTR control map', () => {
  test('a lookup is the interface now: attributes, programs and counters, in the layout', async () => {
    const rt = new Runtime();
    const obj = await rt.loadObject(join(PROJECT_ROOT, 'examples', 'mtu-guard', 'guard.o'));
    const eth0 = rt.network.addInterface({ name: 'eth0', mtu: 9000, rxQueues: 4 }).attach('xdp', obj.program('mtu_guard'));
    eth0.counters.rxPackets = 7;
    const map = control(rt, ControlType.XDP_ATTR, XDP_ATTR_LAYOUT.size);
    const { btf, valueType } = controlBtf(ControlType.XDP_ATTR, XDP_ATTR_LAYOUT);
    expect(decodeBtfValue(btf, valueType, map.lookup(u32(2))!)).toEqual({
      ifindex: 2, mtu: 9000, xdp_prog_id: obj.program('mtu_guard').id, egress_prog_id: 0, rx_queues: 4, tx_queues: 1, xsk_ring_size: 2048,
      flags: 0x1043, rx_packets: 7, rx_bytes: 0, tx_packets: 0, tx_bytes: 0, rx_dropped: 0, tx_dropped: 0,
    });
    expect(map.lookup(u32(9))).toBeUndefined();
    expect([...map.keys()].map((k) => k[0])).toEqual([1, 2]);
  });

  test('short and long value sizes: the known prefix, zero-filled past the layout', () => {
    const rt = new Runtime();
    rt.network.addInterface({ name: 'eth0', mtu: 1400 });
    expect([...control(rt, ControlType.XDP_ATTR, 8).lookup(u32(2))!]).toEqual([2, 0, 0, 0, 0x78, 5, 0, 0]);
    const long = control(rt, ControlType.XDP_ATTR, XDP_ATTR_LAYOUT.size + 16).lookup(u32(2))!;
    expect(long.subarray(XDP_ATTR_LAYOUT.size).every((b) => b === 0)).toBe(true);
  });

  test('an update sets the writable fields, ignores read-only ones, and refuses what it cannot take', () => {
    const rt = new Runtime();
    const eth0 = rt.network.addInterface({ name: 'eth0' });
    const short = control(rt, ControlType.XDP_ATTR, 8);
    short.update(u32(2), Uint8Array.of(99, 0, 0, 0, 0xe8, 3, 0, 0)); // ifindex (read-only) 99, mtu 1000
    expect(eth0.mtu).toBe(1000);
    expect(eth0.ifindex).toBe(2);
    const errno = (f: () => void) => errnoOf(f);
    expect(errno(() => short.update(u32(2), Uint8Array.of(2, 0, 0, 0, 10, 0, 0, 0)))).toBe(22); // MTU below 68
    expect(errno(() => short.update(u32(5), Uint8Array.of(5, 0, 0, 0, 0xe8, 3, 0, 0)))).toBe(2); // no interface
    expect(errno(() => short.update(u32(2), Uint8Array.of(2, 0, 0, 0, 0xe8, 3, 0, 0), 1))).toBe(17); // BPF_NOEXIST
    const long = control(rt, ControlType.XDP_ATTR, XDP_ATTR_LAYOUT.size + 8);
    const value = long.lookup(u32(2))!;
    value[XDP_ATTR_LAYOUT.size + 3] = 1;
    expect(errno(() => long.update(u32(2), value))).toBe(7); // a field this runtime does not know: -E2BIG
    expect(errno(() => long.delete(u32(2)))).toBe(95);
  });

  test('creation: a known subsystem, its key size, no flags', () => {
    const rt = new Runtime();
    expect(() => control(rt, 9, 8)).toThrow(MapCreateError);
    expect(() => control(rt, ControlType.XDP_ATTR, 8, 8)).toThrow(/key is 4 bytes, not 8/);
    expect(() => rt.createMap({ type: MapType.CONTROL, name: 'c', keySize: 4, valueSize: 8, maxEntries: 1, mapExtra: 1, flags: 1 })).toThrow(/takes none/);
  });
});

describe('a SOCK_ATTR control map', () => {
  const u64 = (n: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n, true);
    return b;
  };

  test('a lookup is the socket\'s struct bpf_sock by cookie; mark and priority are written through to it', () => {
    const rt = new Runtime();
    const a = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000', mark: 3 });
    const b = rt.sockets.open({ protocol: 'udp', local: '*:53' });
    const map = control(rt, ControlType.SOCK_ATTR, SOCK_ATTR_LAYOUT.size, 8);
    expect(SOCK_ATTR_LAYOUT.size).toBe(80);
    expect(map.lookup(u64(a.cookie))).toEqual(a.sockBytes());
    const { btf, valueType } = controlBtf(ControlType.SOCK_ATTR, SOCK_ATTR_LAYOUT);
    expect(decodeBtfValue(btf, valueType, map.lookup(u64(b.cookie))!)).toMatchObject({ family: 2, type: 2, protocol: 17, src_port: 53, state: 7, rx_queue_mapping: 0xffffffff });
    const value = map.lookup(u64(a.cookie))!;
    const v = new DataView(value.buffer);
    v.setUint32(16, 0xabc, true);
    v.setUint32(20, 6, true);
    v.setUint32(72, 10, true); // state: read-only, ignored
    map.update(u64(a.cookie), value);
    expect([a.mark, a.priority, a.state]).toEqual([0xabc, 6, 1]);
    expect([...map.keys()].map((k) => new DataView(k.buffer).getBigUint64(0, true))).toEqual([a.cookie, b.cookie]);
    rt.sockets.close(a);
    expect(map.lookup(u64(a.cookie))).toBeUndefined();
    expect(errnoOf(() => map.update(u64(a.cookie), value))).toBe(2);
    expect(() => control(rt, ControlType.SOCK_ATTR, 80, 4)).toThrow(/key is 8 bytes, not 4/);
    expect(describeControl(ControlType.SOCK_ATTR, SOCK_ATTR_LAYOUT)).toMatch(/^\/\* map_extra 3; key: __u64 cookie; 80 bytes \*\/\nstruct bpf_sock \{\n\t__u32 bound_dev_if;/);
  });

  test.for(['interp', 'jit'] as const)('from a program (%s): a cgroup_skb program reads its socket by cookie and sets its priority', async (engine) => {
    const rt = new Runtime({ engine });
    const obj = await rt.loadObject(join(PROJECT_ROOT, 'tests', 'fixtures', 'sock_attr.o'));
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000', mark: 0x1205 });
    rt.cgroup.attach('egress', obj.program('prioritize'));
    const eth0 = rt.network.addInterface({ name: 'eth0' });
    await replay(rt, [{ interface: eth0, direction: 'out', data: buildPacket({ proto: 'tcp', src: '10.0.0.2', srcPort: 80, dst: '10.0.0.1', dstPort: 40000 }) }]);
    expect(s.priority).toBe(5);
    // In a test run the program finds the test run's dummy socket (TCP_CLOSE) under its cookie.
    const r = obj.program('prioritize').testRun({ dataIn: buildPacket(), ctxIn: new Uint8Array(192), ctxOut: true });
    expect(new DataView(r.ctxOut!.buffer).getUint32(48, true)).toBe(7);
  });
});

describe('a PROG_STATS control map', () => {
  test.for(['interp', 'jit'] as const)('counts each program\'s runs (and, on the interpreter, instructions); read-only (%s)', async (engine) => {
    const rt = new Runtime({ engine });
    const obj = await rt.loadObject(join(PROJECT_ROOT, 'tests', 'fixtures', 'xdp_firewall.o'));
    const fw = obj.program('xdp_firewall');
    fw.testRun({ dataIn: buildPacket(), repeat: 20 });
    const map = control(rt, ControlType.PROG_STATS, PROG_STATS_LAYOUT.size);
    const { btf, valueType } = controlBtf(ControlType.PROG_STATS, PROG_STATS_LAYOUT);
    const stats = decodeBtfValue(btf, valueType, map.lookup(u32(fw.id))!) as Record<string, number>;
    expect(stats).toMatchObject({ id: fw.id, type: 6, run_cnt: 20, jited: engine === 'jit' ? 1 : 0, insn_cnt: 246 }); // 8-byte slots, as Linux counts (lddw takes two)
    // The same path twenty times: twenty times its instruction count (the JIT counts none).
    if (engine === 'interp') expect([stats.insns_executed! % 20, stats.insns_executed! > 20 * 50]).toEqual([0, true]);
    else expect(stats.insns_executed).toBe(0);
    expect(stats.run_time_ns).toBeGreaterThan(0);
    expect(errnoOf(() => map.update(u32(fw.id), map.lookup(u32(fw.id))!))).toBe(13);
  });

  test('the layouts describe themselves as C', () => {
    expect(describeControl(ControlType.PROG_STATS, PROG_STATS_LAYOUT)).toBe([
      '/* map_extra 2; key: __u32 id; 40 bytes */',
      'struct bpf_ctrl_prog_stats {',
      '\t__u32 id;                    /* offset 0 */',
      '\t__u32 type;                  /* offset 4 */',
      '\t__u64 run_cnt;               /* offset 8 */',
      '\t__u64 run_time_ns;           /* offset 16 */',
      '\t__u64 insns_executed;        /* offset 24 */',
      '\t__u32 jited;                 /* offset 32 */',
      '\t__u32 insn_cnt;              /* offset 36 */',
      '};',
    ].join('\n'));
    expect(describeControl(ControlType.XDP_ATTR, XDP_ATTR_LAYOUT)).toContain('__u32 mtu;                   /* offset 4, writable */');
  });
});

describe.each(['interp', 'jit'] as const)('the MTU guard example on %s', (engine) => {
  test('frames over eth1\'s MTU are dropped; lowered through the control map mid-replay, the verdicts follow', async () => {
    const runtime = new Runtime({ engine });
    const applied = await loadTopologyFile(runtime, join(PROJECT_ROOT, 'examples', 'mtu-guard', 'topology.json'));
    const verdicts: string[] = [];
    const inputs = applied.captures.map((c) => ({ path: c.path, interface: c.interface, direction: c.direction }));
    await replay(runtime, readCaptures(runtime.network, inputs), {
      afterPacket: (p) => applied.hooks?.packet?.(p),
      onFrame: (e, p) => verdicts.push(`${p.number}:${e.fate}:${e.bytes.length}`),
    });
    expect(runtime.network.get('eth1').mtu).toBe(1000);
    const late = verdicts.filter((v) => Number(v.split(':')[0]) > 60);
    const early = verdicts.filter((v) => Number(v.split(':')[0]) <= 60);
    expect(early.every((v) => v.includes(':tx:'))).toBe(true);
    expect(late.filter((v) => v.includes(':drop:')).every((v) => Number(v.split(':')[2]) - 14 > 1000)).toBe(true);
    expect(late.filter((v) => v.includes(':tx:')).every((v) => Number(v.split(':')[2]) - 14 <= 1000)).toBe(true);
    expect(applied.objects.get('guard')!.typedMap('counters').dump()).toEqual([{ key: 0, value: 76 }, { key: 1, value: 5 }]);
  });
});

test('map ops on a control map from JS give errors as MapOpError', () => {
  const rt = new Runtime();
  const map = control(rt, ControlType.PROG_STATS, 8);
  expect(() => map.update(u32(1), new Uint8Array(8))).toThrow(MapOpError);
});
