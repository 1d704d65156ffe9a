// The simulated kernel's tasks: task_struct, mm_struct and cred records in guest memory, laid out
// from the runtime's kernel BTF (runtime/kernel-btf.ts), so that CO-RE-relocated tracing programs
// read them as they would read a kernel's. A TaskTable holds the tasks, their parent chains (as
// Linux links them: real_parent, parent, children/sibling lists, group_leader) and the current task.
import { BpfError } from '../isa/errors.js';
import type { Btf } from '../loader/btf.js';
import { BtfKind } from '../loader/btf-types.js';
import { kernelBtf, TASK_COMM_LEN } from './kernel-btf.js';
import type { GuestMemory, Region } from './memory.js';

/** task_struct.flags bits (include/linux/sched.h). */
export const TaskFlag = { IDLE: 0x00000002, EXITING: 0x00000004, KTHREAD: 0x00200000 } as const;

/** TASK_SIZE on x86_64 with 4-level page tables: the end of user space. */
const X86_64_TASK_SIZE = 0x7fff_ffff_f000n;
/** The nice-0 priority (MAX_RT_PRIO + 20). */
const DEFAULT_PRIO = 120;

/** An mm_struct's fields (the address space of a user task); absent fields are 0. */
export interface MmOptions {
  readonly totalVm?: number | bigint;
  readonly startStack?: number | bigint;
  readonly startCode?: number | bigint;
  readonly endCode?: number | bigint;
  readonly startBrk?: number | bigint;
  readonly brk?: number | bigint;
}

/** What a new task is made of. */
export interface TaskOptions {
  readonly pid: number;
  /** The thread group (process) id; the pid by default (a process's main thread). */
  readonly tgid?: number;
  /** The command name; Linux keeps at most 15 bytes and a NUL. */
  readonly comm?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** The parent; the idle task (pid 0) by default. */
  readonly parent?: SimulatedTask;
  /** The address space; null for a kernel thread (mm is NULL). A fresh, empty one by default. */
  readonly mm?: MmOptions | null;
  /** task_struct.flags; PF_KTHREAD by default when mm is null. */
  readonly flags?: number;
  /** task_struct.start_time in ns. */
  readonly startTime?: bigint;
}

/** A task table refused an operation (a pid in use, a task that is gone). */
export class TaskError extends BpfError {
  constructor(detail: string) {
    super('task', detail);
  }
}

/** Byte offset and size of a member, found in the kernel BTF. */
interface Field {
  readonly offset: number;
  readonly size: number;
}

/** Offsets of the members the table writes, read from the BTF once. */
class KernelLayout {
  readonly taskSize: number;
  readonly mmSize: number;
  readonly credSize: number;
  readonly listNext: Field;
  readonly listPrev: Field;

  constructor(readonly btf: Btf) {
    this.taskSize = btf.sizeOf(this.struct('task_struct'));
    this.mmSize = btf.sizeOf(this.struct('mm_struct'));
    this.credSize = btf.sizeOf(this.struct('cred'));
    this.listNext = this.field('list_head', 'next');
    this.listPrev = this.field('list_head', 'prev');
  }

  private struct(name: string): number {
    const t = this.btf.find(name, BtfKind.STRUCT);
    if (!t) throw new TaskError(`the kernel BTF has no struct ${name}`);
    return t.id;
  }

  field(struct: string, path: string): Field {
    const at = this.btf.memberOffset(this.struct(struct), path);
    if (!at || at.bitOffset % 8 !== 0) throw new TaskError(`the kernel BTF has no byte-aligned ${struct}.${path}`);
    return { offset: at.bitOffset / 8, size: this.btf.sizeOf(at.type) };
  }
}

/** One task: its task_struct (and mm_struct, cred) in guest memory. Fields read back from memory. */
export class SimulatedTask {
  /** The task's children, in the order they were created. */
  readonly children: SimulatedTask[] = [];

