// Simulated network interfaces (DESIGN.md "Redirect and egress programs"): a name, an ifindex, a MAC
// address, an MTU, receive and transmit queues, the programs attached to its hooks, and the counters
// Linux keeps per device (struct rtnl_link_stats64) plus the per-verdict tallies a replay reports.
import { RuntimeError } from './errors.js';
import type { Program } from './program.js';

/** Where a program can be attached on an interface. */
export type NetdevHook = 'xdp' | 'xdp_egress' | 'tc_ingress' | 'tc_egress' | 'socket_filter';
export const NETDEV_HOOKS: readonly NetdevHook[] = ['xdp', 'xdp_egress', 'tc_ingress', 'tc_egress', 'socket_filter'];

/** How to create an interface. */
export interface NetdevConfig {
  readonly name: string;
  /** Default: the next free index (lo is 1). */
  readonly ifindex?: number;
  /** "02:00:00:00:00:01" or 6 bytes (default: a locally administered address derived from the ifindex). */
  readonly mac?: string | Uint8Array;
  /** Default 1500. */
  readonly mtu?: number;
  /** Receive queues (default 1); received frames are spread over them by flow hash, as RSS does. */
  readonly rxQueues?: number;
  /** Transmit queues (default 1). */
  readonly txQueues?: number;
  /** Whether what the interface transmits is received again on it (default false; lo: true). */
  readonly loopback?: boolean;
  /**
   * Whether the interface takes frames redirected by XDP (Linux: the driver has ndo_xdp_xmit).
   * Default true; false for lo, as in Linux, where XDP_REDIRECT to lo fails with -EOPNOTSUPP.
   */
  readonly xdpXmit?: boolean;
  /** Link-layer broadcast address (default ff:ff:ff:ff:ff:ff; Linux's lo has all zeros). */
  readonly broadcast?: string | Uint8Array;
}

/** Linux's per-device statistics, and what the replay tallies per interface. */
export class NetdevCounters {
  /** Frames received (before any program). */
  rxPackets = 0;
  rxBytes = 0;
  /** Frames that left the interface. */
  txPackets = 0;
  txBytes = 0;
  /** Received frames dropped on this interface (ingress XDP or tc DROP, failed redirects). */
  rxDropped = 0;
  /** Frames to transmit that were dropped (egress XDP, devmap program, tc egress, a full or missing target). */
  txDropped = 0;
  /** Frames delivered to the stack of this interface. */
  pass = 0;
  /** Frames aborted on this interface (XDP_ABORTED, a faulting program, an invalid verdict). */
  aborted = 0;
  /** Frames the ingress XDP program redirected elsewhere. */
  redirected = 0;

  /** Every dropped frame, received or to transmit. */
  get drop(): number {
    return this.rxDropped + this.txDropped;
  }

  reset(): void {
    this.rxPackets = this.rxBytes = this.txPackets = this.txBytes = 0;
    this.rxDropped = this.txDropped = this.pass = this.aborted = this.redirected = 0;
  }
}

