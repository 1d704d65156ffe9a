// Tracing helpers with Linux's ids and prototypes (linux/bpf.h, kernel/trace/bpf_trace.c,
// kernel/bpf/helpers.c): the current task's ids, credentials, name, cgroup and task_struct address,
// and the probe_read family over guest addresses. Linux 6.18 gives all of them but the legacy
// probe_read and probe_read_str to every program type (bpf_base_func_proto, for CAP_PERFMON). A read from an unmapped source returns -EFAULT and zeroes
// the destination, as Linux does; the _str forms return the length including the NUL.
import { BpfError } from '../isa/errors.js';
import { Errno } from '../maps/constants.js';
import type { GuestMemory } from '../runtime/memory.js';
import type { HelperCall, HelperSpec } from './table.js';

/** Linux helper ids of the tracing helpers. */
export const TracingHelperId = {
  probeRead: 4,
  getCurrentPidTgid: 14,
  getCurrentUidGid: 15,
  getCurrentComm: 16,
  getCurrentTask: 35,
  probeReadStr: 45,
  probeReadUser: 112,
  probeReadKernel: 113,
  probeReadUserStr: 114,
  probeReadKernelStr: 115,
  getCurrentTaskBtf: 158,
  getCgroupClassid: 17,
  getCurrentCgroupId: 80,
  getCurrentAncestorCgroupId: 123,
} as const;

/** The id of the root cgroup (cgroup v2's root is 1): every simulated task is in it. */
const ROOT_CGROUP_ID = 1;

/** What the helpers need of a task (runtime/task.ts's SimulatedTask has it). */
export interface TracingTask {
  readonly pid: number;
  readonly tgid: number;
  readonly uid: number;
  readonly gid: number;
  /** The command name without its NUL. */
  readonly commBytes: Uint8Array;
  /** Guest address of its task_struct. */
  readonly address: number;
}

/** Where the helpers find the current task (runtime/task.ts's TaskTable); undefined when none (Linux: not in task context). */
export interface TracingTaskSource {
  currentTask(): TracingTask | undefined;
}

/** The helper libbpf's poisoned CO-RE instructions call: loader/core.ts's CORE_POISON_HELPER_ID (helpers do not import the loader). */
const CORE_POISON_HELPER_ID = 0xbad2310;

/** A program ran an instruction whose CO-RE relocation failed (libbpf's verifier message: `invalid func unknown#195896080`). */
export class CorePoisonError extends BpfError {
  constructor() {
    super('core-poisoned', `the program ran an instruction whose CO-RE relocation failed (call 0x${CORE_POISON_HELPER_ID.toString(16)}); load it without poisoning to see which relocation`);
  }
}

/** A helper for CORE_POISON_HELPER_ID that stops the run with CorePoisonError; not a Linux helper. */
export const corePoisonHelper: HelperSpec = {
  id: CORE_POISON_HELPER_ID,
  name: 'bpf_core_poisoned',
  proto: { ret: 'integer', args: [] },
  impl: () => {
    throw new CorePoisonError();
  },
};

/** Whether [address, address + size) is one writable region. Deviation: Linux's verifier guarantees it; here -EFAULT. */
function writable(memory: GuestMemory, address: number, size: number): boolean {
  return memory.find(address, size)?.writable === true;
}

/** bpf_probe_read_{kernel,user}: copy_from_*_nofault, zeroing the destination on a fault. */
function probeRead(call: HelperCall): void {
  const memory = call.memory;
  const dst = call.argU32(1);
  const size = call.argU32(2);
  const src = call.argU32(3);
  if (size === 0) return call.returnNumber(0);
  if (!writable(memory, dst, size)) return call.returnNumber(-Errno.EFAULT);
  if (!memory.find(src, size)) {
    memory.bytes.fill(0, dst, dst + size);
    return call.returnNumber(-Errno.EFAULT);
  }
  memory.bytes.copyWithin(dst, src, src + size);
  call.returnNumber(0);
}

/**
 * bpf_probe_read_{kernel,user}_str: strncpy_from_*_nofault. Copies up to `size` bytes, stopping
 * after a NUL; when none came, the last byte becomes one. Returns the length with the NUL; a fault
 * part way zeroes the whole destination and returns -EFAULT. Bytes after the string are left alone.
 */
function probeReadStr(call: HelperCall): void {
  const memory = call.memory;
  const dst = call.argU32(1);
  const size = call.argU32(2);
  const src = call.argU32(3);
  if (size === 0) return call.returnNumber(0);
  if (!writable(memory, dst, size)) return call.returnNumber(-Errno.EFAULT);
  const region = memory.find(src, 1);
  const readable = region ? region.end - src : 0;
  const bytes = memory.bytes;
  const limit = Math.min(size, readable);
  const source = bytes.subarray(src, src + limit);
  const nul = source.indexOf(0);
  if (nul < 0 && limit < size) {
    // The string runs into unmapped memory before a NUL or the size limit.
    bytes.fill(0, dst, dst + size);
    return call.returnNumber(-Errno.EFAULT);
  }
  const length = nul < 0 ? size : nul + 1;
  bytes.set(source.slice(0, length), dst);
  bytes[dst + length - 1] = 0;
  call.returnNumber(length);
}

