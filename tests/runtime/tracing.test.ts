// Tracing: the runtime's kernel BTF (Linux's context layouts, the simulated kernel's structs),
// the task table in guest memory, the tracing helpers on every engine (ids, values, Linux's fault
// and string rules), tracing section names, and core_read.o relocated against the kernel BTF and
// run over a simulated task.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { type Instruction, make, splitImm64 } from '../../isa/instruction.js';
import { OPCODES } from '../../isa/opcodes.js';
import { createExecutor, type EngineName, type Executor } from '../../runtime/engine.js';
import { helperTable, type HelperSpec } from '../../helpers/table.js';
import { GuestMemory, type Region } from '../../runtime/memory.js';
import { Errno } from '../../maps/constants.js';
import { XDP_MD_SIZE, XdpMdOffset } from '../../runtime/packet-frame.js';
import { BPF_SOCK_SIZE, BpfSockOffset, SK_BUFF_SIZE, SkBuffOffset } from '../../runtime/sk-buff.js';
import { applyCoreRelocations, type Btf, BtfBuilder, type BtfTypeInput, dumpBtf, loadObjectSpec, parseBtf, programTypeOf } from '../../loader/index.js';
import { kernelBtf, kernelBtfBytes } from '../../runtime/kernel-btf.js';
import { TaskError, TaskFlag, TaskTable } from '../../runtime/task.js';
import { CORE_POISON_HELPER_ID } from '../../loader/core.js';
import { CorePoisonError, corePoisonHelper, TracingHelperId, tracingHelpers, type TracingTaskSource } from '../../helpers/tracing.js';
import { PROJECT_ROOT } from '../support/suite.js';

const FIXTURES = resolve(PROJECT_ROOT, 'tests', 'fixtures');
const ENGINES: readonly EngineName[] = ['interp', 'jit', 'both'];
const EFAULT = BigInt.asUintN(64, BigInt(-Errno.EFAULT));
const EINVAL = BigInt.asUintN(64, BigInt(-Errno.EINVAL));

/** Byte offset of a member path in a kernel struct. */
function offsetOf(struct: string, path: string, btf: Btf = kernelBtf()): number {
  return btf.memberOffset(btf.find(struct)!.id, path)!.bitOffset / 8;
}

