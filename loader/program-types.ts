// Program types from ELF section names, following libbpf's conventions (tools/lib/bpf/libbpf.c
// section_defs): a name matches a prefix exactly, or as `prefix/anything`.

/**
 * Program types this runtime runs. The tracing types run with a context the caller supplies as
 * bytes: `struct pt_regs` for 'kprobe' (kprobes, uprobes, syscall probes), the tracepoint's record
 * for 'tracepoint', an array of u64 arguments for 'raw_tracepoint' and 'tracing' (fentry/fexit/fmod_ret, tp_btf, iter).
 */
export type RunnableProgramType =
  | 'xdp' | 'socket_filter' | 'sched_cls' | 'cgroup_skb'
  | 'kprobe' | 'tracepoint' | 'raw_tracepoint' | 'tracing';

/**
 * Linux program types libbpf knows by section name that this runtime has no model of: their
 * programs load as data, and the verifier refuses each one alone ('program-type'), so the rest of
 * the object still loads. 'unsupported' is a section libbpf does not know either.
 */
export type ForeignProgramType =
  | 'sched_act' | 'sk_reuseport' | 'ext' | 'lsm' | 'syscall' | 'perf_event'
  | 'lwt_in' | 'lwt_out' | 'lwt_xmit' | 'lwt_seg6local' | 'sock_ops' | 'sk_skb' | 'sk_msg' | 'lirc_mode2'
  | 'flow_dissector' | 'cgroup_sock' | 'cgroup_sock_addr' | 'cgroup_sysctl' | 'cgroup_sockopt' | 'cgroup_device'
  | 'struct_ops' | 'sk_lookup' | 'netfilter';

/** A program's type, by its section. */
export type ProgramType = RunnableProgramType | ForeignProgramType | 'unsupported';

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

const rules = (type: ProgramType, prefixes: readonly string[]): SectionRule[] => prefixes.map((prefix) => ({ prefix, type }));