/** Parses "aa:bb:cc:dd:ee:ff" (or takes 6 bytes); throws RuntimeError naming the text. */
export function parseMacAddress(mac: string | Uint8Array): Uint8Array {
  if (mac instanceof Uint8Array) {
    if (mac.length !== 6) throw new RuntimeError(`a MAC address has 6 bytes, not ${mac.length}`);
    return Uint8Array.from(mac);
  }
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new RuntimeError(`'${mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats 6 bytes as "aa:bb:cc:dd:ee:ff". */
export function formatMacAddress(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The program type and attach point each hook takes. */
const HOOK_RULES: Readonly<Record<NetdevHook, { type: string; what: string }>> = {
  xdp: { type: 'xdp', what: 'an XDP program' },
  xdp_egress: { type: 'xdp', what: 'an XDP program' },
  tc_ingress: { type: 'sched_cls', what: 'a tc (sched_cls) program' },
  tc_egress: { type: 'sched_cls', what: 'a tc (sched_cls) program' },
  socket_filter: { type: 'socket_filter', what: 'a socket filter' },
};

/** A simulated interface. */
export class Netdev {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  /** Writable, as `ip link set mtu` (and the control map) change it. */
  mtu: number;
  /** Entries of an AF_XDP socket's rings on this interface (the control map's xsk_ring_size; writable). */
  xskRingSize = 2048;
  readonly rxQueues: number;
  readonly txQueues: number;
  readonly loopback: boolean;
  readonly xdpXmit: boolean;
  /** Broadcast address: decides skb->pkt_type with the MAC. */
  readonly broadcast: Uint8Array;
  readonly counters = new NetdevCounters();
  /** A field per hook (not a Map): the datapath asks for a hook's program several times a packet. */
  private readonly hooks: Record<NetdevHook, Program | undefined> = { xdp: undefined, xdp_egress: undefined, tc_ingress: undefined, tc_egress: undefined, socket_filter: undefined };

  constructor(config: NetdevConfig, ifindex: number) {
    if (!/^[^\s/:]{1,15}$/.test(config.name)) throw new RuntimeError(`'${config.name}' is not an interface name (1 to 15 characters, no spaces, '/' or ':')`);
    this.name = config.name;
    this.ifindex = ifindex;
    this.mac = config.mac === undefined ? Uint8Array.of(0x02, 0, 0, 0, (ifindex >> 8) & 0xff, ifindex & 0xff) : parseMacAddress(config.mac);
    this.mtu = positive(config.mtu ?? 1500, 'mtu', config.name, 68, 65536 + 1);
    this.rxQueues = positive(config.rxQueues ?? 1, 'rx queues', config.name, 1, 4096);
    this.txQueues = positive(config.txQueues ?? 1, 'tx queues', config.name, 1, 4096);
    this.loopback = config.loopback ?? false;
    this.xdpXmit = config.xdpXmit ?? true;
    this.broadcast = config.broadcast === undefined ? new Uint8Array(6).fill(0xff) : parseMacAddress(config.broadcast);
  }

  /** The MAC address, under the name skb test runs look for. */
  get address(): Uint8Array {
    return this.mac;
  }

  /** Attaches a program to a hook (replacing what was there); refuses a program of the wrong type, as Linux does. */
  attach(hook: NetdevHook, program: Program): this {
    const rule = HOOK_RULES[hook];
    if (!rule) throw new RuntimeError(`${this.name}: no hook '${hook}' (there are: ${NETDEV_HOOKS.join(', ')})`);
    if (program.type !== rule.type) throw new RuntimeError(`${this.name}: ${hook} takes ${rule.what}; '${program.name}' is a ${program.type} program`);
    // Linux refuses devmap and cpumap programs (expected_attach_type) as a device's XDP program. The
    // egress hook (beyond Linux) runs where devmap programs run, so it takes those too: they may read
    // egress_ifindex, which a plain XDP program may not.
    if (rule.type === 'xdp' && program.attach && !(hook === 'xdp_egress' && program.attach === 'devmap')) {
      throw new RuntimeError(`${this.name}: '${program.name}' is an xdp/${program.attach} program, which runs only from a ${program.attach} entry${hook === 'xdp_egress' ? '' : ' (or as an egress program)'}`);
    }
    this.hooks[hook] = program;
    return this;
  }

  /** Removes the program on a hook. */
  detach(hook: NetdevHook): void {
    this.hooks[hook] = undefined;
  }

  /** The program on a hook, if any. */
  program(hook: NetdevHook): Program | undefined {
    const hooks = this.hooks;
    // Named fields: an index by a hook name that varies between callers was a megamorphic access.
    switch (hook) {
      case 'xdp': return hooks.xdp;
      case 'xdp_egress': return hooks.xdp_egress;
      case 'tc_ingress': return hooks.tc_ingress;
      case 'tc_egress': return hooks.tc_egress;
      case 'socket_filter': return hooks.socket_filter;
    }
    return undefined;
  }

  /** Whether a frame of `length` bytes (Ethernet header included) fits the MTU for forwarding (Linux xdp_ok_fwd_dev). */
  fits(length: number): boolean {
    // mtu + hard_header_len (ETH_HLEN) + VLAN_HLEN
    return length <= this.mtu + 14 + 4;
  }

  toString(): string {
    return this.name;
  }
}

function positive(value: number, what: string, name: string, min: number, limit: number): number {
  if (!Number.isInteger(value) || value < min || value >= limit) throw new RuntimeError(`${name}: ${what} ${value} must be an integer from ${min} to ${limit - 1}`);
  return value;
}