describe('kernel BTF', () => {
  test('struct xdp_md matches the runtime\'s context', () => {
    const btf = kernelBtf();
    expect(btf.sizeOf(btf.find('xdp_md')!.id)).toBe(XDP_MD_SIZE);
    expect({
      data: offsetOf('xdp_md', 'data'), dataEnd: offsetOf('xdp_md', 'data_end'), dataMeta: offsetOf('xdp_md', 'data_meta'),
      ingressIfindex: offsetOf('xdp_md', 'ingress_ifindex'), rxQueueIndex: offsetOf('xdp_md', 'rx_queue_index'),
      egressIfindex: offsetOf('xdp_md', 'egress_ifindex'),
    }).toEqual(XdpMdOffset);
  });

  test.for([
    ['__sk_buff', SkBuffOffset, SK_BUFF_SIZE],
    ['bpf_sock', BpfSockOffset, BPF_SOCK_SIZE],
  ] as const)('struct %s matches the runtime\'s context', ([struct, offsets, size]) => {
    const btf = kernelBtf();
    expect(btf.sizeOf(btf.find(struct)!.id)).toBe(size);
    const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const fromBtf = Object.fromEntries(Object.keys(offsets).map((name) => [name, offsetOf(struct, snake(name))]));
    expect(fromBtf).toEqual(offsets);
  });

  // Offsets as linux/bpf.h lays the structs out (x86_64), and pt_regs as arch/x86/include/asm/ptrace.h.
  test.for([
    ['__sk_buff', 'len', 0], ['__sk_buff', 'mark', 8], ['__sk_buff', 'priority', 32], ['__sk_buff', 'tc_index', 44],
    ['__sk_buff', 'cb[4]', 64], ['__sk_buff', 'hash', 68], ['__sk_buff', 'data', 76], ['__sk_buff', 'data_end', 80],
    ['__sk_buff', 'family', 88], ['__sk_buff', 'remote_ip6[1]', 104], ['__sk_buff', 'local_ip6', 116], ['__sk_buff', 'local_port', 136],
    ['__sk_buff', 'data_meta', 140], ['__sk_buff', 'flow_keys', 144], ['__sk_buff', 'tstamp', 152], ['__sk_buff', 'wire_len', 160],
    ['__sk_buff', 'gso_segs', 164], ['__sk_buff', 'sk', 168], ['__sk_buff', 'gso_size', 176], ['__sk_buff', 'tstamp_type', 180],
    ['__sk_buff', 'hwtstamp', 184],
    ['bpf_sock', 'priority', 20], ['bpf_sock', 'src_ip6', 28], ['bpf_sock', 'src_port', 44], ['bpf_sock', 'dst_port', 48],
    ['bpf_sock', 'dst_ip4', 52], ['bpf_sock', 'dst_ip6', 56], ['bpf_sock', 'state', 72], ['bpf_sock', 'rx_queue_mapping', 76],
    ['bpf_flow_keys', 'n_proto', 10], ['bpf_flow_keys', 'dport', 14], ['bpf_flow_keys', 'ipv4_dst', 20], ['bpf_flow_keys', 'ipv6_dst', 32],
    ['bpf_flow_keys', 'flags', 48], ['bpf_flow_keys', 'flow_label', 52],
    ['pt_regs', 'r15', 0], ['pt_regs', 'bx', 40], ['pt_regs', 'ax', 80], ['pt_regs', 'dx', 96], ['pt_regs', 'si', 104],
    ['pt_regs', 'di', 112], ['pt_regs', 'ip', 128], ['pt_regs', 'sp', 152], ['pt_regs', 'ss', 160],
  ] as const)('%s.%s at %i', ([struct, path, offset]) => {
    expect(offsetOf(struct, path)).toBe(offset);
  });

  test.for([['__sk_buff', 192], ['bpf_sock', 80], ['bpf_flow_keys', 56], ['pt_regs', 168], ['list_head', 16]] as const)('sizeof(struct %s) is %i', ([struct, size]) => {
    const btf = kernelBtf();
    expect(btf.sizeOf(btf.find(struct)!.id)).toBe(size);
  });

  test('the simulated kernel has the members CO-RE programs read', () => {
    for (const path of ['pid', 'tgid', 'flags', 'real_parent', 'parent', 'group_leader', 'mm', 'comm', 'cred', 'children.next', 'sibling.prev']) {
      expect(offsetOf('task_struct', path)).toBeGreaterThanOrEqual(0);
    }
    expect(offsetOf('mm_struct', 'start_stack')).toBeGreaterThan(offsetOf('mm_struct', 'total_vm'));
    expect(offsetOf('cred', 'uid.val')).toBeGreaterThan(0);
    const btf = kernelBtf();
    const pidType = btf.find('pid_type')!;
    expect(pidType.kind === 6 && pidType.values.map((v) => `${v.name}=${v.value}`)).toEqual(['PIDTYPE_PID=0', 'PIDTYPE_TGID=1', 'PIDTYPE_PGID=2', 'PIDTYPE_SID=3', 'PIDTYPE_MAX=4']);
  });

  test('the blob reads back as the shared parse', () => {
    expect(dumpBtf(parseBtf(kernelBtfBytes()))).toEqual(dumpBtf(kernelBtf()));
  });
});

