// Running skb programs (socket_filter, sched_cls, cgroup_skb) over skb frames: a registry from
// context address to live frame (what the skb helpers look frames up in), and BPF_PROG_TEST_RUN for
// skb programs as net/bpf/test_run.c does it (bpf_prog_test_run_skb, convert___skb_to_skb,
// convert_skb_to___skb, bpf_test_finish, bpf_ctx_init/finish) for a linear skb.
import { BpfError } from '../isa/errors.js';
import { csumDiffHelper } from '../helpers/checksum.js';
import { BPF_F_INVALIDATE_HASH, BPF_F_RECOMPUTE_CSUM, skbHelpers } from '../helpers/skb.js';
import { dynptrHelpers } from '../helpers/dynptr.js';
import { skbReshapeHelpers } from '../helpers/skb-reshape.js';
import { skbTunnelHelpers } from '../helpers/skb-tunnel.js';
import { skbContextHelpers } from '../helpers/skb-context.js';
import { SkbReshape } from './skb-reshape.js';
import { TunnelMetadata } from './skb-tunnel.js';
import type { HelperSpec } from '../helpers/table.js';
import { Errno } from '../maps/constants.js';
import type { Executor } from './engine.js';
import { oneByOne, repeatRuns, type RepeatProgress, type TestRunInput } from './run.js';
import type { GuestMemory } from './memory.js';
import { ETH_HLEN, SKB_SHARED_INFO_TAILROOM } from './packet-frame.js';
import {
  SK_BUFF_SIZE, SKB_FRAME_SIZE, SKB_HEADROOM, SkBuffOffset, SkbFrame, decodeSkBuff, encodeSkBuff, emptySkBuff, type SkBuff, type SkbFrameOptions,
} from './sk-buff.js';
import { SocketTable } from './sockets.js';

/** The program types whose context is `struct __sk_buff` (names as loader/program-types.ts gives them). */
export type SkbProgramType = 'socket_filter' | 'sched_cls' | 'cgroup_skb';
export const SKB_PROGRAM_TYPES: readonly SkbProgramType[] = ['socket_filter', 'sched_cls', 'cgroup_skb'];

/** skb->pkt_type values (linux/if_packet.h). */
export const PacketType = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3 } as const;

/**
 * The BPF_PROG_TEST_RUN flag Linux 6.18 accepts for skb programs (BPF_F_TEST_SKB_NON_LINEAR came
 * later): the skb is CHECKSUM_COMPLETE, and a run that leaves skb->csum stale fails with -EBADMSG.
 */
export const BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 1 << 2;
/** Linux EBADMSG: a CHECKSUM_COMPLETE test run whose skb->csum no longer matches the packet. */
const EBADMSG = 74;

/** A network device a test run may name as ifindex; its addresses decide skb->pkt_type. */
export interface SkbDevice {
  readonly ifindex: number;
  /** 6-byte MAC address (default 00:00:00:00:00:00). */
  readonly address?: Uint8Array;
  /** 6-byte broadcast address (default ff:ff:ff:ff:ff:ff, as for any Ethernet device). */
  readonly broadcast?: Uint8Array;
}

const ZERO_MAC = new Uint8Array(6);
const BROADCAST_MAC = new Uint8Array(6).fill(0xff);

/**
 * Linux's loopback device, what a test run uses unless ctx_in names ifindex > 1: its address and its
 * broadcast address are both all zero, so ff:ff:ff:ff:ff:ff is multicast to it (seen on Linux 6.18).
 */
export const SKB_LOOPBACK: SkbDevice = { ifindex: 1, address: ZERO_MAC, broadcast: ZERO_MAC };

/** A test run failed as the kernel's does, with its errno (refused input, or -EBADMSG for a stale checksum). */
export class SkbTestRunError extends BpfError {
  constructor(readonly input: TestRunInput, readonly errno: number, detail: string) {
    super('skb-test-run', `test run failed (${errno}): ${detail}`);
  }
}

