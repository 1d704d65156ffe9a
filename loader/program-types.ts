// Program types from ELF section names, following libbpf's conventions (tools/lib/bpf/libbpf.c
// section_defs): a name matches a prefix exactly, or as `prefix/anything`.

/**
 * Program types this runtime runs; 'unsupported' types load as data and refuse to run. The tracing
 * types run with a context the caller supplies as bytes: `struct pt_regs` for 'kprobe' (kprobes,
 * uprobes, syscall probes), the tracepoint's record for 'tracepoint', an array of u64 arguments
 * for 'raw_tracepoint' and 'tracing' (fentry/fexit/fmod_ret, tp_btf).
 */
export type ProgramType =
  | 'xdp' | 'socket_filter' | 'sched_cls' | 'cgroup_skb'
  | 'kprobe' | 'tracepoint' | 'raw_tracepoint' | 'tracing'
  | 'unsupported';

/** Whether a program type is one of the tracing types, whose context is caller-supplied bytes. */
export function isTracingProgramType(type: ProgramType): boolean {
  return type === 'kprobe' || type === 'tracepoint' || type === 'raw_tracepoint' || type === 'tracing';
}

/** Where an XDP program attaches, and which way a tc or cgroup_skb program faces. */
export type AttachPoint = 'ingress' | 'egress' | 'devmap' | 'cpumap' | undefined;

interface SectionRule {
  readonly prefix: string;
  readonly type: ProgramType;
  readonly attach?: AttachPoint;
}

// Longer prefixes first, so that `xdp/devmap` wins over `xdp`.
const RULES: readonly SectionRule[] = [
  { prefix: 'xdp.frags/devmap', type: 'xdp', attach: 'devmap' },
  { prefix: 'xdp.frags/cpumap', type: 'xdp', attach: 'cpumap' },
  { prefix: 'xdp/devmap', type: 'xdp', attach: 'devmap' },
  { prefix: 'xdp/cpumap', type: 'xdp', attach: 'cpumap' },
  { prefix: 'xdp.frags', type: 'xdp' },
  { prefix: 'xdp', type: 'xdp' },
  { prefix: 'tc/ingress', type: 'sched_cls', attach: 'ingress' },
  { prefix: 'tc/egress', type: 'sched_cls', attach: 'egress' },
  { prefix: 'tcx/ingress', type: 'sched_cls', attach: 'ingress' },
  { prefix: 'tcx/egress', type: 'sched_cls', attach: 'egress' },
  { prefix: 'tc', type: 'sched_cls' },
  { prefix: 'classifier', type: 'sched_cls' },
  { prefix: 'socket', type: 'socket_filter' },
  { prefix: 'cgroup_skb/ingress', type: 'cgroup_skb', attach: 'ingress' },
  { prefix: 'cgroup_skb/egress', type: 'cgroup_skb', attach: 'egress' },
  { prefix: 'cgroup/skb', type: 'cgroup_skb' },
  // Tracing. libbpf's `.s` (sleepable) and `.multi` variants run the same way here.
  ...['kprobe', 'kretprobe', 'kprobe.multi', 'kretprobe.multi', 'kprobe.session', 'ksyscall', 'kretsyscall',
    'uprobe', 'uretprobe', 'uprobe.s', 'uretprobe.s', 'uprobe.multi', 'uretprobe.multi', 'uprobe.multi.s',
    'uretprobe.multi.s', 'uprobe.session', 'usdt'].map((prefix): SectionRule => ({ prefix, type: 'kprobe' })),
  { prefix: 'tracepoint', type: 'tracepoint' },
  { prefix: 'tp', type: 'tracepoint' },
  ...['raw_tracepoint', 'raw_tp', 'raw_tracepoint.w', 'raw_tp.w'].map((prefix): SectionRule => ({ prefix, type: 'raw_tracepoint' })),
  ...['tp_btf', 'fentry', 'fexit', 'fmod_ret', 'fentry.s', 'fexit.s', 'fmod_ret.s'].map((prefix): SectionRule => ({ prefix, type: 'tracing' })),
];

/** The program type and attach point a section name gives. */
export function programTypeOf(section: string): { type: ProgramType; attach: AttachPoint } {
  for (const rule of RULES) {
    if (section === rule.prefix || section.startsWith(`${rule.prefix}/`)) return { type: rule.type, attach: rule.attach };
  }
  return { type: 'unsupported', attach: undefined };
}
