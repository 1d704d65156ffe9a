// What the datapath counts beyond the interfaces' own counters: the verdicts of each program on each
// hook, where redirects went, why frames were aborted or dropped, and the ingress XDP verdicts of
// received frames (the replay summary's `verdicts`).
import type { Netdev } from '../runtime/netdev.js';

/** The hooks a program runs on in the datapath (an interface's, a devmap/cpumap entry's, or the sockets' cgroup's). */
export type DatapathHook = 'xdp' | 'xdp_egress' | 'devmap' | 'cpumap' | 'tc_ingress' | 'tc_egress' | 'socket_filter' | 'cgroup_ingress' | 'cgroup_egress';
const HOOK_NUMBERS: Readonly<Record<DatapathHook, number>> = {
  xdp: 0, xdp_egress: 1, devmap: 2, cpumap: 3, tc_ingress: 4, tc_egress: 5, socket_filter: 6, cgroup_ingress: 7, cgroup_egress: 8,
};
/** Room for every hook number in a tally key. */
const HOOK_SLOTS = 16;

/** XDP verdict names by action number (linux/bpf.h enum xdp_action). */
export const XDP_VERDICT_NAMES = ['aborted', 'drop', 'pass', 'tx', 'redirect'] as const;
export type XdpVerdictName = (typeof XDP_VERDICT_NAMES)[number];

/** tc verdict names by action number + 1 (linux/pkt_cls.h TC_ACT_*, from TC_ACT_UNSPEC = -1). */
export const TC_VERDICT_NAMES = ['unspec', 'ok', 'reclassify', 'shot', 'pipe', 'stolen', 'queued', 'repeat', 'redirect', 'trap'] as const;
export type TcVerdictName = (typeof TC_VERDICT_NAMES)[number];

/** The name a verdict is tallied under on a hook. */
export function verdictName(hook: DatapathHook, verdict: number): string {
  if (hook === 'tc_ingress' || hook === 'tc_egress') return TC_VERDICT_NAMES[(verdict | 0) + 1] ?? `action ${verdict | 0}`;
  if (hook === 'socket_filter') return verdict === 0 ? 'drop' : 'accept';
  // cgroup_skb: ingress lets any non-zero verdict through; egress reads bit 0 (pass) and bit 1 (congestion notification).
  if (hook === 'cgroup_ingress') return verdict === 0 ? 'drop' : 'pass';
  if (hook === 'cgroup_egress') return `${verdict & 1 ? 'pass' : 'drop'}${verdict >>> 1 ? '_cn' : ''}`;
  return XDP_VERDICT_NAMES[verdict] ?? `invalid ${verdict}`;
}

/** The verdicts of one program on one hook of one interface. */
export interface HookTally {
  readonly interface: string;
  readonly hook: DatapathHook;
  readonly program: string;
  readonly verdicts: Record<string, number>;
}

/** Frames sent one way: from an interface, through a map key or bpf_redirect, to a target. */
export interface RedirectTally {
  readonly from: string;
  /** The map's name, or 'bpf_redirect'. */
  readonly via: string;
  /** The map key or bpf_redirect's ifindex. */
  readonly key: number;
  /** An interface name, 'cpu N', or 'broadcast' — or what was missing when it failed. */
  readonly to: string;
  frames: number;
}

/** Frames that ended one way for one reason, at one place. */
export interface CauseTally {
  readonly interface: string;
  readonly hook: string;
  readonly program?: string;
  /** The pc of the faulting instruction, when a program faulted. */
  readonly pc?: number;
  readonly cause: string;
  frames: number;
}

/** The datapath's tallies. */
export class DatapathStats {
  /** Ingress XDP verdicts of received frames (frames on an interface without XDP count as pass). */
  readonly verdicts: Record<XdpVerdictName, number> = { aborted: 0, drop: 0, pass: 0, tx: 0, redirect: 0 };
  /** By a number made of the ifindex, the program's id and the hook: no string is built per packet. */
  private readonly hooks = new Map<number, Tally>();
  private readonly redirectTallies = new Map<string, RedirectTally>();
  private readonly abortTallies = new Map<string, CauseTally>();
  private readonly dropTallies = new Map<string, CauseTally>();