/** Input of an skb test run, after BPF_PROG_TEST_RUN's attributes. */
export interface SkbTestRunOptions {
  /** data_in: an Ethernet frame, ETH_HLEN to SKB_MAX_DATA (3712) bytes. */
  readonly dataIn: Uint8Array;
  /** data_size_out: when given and smaller than the output, dataOut is truncated and errno is -ENOSPC. */
  readonly dataSizeOut?: number;
  /** ctx_in: a `struct __sk_buff`, as bytes (bytes past the struct must be zero) or as fields. */
  readonly ctxIn?: Uint8Array | Partial<SkBuff>;
  /** Whether the caller wants ctx_out (works without ctx_in: the context starts zeroed). */
  readonly ctxOut?: boolean;
  /** ctx_size_out (default: the struct's size). */
  readonly ctxSizeOut?: number;
  /** Runs on the same skb (0 counts as 1). */
  readonly repeat?: number;
  /** Called every 65,536 runs of a long repeat, with the runs done and asked for. */
  readonly onProgress?: RepeatProgress;
  /** BPF_PROG_TEST_RUN flags (default 0): only BPF_F_TEST_SKB_CHECKSUM_COMPLETE is valid. */
  readonly flags?: number;
}

/** Output of an skb test run. */
export interface SkbTestRunResult {
  /** 0, or -ENOSPC when dataOut or ctxOut was truncated. */
  readonly errno: number;
  /** r0 of the last run, as the kernel's u32 retval. */
  readonly retval: number;
  /** skb->data..end after the last run (with a zeroed Ethernet header pushed back for socket_filter and cgroup_skb), truncated to dataSizeOut. */
  readonly dataOut: Uint8Array;
  /** The full output size (data_size_out as the kernel reports it). */
  readonly dataSizeOut: number;
  /** The context after the run: ctx_in with mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs and hwtstamp updated. */
  readonly ctxOut?: Uint8Array;
  /** Average run time in ns (u32). */
  readonly durationNs: number;
  /** The target bpf_redirect recorded on the last run, if any (not carried out, as in Linux). */
  readonly redirect?: { readonly ifindex: number; readonly flags: bigint };
}

/** Options of a runner. */
export interface SkbRunnerOptions {
  /** Frame size (default 4096). */
  readonly frameSize?: number;
  /** Devices test runs may name in ctx_in's ifindex, as a list (loopback is always there) or a lookup. */
  readonly devices?: readonly SkbDevice[] | ((ifindex: number) => SkbDevice | undefined);
  /**
   * The socket table: test runs make their dummy socket there (its cookie, its storage), and each
   * run ends with its socket references checked. Default: a table of the runner's own.
   */
  readonly sockets?: SocketTable;
}

/** Owns live skb frames, the helpers that reach them through the context address, and test runs. */
export class SkbRunner {
  private readonly frames = new Map<number, SkbFrame>();
  /** The frame the current run is on (bpf_redirect records its target there). */
  private current: SkbFrame | undefined;
  /** The skb helpers (and bpf_csum_diff) bound to this runner's frames; put them in the executor's helper table. */
  readonly helpers: readonly HelperSpec[];
  /** The helpers Linux gives tc programs only (tc_cls_act_func_proto): reshaping the skb and its tunnel metadata. */
  readonly tcHelpers: readonly HelperSpec[];
  /** The tunnel metadata bpf_skb_set_tunnel_key attaches to skbs. */
  readonly tunnel: TunnelMetadata;
  readonly frameSize: number;
  private readonly findDevice: (ifindex: number) => SkbDevice | undefined;
  /** Where test runs' dummy sockets live, and whose references runs must give back. */
  readonly sockets: SocketTable;

  constructor(readonly memory: GuestMemory, options: SkbRunnerOptions = {}) {
    this.frameSize = options.frameSize ?? SKB_FRAME_SIZE;
    const devices = options.devices ?? [];
    if (typeof devices === 'function') this.findDevice = devices;
    else {
      const byIndex = new Map([SKB_LOOPBACK, ...devices].map((d) => [d.ifindex, d]));
      this.findDevice = (ifindex) => byIndex.get(ifindex);
    }
    this.helpers = [...skbHelpers({ lookup: (ctx) => this.frames.get(ctx), current: () => this.current }), csumDiffHelper];
    this.tunnel = new TunnelMetadata(memory);
    const frameAt = (ctx: number) => this.frames.get(ctx);
    this.tcHelpers = [
      ...skbReshapeHelpers((ctx) => {
        const frame = frameAt(ctx);
        return frame && new SkbReshape(frame);
      }),
      ...skbTunnelHelpers((ctx) => {
        const frame = frameAt(ctx);
        return frame && this.tunnel.of(frame);
      }),
    ];
    this.sockets = options.sockets ?? new SocketTable(memory, { findInterface: () => undefined, storageMaps: () => [] });
  }