  constructor(
    private readonly table: TaskTable,
    /** The task_struct's region; its start is what bpf_get_current_task returns. */
    readonly region: Region,
    readonly credRegion: Region,
    readonly mmRegion: Region | undefined,
    /** real_parent; the idle task is its own parent. */
    public parent: SimulatedTask | undefined,
  ) {}

  /** Guest address of the task_struct. */
  get address(): number {
    return this.region.start;
  }

  /** Guest address of the mm_struct, 0 for a kernel thread. */
  get mm(): number {
    return this.mmRegion?.start ?? 0;
  }

  get pid(): number {
    return this.table.readTask(this, 'pid');
  }

  get tgid(): number {
    return this.table.readTask(this, 'tgid');
  }

  get flags(): number {
    return this.table.readTask(this, 'flags');
  }

  get uid(): number {
    return this.table.readCred(this, 'uid.val');
  }

  get gid(): number {
    return this.table.readCred(this, 'gid.val');
  }

  /** task_struct.comm up to its NUL, as bytes. */
  get commBytes(): Uint8Array {
    return this.table.readComm(this);
  }

  /** task_struct.comm as text (Latin-1, byte for byte). */
  get comm(): string {
    return String.fromCharCode(...this.commBytes);
  }

  /** Renames the task, as prctl(PR_SET_NAME) does: at most 15 bytes are kept. */
  set comm(name: string) {
    this.table.writeComm(this, name);
  }
}

/** The simulated kernel's tasks and which one is current; owns their guest memory. */
export class TaskTable {
  private readonly layout: KernelLayout;
  private readonly tasks = new Map<number, SimulatedTask>();
  /** The idle task (pid 0, `swapper/0`): every parent chain ends at it, and it is its own parent, as in Linux. */
  readonly idle: SimulatedTask;
  private currentTaskValue: SimulatedTask;

  constructor(
    private readonly memory: GuestMemory,
    btf: Btf = kernelBtf(),
  ) {
    this.layout = new KernelLayout(btf);
    this.idle = this.create({ pid: 0, comm: 'swapper/0', mm: null, flags: TaskFlag.KTHREAD | TaskFlag.IDLE }, undefined);
    this.idle.parent = this.idle;
    this.currentTaskValue = this.idle;
  }

  /** The task programs run in (what bpf_get_current_task returns); the idle task until set. */
  get current(): SimulatedTask {
    return this.currentTaskValue;
  }

  set current(task: SimulatedTask) {
    if (this.tasks.get(task.pid) !== task) throw new TaskError(`task ${task.pid} is not in this table`);
    this.currentTaskValue = task;
  }

  /** The current task, for the tracing helpers. */
  currentTask(): SimulatedTask {
    return this.currentTaskValue;
  }

  /** The live task with this pid. */
  byPid(pid: number): SimulatedTask | undefined {
    return this.tasks.get(pid);
  }

  /** Every live task, by pid. */
  all(): SimulatedTask[] {
    return [...this.tasks.values()].sort((a, b) => a.pid - b.pid);
  }

  /** Creates a task (a process, or a thread when tgid names another task). */
  spawn(options: TaskOptions): SimulatedTask {
    if (!Number.isInteger(options.pid) || options.pid <= 0 || options.pid > 0x3fffff) throw new TaskError(`pid ${options.pid} is not in 1..4194303 (PID_MAX_LIMIT)`);
    return this.create(options, options.parent ?? this.idle);
  }

  /** Ends a task: unlinks it from its parent, gives its children to the idle task and frees its memory. */
  exit(task: SimulatedTask): void {
    if (task === this.idle) throw new TaskError('the idle task cannot exit');
    if (this.tasks.get(task.pid) !== task) throw new TaskError(`task ${task.pid} is not in this table`);
    // Deviation from Linux: orphans go to the idle task, not to init or a subreaper.
    for (const child of [...task.children]) this.reparent(child, this.idle);
    this.unlinkSibling(task);
    if (this.currentTaskValue === task) this.currentTaskValue = this.idle;
    this.tasks.delete(task.pid);
    this.memory.free(task.region);
    this.memory.free(task.credRegion);
    // Threads share the leader's mm; it goes with the last of them.
    if (task.mmRegion && ![...this.tasks.values()].some((t) => t.mmRegion === task.mmRegion)) this.memory.free(task.mmRegion);
  }

