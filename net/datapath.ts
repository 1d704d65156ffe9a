// The simulated datapath (DESIGN.md "Replay"): what happens to a frame received on an interface or
// sent by its stack, as Linux carries out the verdicts of the programs on its way. XDP on receive
// (net/core/dev.c, include/linux/filter.h bpf_prog_run_xdp); XDP_TX and XDP_REDIRECT through
// bpf_redirect, DEVMAP, DEVMAP_HASH and CPUMAP with their entry programs and broadcast
// (net/core/filter.c xdp_do_redirect, kernel/bpf/devmap.c, kernel/bpf/cpumap.c); and, beyond Linux,
// an egress XDP hook on every frame an interface transmits. The skb side (packet sockets, tc) is
// in net/skb-path.ts. Frames are processed to the end, one at a time, in order: where Linux queues
// (devmap bulk queues, cpumap's kthread), the simulation runs the next stage at once.
import { BpfError } from '../isa/errors.js';
import { MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import type { RedirectTarget } from '../maps/redirect-target.js';
import type { Netdev } from '../runtime/netdev.js';
import type { PacketFrame } from '../runtime/packet-frame.js';
import { ETH_HLEN, MAX_SKB_FRAGS, SKB_SHARED_INFO_TAILROOM, XDP_PACKET_HEADROOM } from '../runtime/packet-frame.js';
import type { Program } from '../runtime/program.js';
import type { Runtime } from '../runtime/runtime.js';
import { flowHash } from '../runtime/flow-hash.js';
import { XdpAction } from '../runtime/xdp.js';
import { BPF_F_EXCLUDE_INGRESS, BPF_F_BROADCAST, type XdpRedirect } from '../helpers/xdp.js';
import { DatapathStats, verdictName, type DatapathHook } from './datapath-stats.js';
import { SkbPath } from './skb-path.js';

/** Where a frame ended up. */
export type FrameFate = 'tx' | 'pass' | 'drop' | 'aborted' | 'socket';

/** A frame leaving the datapath, handed to the listener. */
export interface FrameEvent {
  readonly fate: FrameFate;
  /** tx: the interface it left; pass: whose stack got it; socket: whose packet socket; drop/aborted: where. */
  readonly dev: Netdev;
  /** The frame's bytes. A view into guest memory: valid only during the call; copy to keep. */
  readonly bytes: Uint8Array;
  /** The hook whose verdict (or the stage whose failure) decided it. */
  readonly hook: string;
  /** The program that decided, if one did. */
  readonly program?: string;
  /** Why it was dropped or aborted. */
  readonly cause?: string;
  /**
   * The pairs of the XDP metadata key/value store of the frame (as the XDP side left it), with
   * DatapathOptions.metadata; undefined when the store was empty.
   */
  readonly metadata?: readonly [number, bigint][];
}

/** The received (or sent) frame the datapath is working on, as the capture gave it. */
export interface PacketInfo {
  /** 1-based number of the record in its capture (0 when not from a capture). */
  readonly number: number;
  /** Capture time: whole seconds since the epoch. */
  readonly seconds: number;
  /** Capture time: nanoseconds within the second. */
  readonly nanoseconds: number;
}

/** How a datapath behaves. */
export interface DatapathOptions {
  /** Times a frame may come back into the datapath (loopback interfaces, tc redirects to an ingress); default 8. */
  readonly maxHops?: number;
  /** Called for every frame that leaves the datapath. The event and the packet info are valid during the call only. */
  readonly onFrame?: (event: FrameEvent, packet: PacketInfo) => void;
  /**
   * Called after every program run with its verdict (signed for tc) and the frame as the program
   * left it: metadata and packet for XDP, the skb's data for tc (what BPF_PROG_TEST_RUN's data_out
   * would hold). For comparing runs with a kernel; costs a copy per run when set.
   */
  readonly onProgram?: (run: ProgramRun) => void;
  /** Give frame events the metadata store's pairs (costs a read of the store per frame). */
  readonly metadata?: boolean;
}

/** One program's run in the datapath, as onProgram sees it. */
export interface ProgramRun {
  readonly hook: DatapathHook;
  readonly dev: Netdev;
  readonly program: Program;
  /** The action returned (XDP: u32; tc: signed), or undefined when the program faulted. */
  readonly verdict: number | undefined;
  /** data_meta..data_end (XDP, fragments appended) or skb->data..end (tc, socket filters), after the run. */
  readonly data: Uint8Array;
  readonly packet: PacketInfo;
}

const NO_PACKET: PacketInfo = { number: 0, seconds: 0, nanoseconds: 0 };
/** cpuOf's answer for one queue on one CPU, shared. */
const SINGLE_QUEUE = Object.freeze({ queue: 0, cpu: 0 });
/** A program run that faulted (an abort with a cause), as opposed to an action it returned. */
const FAULT = -1;

/** Linux errnos a failed redirect reports (the replay shows their names). */
const REDIRECT_ERRORS = { EINVAL: 'EINVAL', ENODEV: 'ENODEV', EOPNOTSUPP: 'EOPNOTSUPP', EMSGSIZE: 'EMSGSIZE', ENOENT: 'ENOENT' } as const;

/** Carries out verdicts over a runtime's network. */
export class Datapath {
  readonly stats = new DatapathStats();
  readonly maxHops: number;
  private packet: PacketInfo = NO_PACKET;
  private readonly onFrame: DatapathOptions['onFrame'];
  /** See DatapathOptions.onProgram. */
  readonly onProgram: DatapathOptions['onProgram'];
  /** The skb side: packet sockets, tc ingress and egress, the stack. */
  readonly skb: SkbPath;

  constructor(readonly runtime: Runtime, options: DatapathOptions = {}) {
    this.maxHops = options.maxHops ?? 8;
    this.onFrame = options.onFrame;
    this.onProgram = options.onProgram;
    this.wantMetadata = options.metadata ?? false;
    this.skb = new SkbPath(this, runtime);
  }

  /** The packet being processed. */
  get current(): PacketInfo {
    return this.packet;
  }

  /** A frame arrives on an interface (from the wire). */
  receive(dev: Netdev, bytes: Uint8Array, packet: PacketInfo = NO_PACKET): void {
    this.packet = packet;
    this.ingress(dev, bytes, 0);
  }

  /** The stack of an interface sends a frame: the cgroup's egress programs (a local socket's frame), tc egress, then the egress XDP hook, then the wire. */
  send(dev: Netdev, bytes: Uint8Array, packet: PacketInfo = NO_PACKET): void {
    this.packet = packet;
    this.skb.send(dev, bytes, this.cpuOf(dev, bytes).cpu);
  }

  /** Hands a frame that leaves the datapath to the listener (one event object, refilled: valid during the call). */
  emit(fate: FrameFate, dev: Netdev, bytes: Uint8Array, hook: string, program?: string, cause?: string): void {
    if (!this.onFrame) return;
    const e = this.event;
    e.fate = fate;
    e.dev = dev;
    e.bytes = bytes;
    e.hook = hook;
    e.program = program;
    e.cause = cause;
    const store = this.wantMetadata ? this.xdpFrame : undefined;
    e.metadata = store && store.storeSize > 0 ? store.kvEntries(false) : undefined;
    this.onFrame(e, this.packet);
  }

  private readonly event: { -readonly [K in keyof FrameEvent]: FrameEvent[K] } = { fate: 'pass', dev: undefined as unknown as Netdev, bytes: new Uint8Array(0), hook: '', program: undefined, cause: undefined, metadata: undefined };
  private readonly wantMetadata: boolean;
  /** The XDP frame the frames emitted now came from (whose key/value store describes them). */
  private xdpFrame: PacketFrame | undefined;

  /** Counts and reports a frame dropped on an interface. */
  drop(dev: Netdev, bytes: Uint8Array, hook: string, cause: string, program?: string, transmit = false): void {
    if (transmit) dev.counters.txDropped++;
    else dev.counters.rxDropped++;
    this.stats.dropped(dev, hook, cause, program);
    this.emit('drop', dev, bytes, hook, program, cause);
  }

  /** Counts and reports an aborted frame (the cause is already tallied for faults). */
  abort(dev: Netdev, bytes: Uint8Array, hook: string, cause: string, program?: string, pc?: number): void {
    dev.counters.aborted++;
    this.stats.aborted(dev, hook, cause, program, pc);
    this.emit('aborted', dev, bytes, hook, program, cause);
  }

  /** Receive queue (by flow hash, as RSS spreads flows) and the CPU that serves it. */
  cpuOf(dev: Netdev, bytes: Uint8Array): { queue: number; cpu: number } {
    if (dev.rxQueues === 1 && this.runtime.cpus === 1) return SINGLE_QUEUE;
    const queue = dev.rxQueues === 1 ? 0 : flowHash(bytes) % dev.rxQueues;
    return { queue, cpu: queue % this.runtime.cpus };
  }

  /** A frame enters an interface: its XDP program, then the verdict. `hops` counts re-entries. */
  ingress(dev: Netdev, bytes: Uint8Array, hops: number): void {
    dev.counters.rxPackets++;
    dev.counters.rxBytes += bytes.length;
    const program = dev.program('xdp');
    const { queue, cpu } = this.cpuOf(dev, bytes);
    if (!program) {
      this.stats.verdicts.pass++;
      this.skb.receive(dev, bytes, undefined, cpu, hops);
      return;
    }
    const frame = this.frameFor(dev, program, bytes, 'xdp', dev.ifindex, queue, false);
    if (!frame) {
      this.stats.verdicts.drop++;
      return;
    }
    // The receive hints of the metadata store: the interface saw these bytes at the capture's time.
    frame.received(bytes, this.packet.seconds, this.packet.nanoseconds);
    const xdp = this.runtime.xdp;
    const outer = this.xdpFrame;
    this.xdpFrame = frame;
    try {
      const action = this.runXdp(program, frame, cpu, dev, 'xdp');
      // An invalid action is an abort (bpf_warn_invalid_xdp_action, then XDP_ABORTED).
      this.stats.ingressVerdict(action === FAULT ? undefined : action);
      this.afterIngressXdp(dev, frame, action, program, cpu, hops);
    } finally {
      this.xdpFrame = outer;
      xdp.release(frame);
    }
  }

  /**
   * The rest of `ingress` for a frame received on `dev` whose XDP program the replay lane ran on the
   * first CPU (net/replay-lane.ts): the run's r0, or the typed error it ended in, counted and carried
   * out, as part of `packet`. The frame stays the caller's to release.
   */
  afterLaneRun(dev: Netdev, frame: PacketFrame, program: Program, outcome: number | BpfError, packet: PacketInfo): void {
    this.packet = packet;
    const outer = this.xdpFrame;
    this.xdpFrame = frame;
    try {
      const action = typeof outcome === 'number' ? this.xdpRan(program, frame, dev, 'xdp', outcome) : this.xdpFault(outcome, program, frame, dev, 'xdp');
      this.stats.ingressVerdict(action === FAULT ? undefined : action);
      this.afterIngressXdp(dev, frame, action, program, 0, 0);
    } finally {
      this.xdpFrame = outer;
    }
  }

  /**
   * An XDP frame holding `bytes` for a program: linear, or (for an xdp.frags program) multi-buffer
   * when the bytes do not fit one buffer. A frame too big for the program is dropped, as Linux gives
   * such frames to XDP only as multi-buffer frames (a driver refuses other programs at such an MTU).
   */
  private frameFor(dev: Netdev, program: Program, bytes: Uint8Array, hook: DatapathHook, ingressIfindex: number, queue: number, transmit: boolean): PacketFrame | undefined {
    const xdp = this.runtime.xdp;
    const linear = xdp.frameSize - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_TAILROOM;
    if (bytes.length <= linear) return xdp.receiveFrame(bytes, ingressIfindex, queue);
    if (!program.section.startsWith('xdp.frags')) {
      this.drop(dev, bytes, hook, `frame of ${bytes.length} bytes is larger than one ${xdp.frameSize}-byte buffer (${linear} bytes of packet); '${program.name}' is not an xdp.frags program`, program.name, transmit);
      return undefined;
    }
    try {
      return xdp.receiveFrame(bytes, ingressIfindex, queue, linear);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.drop(dev, bytes, hook, `frame of ${bytes.length} bytes needs more than ${MAX_SKB_FRAGS} fragments`, program.name, transmit);
      return undefined;
    }
  }

  /** Runs an XDP program on a frame; a fault is an abort, tallied with its pc and cause, and returns FAULT. */
  runXdp(program: Program, frame: PacketFrame, cpu: number, dev: Netdev, hook: DatapathHook): number {
    let action: number;
    // Runtime.enter's work, without a closure per run: the CPU (valid: cpuOf chose it) and the program the helpers see.
    const rt = this.runtime;
    const savedCpu = rt.currentCpu;
    const savedProgram = rt.currentProgram;
    rt.currentCpu = cpu;
    rt.currentProgram = program;
    try {
      action = rt.xdp.run(program.executor, frame, program.verified);
    } catch (err) {
      return this.xdpFault(err, program, frame, dev, hook);
    } finally {
      rt.currentCpu = savedCpu;
      rt.currentProgram = savedProgram;
    }
    return this.xdpRan(program, frame, dev, hook, action);
  }

  /** A run's verdict, counted and reported; returned. */
  private xdpRan(program: Program, frame: PacketFrame, dev: Netdev, hook: DatapathHook, action: number): number {
    this.stats.verdict(dev, hook, program, verdictName(hook, action));
    this.onProgram?.({ hook, dev, program, verdict: action, data: this.frameData(frame), packet: this.packet });
    return action;
  }

  /** A run that threw: a BpfError is the frame's abort, tallied with its pc and cause (FAULT returned); anything else goes on. */
  private xdpFault(err: unknown, program: Program, frame: PacketFrame, dev: Netdev, hook: DatapathHook): number {
    if (!(err instanceof BpfError)) throw err;
    this.stats.verdict(dev, hook, program, 'fault');
    dev.counters.aborted++;
    const pc = (err as { pc?: number }).pc;
    this.stats.aborted(dev, hook, err.message, program.name, pc);
    this.emit('aborted', dev, this.bytesOf(frame), hook, program.name, err.message);
    this.onProgram?.({ hook, dev, program, verdict: undefined, data: this.frameData(frame), packet: this.packet });
    return FAULT;
  }

  /** A copy of a frame's metadata and packet (data_meta..data_end, then any fragments): what a test run's data_out holds. */
  private frameData(frame: PacketFrame): Uint8Array {
    const meta = frame.metadata();
    const packet = frame.packet();
    const out = new Uint8Array(meta.length + packet.length);
    out.set(meta);
    out.set(packet, meta.length);
    return out;
  }

  /** The bytes of a frame's packet (data..data_end, then any fragments): a view valid until guest memory changes, or a copy for a multi-buffer frame. */
  bytesOf(frame: PacketFrame): Uint8Array {
    if (frame.hasFragments) return frame.packet();
    const memory = this.runtime.memory;
    memory.refresh();
    return memory.bytes.subarray(frame.data, frame.dataEnd);
  }

  /** An XDP action other than a pass/tx/redirect: an abort (returned, or invalid) or a drop; FAULT was reported already. */
  private endXdp(dev: Netdev, frame: PacketFrame, action: number, program: Program, hook: DatapathHook, transmit: boolean): void {
    if (action === FAULT) return;
    if (action === XdpAction.DROP) {
      this.drop(dev, this.bytesOf(frame), hook, 'XDP_DROP', program.name, transmit);
      return;
    }
    const cause = action === XdpAction.ABORTED ? 'XDP_ABORTED' : `${verdictName(hook, action)} is not a verdict ${hook === 'xdp' ? 'XDP' : `a ${hook} program`} may return`;
    this.abort(dev, this.bytesOf(frame), hook, cause, program.name);
  }

  private afterIngressXdp(dev: Netdev, frame: PacketFrame, action: number, program: Program, cpu: number, hops: number): void {
    switch (action) {
      case XdpAction.PASS:
        if (!this.skb.hasPrograms(dev) && frame.length >= ETH_HLEN) {
          // Straight to the stack: the frame's bytes are read only for a listener.
          dev.counters.pass++;
          if (this.onFrame) this.emit('pass', dev, this.bytesOf(frame), 'stack');
          return;
        }
        this.skb.receive(dev, this.bytesOf(frame), frame.metaLength ? frame.metadata() : undefined, cpu, hops);
        return;
      case XdpAction.TX:
        this.transmit(dev, frame, dev, cpu, hops);
        return;
      case XdpAction.REDIRECT:
        dev.counters.redirected++;
        this.redirect(dev, frame, program, cpu, hops);
        return;
      default:
        this.endXdp(dev, frame, action, program, 'xdp', false);
    }
  }

  /** Transmits an XDP frame on an interface: the egress XDP hook (beyond Linux), then the wire. `from` is where it was received. */
  transmit(dev: Netdev, frame: PacketFrame, from: Netdev | undefined, cpu: number, hops: number): void {
    const program = dev.program('xdp_egress');
    if (program) {
      frame.write({ ingressIfindex: from?.ifindex ?? 0, rxQueueIndex: 0, egressIfindex: dev.ifindex });
      const action = this.runXdp(program, frame, cpu, dev, 'xdp_egress');
      if (action !== XdpAction.PASS) {
        this.endXdp(dev, frame, action, program, 'xdp_egress', true);
        return;
      }
    }
    this.wire(dev, this.bytesOf(frame), hops);
  }

  /** Transmits bytes the stack sent (after tc egress): into an XDP frame for the egress hook if there is one, then the wire. */
  transmitBytes(dev: Netdev, bytes: Uint8Array, from: Netdev | undefined, cpu: number, hops: number): void {
    const program = dev.program('xdp_egress');
    if (!program) {
      this.wire(dev, bytes, hops);
      return;
    }
    const frame = this.frameFor(dev, program, bytes, 'xdp_egress', from?.ifindex ?? 0, 0, true);
    if (!frame) return;
    const outer = this.xdpFrame;
    this.xdpFrame = frame;
    try {
      this.transmit(dev, frame, from, cpu, hops);
    } finally {
      this.xdpFrame = outer;
      this.runtime.xdp.release(frame);
    }
  }

  /** A frame leaves an interface: counted and reported, or received again on a loopback interface. */
  wire(dev: Netdev, bytes: Uint8Array, hops: number): void {
    dev.counters.txPackets++;
    dev.counters.txBytes += bytes.length;
    this.emit('tx', dev, bytes, 'wire');
    if (!dev.loopback) return;
    if (hops + 1 > this.maxHops) {
      this.drop(dev, bytes, 'loopback', `hop limit of ${this.maxHops} reached`);
      return;
    }
    // A copy: the frame's buffer is reused as soon as this returns.
    this.ingress(dev, bytes.slice(), hops + 1);
  }

  /** Carries out XDP_REDIRECT: bpf_redirect's interface, or bpf_redirect_map's devmap or cpumap entry. */
  private redirect(from: Netdev, frame: PacketFrame, program: Program, cpu: number, hops: number): void {
    const target: XdpRedirect | undefined = frame.redirect;
    if (!target) {
      this.redirectFailed(from, frame, 'none', 0, REDIRECT_ERRORS.EINVAL, `'${program.name}' returned XDP_REDIRECT without calling bpf_redirect or bpf_redirect_map`);
      return;
    }
    if (target.mapId === undefined) {
      const dev = this.runtime.network.find(target.target);
      if (!dev) this.redirectFailed(from, frame, 'bpf_redirect', target.target, REDIRECT_ERRORS.EINVAL, `no interface with ifindex ${target.target}`);
      else this.forward(from, dev, frame, undefined, 'bpf_redirect', target.target, cpu, hops);
      return;
    }
    const map = this.runtime.mapById(target.mapId);
    if (!map) {
      this.redirectFailed(from, frame, target.map ?? 'map', target.target, REDIRECT_ERRORS.ENOENT, `map '${target.map}' was unloaded`);
      return;
    }
    if (map.type === MapType.CPUMAP) {
      this.cpumap(from, frame, map, target.target, hops);
      return;
    }
    if (target.flags & BPF_F_BROADCAST) {
      this.broadcast(from, frame, map, (target.flags & BPF_F_EXCLUDE_INGRESS) !== 0, cpu, hops);
      return;
    }
    const entry = targetOf(map, target.target);
    const dev = entry && this.runtime.network.find(entry.first);
    if (!dev) this.redirectFailed(from, frame, map.name, target.target, REDIRECT_ERRORS.ENODEV, entry ? `no interface with ifindex ${entry.first}` : `no entry ${target.target}`);
    else this.forward(from, dev, frame, entry!.program as Program | undefined, map.name, target.target, cpu, hops);
  }

  /** A redirect that could not be carried out: the frame is dropped on the receiving interface, as xdp_do_redirect's failure is. */
  private redirectFailed(from: Netdev, frame: PacketFrame, via: string, key: number, errno: string, detail: string): void {
    this.stats.redirect(from, via, key, `failed: -${errno}`);
    this.drop(from, this.bytesOf(frame), 'redirect', `redirect failed (-${errno}): ${detail}`);
  }

  /** Sends a redirected frame to an interface: the checks of __xdp_enqueue, the devmap entry's program, then transmit. */
  private forward(from: Netdev, dev: Netdev, frame: PacketFrame, devmapProgram: Program | undefined, via: string, key: number, cpu: number, hops: number): void {
    if (!dev.xdpXmit) {
      this.redirectFailed(from, frame, via, key, REDIRECT_ERRORS.EOPNOTSUPP, `${dev.name} does not take XDP frames (no ndo_xdp_xmit)`);
      return;
    }
    if (!dev.fits(frame.buffLength)) {
      this.redirectFailed(from, frame, via, key, REDIRECT_ERRORS.EMSGSIZE, `a frame of ${frame.buffLength} bytes exceeds ${dev.name}'s MTU of ${dev.mtu}`);
      return;
    }
    this.stats.redirect(from, via, key, dev.name);
    if (devmapProgram) {
      // dev_map_bpf_prog_run: the frame's receiving device, no rx queue, and the device it goes out of.
      frame.write({ ingressIfindex: from.ifindex, rxQueueIndex: 0, egressIfindex: dev.ifindex });
      const action = this.runXdp(devmapProgram, frame, cpu, dev, 'devmap');
      if (action !== XdpAction.PASS) {
        this.endXdp(dev, frame, action, devmapProgram, 'devmap', true);
        return;
      }
    }
    this.transmit(dev, frame, from, cpu, hops);
  }

  /**
   * bpf_redirect_map with BPF_F_BROADCAST (dev_map_enqueue_multi): a copy to every entry whose
   * interface takes the frame, not back out of the receiving one with BPF_F_EXCLUDE_INGRESS; the last
   * destination gets the frame itself. With no destination the frame is freed (reported as a drop).
   */
  private broadcast(from: Netdev, frame: PacketFrame, map: BpfMap, excludeIngress: boolean, cpu: number, hops: number): void {
    const destinations: { dev: Netdev; key: number; program: Program | undefined }[] = [];
    for (const keyBytes of map.keys()) {
      const key = new DataView(keyBytes.buffer, keyBytes.byteOffset).getUint32(0, true);
      const entry = targetOf(map, key);
      const dev = entry && this.runtime.network.find(entry.first);
      if (!dev || !dev.xdpXmit || !dev.fits(frame.buffLength) || (excludeIngress && dev === from)) continue;
      destinations.push({ dev, key, program: entry!.program as Program | undefined });
    }
    if (destinations.length === 0) {
      this.stats.redirect(from, map.name, 0, 'broadcast: no destination');
      this.drop(from, this.bytesOf(frame), 'redirect', `broadcast through '${map.name}' found no destination`);
      return;
    }
    const xdp = this.runtime.xdp;
    const last = destinations.pop()!;
    const meta = frame.metadata();
    const packet = this.bytesOf(frame);
    const bytes = new Uint8Array(meta.length + packet.length);
    bytes.set(meta);
    bytes.set(packet, meta.length);
    for (const d of destinations) {
      // The same layout as the frame: its headroom, metadata and key/value store.
      const clone = xdp.createFrame(bytes, { headroom: frame.data - frame.hardStart, metaLength: meta.length, ingressIfindex: from.ifindex, linearLength: frame.length });
      clone.copyStoreFrom(frame);
      this.xdpFrame = clone;
      try {
        this.forward(from, d.dev, clone, d.program, `${map.name} (broadcast)`, d.key, cpu, hops);
      } finally {
        this.xdpFrame = frame;
        xdp.release(clone);
      }
    }
    this.forward(from, last.dev, frame, last.program, `${map.name} (broadcast)`, last.key, cpu, hops);
  }

  /**
   * bpf_redirect_map into a CPUMAP: the entry's program runs on that CPU (cpu_map_bpf_prog_run_xdp)
   * with the frame's receiving device and no rx queue; PASS (or no program) hands the frame to the
   * receiving interface's stack on that CPU, REDIRECT redirects again, anything else drops it.
   */
  private cpumap(from: Netdev, frame: PacketFrame, map: BpfMap, cpu: number, hops: number): void {
    const entry = targetOf(map, cpu);
    if (!entry) {
      this.redirectFailed(from, frame, map.name, cpu, REDIRECT_ERRORS.ENOENT, `no entry ${cpu}`);
      return;
    }
    this.stats.redirect(from, map.name, cpu, `cpu ${cpu}`);
    const program = entry.program as Program | undefined;
    if (program) {
      frame.write({ ingressIfindex: from.ifindex, rxQueueIndex: 0, egressIfindex: 0 });
      const action = this.runXdp(program, frame, cpu, from, 'cpumap');
      if (action === XdpAction.REDIRECT) {
        if (hops + 1 > this.maxHops) {
          this.drop(from, this.bytesOf(frame), 'cpumap', `hop limit of ${this.maxHops} reached`, program.name);
          return;
        }
        this.redirect(from, frame, program, cpu, hops + 1);
        return;
      }
      if (action !== XdpAction.PASS) {
        // XDP_TX is not for cpumap programs: an invalid action, so an abort.
        this.endXdp(from, frame, action, program, 'cpumap', false);
        return;
      }
    }
    this.skb.receive(from, this.bytesOf(frame), frame.metaLength ? frame.metadata() : undefined, cpu, hops);
  }
}

/** The devmap/cpumap entry under a u32 key. */
function targetOf(map: BpfMap, key: number): RedirectTarget | undefined {
  return (map as unknown as { targetAt(key: number): RedirectTarget | undefined }).targetAt(key);
}