  /** The helpers that report where an skb is, and bpf_clone_redirect, as a program type gets them (helpers/skb-context.ts). */
  contextHelpers(type: SkbProgramType): HelperSpec[] {
    return skbContextHelpers({
      skbAt: (ctx) => this.frames.get(ctx)?.context(),
      fullSocketAt: (address) => this.sockets.socketAt(address)?.fullSocket === true,
      deviceExists: (ifindex) => this.findDevice(ifindex) !== undefined,
    }, type);
  }

  /** The dynptr kfuncs and helpers (helpers/dynptr.ts); skb dynptrs are read-only where the type may not write packet data (Linux may_access_direct_pkt_data). */
  dynptrHelpers(type: SkbProgramType): HelperSpec[] {
    return dynptrHelpers({
      kind: 'skb',
      rdonly: type !== 'sched_cls',
      lookup: (ctx) => {
        const frame = this.frames.get(ctx);
        return frame && {
          start: frame.data, linearEnd: frame.data + frame.length, length: frame.length,
          loadBytes: (o, to, n) => frame.loadBytes(o, to, n),
          // __bpf_skb_store_bytes's flags.
          storeBytes: (o, from, n, flags) => (flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)
            ? -Errno.EINVAL
            : frame.storeBytes(o, from, n, (flags & BPF_F_RECOMPUTE_CSUM) !== 0n, (flags & BPF_F_INVALIDATE_HASH) !== 0n)),
        };
      },
    });
  }

  /** Allocates and registers a frame holding `packet` (an Ethernet frame). */
  createFrame(packet: Uint8Array, options: SkbFrameOptions = {}): SkbFrame {
    const frame = SkbFrame.create(this.memory, packet, { frameSize: this.frameSize, ...options });
    this.frames.set(frame.ctx, frame);
    return frame;
  }

  /** The live frame whose context is at `ctx`. */
  frameAt(ctx: number): SkbFrame | undefined {
    return this.frames.get(ctx);
  }

  /** A device test runs may name as ifindex. */
  device(ifindex: number): SkbDevice | undefined {
    return this.findDevice(ifindex);
  }

  private readonly runArgs = { args: [0], packet: { start: 0, end: 0, macHeader: 0, networkHeader: 0 } };

  /** Unregisters and frees a frame. */
  release(frame: SkbFrame): void {
    this.frames.delete(frame.ctx);
    frame.free();
  }

  /**
   * Runs a program once on a frame (r1 = its context; LD_ABS/LD_IND offsets count from skb->data, or
   * from the network and MAC headers at SKF_NET_OFF and SKF_LL_OFF, up to skb->len) and returns r0 as a u32. Writes to u16 fields are narrowed afterwards (SkbFrame.settleWrites).
   */
  run(executor: Executor, frame: SkbFrame): number {
    const outer = this.current;
    this.current = frame;
    const queueMapping = frame.queueMapping;
    const sockets = this.sockets;
    const references = sockets.heldReferences;
    // One argument list, refilled: executors read it before they return (a test run's repeats are a hot loop).
    const runArgs = this.runArgs;
    runArgs.args[0] = frame.ctx;
    runArgs.packet.start = frame.data;
    runArgs.packet.end = frame.data + frame.length;
    runArgs.packet.macHeader = frame.macHeader;
    runArgs.packet.networkHeader = frame.networkHeader;
    frame.clones = [];
    try {
      const result = executor.run(runArgs);
      if (sockets.heldReferences !== references) sockets.endRun(references);
      return result.retval;
    } catch (err) {
      sockets.dropReferences(references);
      throw err;
    } finally {
      this.current = outer;
      frame.settleWrites(queueMapping);
    }
  }

  /** BPF_PROG_TEST_RUN for an skb program. */
  testRun(executor: Executor, programType: SkbProgramType, options: SkbTestRunOptions): SkbTestRunResult {
    return skbTestRun(this, executor, programType, options);
  }
}