/**
 * The tracing helpers, bound to a source of the current task. `tracing` adds the legacy
 * bpf_probe_read and bpf_probe_read_str, which only tracing programs get; `skbClassid` leaves out
 * the task's bpf_get_cgroup_classid, for tc programs, whose bpf_get_cgroup_classid takes the skb.
 */
export function tracingHelpers(tasks: TracingTaskSource, { tracing = true, skbClassid = false }: { tracing?: boolean; skbClassid?: boolean } = {}): HelperSpec[] {
  const readProto = { ret: 'integer', args: ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'] } as const;
  const legacy: HelperSpec[] = [
    { id: TracingHelperId.probeRead, name: 'bpf_probe_read', proto: readProto, impl: probeRead },
    { id: TracingHelperId.probeReadStr, name: 'bpf_probe_read_str', proto: readProto, impl: probeReadStr },
  ];
  const classid: HelperSpec[] = [
    {
      // The task's net_cls class: the root's, 0.
      id: TracingHelperId.getCgroupClassid, name: 'bpf_get_cgroup_classid', proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(0),
    },
  ];
  return [
    ...(tracing ? legacy : []),
    ...(skbClassid ? [] : classid),
    {
      id: TracingHelperId.getCurrentCgroupId, name: 'bpf_get_current_cgroup_id', proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(tasks.currentTask() ? ROOT_CGROUP_ID : 0),
    },
    {
      // cgroup_ancestor of the root: itself at level 0, nothing at any other.
      id: TracingHelperId.getCurrentAncestorCgroupId, name: 'bpf_get_current_ancestor_cgroup_id', proto: { ret: 'integer', args: ['anything'] },
      impl: (call) => call.returnNumber(tasks.currentTask() && (call.argU32(1) | 0) === 0 ? ROOT_CGROUP_ID : 0),
    },
    { id: TracingHelperId.probeReadUser, name: 'bpf_probe_read_user', proto: readProto, impl: probeRead },
    { id: TracingHelperId.probeReadKernel, name: 'bpf_probe_read_kernel', proto: readProto, impl: probeRead },
    { id: TracingHelperId.probeReadUserStr, name: 'bpf_probe_read_user_str', proto: readProto, impl: probeReadStr },
    { id: TracingHelperId.probeReadKernelStr, name: 'bpf_probe_read_kernel_str', proto: readProto, impl: probeReadStr },
    {
      id: TracingHelperId.getCurrentPidTgid,
      name: 'bpf_get_current_pid_tgid',
      proto: { ret: 'integer', args: [] },
      impl: (call) => {
        const task = tasks.currentTask();
        if (!task) return call.returnNumber(-Errno.EINVAL);
        call.returnBigInt((BigInt(task.tgid) << 32n) | BigInt(task.pid));
      },
    },
    {
      id: TracingHelperId.getCurrentUidGid,
      name: 'bpf_get_current_uid_gid',
      proto: { ret: 'integer', args: [] },
      impl: (call) => {
        const task = tasks.currentTask();
        if (!task) return call.returnNumber(-Errno.EINVAL);
        call.returnBigInt((BigInt(task.gid >>> 0) << 32n) | BigInt(task.uid >>> 0));
      },
    },
    {
      id: TracingHelperId.getCurrentComm,
      name: 'bpf_get_current_comm',
      proto: { ret: 'integer', args: ['ptr_to_uninit_mem', 'const_size'] },
      impl: (call) => {
        const memory = call.memory;
        const buf = call.argU32(1);
        const size = call.argU32(2);
        if (size === 0) return call.returnNumber(0);
        if (!writable(memory, buf, size)) return call.returnNumber(-Errno.EFAULT);
        const task = tasks.currentTask();
        memory.bytes.fill(0, buf, buf + size);
        if (!task) return call.returnNumber(-Errno.EINVAL);
        // strscpy_pad: at most size - 1 bytes, then NULs to the end.
        memory.bytes.set(task.commBytes.subarray(0, size - 1), buf);
        call.returnNumber(0);
      },
    },
    {
      id: TracingHelperId.getCurrentTask,
      name: 'bpf_get_current_task',
      proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(tasks.currentTask()?.address ?? 0),
    },
    {
      // Deviation: Linux returns a PTR_TO_BTF_ID the program may dereference; here it is a number (the
      // verifier has no BTF-typed pointers), read through bpf_probe_read_kernel as BPF_CORE_READ does.
      id: TracingHelperId.getCurrentTaskBtf,
      name: 'bpf_get_current_task_btf',
      proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(tasks.currentTask()?.address ?? 0),
    },
  ];
}
