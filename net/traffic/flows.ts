// Flows as sequences of packets with the delays between them: a TCP connection (handshake, data
// both ways with consistent sequence and acknowledgement numbers, FIN/FIN or RST teardown), UDP
// request/response exchanges, ICMP and ICMPv6 echoes, and single malformed frames.
import type { Prng } from '../../fuzz/prng.js';
import { buildPacket, ByteArena, IcmpType, parseIpv4, parseIpv6, parseMac, TcpFlag, type PacketFields } from '../packets.js';
import { malformedFrame, type MalformedVariant } from './malformed.js';

/** Where a flow runs: its two ends, and the link it is seen on. */
export interface FlowEndpoints {
  /** 4 or 6 (default 4). */
  readonly ipVersion?: 4 | 6;
  /** The client's address (it opens the flow), as text or bytes; default 10.0.0.1 or fd00::1. */
  readonly client?: string | Uint8Array;
  /** The server's address; default 10.0.0.2 or fd00::2. */
  readonly server?: string | Uint8Array;
  /** Default: an ephemeral port from the seed. */
  readonly clientPort?: number;
  /** Default: 80 for TCP, 53 for UDP. */
  readonly serverPort?: number;
  readonly clientMac?: string | Uint8Array;
  readonly serverMac?: string | Uint8Array;
  /** 802.1Q tags on every frame of the flow, outermost first. */
  readonly vlans?: readonly number[];
  /** When the flow's first packet is sent, in ns after the capture's start; default spread by the seed. */
  readonly startNs?: number;
  /** Round-trip time in ns; default drawn from the seed (0.2 to 40 ms). */
  readonly rttNs?: number;
}

/** A TCP connection. */
export interface TcpFlowSpec extends FlowEndpoints {
  readonly kind: 'tcp';
  /** Request/response exchanges after the handshake (default 1). */
  readonly exchanges?: number;
  /** Bytes of each request and response; default drawn from the seed (requests 20-400, responses 0-4000). */
  readonly requestBytes?: number;
  readonly responseBytes?: number;
  /** Teardown: FIN from both sides (default) or a RST. */
  readonly close?: 'fin' | 'rst';
  /** Largest segment payload (default 1460; 1440 over IPv6). */
  readonly mss?: number;
}

/** UDP request/response exchanges (DNS-like). */
export interface UdpFlowSpec extends FlowEndpoints {
  readonly kind: 'udp';
  readonly exchanges?: number;
  readonly requestBytes?: number;
  readonly responseBytes?: number;
}

/** ICMP (or ICMPv6) echo requests, each answered. */
export interface IcmpFlowSpec extends FlowEndpoints {
  readonly kind: 'icmp';
  /** Requests sent (default 1). */
  readonly echoes?: number;
  /** Echo data bytes (default 56, as ping sends). */
  readonly payloadBytes?: number;
}

/** One malformed frame from client to server. */
export interface MalformedFlowSpec extends FlowEndpoints {
  readonly kind: 'malformed';
  readonly variant: MalformedVariant;
}

/** A flow of any kind. */
export type FlowSpec = TcpFlowSpec | UdpFlowSpec | IcmpFlowSpec | MalformedFlowSpec;

/** A packet of a flow and the time since the flow's previous packet (since its start, for the first). */
export interface FlowPacket {
  readonly delayNs: number;
  readonly data: Uint8Array;
}

/** Bytes payloads are cut from (random, made once per generator), and the arena frames are built in. */
export class PayloadPool {
  readonly bytes: Uint8Array;
  /** Where frames are built: one slab for many frames instead of an allocation each. */
  readonly arena = new ByteArena();

  constructor(rng: Prng, size = 1 << 16) {
    this.bytes = rng.bytes(size);
  }

  /** `n` bytes from a random place in the pool (a view; buildPacket copies it). */
  take(rng: Prng, n: number): Uint8Array {
    const size = Math.min(n, this.bytes.length);
    const at = rng.below(this.bytes.length - size + 1);
    return this.bytes.subarray(at, at + size);
  }
}

/** A flow's endpoints with addresses parsed once. */
class Ends {
  readonly ipVersion: 4 | 6;
  readonly client: Uint8Array;
  readonly server: Uint8Array;
  readonly clientMac: Uint8Array;
  readonly serverMac: Uint8Array;
  readonly clientPort: number;
  readonly serverPort: number;
  readonly vlans: readonly number[];

