// Map descriptors: what a map handle (the guest address a program holds as a map pointer) tells
// code that reads guest memory directly, so that JIT-compiled programs can look up and update the
// common kinds without calling out to JavaScript. A descriptor is 32-bit little-endian words at the
// handle; the map keeps it current as its storage moves. Everything it points to is guest memory,
// so a SharedArrayBuffer-backed memory could hold the maps of several workers.
//
//   word  field
//    0    map id                 (also what a program or a trace reading the handle sees)
//    1    map type (BPF_MAP_TYPE_*)
//    2    ops: DescriptorOps, NONE when only the helper in JavaScript may operate on the map
//    3    DescriptorFlag bits
//    4    key size    5  value size    6  max entries
//    7    stride: bytes between array elements, or between hash element slots
//    8    bytes between the per-CPU copies of a value (per-CPU maps)
//    9    address of the runtime's current-CPU word (per-CPU maps)
//   10    array: address of element 0; hash: address of the slot-chunk table (u32 address per 256 slots)
//   11    hash: address of the bucket heads (i32 slot, -1 for none)   12  bucket mask
//   13    hash: address of the per-slot stored hashes (u32)           14  address of the per-slot chain links (i32)
//   15    hash: offset of the value in an element slot
//   16    LRU hash: address of the recency list's [head, tail] words   17  its per-slot prev links   18  next links
//   19    hash: address of the insertion-order list's [head, tail] words   20  its per-slot next links
//   21    array: address of 8 u32 key slots for bpf_for_each_map_elem walks, one per call depth
//   22    hash: address of the slot pool's state (PoolWord)   23  its free list (next free slot per slot)
//   24    hash: address of the index's count of linked slots   25  the insertion-order list's per-slot prev links
//   10    LPM trie: address of the word holding the root node's address (0: empty)
//
// An element slot is `struct htab_elem`'s key and value: the key, then at round_up(key_size, 8) the
// value (per-CPU maps: one copy per CPU, `word 8` bytes apart). Slot s lives at
// chunk[s >> 8] + (s & 255) * stride. Hashes are MurmurHash3_x86_32 of the key, seed 0.
//
// An LPM trie node (lpm_trie.c's struct lpm_trie_node) is LpmNode's words, then the key's data bytes.

/** Bytes a map handle takes (a descriptor and room to grow). */
export const DESCRIPTOR_BYTES = 128;

/** Byte offsets of the descriptor's fields. */
export const enum Descriptor {
  Id = 0,
  Type = 4,
  Ops = 8,
  Flags = 12,
  KeySize = 16,
  ValueSize = 20,
  MaxEntries = 24,
  Stride = 28,
  CpuStride = 32,
  CpuCell = 36,
  Storage = 40,
  Buckets = 44,
  BucketMask = 48,
  Hashes = 52,
  Chain = 56,
  ValueOffset = 60,
  RecencyEnds = 64,
  RecencyPrev = 68,
  RecencyNext = 72,
  OrderEnds = 76,
  OrderNext = 80,
  WalkKeys = 84,
  PoolState = 88,
  PoolNextFree = 92,
  Linked = 96,
  OrderPrev = 100,
}

/** Which in-memory operations a descriptor allows. */
export const enum DescriptorOps {
  /** Operate through the helper in JavaScript. */
  None = 0,
  /** ARRAY, PERCPU_ARRAY: u32 index keys over one block of elements. */
  Array = 1,
  /** HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH: chained buckets over element slots. */
  Hash = 2,
  /** LPM_TRIE: lookups only. */
  LpmTrie = 3,
}

/** Byte offsets in an LPM trie node. */
export const enum LpmNode {
  /** Address of the child taken when the next bit is 0 (0: none). */
  Child0 = 0,
  Child1 = 4,
  Prefixlen = 8,
  /** Non-zero for an intermediate node, which joins two others and holds no value. */
  Intermediate = 12,
  /** Address of the value (0 for intermediate nodes). */
  Value = 16,
  /** The key's data bytes. */
  Data = 20,
}

/** Descriptor flag bits. */
export const enum DescriptorFlag {
  PerCpu = 1,
  Lru = 2,
  /** The value holds a bpf_spin_lock, which a value copy must leave alone: updates go through JavaScript. */
  SpinLock = 4,
}