describe('task table', () => {
  test('tasks are task_structs in guest memory, laid out from the kernel BTF', () => {
    const memory = new GuestMemory();
    const tasks = new TaskTable(memory);
    const shell = tasks.spawn({ pid: 500, comm: 'bash', uid: 1000, gid: 100, mm: { totalVm: 300, startStack: 0x7ffd_0000_0000n } });
    const v = memory.view;
    const at = (path: string) => shell.address + offsetOf('task_struct', path);
    expect(v.getInt32(at('pid'), true)).toBe(500);
    expect(v.getInt32(at('tgid'), true)).toBe(500);
    expect(Number(v.getBigUint64(at('real_parent'), true))).toBe(tasks.idle.address);
    expect(Number(v.getBigUint64(at('group_leader'), true))).toBe(shell.address);
    expect(String.fromCharCode(...memory.bytes.subarray(at('comm'), at('comm') + 5))).toBe('bash\0');
    const mm = Number(v.getBigUint64(at('mm'), true));
    expect(mm).toBe(shell.mm);
    expect(v.getBigUint64(mm + offsetOf('mm_struct', 'total_vm'), true)).toBe(300n);
    expect(v.getBigUint64(mm + offsetOf('mm_struct', 'start_stack'), true)).toBe(0x7ffd_0000_0000n);
    const cred = Number(v.getBigUint64(at('cred'), true));
    expect(v.getUint32(cred + offsetOf('cred', 'uid.val'), true)).toBe(1000);
    expect(v.getUint32(cred + offsetOf('cred', 'egid.val'), true)).toBe(100);
    expect([shell.uid, shell.gid, shell.comm, shell.flags]).toEqual([1000, 100, 'bash', 0]);
    expect(memory.find(shell.address, 1)?.writable).toBe(false);
  });

  test('the idle task is pid 0, a kernel thread, and its own parent', () => {
    const tasks = new TaskTable(new GuestMemory());
    expect(tasks.current).toBe(tasks.idle);
    expect([tasks.idle.pid, tasks.idle.comm, tasks.idle.mm, tasks.idle.flags]).toEqual([0, 'swapper/0', 0, TaskFlag.KTHREAD | TaskFlag.IDLE]);
    expect(tasks.idle.parent).toBe(tasks.idle);
  });

  test('threads share the leader\'s mm and name it as group leader', () => {
    const memory = new GuestMemory();
    const tasks = new TaskTable(memory);
    const leader = tasks.spawn({ pid: 1200, comm: 'app' });
    const thread = tasks.spawn({ pid: 1234, tgid: 1200, comm: 'worker' });
    expect(thread.mm).toBe(leader.mm);
    expect([thread.pid, thread.tgid]).toEqual([1234, 1200]);
    expect(Number(memory.view.getBigUint64(thread.address + offsetOf('task_struct', 'group_leader'), true))).toBe(leader.address);
    expect(() => tasks.spawn({ pid: 77, tgid: 76 })).toThrow(TaskError);
  });

  test('children lists link through guest memory as list_heads, and follow exits', () => {
    const memory = new GuestMemory();
    const tasks = new TaskTable(memory);
    const init = tasks.spawn({ pid: 1, comm: 'init' });
    const a = tasks.spawn({ pid: 2, parent: init });
    const b = tasks.spawn({ pid: 3, parent: init });
    const c = tasks.spawn({ pid: 4, parent: a });
    const children = (task: typeof init): number[] => {
      // list_for_each_entry(child, &task->children, sibling)
      const head = task.address + offsetOf('task_struct', 'children');
      const out: number[] = [];
      for (let node = Number(memory.view.getBigUint64(head, true)); node !== head; node = Number(memory.view.getBigUint64(node, true))) {
        out.push(memory.view.getInt32(node - offsetOf('task_struct', 'sibling') + offsetOf('task_struct', 'pid'), true));
      }
      return out;
    };
    expect(children(init)).toEqual([2, 3]);
    expect(children(a)).toEqual([4]);
    tasks.exit(a);
    expect(children(init)).toEqual([3]);
    expect(c.parent).toBe(tasks.idle);
    expect(children(tasks.idle)).toEqual([1, 4]);
    expect(tasks.byPid(2)).toBeUndefined();
    expect(memory.find(a.address, 1)).toBeUndefined();
    expect(b.parent).toBe(init);
  });

  test.for([
    { what: 'a pid in use', act: (t: TaskTable) => { t.spawn({ pid: 9 }); t.spawn({ pid: 9 }); }, error: /pid 9 is in use/ },
    { what: 'pid 0', act: (t: TaskTable) => t.spawn({ pid: 0 }), error: /not in 1\.\.4194303/ },
    { what: 'the idle task exiting', act: (t: TaskTable) => t.exit(t.idle), error: /cannot exit/ },
    { what: 'a task of another table as current', act: (t: TaskTable) => { t.current = new TaskTable(new GuestMemory()).spawn({ pid: 5 }); }, error: /not in this table/ },
  ])('refuses $what', ({ act, error }) => {
    expect(() => act(new TaskTable(new GuestMemory()))).toThrow(error);
  });

  test('comm keeps 15 bytes and a NUL', () => {
    const tasks = new TaskTable(new GuestMemory());
    const t = tasks.spawn({ pid: 5, comm: 'a-very-long-command-name' });
    expect(t.comm).toBe('a-very-long-com');
    t.comm = 'short';
    expect(t.comm).toBe('short');
  });
});

// --- Helpers on the engines -------------------------------------------------------------------

interface Setup {
  readonly memory: GuestMemory;
  readonly tasks: TaskTable;
  readonly exec: Executor;
}

