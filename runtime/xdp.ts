// Running XDP programs over packet frames: a registry from context address to live frame (what the
// XDP helpers look frames up in), and BPF_PROG_TEST_RUN for XDP as net/bpf/test_run.c does it
// (bpf_prog_test_run_xdp, bpf_test_finish, bpf_ctx_init/finish), multi-buffer frames included.
import { BpfError } from '../isa/errors.js';
import type { HelperSpec } from '../helpers/table.js';
import { xdpHelpers, type XdpRedirect } from '../helpers/xdp.js';
import { dynptrHelpers } from '../helpers/dynptr.js';
import { Errno } from '../maps/constants.js';
import type { Executor } from './engine.js';
import { oneByOne, repeatRuns, type RepeatProgress, type TestRunInput } from './run.js';
import type { GuestMemory } from './memory.js';
import type { SocketTable } from './sockets.js';
import {
  ETH_HLEN, MAX_SKB_FRAGS, PacketFrame, SKB_SHARED_INFO_TAILROOM, XDP_FRAME_RESERVED, XDP_FRAME_SIZE, XDP_MD_SIZE, XDP_PACKET_HEADROOM, XdpMdOffset,
  metaLengthInvalid, type PacketFrameOptions, type XdpMd,
} from './packet-frame.js';

/** XDP verdicts (linux/bpf.h enum xdp_action). */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/** A network device a test run may name as ingress_ifindex. */
export interface XdpDevice {
  readonly ifindex: number;
  /** Receive queues (real_num_rx_queues); rx_queue_index must be below it. */
  readonly rxQueues: number;
}

/** Released frames a runner keeps for reuse. */
const SPARE_FRAMES = 16;

/** Linux's loopback device: what a test run without ctx_in runs on. */
export const LOOPBACK: XdpDevice = { ifindex: 1, rxQueues: 1 };

/** A test run refused its input before running, as the kernel does, with its errno. */
export class XdpTestRunError extends BpfError {
  constructor(readonly input: TestRunInput, readonly errno: number, detail: string) {
    super('xdp-test-run', `test run refused (${errno}): ${detail}`);
  }
}

/** Input of an XDP test run, after BPF_PROG_TEST_RUN's attributes. */
export interface XdpTestRunOptions {
  /** data_in: metadata (ctxIn.data bytes) then the packet. */
  readonly dataIn: Uint8Array;
  /** data_size_out: when given and smaller than the output, dataOut is truncated and errno is -ENOSPC. */
  readonly dataSizeOut?: number;
  /** ctx_in: a `struct xdp_md`, as bytes (any length; bytes past the struct must be zero) or as fields. */
  readonly ctxIn?: Uint8Array | Partial<XdpMd>;
  /** Whether the caller wants ctx_out (it needs ctxIn, or the run is refused with -EINVAL as on Linux). */
  readonly ctxOut?: boolean;
  /** ctx_size_out (default: the struct's size). */
  readonly ctxSizeOut?: number;
  /** Runs on the same buffer (0 counts as 1). */
  readonly repeat?: number;
  /** Called every 65,536 runs of a long repeat, with the runs done and asked for. */
  readonly onProgress?: RepeatProgress;
}

/** Output of an XDP test run. */
export interface XdpTestRunResult {
  /** 0, or -ENOSPC when dataOut or ctxOut was truncated. */
  readonly errno: number;
  /** r0 of the last run, as the kernel's u32 retval. */
  readonly retval: number;
  /** data_meta..data_end after the last run, truncated to dataSizeOut. */
  readonly dataOut: Uint8Array;
  /** The full output size (data_size_out as the kernel reports it). */
  readonly dataSizeOut: number;
  /** The context after the run, with data and data_end relative to data_meta (as Linux reports them). */
  readonly ctxOut?: Uint8Array;
  /** Average run time in ns (u32). */
  readonly durationNs: number;
  /** Where an XDP_REDIRECT of the last run was going (not carried out, as in Linux). */
  readonly redirect?: XdpRedirect;
}

/** Options of a runner. */
export interface XdpRunnerOptions {
  /** Frame size (default 4096). */
  readonly frameSize?: number;
  /** Devices test runs may name in ctx_in, as a list or a lookup (default: loopback only). */
  readonly devices?: readonly XdpDevice[] | ((ifindex: number) => XdpDevice | undefined);
  /** The socket table whose references (bpf_sk_lookup_*) each run must give back (default: none to check). */
  readonly sockets?: SocketTable;
}