  constructor(spec: FlowEndpoints, rng: Prng, defaultServerPort: number, private readonly arena: ByteArena) {
    this.ipVersion = spec.ipVersion ?? 4;
    const parse = this.ipVersion === 4 ? parseIpv4 : parseIpv6;
    const ip = (value: string | Uint8Array) => (typeof value === 'string' ? parse(value) : value);
    const mac = (value: string | Uint8Array) => (typeof value === 'string' ? parseMac(value) : value);
    this.client = ip(spec.client ?? (this.ipVersion === 4 ? '10.0.0.1' : 'fd00::1'));
    this.server = ip(spec.server ?? (this.ipVersion === 4 ? '10.0.0.2' : 'fd00::2'));
    this.clientMac = mac(spec.clientMac ?? '02:00:00:00:00:01');
    this.serverMac = mac(spec.serverMac ?? '02:00:00:00:00:02');
    this.clientPort = spec.clientPort ?? rng.int(32768, 60999);
    this.serverPort = spec.serverPort ?? defaultServerPort;
    this.vlans = spec.vlans ?? [];
  }

  /**
   * The fields of a packet one way. Always all keys in one order: buildPacket's property loads stay
   * monomorphic (with objects of varying shapes they go megamorphic and cost more than the packet).
   */
  fields(fromClient: boolean, proto: 'tcp' | 'udp' | 'icmp', payload: Uint8Array | string | undefined, tcpFlags = 0, seq = 0, ack = 0, icmpType = 0, icmpId = 0, icmpSeq = 0): PacketFields {
    return {
      ipVersion: this.ipVersion,
      vlans: this.vlans,
      src: fromClient ? this.client : this.server,
      dst: fromClient ? this.server : this.client,
      srcMac: fromClient ? this.clientMac : this.serverMac,
      dstMac: fromClient ? this.serverMac : this.clientMac,
      srcPort: fromClient ? this.clientPort : this.serverPort,
      dstPort: fromClient ? this.serverPort : this.clientPort,
      proto,
      payload,
      tcpFlags,
      seq,
      ack,
      window: 64240,
      icmpType,
      icmpId,
      icmpSeq,
    };
  }

  /** A packet one way, built in the arena. */
  packet(fromClient: boolean, proto: 'tcp' | 'udp' | 'icmp', payload: Uint8Array | undefined, tcpFlags = 0, seq = 0, ack = 0, icmpType = 0, icmpId = 0, icmpSeq = 0): Uint8Array {
    return buildPacket(this.fields(fromClient, proto, payload, tcpFlags, seq, ack, icmpType, icmpId, icmpSeq), this.arena);
  }
}

/** A round-trip time from the seed: log-uniform between 0.2 and 40 ms, as across LAN to WAN peers. */
export function drawRtt(rng: Prng): number {
  return Math.round(200_000 * Math.exp((rng.next() / 0x100000000) * Math.log(200)));
}

/** Time to put a segment of `bytes` on the wire between two segments of a burst: about 1 Gbit/s, plus jitter. */
function serialisation(rng: Prng, bytes: number): number {
  return bytes * 8 + rng.int(1_000, 20_000);
}

/** The packets of `spec`, lazily, in the flow's own order. */
export function flowPackets(spec: FlowSpec, rng: Prng, pool: PayloadPool): Generator<FlowPacket, void, undefined> {
  switch (spec.kind) {
    case 'tcp':
      return tcpPackets(spec, rng, pool);
    case 'udp':
      return udpPackets(spec, rng, pool);
    case 'icmp':
      return icmpPackets(spec, rng, pool);
    case 'malformed':
      return malformedPackets(spec, rng, pool);
  }
}

