// Map type numbers, flags and errno values as linux/bpf.h and asm-generic/errno*.h define them,
// plus the kernel size limits map creation checks against (x86_64 values).

/** BPF_MAP_TYPE_* numbers (linux/bpf.h `enum bpf_map_type`). */
export const MapType = {
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP: 14,
  SOCKMAP: 15,
  CPUMAP: 16,
  XSKMAP: 17,
  SOCKHASH: 18,
  CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  SK_STORAGE: 24,
  DEVMAP_HASH: 25,
  RINGBUF: 27,
  INODE_STORAGE: 28,
  TASK_STORAGE: 29,
  BLOOM_FILTER: 30,
  USER_RINGBUF: 31,
  ARENA: 33,
  /** This runtime's extension (DESIGN.md "Flow map"), not in Linux. */
  FLOW: 0x1000,
  /** This runtime's extension (DESIGN.md "Control map"), not in Linux. */
  CONTROL: 0x1001,
} as const;

/** Element flags of update operations. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
/** Update or look up a value holding a `struct bpf_spin_lock` under that lock. */
export const BPF_F_LOCK = 4;

/** Map creation flags (`map_flags`). */
export const MapFlag = {
  NO_PREALLOC: 1 << 0,
  NO_COMMON_LRU: 1 << 1,
  NUMA_NODE: 1 << 2,
  RDONLY: 1 << 3,
  WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5,
  ZERO_SEED: 1 << 6,
  RDONLY_PROG: 1 << 7,
  WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9,
  MMAPABLE: 1 << 10,
  PRESERVE_ELEMS: 1 << 11,
  INNER_MAP: 1 << 12,
} as const;

/** BPF_F_ACCESS_MASK: the access flags every kind accepts. */
export const ACCESS_MASK = MapFlag.RDONLY | MapFlag.WRONLY | MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG;

/** Linux errno values the map operations return (negated). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ENOTSUPP: 524,
} as const;

const ERRNO_NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** "EEXIST" for 17 or -17; "errno N" for numbers this module does not name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** KMALLOC_MAX_SIZE on x86_64 (4 MiB): the largest element the kernel lets user space copy. */
export const KMALLOC_MAX_SIZE = 1 << 22;
/** PCPU_MIN_UNIT_SIZE: the largest per-CPU value (rounded up to 8 bytes). */
export const PCPU_MIN_UNIT_SIZE = 32 << 10;
/** sizeof(struct htab_elem) on x86_64, which hash creation subtracts from KMALLOC_MAX_SIZE. */
export const HTAB_ELEM_SIZE = 48;

/** Rounds up to a multiple of 8, as the kernel lays out array elements and per-CPU values. */
export function roundUp8(n: number): number {
  return (n + 7) & ~7;
}
