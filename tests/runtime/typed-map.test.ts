// runtime/typed-map.ts: a loaded object's maps read and written with JS values through their BTF
// types, programs seeing what JS wrote (and JS seeing what programs wrote), dump() in bpftool's JSON
// shape (per-CPU values as [{cpu, value}]), and the hex fallback for a side without BTF.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime, RuntimeError } from '../../runtime/runtime.js';
import { TypedMap } from '../../runtime/typed-map.js';
import { BtfValueError, encodeBtfValue } from '../../loader/btf-value.js';
import { BtfBuilder } from '../../loader/btf-builder.js';
import { MapOpError } from '../../maps/errors.js';
import { BPF_NOEXIST, MapType } from '../../maps/constants.js';
import { buildPacket } from '../../net/packets.js';
import { PROJECT_ROOT } from '../support/suite.js';

const fixture = (name: string) => join(PROJECT_ROOT, 'tests', 'fixtures', name);
const XDP_DROP = 1;
const XDP_PASS = 2;

describe('xdp_firewall.o through typed maps', () => {
  async function firewall() {
    const obj = await new Runtime().loadObject(fixture('xdp_firewall.o'));
    obj.typedMap('blocked_v4').update({ prefixlen: 24, addr: [192, 0, 2, 0] }, 1);
    obj.typedMap('blocked_v6').update({ prefixlen: 32, addr: [0x20, 0x01, 0x0d, 0xb8] }, 1);
    // Port in host order: __be16 is written in network byte order, as the program compares it.
    obj.typedMap('denied_ports').update({ proto: 17, port: 53 }, 0);
    return obj;
  }

  test.for([
    { name: 'a denied UDP port', packet: { dstPort: 53 }, verdict: XDP_DROP, counter: 'denied' },
    { name: 'an allowed UDP port', packet: { dstPort: 54 }, verdict: XDP_PASS, counter: 'passed' },
    { name: 'a blocked IPv4 prefix', packet: { src: '192.0.2.9' }, verdict: XDP_DROP, counter: 'prefix' },
    { name: 'a blocked IPv6 prefix', packet: { ipVersion: 6 as const, src: '2001:db8::1' }, verdict: XDP_DROP, counter: 'prefix' },
  ])('$name', async ({ packet, verdict, counter }) => {
    const obj = await firewall();
    expect(obj.program('xdp_firewall').testRun({ dataIn: buildPacket(packet), repeat: 2 }).retval).toBe(verdict);
    const index = { passed: 0, prefix: 1, denied: 2 }[counter]!;
    expect(obj.typedMap('verdicts').dump()).toEqual([0, 1, 2, 3].map((key) => ({ key, value: key === index ? 2 : 0 })));
    expect(obj.typedMap('denied_ports').lookup({ proto: 17, port: 53 })).toBe(counter === 'denied' ? 2 : 0);
  });

  test('dump shows BTF keys as objects, arrays and numbers', async () => {
    const obj = await firewall();
    expect(obj.typedMap('denied_ports').dump()).toEqual([{ key: { proto: 17, pad: 0, port: 53 }, value: 0 }]);
    expect(obj.typedMap('blocked_v4').dump()).toEqual([{ key: { prefixlen: 24, addr: [192, 0, 2, 0] }, value: 1 }]);
    // The bytes are the ones the C struct has.
    expect([...obj.map('denied_ports').keys()].map((k) => [...k])).toEqual([[17, 0, 0, 53]]);
  });

  test('keys, entries, delete and flags', async () => {
    const obj = await firewall();
    const ports = obj.typedMap('denied_ports');
    ports.update({ proto: 6, port: 22 }, 5n);
    expect([...ports.keys()]).toEqual(expect.arrayContaining([{ proto: 17, pad: 0, port: 53 }, { proto: 6, pad: 0, port: 22 }]));
    expect(new Map([...ports.entries()].map(([k, v]) => [(k as { port: number }).port, v]))).toEqual(new Map([[53, 0], [22, 5]]));
    expect(() => ports.update({ proto: 6, port: 22 }, 1, BPF_NOEXIST)).toThrow(MapOpError);
    expect(ports.delete({ proto: 6, port: 22 })).toBe(true);
    expect(ports.delete({ proto: 6, port: 22 })).toBe(false);
    expect(ports.lookup({ proto: 6, port: 22 })).toBeUndefined();
  });

  test('a global-data map\'s value is its variables, typed by the section\'s DATASEC at the offsets of their symbols; the key is hex', async () => {
    const obj = await new Runtime().loadObject(fixture('global_data.o'));
    const rodata = obj.typedMap('.rodata');
    expect(rodata.dump()).toEqual([{ key: ['0x00', '0x00', '0x00', '0x00'], value: { max_len: 1500, verbose: 0, iface_prefix: 'eth', 'global_data.____fmt': 'len %u (max %u), tag %s' } }]);
    expect(obj.typedMap('.bss').lookup(new Uint8Array(4))).toEqual({ histogram: [0, 0, 0, 0, 0, 0, 0, 0], dropped: 0 });
    // Setting some variables leaves the others as they were.
    const data = obj.typedMap('.data');
    data.update(['0x00', 0, '0x0', 0], { last_len: 77 });
    expect(data.lookup(new Uint8Array(4))).toEqual({ packets: 1, last_len: 77, round_robin: 3 });
    expect(() => data.update(new Uint8Array(4), { nope: 1 })).toThrow("value.nope: .data has no variable 'nope' (it has packets, last_len, round_robin)");
    // A global-data section without BTF (the xdp_firewall fixture has only .rodata strings) stays hex.
    const firewallRodata = (await firewall()).typedMap('.rodata').dump()[0] as { value: unknown };
    expect(typeof firewallRodata.value).toBe('object');
  });

  test('errors: unknown map names, values that do not fit', async () => {
    const obj = await firewall();
    expect(() => obj.typedMap('nope')).toThrow(RuntimeError);
    expect(() => obj.typedMap('denied_ports').update({ proto: 17, port: 70000 }, 0)).toThrow(new BtfValueError('out-of-range', 'key.port', '__be16', '70000 is out of range for __be16 (0..65535)'));
    expect(() => obj.typedMap('denied_ports').update({ proto: 17 }, -1)).toThrow(/^value: -1 is out of range for __u64/);
    expect(() => obj.typedMap('.rodata').lookup([0, 0, 0])).toThrow('key: the key is 4 bytes, got an array of 3');
    expect(() => obj.typedMap('.rodata').lookup('0')).toThrow(/key: the map's key has no BTF type, so it takes a Uint8Array or an array of bytes/);
    expect(() => obj.typedMap('.rodata').lookup([0, 0, 0, '0x100'])).toThrow(/key\[3\]: a byte is a number 0\.\.255 or a string "0xNN"/);
  });
});

describe('per-CPU maps (percpu_counter.o, 2 CPUs)', () => {
  async function counter() {
    const rt = new Runtime({ cpus: 2 });
    const obj = await rt.loadObject(fixture('percpu_counter.o'));
    const btf = obj.spec.btf!;
    const skb = (fields: object) => encodeBtfValue(btf, btf.find('__sk_buff')!.id, fields);
    return { obj, skb };
  }

  test('what programs count on each CPU dumps as values: [{cpu, value}]', async () => {
    const { obj, skb } = await counter();
    const program = obj.program('percpu_counter');
    // protocol 0x0008 is ETH_P_IP as the little-endian u32 the program compares with (it holds network order).
    program.run({ ctx: skb({ len: 100, protocol: 0x0008, ifindex: 3 }), cpu: 0 });
    program.run({ ctx: skb({ len: 60, protocol: 0x0008, ifindex: 3 }), cpu: 1 });
    program.run({ ctx: skb({ len: 1500, protocol: 0x0008, ifindex: 3 }), cpu: 1 });
    expect(obj.typedMap('by_ifindex').dump()).toEqual([{
      key: 3,
      values: [
        { cpu: 0, value: { packets: 1, bytes: 100, last_cpu: 0, max_len: 100 } },
        { cpu: 1, value: { packets: 2, bytes: 1560, last_cpu: 1, max_len: 1500 } },
      ],
    }]);
    expect(obj.typedMap('by_protocol').lookup(4)).toEqual([
      { packets: 1, bytes: 100, last_cpu: 0, max_len: 100 },
      { packets: 2, bytes: 1560, last_cpu: 1, max_len: 1500 },
    ]);
    // An array map dumps every index.
    expect(obj.typedMap('by_protocol').dump()).toHaveLength(256);
  });

  test('update gives every CPU the value, as bpftool does; updatePerCpu gives one each', async () => {
    const { obj } = await counter();
    const byIf = obj.typedMap('by_ifindex');
    expect(byIf.perCpu).toBe(true);
    byIf.update(7, { packets: 5 });
    expect(byIf.lookup(7)).toEqual([
      { packets: 5, bytes: 0, last_cpu: 0, max_len: 0 },
      { packets: 5, bytes: 0, last_cpu: 0, max_len: 0 },
    ]);
    byIf.updatePerCpu(8, [{ packets: 1 }]);
    expect(byIf.dump().find((e) => e.key === 8)).toEqual({
      key: 8,
      values: [{ cpu: 0, value: { packets: 1, bytes: 0, last_cpu: 0, max_len: 0 } }, { cpu: 1, value: { packets: 0, bytes: 0, last_cpu: 0, max_len: 0 } }],
    });
    expect(() => byIf.updatePerCpu(9, [{}, {}, {}])).toThrow('map by_ifindex: 3 values for 2 CPUs');
    expect(() => obj.typedMap('by_protocol').updatePerCpu(1, [{ packets: 'x' }])).toThrow("value.packets: __u64 takes an integer, not the string 'x'");
  });
});

describe('spin_lock.o: the lock stays out of JS', () => {
  test('values dump without the lock and a program sees what JS wrote', async () => {
    const obj = await new Runtime().loadObject(fixture('spin_lock.o'));
    const buckets = obj.typedMap('buckets');
    buckets.update(1, { tokens: 1000, last_refill_ns: 0 });
    expect(buckets.dump()).toEqual([{ key: 1, value: { tokens: 1000, last_refill_ns: 0, passed: 0, dropped: 0 } }]);
    expect(() => buckets.update(1, { lock: 1 })).toThrow(/value\.lock: struct bpf_spin_lock belongs to the kernel/);
  });
});

describe('TypedMap on a map made from JS', () => {
  function setup() {
    const b = new BtfBuilder();
    const u64 = b.int('unsigned long long', 8);
    const u32 = b.int('unsigned int', 4);
    const stats = b.struct('stats', [{ name: 'count', type: u64 }, { name: 'name', type: b.array(b.int('char', 1, { signed: true }), 8) }]);
    const btf = b.build();
    const rt = new Runtime();
    const map = rt.createMap({ type: MapType.HASH, name: 'stats', keySize: 4, valueSize: 16, maxEntries: 8 });
    return { btf, u32, u64, stats, map };
  }

  test("bigint: 'string' makes dump() JSON-serialisable, and the JSON encodes back", () => {
    const { btf, u32, stats, map } = setup();
    const typed = new TypedMap(map, btf, u32, stats, { bigint: 'string' });
    typed.update(1, { count: 2n ** 64n - 1n, name: 'eth0' });
    const json = JSON.stringify(typed.dump());
    expect(json).toBe('[{"key":1,"value":{"count":"18446744073709551615","name":"eth0"}}]');
    const [entry] = JSON.parse(json) as [{ key: number; value: unknown }];
    typed.update(2, entry.value);
    expect(typed.lookup(2)).toEqual(typed.lookup(1));
  });

  test('a key side without BTF is hex while the value side is typed', () => {
    const { btf, stats, map } = setup();
    const typed = new TypedMap(map, btf, undefined, stats);
    typed.update(Uint8Array.of(1, 0, 0, 0), { count: 3 });
    expect(typed.dump()).toEqual([{ key: ['0x01', '0x00', '0x00', '0x00'], value: { count: 3, name: '' } }]);
  });

  test('a BTF type whose size is not the map\'s is refused when the TypedMap is made', () => {
    const { btf, u64, stats, map } = setup();
    expect(() => new TypedMap(map, btf, u64, stats)).toThrow("key: map stats: the key type unsigned long long is 8 bytes, but the map's keys are 4");
  });
});