/** What eth_type_trans works out from the Ethernet header: skb->protocol (as the u32 programs read) and skb->pkt_type. */
export function ethTypeTrans(packet: Uint8Array, device: SkbDevice): { protocol: number; pktType: number } {
  const dest = packet.subarray(0, 6);
  const same = (a: Uint8Array, b: Uint8Array) => a.every((x, i) => x === b[i]);
  let pktType: number = PacketType.HOST;
  if (!same(dest, device.address ?? ZERO_MAC)) {
    if (dest[0]! & 1) pktType = same(dest, device.broadcast ?? BROADCAST_MAC) ? PacketType.BROADCAST : PacketType.MULTICAST;
    else pktType = PacketType.OTHERHOST;
  }
  let proto = (packet[12]! << 8) | packet[13]!;
  if (proto < 0x0600) {
    // 802.3 length field: raw IPX (a 0xffff "SAP") or 802.2 LLC.
    proto = packet.length >= ETH_HLEN + 2 && packet[14] === 0xff && packet[15] === 0xff ? 0x0001 : 0x0004;
  }
  // skb->protocol is big-endian; programs load it as a little-endian u32.
  return { protocol: ((proto & 0xff) << 8) | (proto >>> 8), pktType };
}

/** ETH_P_IP and ETH_P_IPV6 as skb->protocol reads on a little-endian host. */
const ETH_P_IP_LE = 0x0008;
const ETH_P_IPV6_LE = 0xdd86;
/** The network header a test run insists on for IPv4 and IPv6 (Linux 6.18 refuses shorter packets). */
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;

/** The byte ranges of `struct __sk_buff` a test run's ctx_in may set; every other byte must be zero. */
const CTX_IN_ALLOWED: readonly (readonly [number, number])[] = [
  [SkBuffOffset.mark, 4],
  [SkBuffOffset.priority, 4],
  [SkBuffOffset.ingressIfindex, 4],
  [SkBuffOffset.ifindex, 4],
  [SkBuffOffset.cb, 20],
  [SkBuffOffset.tstamp, 8],
  [SkBuffOffset.wireLen, 4],
  [SkBuffOffset.gsoSegs, 4],
  [SkBuffOffset.gsoSize, 4],
  [SkBuffOffset.hwtstamp, 8],
];

/** Linux GSO_LEGACY_MAX_SIZE and GSO_MAX_SEGS: the limits on wire_len and gso_segs. */
const GSO_LEGACY_MAX_SIZE = 65536;
const GSO_MAX_SEGS = 65535;

/** ctx_in as bytes, checked as bpf_ctx_init does (-E2BIG for a page or more, or non-zero bytes past the struct). */
function contextIn(ctxIn: SkbTestRunOptions['ctxIn'], wanted: boolean): Uint8Array | undefined {
  if (ctxIn === undefined) return wanted ? new Uint8Array(SK_BUFF_SIZE) : undefined;
  if (!(ctxIn instanceof Uint8Array)) return encodeSkBuff(ctxIn);
  if (ctxIn.length > 4096) throw new SkbTestRunError('ctx_in', -Errno.E2BIG, `ctx_in of ${ctxIn.length} bytes is larger than a page`);
  if (ctxIn.subarray(SK_BUFF_SIZE).some((b) => b !== 0)) throw new SkbTestRunError('ctx_in', -Errno.E2BIG, 'ctx_in has non-zero bytes past struct __sk_buff');
  const bytes = new Uint8Array(SK_BUFF_SIZE);
  bytes.set(ctxIn.subarray(0, SK_BUFF_SIZE));
  return bytes;
}

