// The runtime's socket table (DESIGN.md "Socket-local storage", "Replay"): sockets opened from JS or
// a topology, found by cookie, by the address of their `struct bpf_sock`, by the lookups
// bpf_sk_lookup_* make, and by the 5-tuple of a replayed frame. Lookups go as Linux's do
// (__inet_lookup, __udp4_lib_lookup and their IPv6 twins): a connected socket by its 4-tuple, then
// one bound to the local address, then one bound to the wildcard; a socket bound to an interface
// is found only there. Closing a socket frees its storage. References bpf_sk_lookup_* hands a
// program must be given back with bpf_sk_release before the run ends (the verifier proves that of
// verified programs; here an unverified one that does not is stopped with SocketReferenceError).
// Deviations from Linux: one socket per local end (or 4-tuple), so a second is EADDRINUSE even on
// another interface or with SO_REUSEPORT; no request sockets (a listener answers for its SYNs).
import { BpfError } from '../isa/errors.js';
import { Errno } from '../maps/constants.js';
import { parseIpv4, parseIpv6 } from './ip-address.js';
import type { GuestMemory } from './memory.js';
import {
  IPPROTO_TCP, IPPROTO_UDP, Socket, SocketError, TcpState, isWildcard, type SocketEndpoint, type SocketInit, type TcpStateName,
} from './socket.js';

/** How to open a socket. */
export interface SocketOptions {
  readonly protocol: 'tcp' | 'udp';
  /** The local address and port: '10.0.0.2:80', '[fd00::2]:80', '0.0.0.0:53', or '*:53' for the wildcard of `family`. */
  readonly local: string;
  /** The peer of a connected socket ('10.0.0.1:40000'); absent for a TCP listener or an unconnected UDP socket. */
  readonly remote?: string;
  /** 4 or 6: what '*' means in `local`, and a check on the addresses given (default: theirs, else 4). */
  readonly family?: 4 | 6;
  /** Default: 'established' for connected sockets, 'listen' for TCP listeners, 'close' for unconnected UDP. */
  readonly state?: TcpStateName | number;
  /** SO_MARK and SO_PRIORITY (default 0). */
  readonly mark?: number;
  readonly priority?: number;
  /** The interface it is bound to (SO_BINDTODEVICE), by name or ifindex; default any. */
  readonly interface?: string | number;
  /** The owner's uid (default 0). */
  readonly uid?: number;
}

/** A program ended its run holding a socket reference, or gave back one it did not hold. */
export class SocketReferenceError extends BpfError {
  constructor(detail: string) {
    super('socket-reference', detail);
  }
}

/** Which way a frame goes relative to the local sockets. */
export type FrameDirection = 'in' | 'out';

/** A frame's 5-tuple (`src`/`dst` are views into the frame). */
export interface FrameFlow {
  readonly protocol: number;
  readonly family: 4 | 6;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly srcPort: number;
  readonly dstPort: number;
}

/** What the table needs from the runtime. */
export interface SocketTableEnvironment {
  /** The ifindex of an interface named by name or ifindex, if it exists. */
  readonly findInterface: (which: string | number) => { readonly ifindex: number } | undefined;
  /** Every live socket storage map, to free a closing socket's values in each. */
  readonly storageMaps: () => Iterable<{ deleteFor(socket: Socket): number }>;
}

const ETH_HLEN = 14;
const STATE_NAMES = Object.fromEntries(Object.entries(TcpState).map(([k, v]) => [k.toLowerCase(), v])) as Record<TcpStateName, number>;

/** The sockets of a runtime: `runtime.sockets`. */
export class SocketTable {
  /** The last cookie handed out: Linux's cookies are a global counter, never 0. */
  private lastCookie = 0n;
  private readonly byCookie = new Map<bigint, Socket>();
  private readonly bySock = new Map<number, Socket>();
  /** Connected sockets by protocol and 4-tuple; bound ones by protocol and local endpoint. */
  private readonly connected = new Map<string, Socket>();
  private readonly bound = new Map<string, Socket>();
  /** References bpf_sk_lookup_* handed out in the current run and not given back yet. */
  private readonly held: Socket[] = [];

  constructor(private readonly memory: GuestMemory, private readonly env: SocketTableEnvironment) {}

  /** Open sockets that lookups and replay can find. */
  get size(): number {
    return this.connected.size + this.bound.size;
  }