const live: Executor[] = [];
afterEach(() => {
  for (const e of live.splice(0)) e.dispose();
});

async function setup(program: string | readonly Instruction[], engine: EngineName, extra: readonly HelperSpec[] = [], source?: TracingTaskSource): Promise<Setup> {
  const memory = new GuestMemory();
  const tasks = new TaskTable(memory);
  const insns = typeof program === 'string' ? assemble(program) : program;
  const exec = await createExecutor(insns, engine, { memory, helpers: helperTable([...tracingHelpers(source ?? tasks), corePoisonHelper, ...extra]) });
  live.push(exec);
  return { memory, tasks, exec };
}

/** A process with a thread, the thread current. */
function scene(tasks: TaskTable) {
  const init = tasks.spawn({ pid: 1, comm: 'systemd' });
  const shell = tasks.spawn({ pid: 500, comm: 'bash', parent: init, uid: 1000, gid: 1000 });
  const leader = tasks.spawn({ pid: 1200, comm: 'app', parent: shell, uid: 1000, gid: 100, mm: { totalVm: 4242 } });
  const thread = tasks.spawn({ pid: 1234, tgid: 1200, comm: 'worker', parent: shell, uid: 1001, gid: 101, flags: 0x40 });
  tasks.current = thread;
  return { init, shell, leader, thread };
}

/** A region holding `bytes`, for sources and destinations. */
function region(memory: GuestMemory, bytes: Uint8Array | number[], writable = true): Region {
  const r = memory.allocate(bytes.length, 'test data', { writable });
  memory.bytes.set(bytes, r.start);
  return r;
}