// libbpf's section_defs, longer prefixes first so that `xdp/devmap` wins over `xdp`. A name matches
// a prefix exactly or as `prefix/anything` (looser than libbpf 1.0's strict matching, which asks for
// the exact name where libbpf's entry has no '+').
const RULES: readonly SectionRule[] = [
  { prefix: 'xdp.frags/devmap', type: 'xdp', attach: 'devmap' },
  { prefix: 'xdp.frags/cpumap', type: 'xdp', attach: 'cpumap' },
  { prefix: 'xdp/devmap', type: 'xdp', attach: 'devmap' },
  { prefix: 'xdp/cpumap', type: 'xdp', attach: 'cpumap' },
  { prefix: 'xdp.frags', type: 'xdp' },
  { prefix: 'xdp', type: 'xdp' },
  // tc/ingress and tc/egress are libbpf's aliases of tcx; netkit programs are tc classifiers too.
  { prefix: 'tc/ingress', type: 'sched_cls', attach: 'ingress' },
  { prefix: 'tc/egress', type: 'sched_cls', attach: 'egress' },
  { prefix: 'tcx/ingress', type: 'sched_cls', attach: 'ingress' },
  { prefix: 'tcx/egress', type: 'sched_cls', attach: 'egress' },
  { prefix: 'tc', type: 'sched_cls' },
  { prefix: 'classifier', type: 'sched_cls' },
  ...rules('sched_cls', ['netkit/primary', 'netkit/peer']),
  { prefix: 'socket', type: 'socket_filter' },
  { prefix: 'cgroup_skb/ingress', type: 'cgroup_skb', attach: 'ingress' },
  { prefix: 'cgroup_skb/egress', type: 'cgroup_skb', attach: 'egress' },
  { prefix: 'cgroup/skb', type: 'cgroup_skb' },
  // Tracing. libbpf's `.s` (sleepable) and `.multi` variants run the same way here.
  ...rules('kprobe', ['kprobe', 'kretprobe', 'kprobe.multi', 'kretprobe.multi', 'kprobe.session', 'ksyscall', 'kretsyscall',
    'uprobe', 'uretprobe', 'uprobe.s', 'uretprobe.s', 'uprobe.multi', 'uretprobe.multi', 'uprobe.multi.s',
    'uretprobe.multi.s', 'uprobe.session', 'usdt', 'usdt.s']),
  { prefix: 'tracepoint', type: 'tracepoint' },
  { prefix: 'tp', type: 'tracepoint' },
  ...rules('raw_tracepoint', ['raw_tracepoint', 'raw_tp', 'raw_tracepoint.w', 'raw_tp.w']),
  // BPF iterators are tracing programs in libbpf's table (BPF_TRACE_ITER).
  ...rules('tracing', ['tp_btf', 'fentry', 'fexit', 'fmod_ret', 'fentry.s', 'fexit.s', 'fmod_ret.s', 'iter', 'iter.s']),
  // Types this runtime has no model of (ForeignProgramType).
  { prefix: 'action', type: 'sched_act' },
  ...rules('sk_reuseport', ['sk_reuseport/migrate', 'sk_reuseport']),
  { prefix: 'freplace', type: 'ext' },
  ...rules('lsm', ['lsm', 'lsm.s', 'lsm_cgroup']),
  { prefix: 'syscall', type: 'syscall' },
  { prefix: 'perf_event', type: 'perf_event' },
  { prefix: 'lwt_in', type: 'lwt_in' },
  { prefix: 'lwt_out', type: 'lwt_out' },
  { prefix: 'lwt_xmit', type: 'lwt_xmit' },
  { prefix: 'lwt_seg6local', type: 'lwt_seg6local' },
  { prefix: 'sockops', type: 'sock_ops' },
  ...rules('sk_skb', ['sk_skb/stream_parser', 'sk_skb/stream_verdict', 'sk_skb/verdict', 'sk_skb']),
  { prefix: 'sk_msg', type: 'sk_msg' },
  { prefix: 'lirc_mode2', type: 'lirc_mode2' },
  { prefix: 'flow_dissector', type: 'flow_dissector' },
  ...rules('cgroup_sock', ['cgroup/sock_create', 'cgroup/sock_release', 'cgroup/sock', 'cgroup/post_bind4', 'cgroup/post_bind6']),
  ...rules('cgroup_sock_addr', ['cgroup/bind4', 'cgroup/bind6', 'cgroup/connect4', 'cgroup/connect6', 'cgroup/connect_unix',
    'cgroup/sendmsg4', 'cgroup/sendmsg6', 'cgroup/sendmsg_unix', 'cgroup/recvmsg4', 'cgroup/recvmsg6', 'cgroup/recvmsg_unix',
    'cgroup/getpeername4', 'cgroup/getpeername6', 'cgroup/getpeername_unix', 'cgroup/getsockname4', 'cgroup/getsockname6',
    'cgroup/getsockname_unix']),
  { prefix: 'cgroup/sysctl', type: 'cgroup_sysctl' },
  ...rules('cgroup_sockopt', ['cgroup/getsockopt', 'cgroup/setsockopt']),
  { prefix: 'cgroup/dev', type: 'cgroup_device' },
  ...rules('struct_ops', ['struct_ops', 'struct_ops.s']),
  { prefix: 'sk_lookup', type: 'sk_lookup' },
  { prefix: 'netfilter', type: 'netfilter' },
];

/** Program types Linux's BPF_PROG_TEST_RUN runs (bpf_prog_test_run_*); a test run of the others is -ENOTSUPP there too. */
export const LINUX_TEST_RUN_TYPES: ReadonlySet<ProgramType> = new Set<ProgramType>([
  'xdp', 'socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local',
  'raw_tracepoint', 'tracing', 'flow_dissector', 'sk_lookup', 'syscall', 'struct_ops', 'netfilter',
]);

/** The program type and attach point a section name gives. */
export function programTypeOf(section: string): { type: ProgramType; attach: AttachPoint } {
  for (const rule of RULES) {
    if (section === rule.prefix || section.startsWith(`${rule.prefix}/`)) return { type: rule.type, attach: rule.attach };
  }
  return { type: 'unsupported', attach: undefined };
}
