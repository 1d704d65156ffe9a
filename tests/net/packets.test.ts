// net/packets.ts: the bytes buildPacket has always produced (pinned as golden hex), the fields
// added for the traffic generator (TCP flags, sequence and acknowledgement numbers, ICMP and ICMPv6
// echo fields, the IPv4 id), checksums that verify in an independent decoder, and ByteArena.
import { describe, expect, test } from 'vitest';
import { buildPacket, ByteArena, IcmpType, parseIpv4, parseIpv6, parseMac, TcpFlag, type PacketFields } from '../../net/packets.js';
import { decodeFrame } from './support/frames.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('buildPacket', () => {
  test.for([
    {
      name: 'the default: UDP over IPv4',
      fields: {},
      hex: '020000000002020000000001' + '0800' + '4500001c00010000401166ce0a0000010a000002' + '04d200350008e6d4',
    },
    {
      name: 'TCP over IPv6 behind a VLAN tag',
      fields: { ipVersion: 6, vlans: [7], proto: 'tcp', dstPort: 443, payload: 'hi' },
      hex: '020000000002020000000001' + '81000007' + '86dd' + '6000000000160640' + 'fd000000000000000000000000000001' + 'fd000000000000000000000000000002'
        + '04d201bb000000010000000050102000' + '26d70000' + '6869',
    },
    {
      name: 'ICMP echo request with the old defaults',
      fields: { proto: 'icmp', payload: 'ping' },
      hex: '020000000002020000000001' + '0800' + '4500002000010000400166da0a0000010a000002' + '0800192d00010001' + '70696e67',
    },
  ] as { name: string; fields: PacketFields; hex: string }[])('golden: $name', ({ fields, hex: expected }) => {
    const packet = buildPacket(fields);
    expect(hex(packet)).toBe(expected);
    expect(decodeFrame(packet).l4ChecksumOk).toBe(true);
  });

  test.for([
    { name: 'TCP SYN over IPv4', fields: { proto: 'tcp', tcpFlags: TcpFlag.SYN, seq: 0xfffffffe, ack: 0, window: 64240 } },
    { name: 'TCP FIN+ACK over IPv6', fields: { ipVersion: 6, proto: 'tcp', tcpFlags: TcpFlag.FIN | TcpFlag.ACK, seq: 7, ack: 0x80000000, payload: 'x'.repeat(33) } },
    { name: 'UDP, odd length', fields: { proto: 'udp', payload: 'abc', vlans: [1, 2] } },
    { name: 'ICMP echo reply', fields: { proto: 'icmp', icmpType: IcmpType.ECHO_REPLY, icmpId: 0xbeef, icmpSeq: 9, payload: 'x'.repeat(56) } },
    { name: 'ICMPv6 echo request', fields: { ipVersion: 6, proto: 'icmp', icmpId: 3, icmpSeq: 4, payload: 'y'.repeat(5) } },
    { name: 'ICMPv6 echo reply', fields: { ipVersion: 6, proto: 'icmp', icmpType: IcmpType.V6_ECHO_REPLY, icmpId: 3, icmpSeq: 4 } },
  ] as { name: string; fields: PacketFields }[])('$name: fields as given, checksums verify', ({ fields }) => {
    const frame = decodeFrame(buildPacket(fields));
    expect(frame.malformed).toBeUndefined();
    expect(frame.l4ChecksumOk).toBe(true);
    if (frame.ipVersion === 4) expect(frame.ipChecksumOk).toBe(true);
    if (fields.proto === 'tcp') expect([frame.seq, frame.ack, frame.flags]).toEqual([fields.seq, fields.ack, fields.tcpFlags]);
    if (fields.proto === 'icmp') {
      expect(frame.proto).toBe(fields.ipVersion === 6 ? 58 : 1);
      expect([frame.icmpType, frame.icmpId, frame.icmpSeq]).toEqual([fields.icmpType ?? (fields.ipVersion === 6 ? 128 : 8), fields.icmpId, fields.icmpSeq]);
    }
  });

  test('addresses given as bytes build the same packet as text', () => {
    const text = buildPacket({ src: '192.0.2.1', dst: '198.51.100.7', srcMac: '02:aa:bb:cc:dd:ee', dstMac: 'ff:ff:ff:ff:ff:ff', ipId: 77 });
    const bytes = buildPacket({ src: parseIpv4('192.0.2.1'), dst: parseIpv4('198.51.100.7'), srcMac: parseMac('02:aa:bb:cc:dd:ee'), dstMac: parseMac('ff:ff:ff:ff:ff:ff'), ipId: 77 });
    expect(bytes).toEqual(text);
    expect(text[18]! * 256 + text[19]!).toBe(77);
    expect(() => buildPacket({ ipVersion: 6, src: parseIpv4('10.0.0.1') })).toThrow(RangeError);
    expect(hex(parseIpv6('2001:db8::1'))).toBe('20010db8000000000000000000000001');
  });

  test('an arena hands out separate zeroed frames', () => {
    const arena = new ByteArena(256);
    const frames = Array.from({ length: 20 }, (_, i) => buildPacket({ proto: 'tcp', seq: i, payload: 'z'.repeat(i * 10) }, arena));
    frames.forEach((frame, i) => expect(frame).toEqual(buildPacket({ proto: 'tcp', seq: i, payload: 'z'.repeat(i * 10) })));
    expect(arena.take(1000).every((b) => b === 0)).toBe(true);
  });
});
