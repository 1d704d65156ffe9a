// The runtime's own kernel BTF: what CO-RE relocations resolve against, as a kernel's
// /sys/kernel/btf/vmlinux would be. The context structs keep Linux's layouts (struct xdp_md,
// struct __sk_buff and struct bpf_sock as in linux/bpf.h, struct pt_regs for x86_64); the
// simulated kernel's structs (task_struct, mm_struct, cred, list_head) have Linux's members but
// offsets of our own, and the in-memory tasks of runtime/task.ts are laid out from this BTF.
import { BtfBuilder } from '../loader/btf-builder.js';
import { parseBtf, type Btf } from '../loader/btf.js';

/** Length of task_struct.comm (TASK_COMM_LEN). */
export const TASK_COMM_LEN = 16;

function buildKernelBtf(): BtfBuilder {
  const b = new BtfBuilder();
  const int = b.int('int', 4, { signed: true });
  const uint = b.int('unsigned int', 4);
  const char = b.int('char', 1, { signed: true });
  const ulong = b.int('long unsigned int', 8);
  const long = b.int('long int', 8, { signed: true });
  const ushort = b.int('short unsigned int', 2);
  const uchar = b.int('unsigned char', 1);
  const ullong = b.int('long long unsigned int', 8);
  const u8 = b.typedef('__u8', uchar);
  const u16 = b.typedef('__u16', ushort);
  const u32 = b.typedef('__u32', uint);
  const s32 = b.typedef('__s32', int);
  const u64 = b.typedef('__u64', ullong);
  const be16 = b.typedef('__be16', u16);
  const be32 = b.typedef('__be32', u32);
  const pidT = b.typedef('pid_t', b.typedef('__kernel_pid_t', int));
  const uidT = b.typedef('uid_t', b.typedef('__kernel_uid32_t', uint));
  const gidT = b.typedef('gid_t', b.typedef('__kernel_gid32_t', uint));

  // linux/bpf.h: struct xdp_md.
  b.struct('xdp_md', ['data', 'data_end', 'data_meta', 'ingress_ifindex', 'rx_queue_index', 'egress_ifindex'].map((name) => ({ name, type: u32 })));

  // linux/bpf.h: struct bpf_sock (the 16-bit hole after dst_port is an unnamed bitfield, which BTF leaves out).
  const u32x4 = b.array(u32, 4);
  const bpfSock = b.struct('bpf_sock', [
    { name: 'bound_dev_if', type: u32 },
    { name: 'family', type: u32 },
    { name: 'type', type: u32 },
    { name: 'protocol', type: u32 },
    { name: 'mark', type: u32 },
    { name: 'priority', type: u32 },
    { name: 'src_ip4', type: u32 },
    { name: 'src_ip6', type: u32x4 },
    { name: 'src_port', type: u32 },
    { name: 'dst_port', type: be16 },
    { name: 'dst_ip4', type: u32, bitOffset: 52 * 8 },
    { name: 'dst_ip6', type: u32x4 },
    { name: 'state', type: u32 },
    { name: 'rx_queue_mapping', type: s32 },
  ]);

  // linux/bpf.h: struct __sk_buff. __bpf_md_ptr() members are anonymous 8-byte-aligned unions.
  const mdPtr = (name: string, pointee: number) => ({ name: '', type: b.union('', [{ name, type: b.ptr(pointee) }]) });
  // linux/bpf.h: struct bpf_flow_keys (what a flow dissector fills; __sk_buff.flow_keys points to it).
  const flowKeys = b.struct('bpf_flow_keys', [
    { name: 'nhoff', type: u16 },
    { name: 'thoff', type: u16 },
    { name: 'addr_proto', type: u16 },
    { name: 'is_frag', type: u8 },
    { name: 'is_first_frag', type: u8 },
    { name: 'is_encap', type: u8 },
    { name: 'ip_proto', type: u8 },
    { name: 'n_proto', type: be16 },
    { name: 'sport', type: be16 },
    { name: 'dport', type: be16 },
    { name: '', type: b.union('', [
      { name: '', type: b.struct('', [{ name: 'ipv4_src', type: be32 }, { name: 'ipv4_dst', type: be32 }]) },
      { name: '', type: b.struct('', [{ name: 'ipv6_src', type: u32x4 }, { name: 'ipv6_dst', type: u32x4 }]) },
    ]) },
    { name: 'flags', type: u32 },
    { name: 'flow_label', type: be32 },
  ]);
  b.struct('__sk_buff', [
    ...['len', 'pkt_type', 'mark', 'queue_mapping', 'protocol', 'vlan_present', 'vlan_tci', 'vlan_proto', 'priority',
      'ingress_ifindex', 'ifindex', 'tc_index'].map((name) => ({ name, type: u32 })),
    { name: 'cb', type: b.array(u32, 5) },
    ...['hash', 'tc_classid', 'data', 'data_end', 'napi_id', 'family', 'remote_ip4', 'local_ip4'].map((name) => ({ name, type: u32 })),
    { name: 'remote_ip6', type: u32x4 },
    { name: 'local_ip6', type: u32x4 },
    { name: 'remote_port', type: u32 },
    { name: 'local_port', type: u32 },
    { name: 'data_meta', type: u32 },
    mdPtr('flow_keys', flowKeys),
    { name: 'tstamp', type: u64 },
    { name: 'wire_len', type: u32 },
    { name: 'gso_segs', type: u32 },
    mdPtr('sk', bpfSock),
    { name: 'gso_size', type: u32 },
    { name: 'tstamp_type', type: u8 },
    { name: 'hwtstamp', type: u64, bitOffset: 184 * 8 },
  ]);

  // arch/x86/include/asm/ptrace.h: struct pt_regs (x86_64).
  b.struct('pt_regs', ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di',
    'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'].map((name) => ({ name, type: ulong })));

  // The simulated kernel. Members as in Linux; offsets are this runtime's.
  const listHead = b.struct('list_head');
  b.setMembers(listHead, [{ name: 'next', type: b.ptr(listHead) }, { name: 'prev', type: b.ptr(listHead) }]);
  b.enum('pid_type', [['PIDTYPE_PID', 0], ['PIDTYPE_TGID', 1], ['PIDTYPE_PGID', 2], ['PIDTYPE_SID', 3], ['PIDTYPE_MAX', 4]]);
  const mm = b.struct('mm_struct', [
    { name: 'task_size', type: ulong },
    { name: 'map_count', type: int },
    { name: 'total_vm', type: ulong },
    { name: 'locked_vm', type: ulong },
    { name: 'data_vm', type: ulong },
    { name: 'exec_vm', type: ulong },
    { name: 'stack_vm', type: ulong },
    { name: 'start_code', type: ulong },
    { name: 'end_code', type: ulong },
    { name: 'start_data', type: ulong },
    { name: 'end_data', type: ulong },
    { name: 'start_brk', type: ulong },
    { name: 'brk', type: ulong },
    { name: 'start_stack', type: ulong },
    { name: 'arg_start', type: ulong },
    { name: 'arg_end', type: ulong },
    { name: 'env_start', type: ulong },
    { name: 'env_end', type: ulong },
  ]);
  const kuid = b.typedef('kuid_t', b.struct('', [{ name: 'val', type: uidT }]));
  const kgid = b.typedef('kgid_t', b.struct('', [{ name: 'val', type: gidT }]));
  const cred = b.struct('cred', [
    { name: 'usage', type: long },
    { name: 'uid', type: kuid },
    { name: 'gid', type: kgid },
    { name: 'suid', type: kuid },
    { name: 'sgid', type: kgid },
    { name: 'euid', type: kuid },
    { name: 'egid', type: kgid },
    { name: 'fsuid', type: kuid },
    { name: 'fsgid', type: kgid },
  ]);
  const constCredPtr = b.ptr(b.const(cred));
  const task = b.struct('task_struct');
  const taskPtr = b.ptr(task);
  const mmPtr = b.ptr(mm);
  b.setMembers(task, [
    { name: '__state', type: uint },
    { name: 'flags', type: uint },
    { name: 'prio', type: int },
    { name: 'mm', type: mmPtr },
    { name: 'active_mm', type: mmPtr },
    { name: 'exit_code', type: int },
    { name: 'pid', type: pidT },
    { name: 'tgid', type: pidT },
    { name: 'real_parent', type: taskPtr },
    { name: 'parent', type: taskPtr },
    { name: 'children', type: listHead },
    { name: 'sibling', type: listHead },
    { name: 'group_leader', type: taskPtr },
    { name: 'start_time', type: u64 },
    { name: 'real_cred', type: constCredPtr },
    { name: 'cred', type: constCredPtr },
    { name: 'comm', type: b.array(char, TASK_COMM_LEN) },
  ]);
  return b;
}

let cached: { bytes: Uint8Array; btf: Btf } | undefined;

function kernel(): { bytes: Uint8Array; btf: Btf } {
  if (!cached) {
    const bytes = buildKernelBtf().encode();
    cached = { bytes, btf: parseBtf(bytes, { file: '<kernel btf>' }) };
  }
  return cached;
}

/** The runtime's kernel BTF, parsed (built once, shared). */
export function kernelBtf(): Btf {
  return kernel().btf;
}

/** The runtime's kernel BTF as a .BTF blob, as /sys/kernel/btf/vmlinux would give it. */
export function kernelBtfBytes(): Uint8Array {
  return kernel().bytes.slice();
}