  /** Frees every task's memory. */
  dispose(): void {
    const mms = new Set<Region>();
    for (const task of this.tasks.values()) {
      this.memory.free(task.region);
      this.memory.free(task.credRegion);
      if (task.mmRegion) mms.add(task.mmRegion);
    }
    for (const mm of mms) this.memory.free(mm);
    this.tasks.clear();
  }

  private create(options: TaskOptions, parent: SimulatedTask | undefined): SimulatedTask {
    const pid = options.pid;
    if (this.tasks.has(pid)) throw new TaskError(`pid ${pid} is in use`);
    const tgid = options.tgid ?? pid;
    const leader = tgid === pid ? undefined : this.tasks.get(tgid);
    if (tgid !== pid && !leader) throw new TaskError(`thread ${pid}: thread group ${tgid} has no leader`);
    const mmOptions = options.mm === undefined ? {} : options.mm;
    const region = this.memory.allocate(this.layout.taskSize, `task_struct ${pid}`, { writable: false });
    const credRegion = this.memory.allocate(this.layout.credSize, `cred of task ${pid}`, { writable: false });
    // Threads share their leader's address space.
    const mmRegion = leader ? leader.mmRegion : mmOptions === null ? undefined : this.memory.allocate(this.layout.mmSize, `mm_struct of task ${pid}`, { writable: false });
    const task = new SimulatedTask(this, region, credRegion, mmRegion, parent);
    this.tasks.set(pid, task);

    const put = this.writer(region.start, 'task_struct');
    put('__state', 0);
    put('flags', options.flags ?? (mmRegion ? 0 : TaskFlag.KTHREAD));
    put('prio', DEFAULT_PRIO);
    put('mm', task.mm);
    put('active_mm', task.mm);
    put('pid', pid);
    put('tgid', tgid);
    put('real_parent', (parent ?? task).address);
    put('parent', (parent ?? task).address);
    put('group_leader', (leader ?? task).address);
    put('start_time', options.startTime ?? 0n);
    put('real_cred', credRegion.start);
    put('cred', credRegion.start);
    const children = this.layout.field('task_struct', 'children').offset;
    this.writeList(region.start + children, region.start + children, region.start + children);
    const sibling = this.layout.field('task_struct', 'sibling').offset;
    this.writeList(region.start + sibling, region.start + sibling, region.start + sibling);
    this.writeComm(task, options.comm ?? '');

    const cred = this.writer(credRegion.start, 'cred');
    cred('usage', 1);
    for (const id of ['uid', 'suid', 'euid', 'fsuid']) cred(`${id}.val`, options.uid ?? 0);
    for (const id of ['gid', 'sgid', 'egid', 'fsgid']) cred(`${id}.val`, options.gid ?? 0);

    if (mmRegion && !leader && mmOptions) {
      const mm = this.writer(mmRegion.start, 'mm_struct');
      mm('task_size', X86_64_TASK_SIZE);
      mm('total_vm', mmOptions.totalVm ?? 0);
      mm('start_stack', mmOptions.startStack ?? 0);
      mm('start_code', mmOptions.startCode ?? 0);
      mm('end_code', mmOptions.endCode ?? 0);
      mm('start_brk', mmOptions.startBrk ?? 0);
      mm('brk', mmOptions.brk ?? 0);
    }
    if (parent) this.linkSibling(task, parent);
    return task;
  }

  /** Moves a task to another parent (real_parent and parent), relinking the children lists. */
  reparent(task: SimulatedTask, parent: SimulatedTask): void {
    this.unlinkSibling(task);
    task.parent = parent;
    const put = this.writer(task.address, 'task_struct');
    put('real_parent', parent.address);
    put('parent', parent.address);
    this.linkSibling(task, parent);
  }

