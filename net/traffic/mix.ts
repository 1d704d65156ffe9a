// Random traffic from a mix: flows of each kind in the given proportions, clients spread over
// addresses and ports, a few servers, some flows over IPv6 or behind VLAN tags, a steady number of
// flows live at once. For benchmarks and examples: a seed, a packet count and a mix give a capture.
import { Prng } from '../../fuzz/prng.js';
import type { FlowEndpoints, FlowSpec } from './flows.js';
import { interleave, type TrafficFrame, type TrafficOptions } from './generator.js';
import { MALFORMED_VARIANTS } from './malformed.js';

/** Relative weights of flow kinds, and the share of flows over IPv6 or VLAN-tagged. */
export interface TrafficMix {
  /** Weight of TCP connections (default 60). */
  readonly tcp?: number;
  /** Weight of UDP exchanges (default 25). */
  readonly udp?: number;
  /** Weight of ICMP echoes (default 10). */
  readonly icmp?: number;
  /** Weight of malformed frames (default 5). */
  readonly malformed?: number;
  /** Share of TCP, UDP and ICMP flows carried over IPv6, 0 to 1 (default 0.2). */
  readonly ipv6?: number;
  /** Share of flows with an 802.1Q tag, 0 to 1 (default 0.1); a tenth of those are double-tagged. */
  readonly vlan?: number;
  /** Largest TCP request or response and UDP message (default 1000; smaller keeps captures small). */
  readonly maxPayload?: number;
}

/** Options of `randomTraffic`. */
export interface RandomTrafficOptions extends TrafficOptions {
  /** Frames to generate; the capture stops there, possibly inside flows, as a real one would. */
  readonly packets: number;
  readonly mix?: TrafficMix;
  /** Flows live at once (default 64). */
  readonly concurrency?: number;
}

/** The default mix: mostly TCP, some UDP and ICMP, a few malformed frames. */
export const DEFAULT_MIX: Required<TrafficMix> = { tcp: 60, udp: 25, icmp: 10, malformed: 5, ipv6: 0.2, vlan: 0.1, maxPayload: 1000 };

// Addresses are made as bytes: parsing text for every flow would cost more than its packets.
const SERVERS_V4 = Array.from({ length: 16 }, (_, i) => Uint8Array.of(10, 1, 0, i + 1));
const SERVERS_V6 = Array.from({ length: 16 }, (_, i) => Uint8Array.of(0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i + 1));
const GATEWAY_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0xfe);
const TCP_PORTS = [80, 443, 8080, 22];
const UDP_PORTS = [53, 123, 443, 5353];

/** `packets` frames of random flows from `mix`, interleaved by time; deterministic in the seed. */
export function randomTraffic(options: RandomTrafficOptions): Generator<TrafficFrame, void, undefined> {
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const rng = new Prng(options.seed ^ 0x3a1f);
  const kinds = (['tcp', 'udp', 'icmp', 'malformed'] as const).map((k) => [k, mix[k]] as const).filter(([, w]) => w > 0);
  if (kinds.length === 0) throw new RangeError('traffic mix: every flow kind has weight 0');
  const concurrency = options.concurrency ?? 64;
  // New flows arrive about every 200 µs on average; the first ones spread over the first few ms.
  const meanGapNs = 200_000;
  return interleave(options, concurrency, (now) => {
    const startNs = now + Math.round(-Math.log(1 - rng.next() / 0x100000000) * meanGapNs);
    return { spec: randomFlow(rng, rng.weighted(kinds), mix), startNs };
  }, options.packets);
}

function randomFlow(rng: Prng, kind: 'tcp' | 'udp' | 'icmp' | 'malformed', mix: Required<TrafficMix>): FlowSpec {
  const v6 = kind !== 'malformed' && rng.chance(mix.ipv6);
  // Clients: 10.0.x.y, or fd00::x:y; servers: 10.1.0.1-16, or fd00:1::1-10.
  const client = v6
    ? Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rng.int(0, 255), rng.int(1, 255), rng.int(0, 255), rng.int(1, 255))
    : Uint8Array.of(10, 0, rng.int(0, 255), rng.int(1, 254));
  const ends: FlowEndpoints = {
    ipVersion: v6 ? 6 : 4,
    client,
    server: rng.pick(v6 ? SERVERS_V6 : SERVERS_V4),
    clientMac: Uint8Array.of(2, 0, 0, rng.below(256), rng.below(256), rng.below(256)),
    serverMac: GATEWAY_MAC,
    vlans: rng.chance(mix.vlan) ? (rng.chance(0.1) ? [rng.int(1, 4094), rng.int(1, 4094)] : [rng.int(1, 4094)]) : [],
  };
  const max = Math.max(1, mix.maxPayload);
  switch (kind) {
    case 'tcp':
      return {
        kind,
        ...ends,
        serverPort: rng.pick(TCP_PORTS),
        exchanges: rng.int(1, 4),
        requestBytes: rng.int(1, Math.min(max, 400)),
        responseBytes: rng.int(0, max),
        close: rng.chance(0.1) ? 'rst' : 'fin',
      };
    case 'udp':
      return { kind, ...ends, serverPort: rng.pick(UDP_PORTS), exchanges: rng.int(1, 2), requestBytes: rng.int(1, Math.min(max, 200)), responseBytes: rng.int(1, max) };
    case 'icmp':
      return { kind, ...ends, echoes: rng.int(1, 3), payloadBytes: rng.pick([8, 32, 56]) };
    case 'malformed':
      return { kind, ...ends, variant: rng.pick(MALFORMED_VARIANTS) };
  }
}
