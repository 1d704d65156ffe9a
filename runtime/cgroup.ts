// The cgroup every socket of the runtime belongs to (the root cgroup) and the cgroup_skb programs
// attached to it (kernel/bpf/cgroup.c): `ingress` programs see what a local socket receives,
// `egress` ones what it sends. Several may be attached per direction (BPF_F_ALLOW_MULTI); all of
// them run, in attach order, and the frame goes on only if every one lets it
// (bpf_prog_run_array_cg). The datapath runs them (net/skb-path.ts).
import { RuntimeError } from './errors.js';
import type { Program } from './program.js';

/** The two cgroup_skb attach points (BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS). */
export type CgroupHook = 'ingress' | 'egress';
/** Both attach points, in the order topologies and messages list them. */
export const CGROUP_HOOKS: readonly CgroupHook[] = ['ingress', 'egress'];

/** A cgroup's cgroup_skb programs: `runtime.cgroup`. */
export class Cgroup {
  private readonly hooks: Record<CgroupHook, Program[]> = { ingress: [], egress: [] };

  /**
   * Attaches a cgroup_skb program after those already there. Refuses another program type, and a
   * program whose section names the other direction (cgroup_skb/egress on ingress), as Linux refuses
   * an expected_attach_type that does not match.
   */
  attach(hook: CgroupHook, program: Program): this {
    if (!CGROUP_HOOKS.includes(hook)) throw new RuntimeError(`cgroup: no hook '${hook}' (there are: ${CGROUP_HOOKS.join(', ')})`);
    if (program.type !== 'cgroup_skb') throw new RuntimeError(`cgroup ${hook} takes cgroup_skb programs; '${program.name}' is a ${program.type} program`);
    if (program.attach && program.attach !== hook) throw new RuntimeError(`cgroup ${hook}: '${program.name}' is a cgroup_skb/${program.attach} program`);
    if (this.hooks[hook].includes(program)) throw new RuntimeError(`cgroup ${hook}: '${program.name}' is attached already`);
    this.hooks[hook].push(program);
    return this;
  }

  /** Detaches one program, or every program of a hook. */
  detach(hook: CgroupHook, program?: Program): void {
    this.hooks[hook] = program ? this.hooks[hook].filter((p) => p !== program) : [];
  }

  /** The programs on a hook, in the order they run. */
  programs(hook: CgroupHook): readonly Program[] {
    return this.hooks[hook];
  }

  /** Whether any program is attached to a hook. */
  has(hook: CgroupHook): boolean {
    return this.hooks[hook].length > 0;
  }
}