  /** Reads a task_struct member as an unsigned number (members of up to 4 bytes). */
  readTask(task: SimulatedTask, path: string): number {
    return this.readUint(task.address, this.layout.field('task_struct', path));
  }

  readCred(task: SimulatedTask, path: string): number {
    return this.readUint(task.credRegion.start, this.layout.field('cred', path));
  }

  readComm(task: SimulatedTask): Uint8Array {
    const comm = this.layout.field('task_struct', 'comm');
    const bytes = this.memory.bytes.subarray(task.address + comm.offset, task.address + comm.offset + comm.size);
    const nul = bytes.indexOf(0);
    return bytes.slice(0, nul < 0 ? bytes.length : nul);
  }

  writeComm(task: SimulatedTask, name: string): void {
    const comm = this.layout.field('task_struct', 'comm');
    const at = task.address + comm.offset;
    // Latin-1 byte per character, at most TASK_COMM_LEN - 1 bytes and a NUL, the rest zero (strscpy_pad).
    const bytes = Uint8Array.from(name.slice(0, Math.min(comm.size, TASK_COMM_LEN) - 1), (c) => c.charCodeAt(0) & 0xff);
    this.memory.bytes.fill(0, at, at + comm.size);
    this.memory.bytes.set(bytes, at);
  }

  private readUint(base: number, field: Field): number {
    const v = this.memory.view;
    switch (field.size) {
      case 1: return v.getUint8(base + field.offset);
      case 2: return v.getUint16(base + field.offset, true);
      case 4: return v.getUint32(base + field.offset, true);
      default: throw new TaskError(`a ${field.size}-byte member is not read as a number`);
    }
  }

  /** A setter of one struct's members, by access path, at the members' sizes. */
  private writer(base: number, struct: string): (path: string, value: number | bigint) => void {
    return (path, value) => {
      const field = this.layout.field(struct, path);
      const at = base + field.offset;
      const v = this.memory.view;
      switch (field.size) {
        case 1: v.setUint8(at, Number(value)); break;
        case 2: v.setUint16(at, Number(value), true); break;
        case 4: v.setUint32(at, Number(BigInt.asUintN(32, BigInt(value))), true); break;
        case 8: v.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true); break;
        default: throw new TaskError(`${struct}.${path} is ${field.size} bytes, not a number`);
      }
    };
  }

  private writeList(at: number, next: number, prev: number): void {
    this.memory.view.setBigUint64(at + this.layout.listNext.offset, BigInt(next), true);
    this.memory.view.setBigUint64(at + this.layout.listPrev.offset, BigInt(prev), true);
  }

  private readList(at: number): { next: number; prev: number } {
    return {
      next: Number(this.memory.view.getBigUint64(at + this.layout.listNext.offset, true)),
      prev: Number(this.memory.view.getBigUint64(at + this.layout.listPrev.offset, true)),
    };
  }

  /** list_add_tail(&task->sibling, &parent->children). */
  private linkSibling(task: SimulatedTask, parent: SimulatedTask): void {
    const head = parent.address + this.layout.field('task_struct', 'children').offset;
    const node = task.address + this.layout.field('task_struct', 'sibling').offset;
    const last = this.readList(head).prev;
    this.writeList(node, head, last);
    this.memory.view.setBigUint64(last + this.layout.listNext.offset, BigInt(node), true);
    this.memory.view.setBigUint64(head + this.layout.listPrev.offset, BigInt(node), true);
    parent.children.push(task);
  }

  /** list_del_init(&task->sibling). */
  private unlinkSibling(task: SimulatedTask): void {
    const parent = task.parent;
    if (!parent || parent === task) return;
    const node = task.address + this.layout.field('task_struct', 'sibling').offset;
    const { next, prev } = this.readList(node);
    this.memory.view.setBigUint64(prev + this.layout.listNext.offset, BigInt(next), true);
    this.memory.view.setBigUint64(next + this.layout.listPrev.offset, BigInt(prev), true);
    this.writeList(node, node, node);
    parent.children.splice(parent.children.indexOf(task), 1);
  }
}