  /** Counts a program's verdict on a hook (`frames` times). */
  verdict(dev: Netdev, hook: DatapathHook, program: { readonly id: number; readonly name: string }, name: string, frames = 1): void {
    const key = (dev.ifindex * 0x100000 + program.id) * HOOK_SLOTS + HOOK_NUMBERS[hook];
    let tally = key === this.lastKey ? this.lastTally : this.hooks.get(key);
    if (!tally) this.hooks.set(key, (tally = new Tally(dev.name, hook, program.name)));
    this.lastKey = key;
    this.lastTally = tally;
    tally.count(name, frames);
  }

  /** Counts an ingress XDP verdict of a received frame, or of `frames` of them (an action, or undefined for a frame aborted by a fault or an invalid action). */
  ingressVerdict(action: number | undefined, frames = 1): void {
    const v = this.verdicts;
    // A switch of named fields: an index by a name varying per frame was a megamorphic access.
    switch (action) {
      case 1: v.drop += frames; break;
      case 2: v.pass += frames; break;
      case 3: v.tx += frames; break;
      case 4: v.redirect += frames; break;
      default: v.aborted += frames;
    }
  }

  /** The tally verdict() counted in last, and its key: a replay's frames mostly meet the same program. */
  private lastKey = -1;
  private lastTally: Tally | undefined;

  /** Counts a frame redirected from an interface. */
  redirect(from: Netdev, via: string, key: number, to: string): void {
    const id = `${from.ifindex}\0${via}\0${key}\0${to}`;
    const tally = this.redirectTallies.get(id);
    if (tally) tally.frames++;
    else this.redirectTallies.set(id, { from: from.name, via, key, to, frames: 1 });
  }

  /** Counts an aborted frame and why. */
  aborted(dev: Netdev, hook: string, cause: string, program?: string, pc?: number): void {
    count(this.abortTallies, { interface: dev.name, hook, cause, frames: 0, ...(program ? { program } : {}), ...(pc !== undefined ? { pc } : {}) });
  }

  /** Counts a dropped frame (`frames` of them) and why (a run of drops for one reason, as a filter under attack makes, costs no allocation). */
  dropped(dev: Netdev, hook: string, cause: string, program?: string, frames = 1): void {
    const last = this.lastDrop;
    if (last !== undefined && last.interface === dev.name && last.hook === hook && last.cause === cause && last.program === program) {
      last.frames += frames;
      return;
    }
    this.lastDrop = count(this.dropTallies, { interface: dev.name, hook, cause, frames: 0, ...(program ? { program } : {}) }, frames);
  }

  private lastDrop: CauseTally | undefined;

  /** Per hook, in the order first seen. */
  hookTallies(): HookTally[] {
    return [...this.hooks.values()].map((t) => t.summary());
  }

  redirects(): RedirectTally[] {
    return [...this.redirectTallies.values()];
  }

  abortCauses(): CauseTally[] {
    return [...this.abortTallies.values()];
  }

  dropCauses(): CauseTally[] {
    return [...this.dropTallies.values()];
  }
}

/** One program's verdicts on one hook of one interface, counted by name in the order first seen. */
class Tally {
  /** Verdict names and their counts, side by side: a program returns a handful of verdicts, found by identity in a short scan. */
  private readonly names: string[] = [];
  private readonly counts: number[] = [];

  constructor(readonly iface: string, readonly hook: DatapathHook, readonly program: string) {}

  count(name: string, frames: number): void {
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === name) {
        this.counts[i]! += frames;
        return;
      }
    }
    names.push(name);
    this.counts.push(frames);
  }

  summary(): HookTally {
    return { interface: this.iface, hook: this.hook, program: this.program, verdicts: Object.fromEntries(this.names.map((n, i) => [n, this.counts[i]!])) };
  }
}

/** Counts `frames` frames (one unless told) in their tally (made on first use), and returns the tally. */
function count(tallies: Map<string, CauseTally>, tally: CauseTally, frames = 1): CauseTally {
  const key = `${tally.interface}\0${tally.hook}\0${tally.program ?? ''}\0${tally.pc ?? ''}\0${tally.cause}`;
  let known = tallies.get(key);
  if (known) known.frames += frames;
  else tallies.set(key, (known = { ...tally, frames }));
  return known;
}