  /** Opens a socket; throws SocketError (EINVAL for bad options, EADDRINUSE, ENODEV for an unknown interface). */
  open(options: SocketOptions): Socket {
    const init = this.checkOptions(options);
    const key = keyOf(init);
    const taken = (init.remote ? this.connected : this.bound).get(key);
    if (taken) throw new SocketError(Errno.EADDRINUSE, `${init.protocol} ${options.local}${options.remote ? ` to ${options.remote}` : ''} is in use by socket ${taken.cookie} (EADDRINUSE)`);
    const socket = this.create(init);
    (init.remote ? this.connected : this.bound).set(key, socket);
    return socket;
  }

  /**
   * The dummy socket a test run gives its skb (net/bpf/test_run.c): family and addresses from the
   * packet's IP header (local = its source), state TCP_CLOSE, no ports; storage works on it, lookups
   * do not find it. Close it after the run with `close`, which frees its storage.
   */
  openTestRunSocket(family: 4 | 6 | 0, source: Uint8Array | undefined, destination: Uint8Array | undefined): Socket {
    const none = new Uint8Array(family === 6 ? 16 : 4);
    return this.create({
      protocol: 'none', family, local: { address: source?.slice() ?? none, port: 0 },
      remote: destination && !isWildcard(destination) ? { address: destination.slice(), port: 0 } : undefined,
      state: TcpState.CLOSE, mark: 0, priority: 0, boundIfindex: 0, uid: 0, hashed: false,
    });
  }

  /** Closes a socket (or the one with a cookie): its storage is freed and nothing finds it again. Throws SocketError(EBADF) if it is not open. */
  close(which: Socket | bigint): void {
    const socket = typeof which === 'bigint' ? this.byCookie.get(which) : which;
    if (!socket || socket.closed || this.byCookie.get(socket.cookie) !== socket) {
      throw new SocketError(Errno.EBADF, `socket ${typeof which === 'bigint' ? which : which.cookie} is not open in this runtime (EBADF)`);
    }
    for (const map of this.env.storageMaps()) map.deleteFor(socket);
    if (socket.hashed) {
      const table = socket.remote ? this.connected : this.bound;
      const key = keyOf(socket);
      if (table.get(key) === socket) table.delete(key);
    }
    this.byCookie.delete(socket.cookie);
    this.bySock.delete(socket.address);
    socket.markClosed();
  }

  /** The open socket with this cookie. */
  byCookieOf(cookie: bigint): Socket | undefined {
    return this.byCookie.get(cookie);
  }

  /** The open socket whose `struct bpf_sock` is at a guest address (what programs hold). */
  socketAt(address: number): Socket | undefined {
    return this.bySock.get(address);
  }

  /** The cookies of every open socket (a test run's dummy one too, while it runs), in the order they were opened. */
  cookies(): bigint[] {
    return [...this.byCookie.keys()];
  }

  /** Every open socket lookups can find, in the order they were opened. */
  list(): Socket[] {
    return [...this.byCookie.values()].filter((s) => s.hashed);
  }

  /**
   * The socket a packet from `remote` to `local` reaches, as Linux's socket lookups find it (the
   * tuple of bpf_sk_lookup_*: saddr/sport are the peer's, daddr/dport ours). `ifindex` is the
   * interface the packet is on (0: any).
   */
  lookup(protocol: number, local: Uint8Array, localPort: number, remote: Uint8Array, remotePort: number, ifindex: number): Socket | undefined {
    if (this.size === 0) return undefined;
    const p = protocol === IPPROTO_TCP ? 'tcp' : protocol === IPPROTO_UDP ? 'udp' : undefined;
    if (!p) return undefined;
    const onDevice = (s: Socket | undefined) => (s && (s.boundIfindex === 0 || s.boundIfindex === ifindex) ? s : undefined);
    const localKey = addressKey(local);
    return onDevice(this.connected.get(`${p}|${localKey}|${localPort}|${addressKey(remote)}|${remotePort}`))
      ?? onDevice(this.bound.get(`${p}|${localKey}|${localPort}`))
      ?? onDevice(this.bound.get(`${p}|${local.length === 4 ? '0' : '::'}|${localPort}`));
  }

  /**
   * The socket a frame belongs to: for a received one ('in'), the socket its destination reaches;
   * for a sent one ('out'), the socket whose local end is its source. Undefined for frames that are
   * not TCP or UDP over IPv4 or IPv6 (one or two VLAN tags allowed), and for non-first fragments.
   */
  match(frame: Uint8Array, direction: FrameDirection, ifindex: number): Socket | undefined {
    if (this.size === 0) return undefined;
    const flow = frameFlow(frame);
    if (!flow) return undefined;
    return direction === 'in'
      ? this.lookup(flow.protocol, flow.dst, flow.dstPort, flow.src, flow.srcPort, ifindex)
      : this.lookup(flow.protocol, flow.src, flow.srcPort, flow.dst, flow.dstPort, ifindex);
  }