describe.each(ENGINES)('tracing helpers on %s', (engine) => {
  test('ids and names are Linux\'s', () => {
    const names = new Map(tracingHelpers({ currentTask: () => undefined }).map((h) => [h.id, h.name]));
    expect(Object.fromEntries([...names].sort((a, b) => a[0] - b[0]))).toEqual({
      4: 'bpf_probe_read', 14: 'bpf_get_current_pid_tgid', 15: 'bpf_get_current_uid_gid', 16: 'bpf_get_current_comm',
      35: 'bpf_get_current_task', 45: 'bpf_probe_read_str', 112: 'bpf_probe_read_user', 113: 'bpf_probe_read_kernel',
      114: 'bpf_probe_read_user_str', 115: 'bpf_probe_read_kernel_str', 158: 'bpf_get_current_task_btf',
      17: 'bpf_get_cgroup_classid', 80: 'bpf_get_current_cgroup_id', 123: 'bpf_get_current_ancestor_cgroup_id',
    });
  });

  test('bpf_get_current_pid_tgid: tgid in the high half, pid in the low', async () => {
    const { tasks, exec } = await setup('call 14\nexit', engine);
    scene(tasks);
    expect(exec.run().r0).toBe((1200n << 32n) | 1234n);
  });

  test('bpf_get_current_uid_gid: gid in the high half, uid in the low', async () => {
    const { tasks, exec } = await setup('call 15\nexit', engine);
    scene(tasks);
    expect(exec.run().r0).toBe((101n << 32n) | 1001n);
  });

  test.for([
    { size: 16, want: 'worker\0\0\0\0\0\0\0\0\0\0' },
    { size: 4, want: 'wor\0' },
    { size: 1, want: '\0' },
  ])('bpf_get_current_comm into $size bytes', async ({ size, want }) => {
    const { memory, tasks, exec } = await setup('call 16\nexit', engine);
    scene(tasks);
    const buf = region(memory, new Array(size).fill(0xee));
    expect(exec.run({ args: [buf.start, size] }).r0).toBe(0n);
    expect(String.fromCharCode(...memory.bytes.subarray(buf.start, buf.end))).toBe(want);
  });

  test('bpf_get_current_task and _btf give the task_struct, which loads read directly', async () => {
    const pid = offsetOf('task_struct', 'pid');
    const { tasks, exec } = await setup(`call 35\nmov %r6, %r0\ncall 158\njne %r0, %r6, +2\nldxw %r0, [%r0+${pid}]\nexit\nmov %r0, -1\nexit`, engine);
    scene(tasks);
    expect(exec.run().r0).toBe(1234n);
  });

  test('bpf_probe_read_kernel follows real_parent twice', async () => {
    const parent = offsetOf('task_struct', 'real_parent');
    const tgid = offsetOf('task_struct', 'tgid');
    const read = (field: number, size: number) => `mov %r1, %r10\nadd %r1, -8\nmov %r2, ${size}\nadd %r3, ${field}\ncall 113\nldxdw %r3, [%r10-8]`;
    const asm = ['call 35', 'mov %r3, %r0', read(parent, 8), read(parent, 8), 'stdw [%r10-8], 0', read(tgid, 4), 'mov %r0, %r3', 'exit'].join('\n');
    const { tasks, exec } = await setup(asm, engine);
    scene(tasks);
    expect(exec.run().r0).toBe(1n);
  });

  test.for([
    { what: 'a whole source', id: TracingHelperId.probeReadKernel, src: 'data', size: 8, r0: 0n, dst: [1, 2, 3, 4, 5, 6, 7, 8] },
    { what: 'a user read', id: TracingHelperId.probeReadUser, src: 'data', size: 3, r0: 0n, dst: [1, 2, 3, 0xee, 0xee, 0xee, 0xee, 0xee] },
    { what: 'the legacy helper', id: TracingHelperId.probeRead, src: 'data', size: 8, r0: 0n, dst: [1, 2, 3, 4, 5, 6, 7, 8] },
    { what: 'NULL', id: TracingHelperId.probeReadKernel, src: 'null', size: 8, r0: EFAULT, dst: [0, 0, 0, 0, 0, 0, 0, 0] },
    { what: 'a source running past its region', id: TracingHelperId.probeReadUser, src: 'data+4', size: 8, r0: EFAULT, dst: [0, 0, 0, 0, 0, 0, 0, 0] },
    { what: 'zero bytes', id: TracingHelperId.probeReadKernel, src: 'null', size: 0, r0: 0n, dst: new Array(8).fill(0xee) },
  ])('probe_read ($what)', async ({ id, src, size, r0, dst }) => {
    const { memory, exec } = await setup(`call ${id}\nexit`, engine);
    const data = region(memory, [1, 2, 3, 4, 5, 6, 7, 8], false);
    const out = region(memory, new Array(8).fill(0xee));
    const source = { data: data.start, 'data+4': data.start + 4, null: 0 }[src]!;
    expect(exec.run({ args: [out.start, size, source] }).r0).toBe(r0);
    expect([...memory.bytes.subarray(out.start, out.end)]).toEqual(dst);
  });

  test.for([
    { what: 'a string shorter than the buffer', text: 'hello\0', size: 8, r0: 6n, dst: 'hello\0\xee\xee' },
    { what: 'a string cut at the buffer size', text: 'hello\0', size: 3, r0: 3n, dst: 'he\0\xee\xee\xee\xee\xee' },
    { what: 'a NUL at the last readable byte', text: 'abc\0', size: 8, r0: 4n, dst: 'abc\0\xee\xee\xee\xee' },
    { what: 'a string that runs into unmapped memory', text: 'abcd', size: 8, r0: EFAULT, dst: '\0\0\0\0\0\0\0\0' },
    { what: 'an unterminated string cut at the buffer size', text: 'abcd', size: 4, r0: 4n, dst: 'abc\0\xee\xee\xee\xee' },
    { what: 'an empty string', text: '\0', size: 8, r0: 1n, dst: '\0\xee\xee\xee\xee\xee\xee\xee' },
  ])('probe_read_str: $what', async ({ text, size, r0, dst }) => {
    for (const id of [TracingHelperId.probeReadStr, TracingHelperId.probeReadKernelStr, TracingHelperId.probeReadUserStr]) {
      const { memory, exec } = await setup(`call ${id}\nexit`, engine);
      const source = region(memory, Array.from(text, (c) => c.charCodeAt(0)), false);
      const out = region(memory, new Array(8).fill(0xee));
      expect(exec.run({ args: [out.start, size, source.start] }).r0).toBe(r0);
      expect(String.fromCharCode(...memory.bytes.subarray(out.start, out.end))).toBe(dst);
    }
  });

  test('probe_read_str of NULL faults and zeroes', async () => {
    const { memory, exec } = await setup(`call ${TracingHelperId.probeReadKernelStr}\nexit`, engine);
    const out = region(memory, new Array(8).fill(0xee));
    expect(exec.run({ args: [out.start, 8, 16] }).r0).toBe(EFAULT);
    expect([...memory.bytes.subarray(out.start, out.end)]).toEqual(new Array(8).fill(0));
  });

  test('a destination that is not writable memory gives -EFAULT (where Linux\'s verifier refuses the program)', async () => {
    const { memory, exec } = await setup(`call ${TracingHelperId.probeReadKernel}\nexit`, engine);
    const ro = region(memory, [9, 9, 9, 9], false);
    const data = region(memory, [1, 2, 3, 4]);
    expect(exec.run({ args: [ro.start, 4, data.start] }).r0).toBe(EFAULT);
    expect([...memory.bytes.subarray(ro.start, ro.end)]).toEqual([9, 9, 9, 9]);
  });

  test('outside a task: pid_tgid, uid_gid and comm give -EINVAL (comm zeroes), get_current_task 0', async () => {
    const none: TracingTaskSource = { currentTask: () => undefined };
    for (const [asm, want] of [['call 14\nexit', EINVAL], ['call 15\nexit', EINVAL], ['call 35\nexit', 0n], ['call 158\nexit', 0n]] as const) {
      const { exec } = await setup(asm, engine, [], none);
      expect(exec.run().r0).toBe(want);
    }
    const { memory, exec } = await setup('call 16\nexit', engine, [], none);
    const buf = region(memory, [0xee, 0xee, 0xee, 0xee]);
    expect(exec.run({ args: [buf.start, 4] }).r0).toBe(EINVAL);
    expect([...memory.bytes.subarray(buf.start, buf.end)]).toEqual([0, 0, 0, 0]);
  });

  test('a poisoned CO-RE instruction stops the run when reached', async () => {
    expect(corePoisonHelper.id).toBe(CORE_POISON_HELPER_ID);
    const { exec } = await setup(`mov %r0, 1\njeq %r1, 0, +1\ncall ${CORE_POISON_HELPER_ID}\nexit`, engine);
    expect(exec.run({ args: [0] }).r0).toBe(1n);
    // The engines wrap what a helper throws, naming the pc; the cause is the poison.
    let error: unknown;
    try {
      exec.run({ args: [1] });
    } catch (err) {
      error = err;
    }
    expect((error as Error).cause).toBeInstanceOf(CorePoisonError);
    expect((error as Error).message).toMatch(/CO-RE relocation failed/);
  });
});