/** Owns live XDP frames, the helpers that reach them through the context address, and test runs. */
export class XdpRunner {
  /** Frames by context address: those in use and the spare ones. */
  private readonly frames = new Map<number, PacketFrame>();
  /** Released frames, recycled by createFrame. */
  private readonly spare: PacketFrame[] = [];
  /** The XDP helpers bound to this runner's frames; put them in the executor's helper table. */
  readonly helpers: readonly HelperSpec[];
  /** The dynptr kfuncs and helpers over XDP frames (helpers/dynptr.ts). */
  readonly dynptrHelpers: readonly HelperSpec[];
  readonly frameSize: number;
  private readonly findDevice: (ifindex: number) => XdpDevice | undefined;
  private readonly sockets: SocketTable | undefined;

  constructor(readonly memory: GuestMemory, options: XdpRunnerOptions = {}) {
    this.frameSize = options.frameSize ?? XDP_FRAME_SIZE;
    this.sockets = options.sockets;
    const devices = options.devices ?? [LOOPBACK];
    if (typeof devices === 'function') this.findDevice = devices;
    else {
      const byIndex = new Map(devices.map((d) => [d.ifindex, d]));
      this.findDevice = (ifindex) => byIndex.get(ifindex);
    }
    this.helpers = xdpHelpers((ctx) => this.frameAt(ctx));
    this.dynptrHelpers = dynptrHelpers({
      kind: 'xdp',
      rdonly: false,
      lookup: (ctx) => {
        const frame = this.frameAt(ctx);
        return frame && {
          start: frame.data, linearEnd: frame.dataEnd, length: frame.buffLength,
          loadBytes: (o, to, n) => frame.loadBytes(o, to, n),
          // __bpf_dynptr_write: XDP dynptrs take no flags.
          storeBytes: (o, from, n, flags) => (flags ? -Errno.EINVAL : frame.storeBytes(o, from, n)),
        };
      },
    });
  }

  /** Allocates (or recycles) and registers a frame holding `bytes` (metadata first, if options.metaLength). */
  createFrame(bytes: Uint8Array, options: PacketFrameOptions = {}): PacketFrame {
    const spare = this.spare.pop();
    return this.register(PacketFrame.build(
      this.memory, bytes, options.frameSize ?? this.frameSize, options.headroom ?? XDP_PACKET_HEADROOM, options.metaLength ?? 0,
      options.linearLength, options.ingressIfindex ?? 0, options.rxQueueIndex ?? 0, options.egressIfindex ?? 0, spare,
    ), spare);
  }

  /** A frame holding a received packet (no metadata): createFrame without an options object, for the datapath's per-packet path. */
  receiveFrame(bytes: Uint8Array, ingressIfindex: number, rxQueueIndex: number, linearLength?: number): PacketFrame {
    const spare = this.spare.pop();
    return this.register(PacketFrame.build(this.memory, bytes, this.frameSize, XDP_PACKET_HEADROOM, 0, linearLength, ingressIfindex, rxQueueIndex, 0, spare), spare);
  }

  /** The live frame whose context is at `ctx`. */
  frameAt(ctx: number): PacketFrame | undefined {
    const frame = this.frames.get(ctx);
    return frame?.inUse ? frame : undefined;
  }

  /** A device test runs may name as ingress_ifindex. */
  device(ifindex: number): XdpDevice | undefined {
    return this.findDevice(ifindex);
  }

  /** Unregisters a frame and keeps it for the next createFrame (frames are costly to allocate; a few are kept). */
  release(frame: PacketFrame): void {
    frame.inUse = false;
    if (this.spare.length < SPARE_FRAMES && frame.frameSize === this.frameSize) {
      this.spare.push(frame);
    } else {
      this.frames.delete(frame.ctx);
      frame.free();
    }
  }

  /**
   * Makes a frame findable by its context address. A recycled frame stays in `frames` while it is
   * spare and only its `inUse` flag changes: deleting and re-adding map entries once per packet cost
   * about a microsecond (the map's table was rebuilt every few packets).
   */
  private register(frame: PacketFrame, spare: PacketFrame | undefined): PacketFrame {
    // The spare it was built in is registered still; a frame of its own (another size) is new to
    // `frames`, and the spare goes back for the next one.
    if (frame !== spare) {
      this.frames.set(frame.ctx, frame);
      if (spare) this.spare.push(spare);
    }
    frame.inUse = true;
    return frame;
  }

  /** The frame the current run is on (the redirect helpers record their target there). */
  current: PacketFrame | undefined;

