// One socket of the runtime's socket table: its protocol and endpoints, its cookie, the `struct
// bpf_sock` programs read (linux/bpf.h, filled as bpf_sock_convert_ctx_access reads a struct sock),
// its state, mark and priority (kept in that struct, so programs and JS see the same values), and
// its socket-local storage. Sockets are made by SocketTable.open (runtime/sockets.ts).
import { BpfError } from '../isa/errors.js';
import { Errno } from '../maps/constants.js';
import type { StorageOwner } from '../maps/sk-storage.js';
import { formatIpv6 } from './ip-address.js';
import type { GuestMemory, Region } from './memory.js';
import { BPF_SOCK_SIZE, BpfSockOffset } from './sk-buff.js';

/** TCP states (include/net/tcp_states.h), what `bpf_sock->state` holds; UDP sockets use ESTABLISHED and CLOSE. */
export const TcpState = {
  ESTABLISHED: 1, SYN_SENT: 2, SYN_RECV: 3, FIN_WAIT1: 4, FIN_WAIT2: 5, TIME_WAIT: 6, CLOSE: 7, CLOSE_WAIT: 8,
  LAST_ACK: 9, LISTEN: 10, CLOSING: 11, NEW_SYN_RECV: 12,
} as const;
/** A state by name: 'established', 'listen', 'time_wait', ... */
export type TcpStateName = Lowercase<keyof typeof TcpState>;

/** AF_INET: an IPv4 socket's `bpf_sock->family`. */
export const AF_INET = 2;
/** AF_INET6: an IPv6 socket's `bpf_sock->family`. */
export const AF_INET6 = 10;
/** Socket types, as `bpf_sock->type` reports them. */
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
/** IPPROTO_TCP: a TCP socket's `bpf_sock->protocol`. */
export const IPPROTO_TCP = 6;
/** IPPROTO_UDP: a UDP socket's `bpf_sock->protocol`. */
export const IPPROTO_UDP = 17;
/** LOOPBACK4_IPV6 (127.0.0.6): what an IPv6 socket's IPv4 address fields hold. */
const LOOPBACK4_IPV6 = Uint8Array.of(127, 0, 0, 6);

/** A socket operation refused, with the errno Linux gives (EADDRINUSE, EBADF, EINVAL, ENODEV). */
export class SocketError extends BpfError {
  constructor(readonly errno: number, detail: string) {
    super('socket', detail);
  }
}

/** An address (4 or 16 bytes; all zero is the wildcard) and a port. */
export interface SocketEndpoint {
  readonly address: Uint8Array;
  readonly port: number;
}

/** What a socket is made of once its options are checked. */
export interface SocketInit {
  readonly protocol: 'tcp' | 'udp' | 'none';
  readonly family: 4 | 6 | 0;
  readonly local: SocketEndpoint;
  readonly remote: SocketEndpoint | undefined;
  readonly state: number;
  readonly mark: number;
  readonly priority: number;
  readonly boundIfindex: number;
  readonly uid: number;
  /** Whether lookups and frame matching can find it (a test run's dummy socket cannot). */
  readonly hashed: boolean;
}

/** Every byte zero: the wildcard address. */
export function isWildcard(address: Uint8Array): boolean {
  return address.every((b) => b === 0);
}

/** "10.0.0.2:80", "[fd00::2]:80". */
export function formatEndpoint(e: SocketEndpoint): string {
  return e.address.length === 4 ? `${e.address.join('.')}:${e.port}` : `[${formatIpv6(e.address)}]:${e.port}`;
}

/** A socket of the runtime: what `runtime.sockets.open` returns. */
export class Socket implements StorageOwner {
  /** What bpf_get_socket_cookie returns: unique in the runtime, never 0. */
  readonly cookie: bigint;
  readonly protocol: 'tcp' | 'udp' | 'none';
  /** 4 or 6 (0 for a test run's dummy socket on a packet that is neither). */
  readonly family: 4 | 6 | 0;
  readonly local: SocketEndpoint;
  /** The peer of a connected socket; undefined for a listener or an unconnected UDP socket. */
  readonly remote: SocketEndpoint | undefined;
  /** The interface it is bound to (SO_BINDTODEVICE), 0 for any. */
  readonly boundIfindex: number;
  /** Its owner's uid (bpf_get_socket_uid). */
  readonly uid: number;
  readonly hashed: boolean;
  /** Value addresses of its socket-local storage, by storage-map slot. */
  readonly storage: number[] = [];
  storageCount = 0;
  optionMemory = 0;
  /** References programs hold now (bpf_sk_lookup_* takes one, bpf_sk_release gives it back). */
  references = 0;
  private readonly region: Region;
  private isOpen = true;
  private isFull: boolean;

  constructor(private readonly memory: GuestMemory, init: SocketInit, cookie: bigint) {
    this.cookie = cookie;
    this.protocol = init.protocol;
    this.family = init.family;
    this.local = init.local;
    this.remote = init.remote;
    this.boundIfindex = init.boundIfindex;
    this.uid = init.uid;
    this.hashed = init.hashed;
    // Programs may only read it (the verifier's bpf_sock_is_valid_access); the interpreter enforces that.
    this.region = memory.allocate(BPF_SOCK_SIZE, `bpf_sock of socket ${cookie}`, { writable: false });
    this.writeSock(init);
    this.isFull = isFullState(init.state);
  }

  /** Guest address of its `struct bpf_sock` (what `__sk_buff->sk` and bpf_sk_lookup_* give programs). */
  get address(): number {
    return this.region.start;
  }