// --- core_read.o ------------------------------------------------------------------------------

describe('tracing sections', () => {
  test.for([
    ['kprobe/do_nanosleep', 'kprobe'], ['kretprobe/do_nanosleep', 'kprobe'], ['uprobe//bin/bash:readline', 'kprobe'],
    ['uretprobe.s/libc.so:malloc', 'kprobe'], ['ksyscall/execve', 'kprobe'], ['usdt/libc:probe', 'kprobe'], ['kprobe.multi/tcp_*', 'kprobe'],
    ['tracepoint/syscalls/sys_enter_execve', 'tracepoint'], ['tp/sched/sched_switch', 'tracepoint'],
    ['raw_tracepoint/sched_switch', 'raw_tracepoint'], ['raw_tp.w/sched_switch', 'raw_tracepoint'],
    ['fentry/do_unlinkat', 'tracing'], ['fexit.s/do_unlinkat', 'tracing'], ['tp_btf/sched_switch', 'tracing'], ['fmod_ret/security_x', 'tracing'],
    ['kprobex/foo', 'unsupported'], ['tpx', 'unsupported'], ['xdp', 'xdp'],
  ] as const)('%s is %s', ([section, type]) => {
    expect(programTypeOf(section).type).toBe(type);
  });

  test('the fixtures load with tracing types', () => {
    const load = (name: string) => loadObjectSpec(new Uint8Array(readFileSync(join(FIXTURES, name))), name);
    expect(load('core_read.o').programs.map((p) => [p.name, p.type])).toEqual([['core_read', 'kprobe']]);
    expect(load('ringbuf_loop.o').programs.map((p) => p.type)).toEqual(['tracepoint', 'tracepoint']);
  });
});

/** struct task_info of core_read.c, as the program fills it. */
interface TaskInfo {
  pid: number;
  ppid: number;
  gppid: number;
  flags: number;
  totalVm: bigint;
  comm: string;
  hasMissingField: number;
  mmSize: number;
  pgidValue: number;
}

function decodeTaskInfo(bytes: Uint8Array): TaskInfo {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const comm = bytes.subarray(24, 40);
  return {
    pid: v.getInt32(0, true), ppid: v.getInt32(4, true), gppid: v.getInt32(8, true), flags: v.getUint32(12, true),
    totalVm: v.getBigUint64(16, true), comm: String.fromCharCode(...comm.subarray(0, comm.indexOf(0))),
    hasMissingField: v.getUint32(40, true), mmSize: v.getUint32(44, true), pgidValue: v.getUint32(48, true),
  };
}

