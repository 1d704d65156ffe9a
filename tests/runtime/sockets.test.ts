// The socket table: opening (options checked, EADDRINUSE, ENODEV), cookies, each socket's `struct
// bpf_sock` as Linux fills it (IPv4, IPv6, listeners, unconnected UDP), mark and priority written
// through to it, closing (EBADF after), lookups in Linux's order with interface binding, the
// 5-tuple of frames, and the reference accounting of bpf_sk_lookup_* and bpf_sk_release.
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { BpfSockOffset } from '../../runtime/sk-buff.js';
import { SocketError, TcpState } from '../../runtime/socket.js';
import { frameFlow, SocketReferenceError, type SocketOptions } from '../../runtime/sockets.js';
import { buildPacket } from '../../net/packets.js';
import { parseIpv4, parseIpv6 } from '../../runtime/ip-address.js';
import { Errno } from '../../maps/constants.js';

const sockWord = (bytes: Uint8Array, offset: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, true);
const errnoOf = (run: () => unknown) => {
  try {
    run();
    return 0;
  } catch (err) {
    return (err as SocketError).errno;
  }
};

describe('opening sockets', () => {
  test('cookies are unique, never 0, and name the socket', () => {
    const rt = new Runtime();
    const a = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    const b = rt.sockets.open({ protocol: 'udp', local: '*:53' });
    expect(a.cookie).not.toBe(0n);
    expect(b.cookie).not.toBe(a.cookie);
    expect(rt.sockets.byCookieOf(a.cookie)).toBe(a);
    expect(rt.sockets.socketAt(b.address)).toBe(b);
    expect(rt.sockets.list()).toEqual([a, b]);
    expect(String(a)).toBe(`tcp 10.0.0.2:80 <-> 10.0.0.1:40000 (cookie ${a.cookie})`);
  });

  test('a connected IPv4 TCP socket\'s struct bpf_sock', () => {
    const rt = new Runtime();
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000', mark: 5, priority: 6, uid: 1000 });
    const b = s.sockBytes();
    expect([BpfSockOffset.boundDevIf, BpfSockOffset.family, BpfSockOffset.type, BpfSockOffset.protocol, BpfSockOffset.mark, BpfSockOffset.priority].map((o) => sockWord(b, o))).toEqual([0, 2, 1, 6, 5, 6]);
    expect([...b.subarray(BpfSockOffset.srcIp4, BpfSockOffset.srcIp4 + 4)]).toEqual([10, 0, 0, 2]);
    expect([...b.subarray(BpfSockOffset.dstIp4, BpfSockOffset.dstIp4 + 4)]).toEqual([10, 0, 0, 1]);
    // src_port in host order; dst_port in network order in the low 16 bits.
    expect(sockWord(b, BpfSockOffset.srcPort)).toBe(80);
    expect([...b.subarray(BpfSockOffset.dstPort, BpfSockOffset.dstPort + 4)]).toEqual([40000 >> 8, 40000 & 0xff, 0, 0]);
    expect(sockWord(b, BpfSockOffset.state)).toBe(TcpState.ESTABLISHED);
    expect(new DataView(b.buffer).getInt32(BpfSockOffset.rxQueueMapping, true)).toBe(-1);
    expect(s.uid).toBe(1000);
  });

  test.for([
    [{ protocol: 'tcp', local: '*:443' }, TcpState.LISTEN, 4],
    [{ protocol: 'udp', local: '0.0.0.0:53' }, TcpState.CLOSE, 4],
    [{ protocol: 'udp', local: '10.0.0.2:5000', remote: '10.0.0.9:53' }, TcpState.ESTABLISHED, 4],
    [{ protocol: 'tcp', local: '*:443', family: 6 }, TcpState.LISTEN, 6],
    [{ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1', state: 'time_wait' }, TcpState.TIME_WAIT, 4],
    [{ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:2', state: 4 }, TcpState.FIN_WAIT1, 4],
  ] as const)('%o is in state %i, IPv%i', ([options, state, family]) => {
    const s = new Runtime().sockets.open(options as SocketOptions);
    expect([s.state, s.family]).toEqual([state, family]);
  });

  test('an IPv6 socket: its addresses in the IPv6 fields, LOOPBACK4_IPV6 in the IPv4 ones (as Linux fills them)', () => {
    const s = new Runtime().sockets.open({ protocol: 'tcp', local: '[fd00::2]:443', remote: '[2001:db8::7]:40003' });
    const b = s.sockBytes();
    expect(sockWord(b, BpfSockOffset.family)).toBe(10);
    expect(b.subarray(BpfSockOffset.srcIp6, BpfSockOffset.srcIp6 + 16)).toEqual(parseIpv6('fd00::2'));
    expect(b.subarray(BpfSockOffset.dstIp6, BpfSockOffset.dstIp6 + 16)).toEqual(parseIpv6('2001:db8::7'));
    expect([...b.subarray(BpfSockOffset.srcIp4, BpfSockOffset.srcIp4 + 4)]).toEqual([127, 0, 0, 6]);
    expect(String(s)).toBe(`tcp [fd00::2]:443 <-> [2001:db8::7]:40003 (cookie ${s.cookie})`);
  });

  test('mark, priority and state are kept in the struct programs read', () => {
    const s = new Runtime().sockets.open({ protocol: 'udp', local: '*:53' });
    s.mark = 0xdeadbeef;
    s.priority = 7;
    s.state = TcpState.ESTABLISHED;
    const b = s.sockBytes();
    expect([sockWord(b, BpfSockOffset.mark), sockWord(b, BpfSockOffset.priority), sockWord(b, BpfSockOffset.state)]).toEqual([0xdeadbeef, 7, 1]);
    expect(() => (s.mark = -1)).toThrow(SocketError);
    expect(() => (s.state = 13)).toThrow(/not a TCP state/);
  });

  test.for([
    [{ protocol: 'sctp', local: '10.0.0.2:80' }, /protocol must be 'tcp' or 'udp'/],
    [{ protocol: 'tcp', local: '10.0.0.2' }, /is not an address and port/],
    [{ protocol: 'tcp', local: '10.0.0.2:0' }, /local port must be 1 to 65535/],
    [{ protocol: 'tcp', local: '10.0.0.2:70000' }, /port 70000 is above 65535/],
    [{ protocol: 'tcp', local: '10.0.0.300:80' }, /bad IPv4 address/],
    [{ protocol: 'tcp', local: '10.0.0.2:80', remote: '[::1]:80' }, /not IPv4 like the local one/],
    [{ protocol: 'tcp', local: '10.0.0.2:80', remote: '0.0.0.0:80' }, /needs an address and a port/],
    [{ protocol: 'tcp', local: '10.0.0.2:80', family: 6 }, /the addresses are IPv4, not IPv6/],
    [{ protocol: 'tcp', local: '10.0.0.2:80', state: 'open' }, /is not a TCP state/],
    [{ protocol: 'tcp', local: '10.0.0.2:80', mark: 1.5 }, /mark 1.5 is not a u32/],
  ] as const)('%o is refused: %s', ([options, message]) => {
    const rt = new Runtime();
    expect(() => rt.sockets.open(options as unknown as SocketOptions)).toThrow(message);
    expect(errnoOf(() => rt.sockets.open(options as unknown as SocketOptions))).toBe(Errno.EINVAL);
  });

  test('the same local end (or 4-tuple) twice is EADDRINUSE; an unknown interface is ENODEV', () => {
    const rt = new Runtime();
    rt.sockets.open({ protocol: 'tcp', local: '*:80' });
    expect(errnoOf(() => rt.sockets.open({ protocol: 'tcp', local: '0.0.0.0:80' }))).toBe(Errno.EADDRINUSE);
    rt.sockets.open({ protocol: 'udp', local: '*:80' });
    rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' });
    expect(errnoOf(() => rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' }))).toBe(Errno.EADDRINUSE);
    expect(errnoOf(() => rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:81', interface: 'eth9' }))).toBe(Errno.ENODEV);
  });

  test('closing: the socket leaves every table, its bpf_sock is freed, and a second close is EBADF', () => {
    const rt = new Runtime();
    const regions = rt.memory.regions().length;
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' });
    const address = s.address;
    rt.sockets.close(s.cookie);
    expect(s.closed).toBe(true);
    expect(s.fullSocket).toBe(false);
    expect(rt.sockets.socketAt(address)).toBeUndefined();
    expect(rt.sockets.lookup(6, parseIpv4('10.0.0.2'), 80, parseIpv4('10.0.0.1'), 1, 0)).toBeUndefined();
    expect(rt.memory.regions().length).toBe(regions);
    expect(errnoOf(() => rt.sockets.close(s))).toBe(Errno.EBADF);
    expect(errnoOf(() => s.mark)).toBe(Errno.EBADF);
    // The 4-tuple is free again.
    expect(rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' }).cookie).not.toBe(s.cookie);
  });
});

describe('lookups and frame matching', () => {
  const table = () => {
    const rt = new Runtime();
    const eth1 = rt.network.addInterface({ name: 'eth1' });
    const connected = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:40000' });
    const exact = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80' });
    const wildcard = rt.sockets.open({ protocol: 'tcp', local: '*:80' });
    const bound = rt.sockets.open({ protocol: 'udp', local: '*:53', interface: 'eth1' });
    const v6 = rt.sockets.open({ protocol: 'udp', local: '[::]:53' });
    return { rt, eth1, connected, exact, wildcard, bound, v6 };
  };
  const ip = parseIpv4;

  test('a connected socket first, then one bound to the address, then the wildcard (Linux\'s order)', () => {
    const { rt, connected, exact, wildcard } = table();
    const find = (local: string, remote: string, remotePort: number) => rt.sockets.lookup(6, ip(local), 80, ip(remote), remotePort, 0);
    expect(find('10.0.0.2', '10.0.0.1', 40000)).toBe(connected);
    expect(find('10.0.0.2', '10.0.0.1', 40001)).toBe(exact);
    expect(find('10.0.0.3', '10.0.0.1', 40000)).toBe(wildcard);
    expect(rt.sockets.lookup(17, ip('10.0.0.2'), 80, ip('10.0.0.1'), 1, 0)).toBeUndefined();
    expect(rt.sockets.lookup(1, ip('10.0.0.2'), 80, ip('10.0.0.1'), 1, 0)).toBeUndefined();
  });

  test('a socket bound to an interface is found only on it; IPv6 finds IPv6 sockets', () => {
    const { rt, eth1, bound, v6 } = table();
    expect(rt.sockets.lookup(17, ip('10.0.0.2'), 53, ip('10.0.0.1'), 1, eth1.ifindex)).toBe(bound);
    expect(rt.sockets.lookup(17, ip('10.0.0.2'), 53, ip('10.0.0.1'), 1, 1)).toBeUndefined();
    expect(rt.sockets.lookup(17, parseIpv6('fd00::2'), 53, parseIpv6('fd00::1'), 1, 1)).toBe(v6);
  });

  test('frames match by 5-tuple both ways: received ones by destination, sent ones by source', () => {
    const { rt, connected, v6 } = table();
    const inbound = buildPacket({ proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80 });
    const outbound = buildPacket({ proto: 'tcp', src: '10.0.0.2', dst: '10.0.0.1', srcPort: 80, dstPort: 40000 });
    expect(rt.sockets.match(inbound, 'in', 1)).toBe(connected);
    expect(rt.sockets.match(outbound, 'out', 1)).toBe(connected);
    expect(rt.sockets.match(outbound, 'in', 1)).toBeUndefined();
    expect(rt.sockets.match(buildPacket({ ipVersion: 6, proto: 'udp', dst: 'fd00::9', dstPort: 53, vlans: [7] }), 'in', 1)).toBe(v6);
    expect(rt.sockets.match(buildPacket({ proto: 'icmp' }), 'in', 1)).toBeUndefined();
  });

  test('frameFlow: VLAN tags, IPv4 options, IPv6 extension headers; no ports in later fragments', () => {
    const tagged = frameFlow(buildPacket({ proto: 'udp', vlans: [1, 2], srcPort: 7, dstPort: 9 }))!;
    expect([tagged.protocol, tagged.family, tagged.srcPort, tagged.dstPort]).toEqual([17, 4, 7, 9]);
    const options = buildPacket({ proto: 'udp', srcPort: 7, dstPort: 9 });
    // The same UDP ports behind a 4-byte IPv4 option (IHL 6).
    const withOption = new Uint8Array(options.length + 4);
    withOption.set(options.subarray(0, 34));
    withOption.set(options.subarray(34), 38);
    withOption[14] = 0x46;
    expect(frameFlow(withOption)!.dstPort).toBe(9);
    expect(frameFlow(buildPacket({ proto: 'tcp', fragOff: 0x2000 }))).toBeDefined();
    expect(frameFlow(buildPacket({ proto: 'tcp', fragOff: 0x0010 }))).toBeUndefined();
    // IPv6 with a hop-by-hop header (8 bytes) before UDP.
    const v6 = buildPacket({ ipVersion: 6, proto: 'udp', srcPort: 5, dstPort: 6 });
    const hop = new Uint8Array(v6.length + 8);
    hop.set(v6.subarray(0, 54));
    hop[20] = 0;
    hop[54] = 17;
    hop.set(v6.subarray(54), 62);
    expect(frameFlow(hop)).toMatchObject({ protocol: 17, family: 6, srcPort: 5, dstPort: 6 });
    expect(frameFlow(buildPacket().subarray(0, 20))).toBeUndefined();
  });
});

describe('references', () => {
  test('acquire and release balance; a run that ends holding one throws SocketReferenceError', () => {
    const rt = new Runtime();
    const s = rt.sockets.open({ protocol: 'tcp', local: '10.0.0.2:80', remote: '10.0.0.1:1' });
    const mark = rt.sockets.heldReferences;
    rt.sockets.acquire(s.address);
    rt.sockets.acquire(s.address);
    expect(s.references).toBe(2);
    rt.sockets.release(s.address);
    expect(() => rt.sockets.endRun(mark)).toThrow(SocketReferenceError);
    expect([s.references, rt.sockets.heldReferences]).toEqual([0, mark]);
    expect(() => rt.sockets.release(s.address)).toThrow(/holds no reference/);
    rt.sockets.acquire(s.address);
    rt.sockets.dropReferences(mark);
    expect(s.references).toBe(0);
    expect(() => rt.sockets.endRun(mark)).not.toThrow();
  });
});