  // ---- references ----

  /** A program took a reference on the socket at a guest address (bpf_sk_lookup_*, bpf_skc_lookup_tcp). */
  acquire(address: number): void {
    const socket = this.bySock.get(address);
    if (!socket) throw new SocketReferenceError(`a lookup handed out 0x${address.toString(16)}, which is no open socket`);
    socket.references++;
    this.held.push(socket);
  }

  /** bpf_sk_release: gives back a reference the run holds to the socket at a guest address; throws SocketReferenceError for one it does not hold. */
  release(address: number): void {
    const socket = this.bySock.get(address);
    const i = socket ? this.held.lastIndexOf(socket) : -1;
    if (!socket || i < 0) {
      throw new SocketReferenceError(`bpf_sk_release of ${socket ?? `0x${address.toString(16)}`}, which the program holds no reference to (the verifier refuses this)`);
    }
    this.held.splice(i, 1);
    socket.references--;
  }

  /** References handed out and not given back: where a run starts, so it can be checked when it ends. */
  get heldReferences(): number {
    return this.held.length;
  }

  /**
   * Ends a run that started with `mark` references held: any taken since are leaked, as the verifier
   * would say ("Unreleased reference"); they are dropped and SocketReferenceError is thrown.
   */
  endRun(mark: number): void {
    if (this.held.length <= mark) return;
    const leaked = this.held.splice(mark);
    for (const s of leaked) s.references--;
    throw new SocketReferenceError(`the program ended holding ${leaked.length === 1 ? 'a reference' : `${leaked.length} references`} from bpf_sk_lookup_* (${leaked.join(', ')}) without bpf_sk_release (the verifier refuses this: unreleased reference)`);
  }

  /** Drops a failed run's references without complaint (its fault is reported instead). */
  dropReferences(mark: number): void {
    for (const s of this.held.splice(mark)) s.references--;
  }

  // ---- opening ----

  private create(init: SocketInit): Socket {
    const socket = new Socket(this.memory, init, ++this.lastCookie);
    this.byCookie.set(socket.cookie, socket);
    this.bySock.set(socket.address, socket);
    return socket;
  }

  private checkOptions(o: SocketOptions): SocketInit {
    const fail = (detail: string, errno: number = Errno.EINVAL): never => {
      throw new SocketError(errno, `socket ${o.protocol ?? '?'} ${o.local ?? '?'}: ${detail}`);
    };
    if (o.protocol !== 'tcp' && o.protocol !== 'udp') fail(`protocol must be 'tcp' or 'udp', not ${JSON.stringify(o.protocol)}`);
    if (o.family !== undefined && o.family !== 4 && o.family !== 6) fail(`family must be 4 or 6, not ${JSON.stringify(o.family)}`);
    if (typeof o.local !== 'string') fail('needs a local address and port, e.g. "10.0.0.2:80"');
    const local = parseEndpoint(o.local, o.family, 'local', fail);
    const family = local.address.length === 4 ? 4 : 6;
    const remote = o.remote === undefined ? undefined : parseEndpoint(o.remote, family, 'remote', fail);
    if (local.port === 0) fail('the local port must be 1 to 65535');
    if (remote && (remote.address.length !== local.address.length)) fail(`the remote address ${o.remote} is not IPv${family} like the local one`);
    if (remote && (remote.port === 0 || isWildcard(remote.address))) fail(`the remote end ${o.remote} needs an address and a port`);
    if (o.family !== undefined && o.family !== family) fail(`the addresses are IPv${family}, not IPv${o.family}`);
    let state: number = remote ? TcpState.ESTABLISHED : o.protocol === 'tcp' ? TcpState.LISTEN : TcpState.CLOSE;
    if (o.state !== undefined) {
      const named = typeof o.state === 'string' ? STATE_NAMES[o.state as TcpStateName] : o.state;
      if (named === undefined || !Object.values(TcpState).includes(named as never)) fail(`state ${JSON.stringify(o.state)} is not a TCP state (${Object.keys(STATE_NAMES).join(', ')})`);
      state = named!;
    }
    const u32 = (v: number | undefined, what: string) => {
      if (v === undefined) return 0;
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(`${what} ${v} is not a u32`);
      return v;
    };
    let boundIfindex = 0;
    if (o.interface !== undefined) {
      const dev = this.env.findInterface(o.interface);
      if (!dev) fail(`no interface ${JSON.stringify(o.interface)} to bind to`, Errno.ENODEV);
      boundIfindex = dev!.ifindex;
    }
    return {
      protocol: o.protocol, family, local, remote, state, mark: u32(o.mark, 'mark'), priority: u32(o.priority, 'priority'),
      boundIfindex, uid: u32(o.uid, 'uid'), hashed: true,
    };
  }
}