const coreRead = loadObjectSpec(new Uint8Array(readFileSync(join(FIXTURES, 'core_read.o'))), 'core_read.o');
const TASKS_MAP = 0x7a5c;

/**
 * The program's instructions relocated against `target`, with the `tasks` map bound minimally: its
 * lddw loads a marker, and a stand-in bpf_map_update_elem (id 2) records what it is given.
 */
function boundCoreRead(target: Btf, poison = false): { insns: Instruction[]; updates: { key: number; value: TaskInfo }[]; helper: HelperSpec } {
  const program = coreRead.programs[0]!;
  const { insns } = applyCoreRelocations(program, coreRead, target, { poison });
  const ref = program.references.find((r) => r.map === 'tasks')!;
  const lddw = OPCODES.find((row) => row.mnemonic === 'lddw' && row.src === 0)!;
  const bound = insns.map((insn) => (insn.pc === ref.pc ? make(lddw, { pc: insn.pc, dst: insn.dst, ...splitImm64(BigInt(TASKS_MAP)) }) : insn));
  const updates: { key: number; value: TaskInfo }[] = [];
  const helper: HelperSpec = {
    id: 2,
    name: 'bpf_map_update_elem',
    proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_map_value', 'anything'] },
    impl: (call) => {
      expect(call.argU32(1)).toBe(TASKS_MAP);
      const key = call.memory.view.getInt32(call.argU32(2), true);
      updates.push({ key, value: decodeTaskInfo(call.memory.bytes.slice(call.argU32(3), call.argU32(3) + 56)) });
      call.returnNumber(0);
    },
  };
  return { insns: bound, updates, helper };
}

/** The kernel BTF with enum pid_type renamed away: same layout, no enum for CO-RE to find. */
function kernelWithoutPidType(): Btf {
  const b = new BtfBuilder();
  for (const t of kernelBtf().types) {
    if (!t) continue;
    const { id: _id, at: _at, ...rest } = t;
    b.add((t.name === 'pid_type' ? { ...rest, name: 'pid_type_gone' } : rest) as BtfTypeInput);
  }
  return b.build();
}

describe.each(ENGINES)('core_read.o on %s', (engine) => {
  test('relocated against the kernel BTF, it reads the simulated current task', async () => {
    const { insns, updates, helper } = boundCoreRead(kernelBtf());
    const { memory, tasks, exec } = await setup(insns, engine, [helper]);
    scene(tasks);
    const regs = memory.allocate(168, 'pt_regs');
    expect(exec.run({ args: [regs.start] }).r0).toBe(0n);
    const expected = {
      key: 1234,
      value: { pid: 1234, ppid: 500, gppid: 1, flags: 0x40, totalVm: 4242n, comm: 'worker', hasMissingField: 0, mmSize: 144, pgidValue: 2 },
    };
    // `both` runs the program twice (once per engine).
    expect(updates).toEqual(engine === 'both' ? [expected, expected] : [expected]);
  });

  test('a kernel thread has no mm: total_vm stays 0', async () => {
    const { insns, updates, helper } = boundCoreRead(kernelBtf());
    const { memory, tasks, exec } = await setup(insns, engine, [helper]);
    tasks.current = tasks.spawn({ pid: 2, comm: 'kthreadd', mm: null });
    exec.run({ args: [memory.allocate(168, 'pt_regs').start] });
    expect(updates[0]!.value).toMatchObject({ pid: 2, ppid: 0, gppid: 0, totalVm: 0n, comm: 'kthreadd', flags: TaskFlag.KTHREAD });
  });

  test('against a kernel without enum pid_type, poisoned: the guarded read is skipped', async () => {
    const { insns, updates, helper } = boundCoreRead(kernelWithoutPidType(), true);
    expect(insns.filter((i) => i.imm === CORE_POISON_HELPER_ID)).toHaveLength(2);
    const { memory, tasks, exec } = await setup(insns, engine, [helper]);
    scene(tasks);
    exec.run({ args: [memory.allocate(168, 'pt_regs').start] });
    expect(updates[0]!.value).toMatchObject({ pid: 1234, pgidValue: 0 });
  });
});