function* tcpPackets(spec: TcpFlowSpec, rng: Prng, pool: PayloadPool): Generator<FlowPacket, void, undefined> {
  const ends = new Ends(spec, rng, 80, pool.arena);
  const rtt = spec.rttNs ?? drawRtt(rng);
  const mss = spec.mss ?? (ends.ipVersion === 4 ? 1460 : 1440);
  const half = Math.round(rtt / 2);
  // The next sequence number of each side, modulo 2^32.
  const next = { client: rng.next(), server: rng.next() };
  /** A segment from one side: its sequence number, the peer's as acknowledgement, and the side's number advanced. */
  const send = (fromClient: boolean, flags: number, payload?: Uint8Array): Uint8Array => {
    const seq = fromClient ? next.client : next.server;
    const ack = flags & TcpFlag.ACK ? (fromClient ? next.server : next.client) : 0;
    const data = ends.packet(fromClient, 'tcp', payload, flags, seq, ack);
    const advance = (seq + (payload?.length ?? 0) + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0)) >>> 0;
    if (fromClient) next.client = advance;
    else next.server = advance;
    return data;
  };
  /** `bytes` of data from one side in segments of at most `mss`, PSH on the last. */
  function* burst(fromClient: boolean, bytes: number, firstDelay: number): Generator<FlowPacket, void, undefined> {
    let delay = firstDelay;
    for (let sent = 0; sent < bytes; ) {
      const n = Math.min(mss, bytes - sent);
      yield { delayNs: delay, data: send(fromClient, TcpFlag.ACK | (sent + n >= bytes ? TcpFlag.PSH : 0), pool.take(rng, n)) };
      sent += n;
      delay = serialisation(rng, n);
    }
  }

  yield { delayNs: 0, data: send(true, TcpFlag.SYN) };
  yield { delayNs: half, data: send(false, TcpFlag.SYN | TcpFlag.ACK) };
  yield { delayNs: half, data: send(true, TcpFlag.ACK) };

  const exchanges = spec.exchanges ?? 1;
  for (let e = 0; e < exchanges; e++) {
    yield* burst(true, spec.requestBytes ?? rng.int(20, 400), e === 0 ? rng.int(10_000, 100_000) : rng.int(100_000, 2 * rtt));
    // The response, its first segment half a round trip later (it acknowledges the request), then
    // the client's acknowledgement; with no response, the server acknowledges the request alone.
    const response = spec.responseBytes ?? rng.int(0, 4000);
    const delay = half + rng.int(5_000, 200_000);
    if (response === 0) {
      yield { delayNs: delay, data: send(false, TcpFlag.ACK) };
      continue;
    }
    yield* burst(false, response, delay);
    yield { delayNs: half, data: send(true, TcpFlag.ACK) };
  }

  if ((spec.close ?? 'fin') === 'rst') {
    // One side aborts: its RST carries its next sequence number and acknowledges the peer's.
    yield { delayNs: rng.int(50_000, 2 * rtt), data: send(rng.chance(0.5), TcpFlag.RST | TcpFlag.ACK) };
    return;
  }
  yield { delayNs: rng.int(50_000, 2 * rtt), data: send(true, TcpFlag.FIN | TcpFlag.ACK) };
  yield { delayNs: half, data: send(false, TcpFlag.FIN | TcpFlag.ACK) };
  yield { delayNs: half, data: send(true, TcpFlag.ACK) };
}

function* udpPackets(spec: UdpFlowSpec, rng: Prng, pool: PayloadPool): Generator<FlowPacket, void, undefined> {
  const ends = new Ends(spec, rng, 53, pool.arena);
  const rtt = spec.rttNs ?? drawRtt(rng);
  const exchanges = spec.exchanges ?? 1;
  for (let e = 0; e < exchanges; e++) {
    const request = spec.requestBytes ?? rng.int(20, 120);
    const response = spec.responseBytes ?? rng.int(40, 500);
    yield { delayNs: e === 0 ? 0 : rng.int(100_000, 4 * rtt), data: ends.packet(true, 'udp', pool.take(rng, request)) };
    yield { delayNs: rtt + rng.int(1_000, 100_000), data: ends.packet(false, 'udp', pool.take(rng, response)) };
  }
}

function* icmpPackets(spec: IcmpFlowSpec, rng: Prng, pool: PayloadPool): Generator<FlowPacket, void, undefined> {
  const ends = new Ends(spec, rng, 0, pool.arena);
  const rtt = spec.rttNs ?? drawRtt(rng);
  const v4 = ends.ipVersion === 4;
  const id = rng.int(1, 0xffff);
  const echoes = spec.echoes ?? 1;
  for (let seq = 1; seq <= echoes; seq++) {
    // The reply echoes the request's data, as RFC 792 and RFC 4443 require.
    const data = pool.take(rng, spec.payloadBytes ?? 56);
    // ping's pace: one request a second.
    yield { delayNs: seq === 1 ? 0 : Math.max(0, 1_000_000_000 - rtt), data: ends.packet(true, 'icmp', data, 0, 0, 0, v4 ? IcmpType.ECHO_REQUEST : IcmpType.V6_ECHO_REQUEST, id, seq) };
    yield { delayNs: rtt, data: ends.packet(false, 'icmp', data, 0, 0, 0, v4 ? IcmpType.ECHO_REPLY : IcmpType.V6_ECHO_REPLY, id, seq) };
  }
}

function* malformedPackets(spec: MalformedFlowSpec, rng: Prng, pool: PayloadPool): Generator<FlowPacket, void, undefined> {
  const ends = new Ends({ ...spec, ipVersion: 4 }, rng, 53, pool.arena);
  yield { delayNs: 0, data: malformedFrame(spec.variant, ends.fields(true, 'udp', 'malformed')) };
}