/** Parses 'a.b.c.d:port', '[v6]:port' or '*:port' (the wildcard of `family`, default 4). */
function parseEndpoint(text: string, family: 4 | 6 | undefined, what: string, fail: (detail: string) => never): SocketEndpoint {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d+\.\d+\.\d+\.\d+)|(\*)):(\d{1,5})$/.exec(text);
  if (!m) return fail(`${what} ${JSON.stringify(text)} is not an address and port ('10.0.0.2:80', '[fd00::2]:80' or '*:80')`);
  const port = Number(m[4]);
  if (port > 0xffff) return fail(`${what} port ${port} is above 65535`);
  try {
    const address = m[1] !== undefined ? parseIpv6(m[1]) : m[2] !== undefined ? parseIpv4(m[2]) : new Uint8Array(family === 6 ? 16 : 4);
    return { address, port };
  } catch (err) {
    return fail(`${what}: ${(err as Error).message}`);
  }
}

/** An address as a map key: the IPv4 number, or the IPv6 groups. */
function addressKey(a: Uint8Array): string {
  if (a.length === 4) return String(((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0);
  let key = ':';
  for (let i = 0; i < 16; i += 2) key += `${((a[i]! << 8) | a[i + 1]!).toString(16)}:`;
  return key === ':0:0:0:0:0:0:0:0:' ? '::' : key;
}

/** Where a socket goes in the table: its 4-tuple when connected, else its local endpoint. */
function keyOf(s: Pick<SocketInit, 'protocol' | 'local' | 'remote'>): string {
  const local = `${s.protocol}|${addressKey(s.local.address)}|${s.local.port}`;
  return s.remote ? `${local}|${addressKey(s.remote.address)}|${s.remote.port}` : local;
}

/**
 * The 5-tuple of an Ethernet frame: TCP or UDP over IPv4 or IPv6, after up to two VLAN tags and,
 * for IPv6, the hop-by-hop, routing and destination-options headers. Undefined for anything else,
 * for truncated headers, and for fragments after the first (they carry no ports).
 */
export function frameFlow(frame: Uint8Array): FrameFlow | undefined {
  let at = 12;
  let etherType = (frame[at]! << 8) | frame[at + 1]!;
  for (let tags = 0; tags < 2 && (etherType === 0x8100 || etherType === 0x88a8); tags++) {
    at += 4;
    etherType = (frame[at]! << 8) | frame[at + 1]!;
  }
  at += 2;
  if (frame.length < ETH_HLEN) return undefined;
  let protocol: number;
  let family: 4 | 6;
  let src: Uint8Array;
  let dst: Uint8Array;
  if (etherType === 0x0800) {
    if (frame.length < at + 20 || frame[at]! >> 4 !== 4) return undefined;
    if ((((frame[at + 6]! << 8) | frame[at + 7]!) & 0x1fff) !== 0) return undefined;
    protocol = frame[at + 9]!;
    family = 4;
    src = frame.subarray(at + 12, at + 16);
    dst = frame.subarray(at + 16, at + 20);
    at += (frame[at]! & 0xf) * 4;
  } else if (etherType === 0x86dd) {
    if (frame.length < at + 40 || frame[at]! >> 4 !== 6) return undefined;
    protocol = frame[at + 6]!;
    family = 6;
    src = frame.subarray(at + 8, at + 24);
    dst = frame.subarray(at + 24, at + 40);
    at += 40;
    // Extension headers before the transport header (RFC 8200 4.1): hop-by-hop, routing, fragment, destination options.
    for (let n = 0; n < 8 && (protocol === 0 || protocol === 43 || protocol === 44 || protocol === 60); n++) {
      if (frame.length < at + 8) return undefined;
      if (protocol === 44 && (((frame[at + 2]! << 8) | frame[at + 3]!) & 0xfff8) !== 0) return undefined;
      const next = frame[at]!;
      at += protocol === 44 ? 8 : (frame[at + 1]! + 1) * 8;
      protocol = next;
    }
  } else {
    return undefined;
  }
  if ((protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) || frame.length < at + 4) return undefined;
  return { protocol, family, src, dst, srcPort: (frame[at]! << 8) | frame[at + 1]!, dstPort: (frame[at + 2]! << 8) | frame[at + 3]! };
}
