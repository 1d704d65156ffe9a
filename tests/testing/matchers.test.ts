// ebpf-wasm/testing on our own examples: packets from fields, a fresh object per test, verdict,
// packet and map matchers, and failure messages that name the header field that differs.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bpfMatchers, buildPacket, dissect, loadFixture, packetDiff, TcpFlag, verdictNumber } from '../../testing/index.js';
import { PROJECT_ROOT } from '../support/suite.js';

expect.extend(bpfMatchers);

const example = (...path: string[]) => join(PROJECT_ROOT, 'examples', ...path);

describe.each(['interp', 'jit'] as const)('examples/xdp_ttl.o on %s', (engine) => {
  test('forwards with the TTL decremented and the checksum still right, and counts it', async () => {
    const obj = await loadFixture(example('xdp_ttl.o'), { engine });
    const result = obj.program('xdp_ttl').testRun({ dataIn: buildPacket({ ttl: 64, payload: 'hello' }) });
    expect(result).toHaveVerdict('XDP_TX');
    // buildPacket computes the checksum for TTL 63: equal bytes mean the program's RFC 1624 update is right.
    expect(result).toHavePacket(buildPacket({ ttl: 63, payload: 'hello' }));
    expect(obj.typedMap('by_protocol')).toHaveEntry(17, { forwarded: 1, expired: 0 });
  });

  test('drops a packet whose TTL runs out; each test starts with empty maps', async () => {
    const obj = await loadFixture(example('xdp_ttl.o'), { engine });
    expect(obj.program('xdp_ttl').testRun({ dataIn: buildPacket({ proto: 'tcp', ttl: 1 }) })).toHaveVerdict('XDP_DROP');
    expect(obj.typedMap('by_protocol')).toHaveEntry(6, { forwarded: 0, expired: 1 });
    expect(obj.typedMap('by_protocol')).toHaveEntry(17, { forwarded: 0, expired: 0 });
  });
});

test('examples/firewall: denied ports and blocked prefixes drop, the rest passes', async () => {
  const obj = await loadFixture(example('firewall', 'firewall.o'), { engine: 'jit' });
  obj.typedMap('denied_ports').update({ proto: 17, port: 161 }, 0);
  obj.typedMap('blocked_v4').update({ prefixlen: 24, addr: '198.51.100.0' }, 0);
  const fw = obj.program('xdp_firewall');
  expect(fw.testRun({ dataIn: buildPacket({ dstPort: 161 }) })).toHaveVerdict('XDP_DROP');
  expect(fw.testRun({ dataIn: buildPacket({ src: '198.51.100.7', proto: 'tcp', dstPort: 443 }) })).toHaveVerdict('XDP_DROP');
  expect(fw.testRun({ dataIn: buildPacket({ proto: 'tcp', dstPort: 443, tcpFlags: TcpFlag.ACK }) })).toHaveVerdict('XDP_PASS');
  expect(fw.testRun({ dataIn: buildPacket({ ipVersion: 6, vlans: [7], dstPort: 53 }) })).not.toHaveVerdict('XDP_DROP');
  expect(obj.typedMap('denied_ports')).toHaveEntry({ proto: 17, port: 161 }, 1);
  expect(obj.typedMap('denied_ports')).toHaveEntry({ proto: 17, port: 53 }, undefined);
});

describe('failure messages', () => {
  test('a packet assertion names the fields that differ', () => {
    const got = buildPacket({ ttl: 64, dstPort: 53 });
    expect(() => expect(got).toHavePacket(buildPacket({ ttl: 63, dstPort: 53 }))).toThrow(
      /ipv4\.ttl: expected 63, got 64\n\s+ipv4\.checksum: expected 0x[0-9a-f]{4}, got 0x[0-9a-f]{4}/,
    );
    expect(packetDiff(buildPacket({ proto: 'tcp', tcpFlags: TcpFlag.SYN }), buildPacket({ proto: 'tcp', tcpFlags: TcpFlag.SYN | TcpFlag.ACK }))).toEqual([
      'tcp.flags: expected SYN, got SYN|ACK',
      expect.stringMatching(/^tcp\.checksum: /),
    ]);
    expect(packetDiff(buildPacket({ vlans: [7] }), buildPacket())[0]).toBe('vlan0.tpid: expected 0x8100, missing');
  });

  test('a verdict or map assertion says what it got instead', () => {
    expect(() => expect({ retval: 2 }).toHaveVerdict('XDP_DROP')).toThrow('expected XDP_DROP, got XDP_PASS (retval 2)');
    expect(() => expect({ retval: 2 }).toHaveVerdict('TC_ACT_OK')).toThrow('expected TC_ACT_OK, got TC_ACT_SHOT (retval 2)');
    expect(() => expect({ retval: 2 }).toHaveVerdict('XDP_NOPE' as never)).toThrow(/not a verdict/);
    const map = { lookup: (k: number) => (k === 1 ? { n: 5 } : undefined) };
    expect(() => expect(map).toHaveEntry(1, { n: 6 })).toThrow('under 1: expected {"n":6}, got {"n":5}');
    expect(() => expect(map).toHaveEntry(2, { n: 6 })).toThrow('under 2: expected {"n":6}, got no entry');
    expect(verdictNumber('TC_ACT_UNSPEC')).toBe(-1);
  });

  test('dissect names every layer it knows, and says where a header is cut short', () => {
    const names = dissect(buildPacket({ ipVersion: 6, vlans: [7, 8], proto: 'icmp' })).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['vlan0.id', 'vlan1.id', 'ipv6.hop_limit', 'icmp6.type', 'payload.length']));
    const cut = dissect(buildPacket({ proto: 'tcp' }).subarray(0, 40));
    expect(cut.at(-1)).toMatchObject({ name: 'truncated', value: '6 of 20 header bytes' });
    // Padding to Ethernet's 60 bytes is a trailer, not payload.
    const padded = new Uint8Array(60);
    padded.set(buildPacket({ payload: 'hi' }));
    expect(dissect(padded).filter((f) => f.name.startsWith('payload') || f.name === 'trailer').map((f) => [f.name, f.value])).toEqual([
      ['payload.length', 2], ['payload', '6869'], ['trailer', '00'.repeat(60 - 44)],
    ]);
  });
});