/** convert___skb_to_skb's check that ctx_in sets only the fields a test run takes. */
function checkContextFields(bytes: Uint8Array): void {
  const allowed = new Uint8Array(SK_BUFF_SIZE);
  for (const [at, size] of CTX_IN_ALLOWED) allowed.fill(1, at, at + size);
  const at = bytes.findIndex((b, i) => b !== 0 && !allowed[i]);
  if (at >= 0) throw new SkbTestRunError('ctx_in', -Errno.EINVAL, `ctx_in sets byte ${at} of struct __sk_buff, which a test run does not take`);
}

/**
 * BPF_PROG_TEST_RUN for an skb program on any engine: the executor must have been built with
 * `runner.helpers` in its table. Input the kernel refuses throws SkbTestRunError with its errno.
 * sched_cls sees the packet from the MAC header; socket_filter and cgroup_skb from the network
 * header, and get a zeroed Ethernet header pushed back for data_out. bpf_redirect is recorded, not
 * carried out. The skb carries a dummy socket, as Linux's does: `__sk_buff->sk` points at its
 * `struct bpf_sock`, bpf_get_socket_cookie gives its fresh cookie, and socket storage made on it
 * lasts across `repeat` and goes when the test run ends. With
 * BPF_F_TEST_SKB_CHECKSUM_COMPLETE the skb carries skb->csum, and a run that leaves it stale throws
 * SkbTestRunError with -EBADMSG.
 */