  /**
   * Runs a program once on a frame (r1 = its context) and returns r0 as a u32 verdict. `verified`
   * says the verifier checked the program: it writes only inside the packet, so the frame can be
   * recycled by zeroing less.
   */
  run(executor: Executor, frame: PacketFrame, verified = false): number {
    frame.beforeRun(verified);
    const outer = this.current;
    this.current = frame;
    frame.redirect = undefined;
    const sockets = this.sockets;
    const references = sockets ? sockets.heldReferences : 0;
    try {
      const verdict = executor.runContext(frame.ctx);
      // A run must give back what bpf_sk_lookup_* gave it (one comparison when it took nothing).
      if (sockets && sockets.heldReferences !== references) sockets.endRun(references);
      return verdict;
    } catch (err) {
      sockets?.dropReferences(references);
      throw err;
    } finally {
      this.current = outer;
    }
  }

  /**
   * `times` runs of a program on a frame (a test run's repeats), the last verdict returned: inside
   * WebAssembly when the JIT can (see Executor.repeatContext), else one `run` at a time.
   */
  runRepeated(executor: Executor, frame: PacketFrame, times: number): number {
    if (times > 1) {
      // What run() resets is left alone by the programs repeatContext takes (no redirect, no sockets).
      frame.beforeRun(false);
      frame.redirect = undefined;
      const outer = this.current;
      this.current = frame;
      try {
        const retval = executor.repeatContext(frame.ctx, times);
        if (retval !== undefined) return retval;
      } finally {
        this.current = outer;
      }
    }
    return oneByOne(() => this.run(executor, frame))(times);
  }

  /** BPF_PROG_TEST_RUN for XDP. */
  testRun(executor: Executor, options: XdpTestRunOptions): XdpTestRunResult {
    return xdpTestRun(this, executor, options);
  }
}

