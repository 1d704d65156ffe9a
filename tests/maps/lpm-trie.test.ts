// LPM_TRIE: longest-prefix match over IPv4- and IPv6-sized keys, update flags and errnos, deletes
// that keep the trie's shape, and get_next_key in the kernel's postorder.
import { describe, expect, test } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, Errno, lpmKey, MapFlag, MapOpError, MapType } from '../../maps/index.js';
import { readU32, setup, u32 } from './support.js';

const ipv4 = (maxEntries = 16) => setup({ type: MapType.LPM_TRIE, name: 'v4', keySize: 8, valueSize: 4, maxEntries, flags: MapFlag.NO_PREALLOC });
const v4 = (prefixlen: number, addr: string) => lpmKey(prefixlen, addr.split('.').map(Number));

/** An IPv6 address in its 16 bytes; accepts "::" once. */
function v6Bytes(addr: string): number[] {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Prefix `p` of a key, as "a.b.c.d/p". */
const show = (key: Uint8Array) => `${[...key.subarray(4)].join('.')}/${readU32(key)}`;

describe('lpm_trie, IPv4', () => {
  const ROUTES: [string, number][] = [
    ['0.0.0.0/0', 1],
    ['10.0.0.0/8', 2],
    ['10.1.0.0/16', 3],
    ['10.1.2.0/24', 4],
    ['10.1.2.3/32', 5],
    ['192.168.0.0/16', 6],
    ['192.168.128.0/17', 7],
  ];
  const load = () => {
    const s = ipv4();
    for (const [cidr, v] of ROUTES) {
      const [addr, len] = cidr.split('/') as [string, string];
      s.map.update(v4(Number(len), addr), u32(v));
    }
    return s;
  };

  test.for([
    ['10.1.2.3', 5],
    ['10.1.2.4', 4],
    ['10.1.3.1', 3],
    ['10.2.0.0', 2],
    ['11.0.0.1', 1],
    ['192.168.127.255', 6],
    ['192.168.128.0', 7],
    ['192.168.255.1', 7],
    ['192.169.0.1', 1],
  ] as const)('longest match for %s is route %i', ([addr, value]) => {
    const { map, put } = load();
    expect(readU32(map.lookup(v4(32, addr))!)).toBe(value);
    const ptr = map.lookupAddress(put(v4(32, addr)));
    expect(ptr).not.toBe(0);
  });

  test("a lookup key's own prefixlen bounds the match", () => {
    const { map } = load();
    expect(readU32(map.lookup(v4(20, '10.1.2.3'))!)).toBe(3);
    expect(readU32(map.lookup(v4(8, '10.1.2.3'))!)).toBe(2);
    expect(readU32(map.lookup(v4(0, '10.1.2.3'))!)).toBe(1);
  });

  test('no match without a default route', () => {
    const { map } = ipv4();
    map.update(v4(8, '10.0.0.0'), u32(1));
    expect(map.lookup(v4(32, '11.0.0.0'))).toBeUndefined();
  });

  test.for([
    { present: false, flags: BPF_ANY, errno: 0 },
    { present: false, flags: BPF_NOEXIST, errno: 0 },
    { present: false, flags: BPF_EXIST, errno: Errno.ENOENT },
    { present: true, flags: BPF_ANY, errno: 0 },
    { present: true, flags: BPF_NOEXIST, errno: Errno.EEXIST },
    { present: true, flags: BPF_EXIST, errno: 0 },
    { present: true, flags: 4, errno: Errno.EINVAL },
  ])('update flags $flags, present: $present -> errno $errno', ({ present, flags, errno }) => {
    const { map, put } = ipv4();
    map.update(v4(16, '10.1.0.0'), u32(100)); // makes 10.1.0.0/24 hang off an intermediate node below
    map.update(v4(24, '10.1.7.0'), u32(101));
    if (present) map.update(v4(24, '10.1.2.0'), u32(1));
    expect(map.updateAt(put(v4(24, '10.1.2.0')), put(u32(2), 16), flags)).toBe(errno ? -errno : 0);
    expect(map.size).toBe(present || errno === 0 ? 3 : 2);
  });

  test('a prefix longer than the key is -EINVAL; a full trie is -ENOSPC', () => {
    const { map, put } = ipv4(2);
    expect(map.updateAt(put(v4(33, '10.0.0.0')), put(u32(1), 16), BPF_ANY)).toBe(-Errno.EINVAL);
    map.update(v4(8, '10.0.0.0'), u32(1));
    map.update(v4(8, '11.0.0.0'), u32(2));
    let thrown: unknown;
    try {
      map.update(v4(8, '12.0.0.0'), u32(3));
    } catch (e) {
      thrown = e;
    }
    expect((thrown as MapOpError).errno).toBe(Errno.ENOSPC);
    map.update(v4(8, '11.0.0.0'), u32(22)); // replacing still works when full
    expect(readU32(map.lookup(v4(32, '11.1.1.1'))!)).toBe(22);
  });

  test('deletes fall back to the next longest prefix and keep the rest reachable', () => {
    const { map } = load();
    expect(map.delete(v4(24, '10.1.2.0'))).toBe(true);
    expect(readU32(map.lookup(v4(32, '10.1.2.4'))!)).toBe(3);
    expect(readU32(map.lookup(v4(32, '10.1.2.3'))!)).toBe(5);
    expect(map.delete(v4(24, '10.1.2.0'))).toBe(false);
    expect(map.delete(v4(23, '10.1.2.0'))).toBe(false); // no exact match
    expect(map.delete(v4(17, '192.168.128.0'))).toBe(true);
    expect(readU32(map.lookup(v4(32, '192.168.200.1'))!)).toBe(6);
    for (const [cidr] of ROUTES) {
      const [addr, len] = cidr.split('/') as [string, string];
      map.delete(v4(Number(len), addr));
    }
    expect(map.size).toBe(0);
    expect(map.getNextKey()).toBeUndefined();
  });

  test('a value keeps its guest address across updates and other inserts', () => {
    const { map, memory, put } = ipv4();
    map.update(v4(16, '10.1.0.0'), u32(1));
    const addr = map.lookupAddress(put(v4(32, '10.1.1.1')));
    map.update(v4(8, '10.0.0.0'), u32(2));
    map.update(v4(24, '10.1.1.0'), u32(3));
    map.update(v4(16, '10.1.0.0'), u32(4));
    expect(map.lookupAddress(put(v4(32, '10.1.200.1')))).toBe(addr);
    expect(memory.view.getUint32(addr, true)).toBe(4);
  });

  test("get_next_key walks in the kernel's postorder (lpm_trie.c's own example)", () => {
    const { map } = ipv4();
    for (const [cidr, v] of [['192.168.0.0/16', 1], ['192.168.0.0/24', 2], ['192.168.128.0/24', 3], ['192.168.1.0/24', 4]] as const) {
      const [addr, len] = cidr.split('/') as [string, string];
      map.update(v4(Number(len), addr), u32(v));
    }
    const order = [...map.keys()].map(show);
    expect(order).toEqual(['192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24', '192.168.0.0/16']);
    // A key that is not in the trie restarts at the first.
    expect(show(map.getNextKey(v4(24, '1.2.3.0'))!)).toBe('192.168.0.0/24');
    expect(map.getNextKey(v4(16, '192.168.0.0'))).toBeUndefined();
  });

  test('full traversal while deleting each visited key', () => {
    const { map } = load();
    const seen: string[] = [];
    for (const key of map.keys()) {
      seen.push(show(key));
      expect(map.delete(key)).toBe(true);
    }
    expect(seen.sort()).toEqual(ROUTES.map(([c]) => c.replace(/\/(\d+)$/, '/$1')).sort());
    expect(map.size).toBe(0);
  });
});

describe('lpm_trie, IPv6', () => {
  test.for([
    ['2001:db8::1', 3],
    ['2001:db8:0:1::1', 2],
    ['2001:db9::1', 1],
    ['fe80::1', 4],
    ['::1', 0],
  ] as const)('longest match for %s is %i', ([addr, value]) => {
    const { map } = setup({ type: MapType.LPM_TRIE, name: 'v6', keySize: 20, valueSize: 4, maxEntries: 8, flags: MapFlag.NO_PREALLOC });
    map.update(lpmKey(16, v6Bytes('2001::')), u32(1));
    map.update(lpmKey(32, v6Bytes('2001:db8::')), u32(2));
    map.update(lpmKey(64, v6Bytes('2001:db8::')), u32(3));
    map.update(lpmKey(10, v6Bytes('fe80::')), u32(4));
    const got = map.lookup(lpmKey(128, v6Bytes(addr)));
    expect(got ? readU32(got) : 0).toBe(value);
  });

  test('a /128 host route matches only itself', () => {
    const { map } = setup({ type: MapType.LPM_TRIE, name: 'v6', keySize: 20, valueSize: 4, maxEntries: 8, flags: MapFlag.NO_PREALLOC });
    map.update(lpmKey(128, v6Bytes('2001:db8::1')), u32(9));
    expect(readU32(map.lookup(lpmKey(128, v6Bytes('2001:db8::1')))!)).toBe(9);
    expect(map.lookup(lpmKey(128, v6Bytes('2001:db8::2')))).toBeUndefined();
  });
});

describe('lpm_trie against a brute-force reference', () => {
  test('random prefixes, lookups, deletes', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const { map } = setup({ type: MapType.LPM_TRIE, name: 'r', keySize: 6, valueSize: 4, maxEntries: 5000, flags: MapFlag.NO_PREALLOC });
    const ref = new Map<string, { len: number; bits: number; value: number }>();
    const maskOf = (len: number) => (len === 0 ? 0 : (0xffff << (16 - len)) & 0xffff);
    const keyOf = (len: number, bits: number) => lpmKey(len, [bits >> 8, bits & 0xff]);
    for (let step = 0; step < 3000; step++) {
      const len = rand(17);
      const bits = rand(0x10000) & maskOf(len);
      const id = `${bits}/${len}`;
      if (rand(3) === 0 && ref.size > 0) {
        expect(map.delete(keyOf(len, bits))).toBe(ref.delete(id));
      } else {
        map.update(keyOf(len, bits), u32(step));
        ref.set(id, { len, bits, value: step });
      }
      const probe = rand(0x10000);
      let best: { len: number; value: number } | undefined;
      for (const r of ref.values()) if ((probe & maskOf(r.len)) === r.bits && (!best || r.len > best.len)) best = r;
      const got = map.lookup(keyOf(16, probe));
      expect(got ? readU32(got) : undefined).toBe(best?.value);
    }
    expect(map.size).toBe(ref.size);
    expect(new Set([...map.keys()].map(show)).size).toBe(ref.size);
  });
});