export function skbTestRun(runner: SkbRunner, executor: Executor, programType: SkbProgramType, options: SkbTestRunOptions): SkbTestRunResult {
  const size = options.dataIn.length;
  const flags = options.flags ?? 0;
  const isL2 = programType === 'sched_cls';
  if (flags & ~BPF_F_TEST_SKB_CHECKSUM_COMPLETE) throw new SkbTestRunError('flags', -Errno.EINVAL, `unknown test-run flags 0x${flags.toString(16)}`);
  const maxData = runner.frameSize - SKB_HEADROOM - SKB_SHARED_INFO_TAILROOM;
  if (size < ETH_HLEN || size > maxData) {
    throw new SkbTestRunError('data_in', -Errno.EINVAL, `data_in of ${size} bytes is not between ${ETH_HLEN} and ${maxData} bytes`);
  }
  const ctxBytes = contextIn(options.ctxIn, options.ctxOut ?? false);
  const ctx = ctxBytes ? decodeSkBuff(ctxBytes) : emptySkBuff();
  let device = SKB_LOOPBACK;
  if (ctx.ifindex > 1) {
    const named = runner.device(ctx.ifindex);
    if (!named) throw new SkbTestRunError('ctx_in', -Errno.ENODEV, `no device with ifindex ${ctx.ifindex}`);
    device = named;
  }
  const { protocol, pktType } = ethTypeTrans(options.dataIn, device);
  const network = options.dataIn.subarray(ETH_HLEN);
  if ((protocol === ETH_P_IP_LE && network.length < IPV4_HEADER) || (protocol === ETH_P_IPV6_LE && network.length < IPV6_HEADER)) {
    throw new SkbTestRunError('data_in', -Errno.EINVAL, `an ${protocol === ETH_P_IP_LE ? 'IPv4' : 'IPv6'} packet of ${network.length} bytes after the Ethernet header has no room for its header`);
  }
  const len = isL2 ? size : size - ETH_HLEN;
  if (ctxBytes) checkContextFields(ctxBytes);
  // Without ctx_in or ctx_out Linux converts no context at all, so wire_len (qdisc_skb_cb's pkt_len) stays 0.
  const wireLen = !ctxBytes ? 0 : ctx.wireLen === 0 ? len : ctx.wireLen;
  if (ctxBytes && (wireLen < len || wireLen > GSO_LEGACY_MAX_SIZE)) throw new SkbTestRunError('ctx_in', -Errno.EINVAL, `wire_len ${ctx.wireLen} is below the packet's ${len} bytes or above ${GSO_LEGACY_MAX_SIZE}`);
  if (ctx.gsoSegs > GSO_MAX_SEGS) throw new SkbTestRunError('ctx_in', -Errno.EINVAL, `gso_segs ${ctx.gsoSegs} is above ${GSO_MAX_SEGS}`);
  // The dummy socket takes its family and addresses from the IP header; other protocols leave AF_UNSPEC.
  const sock = protocol === ETH_P_IP_LE ? runner.sockets.openTestRunSocket(4, network.subarray(12, 16), network.subarray(16, 20))
    : protocol === ETH_P_IPV6_LE ? runner.sockets.openTestRunSocket(6, network.subarray(8, 24), network.subarray(24, 40))
    : runner.sockets.openTestRunSocket(0, undefined, undefined);
  let frame: SkbFrame;
  try {
    frame = runner.createFrame(options.dataIn, {
      pullMacHeader: !isL2,
      // tc's helpers may grow the skb up to SKB_MAX_LEN, where Linux reallocates its head.
      growable: isL2,
      socket: sock,
      fields: {
        pktType, protocol, mark: ctx.mark, priority: ctx.priority, ingressIfindex: ctx.ingressIfindex, ifindex: device.ifindex,
        cb: ctx.cb, tstamp: ctx.tstamp, wireLen, gsoSegs: ctx.gsoSegs, gsoSize: ctx.gsoSize, hwtstamp: ctx.hwtstamp,
      },
    });
  } catch (err) {
    runner.sockets.close(sock);
    throw err;
  }
  try {
    const checksumComplete = (flags & BPF_F_TEST_SKB_CHECKSUM_COMPLETE) !== 0;
    if (checksumComplete) frame.startChecksumComplete();
    const { retval, durationNs } = repeatRuns(options.repeat ?? 1, oneByOne(() => runner.run(executor, frame)), options.onProgress);
    if (checksumComplete && !frame.checksumValid()) {
      throw new SkbTestRunError('program', -EBADMSG, 'skb->csum no longer matches the packet: the program changed it without updating the checksum');
    }
    if (!isL2) {
      // The Ethernet header comes back zeroed (Linux pushes ETH_HLEN cleared bytes).
      frame.push(ETH_HLEN);
      runner.memory.bytes.fill(0, frame.data, frame.data + ETH_HLEN);
    }
    const output = frame.packet();
    let errno = 0;
    let dataOut = output;
    if (options.dataSizeOut && output.length > options.dataSizeOut) {
      dataOut = output.slice(0, options.dataSizeOut);
      errno = -Errno.ENOSPC;
    }
    let ctxOut: Uint8Array | undefined;
    // As in Linux, ctx_out is not written when data_out was truncated.
    if (ctxBytes && options.ctxOut && errno === 0) {
      const after = frame.read();
      const full = new Uint8Array(ctxBytes);
      const v = new DataView(full.buffer);
      // Fields programs may write come from the context; the others are the skb's, which programs cannot change.
      v.setUint32(SkBuffOffset.mark, after.mark, true);
      v.setUint32(SkBuffOffset.priority, after.priority, true);
      v.setUint32(SkBuffOffset.ingressIfindex, ctx.ingressIfindex, true);
      v.setUint32(SkBuffOffset.ifindex, device.ifindex, true);
      v.setBigUint64(SkBuffOffset.tstamp, after.tstamp, true);
      after.cb.forEach((w, i) => v.setUint32(SkBuffOffset.cb + 4 * i, w, true));
      v.setUint32(SkBuffOffset.wireLen, wireLen, true);
      // gso_segs is the skb's (bpf_skb_change_tail resets it); gso_size stays as given, as Linux does not convert it back.
      v.setUint32(SkBuffOffset.gsoSegs, after.gsoSegs, true);
      v.setBigUint64(SkBuffOffset.hwtstamp, ctx.hwtstamp, true);
      const room = options.ctxSizeOut ?? SK_BUFF_SIZE;
      ctxOut = full.slice(0, Math.min(room, SK_BUFF_SIZE));
      if (room < SK_BUFF_SIZE) errno = -Errno.ENOSPC;
    }
    return {
      errno, retval, dataOut, dataSizeOut: output.length, durationNs,
      ...(ctxOut ? { ctxOut } : {}),
      ...(frame.redirect ? { redirect: frame.redirect } : {}),
    };
  } finally {
    runner.release(frame);
    // Its storage goes with it (bpf_sk_storage_free in bpf_prog_test_run_skb).
    runner.sockets.close(sock);
  }
}
