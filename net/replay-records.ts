// Capture records as replay records, wherever the capture's bytes come from (a file on the Node
// edge, net/replay-files.ts; or bytes in memory, in a browser): the interface each frame feeds
// (the capture's, or a pcapng interface's name) and frames of other link types turned into
// Ethernet frames for that interface. Also what the CLI and the playground both decide the same
// way: the hook a lone program sits on, and the capture each outgoing frame is written to.
import type { Netdev } from '../runtime/netdev.js';
import type { Program } from '../runtime/program.js';
import type { FrameFate } from './datapath.js';
import type { Network } from '../runtime/network.js';
import { BpfError } from '../isa/errors.js';
import { captureRecords, linkTypeName, type CaptureInterface, type CaptureRecord } from './capture/index.js';
import type { ReplayRecord } from './replay.js';
import { isEthernet, toEthernet } from './link-layer.js';

/** A capture to replay. */
export interface CaptureInput {
  /** The capture's file, or a name for one held in memory (errors name it). */
  readonly path: string;
  /** The interface it feeds; undefined: each frame's pcapng interface name picks one. */
  readonly interface: Netdev | undefined;
  /** 'in' (received) or 'out' (sent by the interface's stack), unless the frame says (SLL, pcapng epb_flags). */
  readonly direction: 'in' | 'out';
}

/** A capture that names an interface the network does not have, or has frames of a link type we cannot replay. */
export class ReplayInputError extends BpfError {
  constructor(file: string, detail: string) {
    super('replay-input', `${file}: ${detail}`);
  }
}

/** A replay record filled in place. */
export type MutableRecord = { -readonly [K in keyof ReplayRecord]-?: NonNullable<ReplayRecord[K]> };

export function newRecord(): MutableRecord {
  return { interface: 0, data: new Uint8Array(0), seconds: 0, nanoseconds: 0, number: 0, direction: 'in' };
}

/** Makes the replay records of one capture's records. */
export class ReplayRecordMaker {
  private readonly devices = new Map<string, Netdev>();

  constructor(readonly input: CaptureInput, private readonly network: Network) {}

  /** The replay record for a capture record: `into` filled in (a reused record), or a new one. */
  make(r: CaptureRecord, into: MutableRecord = newRecord()): MutableRecord {
    const dev = this.input.interface ?? this.deviceNamed(r);
    into.interface = dev;
    into.seconds = r.seconds;
    into.nanoseconds = r.nanoseconds;
    into.number = r.number;
    if (isEthernet(r.interface.linkType)) {
      into.data = r.data;
      into.direction = r.direction ?? this.input.direction;
      return into;
    }
    const frame = toEthernet(r.data, r.interface.linkType, dev);
    if (!frame) throw new ReplayInputError(this.input.path, `record ${r.number}: link type ${linkTypeName(r.interface.linkType)} cannot be replayed (Ethernet, raw IP and Linux cooked captures can)`);
    into.data = frame.data;
    into.direction = frame.direction ?? r.direction ?? this.input.direction;
    return into;
  }

  /** The topology's interface of a capture interface's name; undefined when it has none (make() then says why). */
  deviceOf(iface: CaptureInterface): Netdev | undefined {
    const name = iface.name;
    if (name === undefined) return undefined;
    let dev = this.devices.get(name);
    if (!dev) {
      dev = this.network.find(name);
      if (dev) this.devices.set(name, dev);
    }
    return dev;
  }

  private deviceNamed(r: CaptureRecord): Netdev {
    const name = r.interface.name;
    if (name === undefined) throw new ReplayInputError(this.input.path, `record ${r.number}: its capture interface ${r.interface.id} has no name, so it feeds no interface (name one with --interface)`);
    const dev = this.deviceOf(r.interface);
    if (!dev) throw new ReplayInputError(this.input.path, `record ${r.number}: captured on '${name}', which is not an interface of the topology (there are: ${this.network.list().map((d) => d.name).join(', ')})`);
    return dev;
  }
}

/**
 * The replay records of a capture held in memory (pcap or pcapng bytes), for `replay`: what
 * `readCaptures` gives for files, where there are none (a browser). Each record is filled in place
 * and valid until the next; a corrupt capture throws its CaptureError after the records before it.
 */
export function* captureReplayRecords(bytes: Uint8Array, network: Network, input: CaptureInput): Generator<ReplayRecord, void, undefined> {
  const maker = new ReplayRecordMaker(input, network);
  const into = newRecord();
  for (const record of captureRecords(bytes, { name: input.path })) yield maker.make(record, into);
}

/** The hook a lone program sits on in a replay without a topology, and which way its capture runs through it. */
export function hookFor(program: Program): { hook: 'xdp' | 'tc_ingress' | 'tc_egress' | 'socket_filter'; direction: 'in' | 'out' } | undefined {
  if (program.type === 'xdp' && !program.attach) return { hook: 'xdp', direction: 'in' };
  if (program.type === 'sched_cls') return program.attach === 'egress' ? { hook: 'tc_egress', direction: 'out' } : { hook: 'tc_ingress', direction: 'in' };
  if (program.type === 'socket_filter') return { hook: 'socket_filter', direction: 'in' };
  return undefined;
}

/** The output capture a frame that left the datapath goes to, without the extension: `<ifname>-tx`, `-pass`, `-socket`, or `drop`, `aborted`. */
export function outputCaptureName(fate: FrameFate, dev: Netdev): string {
  switch (fate) {
    case 'tx': return `${dev.name}-tx`;
    case 'pass': return `${dev.name}-pass`;
    case 'socket': return `${dev.name}-socket`;
    default: return fate;
  }
}