  /** Whether it is still open. */
  get closed(): boolean {
    return !this.isOpen;
  }

  /** sk_fullsock: open, and not a TIME_WAIT or request socket (which have only `struct sock_common`). Kept as a field: bpf_sk_storage_get asks per packet. */
  get fullSocket(): boolean {
    return this.isFull;
  }

  /**
   * Whether lookups take a reference on it: Linux frees listeners and UDP sockets through RCU
   * (SOCK_RCU_FREE) and takes no reference on them; bpf_sk_release still balances the verifier's count.
   */
  get refcounted(): boolean {
    return this.protocol === 'tcp' && this.state !== TcpState.LISTEN;
  }

  /** `bpf_sock->state`: a TcpState. */
  get state(): number {
    return this.field(BpfSockOffset.state);
  }

  set state(value: number) {
    if (!Object.values(TcpState).includes(value as never)) throw new SocketError(Errno.EINVAL, `${this}: ${value} is not a TCP state (1..12)`);
    this.setField(BpfSockOffset.state, value);
    this.isFull = isFullState(value);
  }

  /** SO_MARK (`bpf_sock->mark`). */
  get mark(): number {
    return this.field(BpfSockOffset.mark);
  }

  set mark(value: number) {
    this.setField(BpfSockOffset.mark, u32(value, 'mark', this));
  }

  /** SO_PRIORITY (`bpf_sock->priority`). */
  get priority(): number {
    return this.field(BpfSockOffset.priority);
  }

  set priority(value: number) {
    this.setField(BpfSockOffset.priority, u32(value, 'priority', this));
  }

  /** A copy of its `struct bpf_sock`. */
  sockBytes(): Uint8Array {
    this.memory.refresh();
    return this.memory.bytes.slice(this.region.start, this.region.end);
  }

  /** Called by the table when it closes: the struct goes back to the allocator. */
  markClosed(): void {
    this.isOpen = false;
    this.isFull = false;
    this.memory.free(this.region);
  }

  toString(): string {
    const ends = this.remote ? `${formatEndpoint(this.local)} <-> ${formatEndpoint(this.remote)}` : formatEndpoint(this.local);
    return `${this.protocol} ${ends} (cookie ${this.cookie})`;
  }

  private field(offset: number): number {
    if (!this.isOpen) throw new SocketError(Errno.EBADF, `${this} is closed`);
    return this.memory.view.getUint32(this.region.start + offset, true);
  }

  private setField(offset: number, value: number): void {
    if (!this.isOpen) throw new SocketError(Errno.EBADF, `${this} is closed`);
    this.memory.view.setUint32(this.region.start + offset, value, true);
  }

  /** Fills `struct bpf_sock` as bpf_sock_convert_ctx_access reads the kernel's socket. */
  private writeSock(init: SocketInit): void {
    const at = this.region.start;
    const bytes = this.memory.bytes;
    const v = this.memory.view;
    bytes.fill(0, at, at + BPF_SOCK_SIZE);
    v.setUint32(at + BpfSockOffset.boundDevIf, init.boundIfindex, true);
    v.setUint32(at + BpfSockOffset.family, init.family === 4 ? AF_INET : init.family === 6 ? AF_INET6 : 0, true);
    v.setUint32(at + BpfSockOffset.type, init.protocol === 'tcp' ? SOCK_STREAM : init.protocol === 'udp' ? SOCK_DGRAM : 0, true);
    v.setUint32(at + BpfSockOffset.protocol, init.protocol === 'tcp' ? IPPROTO_TCP : init.protocol === 'udp' ? IPPROTO_UDP : 0, true);
    v.setUint32(at + BpfSockOffset.mark, init.mark, true);
    v.setUint32(at + BpfSockOffset.priority, init.priority, true);
    const remote = init.remote;
    if (init.family === 4) {
      bytes.set(init.local.address, at + BpfSockOffset.srcIp4);
      if (remote) bytes.set(remote.address, at + BpfSockOffset.dstIp4);
    } else if (init.family === 6) {
      bytes.set(init.local.address, at + BpfSockOffset.srcIp6);
      if (remote) bytes.set(remote.address, at + BpfSockOffset.dstIp6);
      // An IPv6 socket's IPv4 fields hold LOOPBACK4_IPV6 once bound to an address (inet6_bind,
      // tcp_v6_syn_recv_sock); a test run's dummy socket only gets its IPv6 addresses.
      if (init.hashed && !isWildcard(init.local.address)) bytes.set(LOOPBACK4_IPV6, at + BpfSockOffset.srcIp4);
      if (init.hashed && remote) bytes.set(LOOPBACK4_IPV6, at + BpfSockOffset.dstIp4);
    }
    // src_port is the local port in host order (skc_num); dst_port the remote one in network order (skc_dport).
    v.setUint32(at + BpfSockOffset.srcPort, init.local.port, true);
    v.setUint16(at + BpfSockOffset.dstPort, remote?.port ?? 0, false);
    v.setUint32(at + BpfSockOffset.state, init.state, true);
    // No receive queue recorded (sk_rx_queue_get).
    v.setInt32(at + BpfSockOffset.rxQueueMapping, -1, true);
  }
}

/** sk_fullsock's test: TIME_WAIT and request sockets have only `struct sock_common`. */
function isFullState(state: number): boolean {
  return state !== TcpState.TIME_WAIT && state !== TcpState.NEW_SYN_RECV;
}

function u32(value: number, what: string, sock: Socket): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new SocketError(Errno.EINVAL, `${sock}: ${what} ${value} is not a u32`);
  return value;
}