/** The context fields given as bytes or fields, checked as bpf_ctx_init does (-E2BIG for non-zero bytes past the struct). */
function contextIn(ctxIn: XdpTestRunOptions['ctxIn'], wanted: boolean): XdpMd | undefined {
  if (ctxIn === undefined) {
    // Linux builds a zeroed context when only ctx_out is asked for, which its checks refuse
    // (seen on Linux 6.18 through bpftool: -EINVAL).
    if (wanted) throw new XdpTestRunError('ctx_in', -Errno.EINVAL, 'ctx_out without ctx_in');
    return undefined;
  }
  if (!(ctxIn instanceof Uint8Array)) {
    return { data: 0, dataEnd: 0, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0, ...ctxIn };
  }
  if (ctxIn.length > 4096) throw new XdpTestRunError('ctx_in', -Errno.E2BIG, `ctx_in of ${ctxIn.length} bytes is larger than a page`);
  if (ctxIn.subarray(XDP_MD_SIZE).some((b) => b !== 0)) throw new XdpTestRunError('ctx_in', -Errno.E2BIG, 'ctx_in has non-zero bytes past struct xdp_md');
  const bytes = new Uint8Array(XDP_MD_SIZE);
  bytes.set(ctxIn.subarray(0, XDP_MD_SIZE));
  const v = new DataView(bytes.buffer);
  const f = (o: number) => v.getUint32(o, true);
  return {
    data: f(XdpMdOffset.data),
    dataEnd: f(XdpMdOffset.dataEnd),
    dataMeta: f(XdpMdOffset.dataMeta),
    ingressIfindex: f(XdpMdOffset.ingressIfindex),
    rxQueueIndex: f(XdpMdOffset.rxQueueIndex),
    egressIfindex: f(XdpMdOffset.egressIfindex),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Encodes `struct xdp_md` fields. */
export function encodeXdpMd(md: XdpMd): Uint8Array {
  const bytes = new Uint8Array(XDP_MD_SIZE);
  const v = new DataView(bytes.buffer);
  for (const [name, offset] of Object.entries(XdpMdOffset)) v.setUint32(offset, md[name as keyof XdpMd] >>> 0, true);
  return bytes;
}

/**
 * BPF_PROG_TEST_RUN for an XDP program on any engine: the executor must have been built with
 * `runner.helpers` in its table. Input the kernel refuses throws XdpTestRunError with its errno.
 * XDP_TX and XDP_REDIRECT are reported in retval and not carried out. data_in past the linear part
 * (ctx_in's data_end, or what fits one page) goes into page-sized fragments, as Linux does: at most
 * MAX_SKB_FRAGS of them (-ENOMEM beyond), whatever the program's xdp.frags flag.
 */
export function xdpTestRun(runner: XdpRunner, executor: Executor, options: XdpTestRunOptions): XdpTestRunResult {
  const size = options.dataIn.length;
  const ctx = contextIn(options.ctxIn, options.ctxOut ?? false);
  let headroom = XDP_PACKET_HEADROOM;
  let metaLength = 0;
  // The linear part of the frame; Linux puts the rest of data_in in fragments.
  let linear = size;
  if (size < ETH_HLEN) throw new XdpTestRunError('data_in', -Errno.EINVAL, `data_in of ${size} bytes is shorter than an Ethernet header`);
  if (ctx) {
    // User data cannot come before the metadata; data_end may end the linear part early.
    if (ctx.dataMeta !== 0 || ctx.dataEnd > size || ctx.data > ctx.dataEnd || metaLengthInvalid(ctx.data)) {
      throw new XdpTestRunError('ctx_in', -Errno.EINVAL, `xdp_md data_meta ${ctx.dataMeta}, data ${ctx.data}, data_end ${ctx.dataEnd} do not fit data_in of ${size} bytes`);
    }
    // The metadata comes out of the headroom, short of the xdp_frame Linux keeps at its start.
    if (ctx.data > XDP_PACKET_HEADROOM - XDP_FRAME_RESERVED) throw new XdpTestRunError('ctx_in', -Errno.EINVAL, `${ctx.data} bytes of metadata overlap the xdp_frame area`);
    metaLength = ctx.data;
    headroom -= metaLength;
    linear = ctx.dataEnd;
  }
  const maxDataSize = runner.frameSize - headroom - SKB_SHARED_INFO_TAILROOM;
  linear = Math.min(linear, maxDataSize);
  let ingressIfindex = LOOPBACK.ifindex;
  let rxQueueIndex = 0;
  if (ctx) {
    if (ctx.egressIfindex !== 0) throw new XdpTestRunError('ctx_in', -Errno.EINVAL, 'egress_ifindex must be 0');
    if (!ctx.ingressIfindex && ctx.rxQueueIndex) throw new XdpTestRunError('ctx_in', -Errno.EINVAL, 'rx_queue_index without ingress_ifindex');
    if (ctx.ingressIfindex) {
      const device = runner.device(ctx.ingressIfindex);
      if (!device) throw new XdpTestRunError('ctx_in', -Errno.ENODEV, `no device with ifindex ${ctx.ingressIfindex}`);
      if (ctx.rxQueueIndex >= device.rxQueues) throw new XdpTestRunError('ctx_in', -Errno.EINVAL, `ifindex ${ctx.ingressIfindex} has no rx queue ${ctx.rxQueueIndex}`);
      ingressIfindex = ctx.ingressIfindex;
      rxQueueIndex = ctx.rxQueueIndex;
    }
  }
  let frame: PacketFrame;
  try {
    // What does not fit the linear part goes into page-sized fragments.
    frame = runner.createFrame(options.dataIn, { headroom: XDP_PACKET_HEADROOM, metaLength, ingressIfindex, rxQueueIndex, linearLength: linear - metaLength });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new XdpTestRunError('data_in', -Errno.ENOMEM, `data_in of ${size} bytes needs more than ${MAX_SKB_FRAGS} fragments`);
  }
  try {
    const { retval, durationNs } = repeatRuns(options.repeat ?? 1, (times) => runner.runRepeated(executor, frame, times), options.onProgress);
    const output = frame.hasFragments ? concat(frame.metadata(), frame.packet()) : runner.memory.bytes.slice(frame.dataMeta, frame.dataEnd);
    let errno = 0;
    let dataOut = output;
    if (options.dataSizeOut && output.length > options.dataSizeOut) {
      dataOut = output.slice(0, options.dataSizeOut);
      errno = -Errno.ENOSPC;
    }
    let ctxOut: Uint8Array | undefined;
    // As in Linux, ctx_out is not written when data_out was truncated.
    if (ctx && options.ctxOut && errno === 0) {
      // Linux reports data and data_end relative to data_meta, and the other fields as given.
      const full = encodeXdpMd({ ...ctx, data: frame.data - frame.dataMeta, dataEnd: frame.dataEnd - frame.dataMeta });
      const room = options.ctxSizeOut ?? XDP_MD_SIZE;
      ctxOut = full.slice(0, Math.min(room, XDP_MD_SIZE));
      if (room < XDP_MD_SIZE && errno === 0) errno = -Errno.ENOSPC;
    }
    const redirect = retval === XdpAction.REDIRECT ? frame.redirect : undefined;
    return { errno, retval, dataOut, dataSizeOut: output.length, durationNs, ...(ctxOut ? { ctxOut } : {}), ...(redirect ? { redirect } : {}) };
  } finally {
    runner.release(frame);
  }
}
