// bpf_map_lookup_elem and bpf_map_update_elem in WebAssembly, over the maps' own storage in guest
// memory (maps/descriptor.ts), so that a compiled program's hot map operations never leave the
// module. The helpers in JavaScript stay the one implementation of truth: these functions do what
// they do for the cases they cover (arrays, per-CPU arrays, the four hash kinds' lookups and
// updates, LRU eviction included, and LPM trie lookups) and answer FALLBACK for the rest (another
// kind, a table that must grow, BPF_F_LOCK), and the lowering then calls the helper. The map-ops
// fuzzer (fuzz/map-ops.ts) runs both on the same operations.
import { Descriptor, DescriptorFlag, DescriptorOps, LpmNode } from '../maps/descriptor.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, Errno } from '../maps/constants.js';
import { UNLINKED } from '../maps/key-index.js';
import { CHUNK_SHIFT, NONE, PoolWord } from '../maps/slot-pool.js';
import type { Binaryen, Expr, WasmModule } from './binaryen.js';

/** What a map operation returns when the helper in JavaScript must do it: no address or errno is 1. */
export const FALLBACK = 1n;

/** Names of the module functions; `map_lookup(map, key) -> i64` and `map_update(map, key, value, flags i64) -> i64` are the entries. */
export const MAP_OPS = {
  lookup: 'map_lookup', update: 'map_update',
  /** (map, slot) -> the address of a hash map's element slot. */
  slot: 'map_slot',
  /** (map) -> bytes from a value's first per-CPU copy to the current CPU's (0 for other maps). */
  cpuOffset: 'map_cpu_offset',
} as const;
const FIND = 'map_find';
const HASH = 'map_hash';
const EQUAL = 'map_equal';
const SLOT = MAP_OPS.slot;
const TOUCH = 'map_touch';
const LIST_UNLINK = 'map_list_unlink';
const LIST_APPEND = 'map_list_append';
const REMOVE = 'map_remove';
const INSERT = 'map_insert';
const CPU_OFFSET = MAP_OPS.cpuOffset;
const LPM_LOOKUP = 'map_lpm_lookup';

/** Adds the map functions to a module. */
export function addMapOps(b: Binaryen, m: WasmModule): void {
  const i32 = b.i32;
  const i64 = b.i64;
  const get = (index: number) => m.local.get(index, i32);
  const set = (index: number, value: Expr) => m.local.set(index, value);
  const c = (value: number) => m.i32.const(value);
  const load = (ptr: Expr, offset = 0) => m.i32.load(offset, 4, ptr);
  const field = (desc: Expr, f: Descriptor) => load(desc, f);
  // The word `index` of a table whose address is `table`.
  const word = (table: Expr, index: Expr) => m.i32.add(table, m.i32.shl(index, c(2)));
  const ret32 = (value: Expr) => m.return(value);
  const ret64 = (value: bigint | number) => m.return(m.i64.const(BigInt(value)));

  // MurmurHash3_x86_32 of (key, size), seed 0: what maps/hash-bytes.ts hashes keys with.
  {
    const [KEY, SIZE, H, I, K, REST] = [0, 1, 2, 3, 4, 5];
    const mix = (k: Expr) => m.i32.mul(m.i32.rotl(m.i32.mul(k, c(0xcc9e2d51 | 0)), c(15)), c(0x1b873593));
    const body = m.block(null, [
      set(H, c(0)),
      set(I, c(0)),
      m.block('words_done', [m.loop('words', m.block(null, [
        m.br('words_done', m.i32.gt_u(m.i32.add(get(I), c(4)), get(SIZE))),
        set(H, m.i32.xor(get(H), mix(load(m.i32.add(get(KEY), get(I)))))),
        set(H, m.i32.add(m.i32.mul(m.i32.rotl(get(H), c(13)), c(5)), c(0xe6546b64 | 0))),
        set(I, m.i32.add(get(I), c(4))),
        m.br('words'),
      ]))]),
      set(REST, m.i32.and(get(SIZE), c(3))),
      m.if(get(REST), m.block(null, [
        set(K, m.i32.load8_u(0, 1, m.i32.add(get(KEY), get(I)))),
        m.if(m.i32.gt_u(get(REST), c(1)), set(K, m.i32.or(get(K), m.i32.shl(m.i32.load8_u(1, 1, m.i32.add(get(KEY), get(I))), c(8))))),
        m.if(m.i32.gt_u(get(REST), c(2)), set(K, m.i32.or(get(K), m.i32.shl(m.i32.load8_u(2, 1, m.i32.add(get(KEY), get(I))), c(16))))),
        set(H, m.i32.xor(get(H), mix(get(K)))),
      ])),
      set(H, m.i32.xor(get(H), get(SIZE))),
      set(H, m.i32.xor(get(H), m.i32.shr_u(get(H), c(16)))),
      set(H, m.i32.mul(get(H), c(0x85ebca6b | 0))),
      set(H, m.i32.xor(get(H), m.i32.shr_u(get(H), c(13)))),
      set(H, m.i32.mul(get(H), c(0xc2b2ae35 | 0))),
      m.i32.xor(get(H), m.i32.shr_u(get(H), c(16))),
    ], i32);
    m.addFunction(HASH, b.createType([i32, i32]), i32, [i32, i32, i32, i32], body);
  }

  // Whether size bytes at a and b are equal: words, then the bytes left.
  {
    const [A, B, SIZE, I] = [0, 1, 2, 3];
    const at = (base: number) => m.i32.add(get(base), get(I));
    const body = m.block(null, [
      set(I, c(0)),
      m.block('words_done', [m.loop('words', m.block(null, [
        m.br('words_done', m.i32.gt_u(m.i32.add(get(I), c(4)), get(SIZE))),
        m.if(m.i32.ne(load(at(A)), load(at(B))), ret32(c(0))),
        set(I, m.i32.add(get(I), c(4))),
        m.br('words'),
      ]))]),
      m.block('bytes_done', [m.loop('bytes', m.block(null, [
        m.br('bytes_done', m.i32.ge_u(get(I), get(SIZE))),
        m.if(m.i32.ne(m.i32.load8_u(0, 1, at(A)), m.i32.load8_u(0, 1, at(B))), ret32(c(0))),
        set(I, m.i32.add(get(I), c(1))),
        m.br('bytes'),
      ]))]),
      c(1),
    ], i32);
    m.addFunction(EQUAL, b.createType([i32, i32, i32]), i32, [i32], body);
  }

  // The address of hash element slot `slot`: its chunk's address plus its place in the chunk.
  {
    const [DESC, S] = [0, 1];
    const body = m.i32.add(
      load(word(field(get(DESC), Descriptor.Storage), m.i32.shr_u(get(S), c(CHUNK_SHIFT)))),
      m.i32.mul(m.i32.and(get(S), c((1 << CHUNK_SHIFT) - 1)), field(get(DESC), Descriptor.Stride)),
    );
    m.addFunction(SLOT, b.createType([i32, i32]), i32, [], body);
  }

  // Bytes from a per-CPU value's first copy to the current CPU's; 0 for other maps.
  {
    const DESC = 0;
    const body = m.select(
      m.i32.and(field(get(DESC), Descriptor.Flags), c(DescriptorFlag.PerCpu)),
      m.i32.mul(load(field(get(DESC), Descriptor.CpuCell)), field(get(DESC), Descriptor.CpuStride)),
      c(0),
    );
    m.addFunction(CPU_OFFSET, b.createType([i32]), i32, [], body);
  }

  // The key's hash as the index stores it (KeyIndex.hash).
  const hashOf = (desc: Expr, key: Expr) => m.call(HASH, [key, field(desc, Descriptor.KeySize)], i32);

  // The slot holding the key at `key`, whose hash is `hash`, in a hash map, or NONE (KeyIndex.find).
  {
    const [DESC, KEY, H, SIZE, R] = [0, 1, 2, 3, 4];
    const body = m.block(null, [
      set(SIZE, field(get(DESC), Descriptor.KeySize)),
      set(R, load(word(field(get(DESC), Descriptor.Buckets), m.i32.and(get(H), field(get(DESC), Descriptor.BucketMask))))),
      m.loop('walk', m.block(null, [
        m.if(m.i32.eq(get(R), c(NONE)), ret32(c(NONE))),
        m.if(m.i32.eq(load(word(field(get(DESC), Descriptor.Hashes), get(R))), get(H)),
          m.if(m.call(EQUAL, [m.call(SLOT, [get(DESC), get(R)], i32), get(KEY), get(SIZE)], i32), ret32(get(R)))),
        set(R, load(word(field(get(DESC), Descriptor.Chain), get(R)))),
        m.br('walk'),
      ])),
      m.unreachable(),
    ], i32);
    m.addFunction(FIND, b.createType([i32, i32, i32]), i32, [i32, i32], body);
  }

  // The list operations of SlotList, on a list given by the addresses of its [head, tail] words and its prev and next links.
  const store = (ptr: Expr, value: Expr, offset = 0) => m.i32.store(offset, 4, ptr, value);
  {
    const [ENDS, PREV, NEXT, S, P, N] = [0, 1, 2, 3, 4, 5];
    const body = m.block(null, [
      set(P, load(word(get(PREV), get(S)))),
      set(N, load(word(get(NEXT), get(S)))),
      m.if(m.i32.eq(get(P), c(NONE)), store(get(ENDS), get(N)), store(word(get(NEXT), get(P)), get(N))),
      m.if(m.i32.eq(get(N), c(NONE)), store(get(ENDS), get(P), 4), store(word(get(PREV), get(N)), get(P))),
    ]);
    m.addFunction(LIST_UNLINK, b.createType([i32, i32, i32, i32]), b.none, [i32, i32], body);
  }
  {
    const [ENDS, PREV, NEXT, S, LAST] = [0, 1, 2, 3, 4];
    const body = m.block(null, [
      set(LAST, load(get(ENDS), 4)),
      store(word(get(PREV), get(S)), get(LAST)),
      store(word(get(NEXT), get(S)), c(NONE)),
      m.if(m.i32.eq(get(LAST), c(NONE)), store(get(ENDS), get(S)), store(word(get(NEXT), get(LAST)), get(S))),
      store(get(ENDS), get(S), 4),
    ]);
    m.addFunction(LIST_APPEND, b.createType([i32, i32, i32, i32]), b.none, [i32], body);
  }
  const recency = (desc: Expr, s: Expr) => [field(desc, Descriptor.RecencyEnds), field(desc, Descriptor.RecencyPrev), field(desc, Descriptor.RecencyNext), s];
  const order = (desc: Expr, s: Expr) => [field(desc, Descriptor.OrderEnds), field(desc, Descriptor.OrderPrev), field(desc, Descriptor.OrderNext), s];

  // An LRU touch: the slot moves to the tail of the recency list (SlotList.moveToTail).
  {
    const [DESC, S] = [0, 1];
    const body = m.if(m.i32.ne(load(field(get(DESC), Descriptor.RecencyEnds), 4), get(S)), m.block(null, [
      m.call(LIST_UNLINK, recency(get(DESC), get(S)), b.none),
      m.call(LIST_APPEND, recency(get(DESC), get(S)), b.none),
    ]));
    m.addFunction(TOUCH, b.createType([i32, i32]), b.none, [], body);
  }

  // Removes a hash map's element (HashTableMap.remove): out of its bucket's chain, the order and
  // recency lists, and back to the pool's free list.
  {
    const [DESC, S, BUCKET, P, STATE, CHAIN] = [0, 1, 2, 3, 4, 5];
    const chainOf = (r: Expr) => word(get(CHAIN), r);
    const body = m.block(null, [
      set(CHAIN, field(get(DESC), Descriptor.Chain)),
      set(BUCKET, word(field(get(DESC), Descriptor.Buckets), m.i32.and(load(word(field(get(DESC), Descriptor.Hashes), get(S))), field(get(DESC), Descriptor.BucketMask)))),
      m.if(m.i32.eq(load(get(BUCKET)), get(S)), store(get(BUCKET), load(chainOf(get(S)))), m.block(null, [
        set(P, load(get(BUCKET))),
        m.loop('find_prev', m.if(m.i32.ne(load(chainOf(get(P))), get(S)), m.block(null, [set(P, load(chainOf(get(P)))), m.br('find_prev')]))),
        store(chainOf(get(P)), load(chainOf(get(S)))),
      ])),
      store(chainOf(get(S)), c(UNLINKED)),
      store(field(get(DESC), Descriptor.Linked), m.i32.sub(load(field(get(DESC), Descriptor.Linked)), c(1))),
      m.call(LIST_UNLINK, order(get(DESC), get(S)), b.none),
      m.if(m.i32.and(field(get(DESC), Descriptor.Flags), c(DescriptorFlag.Lru)), m.call(LIST_UNLINK, recency(get(DESC), get(S)), b.none)),
      set(STATE, field(get(DESC), Descriptor.PoolState)),
      store(word(field(get(DESC), Descriptor.PoolNextFree), get(S)), load(get(STATE), 4 * PoolWord.FreeHead)),
      store(get(STATE), get(S), 4 * PoolWord.FreeHead),
      store(get(STATE), m.i32.sub(load(get(STATE), 4 * PoolWord.Taken), c(1)), 4 * PoolWord.Taken),
    ]);
    m.addFunction(REMOVE, b.createType([i32, i32]), b.none, [i32, i32, i32, i32], body);
  }

  // Adds a key that is not in a hash map, whose hash is `hash`, with a program's value (HashTableMap.updateValue's insert):
  // 0, -E2BIG when it is full (an LRU map evicts its least recently used element instead), or
  // FALLBACK when the tables would have to grow, which allocates (the helper does that).
  {
    const [DESC, KEY, VALUE, H, STATE, S, AT, DST] = [0, 1, 2, 3, 4, 5, 6, 7];
    const state = (w: PoolWord) => load(get(STATE), 4 * w);
    const setState = (w: PoolWord, v: Expr) => store(get(STATE), v, 4 * w);
    const full = () => m.i32.ge_u(state(PoolWord.Taken), field(get(DESC), Descriptor.MaxEntries));
    const lru = () => m.i32.and(field(get(DESC), Descriptor.Flags), c(DescriptorFlag.Lru));
    const body = m.block(null, [
      set(STATE, field(get(DESC), Descriptor.PoolState)),
      // One more linked element than buckets doubles the buckets.
      m.if(m.i32.gt_u(m.i32.add(load(field(get(DESC), Descriptor.Linked)), c(1)), m.i32.add(field(get(DESC), Descriptor.BucketMask), c(1))), ret64(FALLBACK)),
      m.if(full(), m.if(m.i32.eqz(lru()), ret64(-Errno.E2BIG), m.call(REMOVE, [get(DESC), load(field(get(DESC), Descriptor.RecencyEnds))], b.none)),
        // No free slot: a fresh one needs its bookkeeping and chunk to exist already.
        m.if(m.i32.and(m.i32.eq(state(PoolWord.FreeHead), c(NONE)), m.i32.or(
          m.i32.ge_u(state(PoolWord.Fresh), state(PoolWord.Capacity)),
          m.i32.ge_u(m.i32.shr_u(state(PoolWord.Fresh), c(CHUNK_SHIFT)), state(PoolWord.Chunks)),
        )), ret64(FALLBACK))),
      // Take a slot: the last freed, else a fresh one.
      set(S, state(PoolWord.FreeHead)),
      m.if(m.i32.ne(get(S), c(NONE)),
        setState(PoolWord.FreeHead, load(word(field(get(DESC), Descriptor.PoolNextFree), get(S)))),
        m.block(null, [set(S, state(PoolWord.Fresh)), setState(PoolWord.Fresh, m.i32.add(get(S), c(1)))])),
      setState(PoolWord.Taken, m.i32.add(state(PoolWord.Taken), c(1))),
      // The key, then the link into its bucket (newest first) and the lists' tails.
      set(AT, m.call(SLOT, [get(DESC), get(S)], i32)),
      m.memory.copy(get(AT), get(KEY), field(get(DESC), Descriptor.KeySize)),
      store(word(field(get(DESC), Descriptor.Hashes), get(S)), get(H)),
      set(DST, word(field(get(DESC), Descriptor.Buckets), m.i32.and(get(H), field(get(DESC), Descriptor.BucketMask)))),
      store(word(field(get(DESC), Descriptor.Chain), get(S)), load(get(DST))),
      store(get(DST), get(S)),
      store(field(get(DESC), Descriptor.Linked), m.i32.add(load(field(get(DESC), Descriptor.Linked)), c(1))),
      m.call(LIST_APPEND, order(get(DESC), get(S)), b.none),
      m.if(lru(), m.call(LIST_APPEND, recency(get(DESC), get(S)), b.none)),
      // A new element's value starts zeroed (every CPU's copy), then takes the program's value.
      set(DST, m.i32.add(get(AT), field(get(DESC), Descriptor.ValueOffset))),
      m.memory.fill(get(DST), c(0), m.i32.sub(field(get(DESC), Descriptor.Stride), field(get(DESC), Descriptor.ValueOffset))),
      m.memory.copy(m.i32.add(get(DST), m.call(CPU_OFFSET, [get(DESC)], i32)), get(VALUE), field(get(DESC), Descriptor.ValueSize)),
      m.i64.const(0n),
    ], i64);
    m.addFunction(INSERT, b.createType([i32, i32, i32, i32]), i64, [i32, i32, i32, i32], body);
  }

  // The value of the longest prefix in an LPM trie matching the key, or 0 (trie_lookup_elem, as LpmTrieMap.findValue).
  {
    const [DESC, KEY, NODE, FOUND, KEY_LEN, MAX, LIMIT, PREFIX, I, DIFF, PREFIXLEN] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const node = (f: LpmNode) => load(get(NODE), f);
    // The bit `index` of the key's data (0: the most significant bit of its first byte).
    const keyBit = (index: Expr) => m.i32.and(m.i32.shr_u(
      m.i32.load8_u(4, 1, m.i32.add(get(KEY), m.i32.shr_u(index, c(3)))),
      m.i32.sub(c(7), m.i32.and(index, c(7))),
    ), c(1));
    // PREFIX = the leading bits the node and the key share, up to both lengths.
    const matchLen = m.block(null, [
      set(PREFIXLEN, node(LpmNode.Prefixlen)),
      set(LIMIT, m.select(m.i32.lt_u(get(PREFIXLEN), get(KEY_LEN)), get(PREFIXLEN), get(KEY_LEN))),
      set(PREFIX, c(0)),
      set(I, c(0)),
      m.block('matched', [m.loop('bytes', m.block(null, [
        m.br('matched', m.i32.ge_u(get(PREFIX), get(LIMIT))),
        set(DIFF, m.i32.xor(m.i32.load8_u(LpmNode.Data, 1, m.i32.add(get(NODE), get(I))), m.i32.load8_u(4, 1, m.i32.add(get(KEY), get(I))))),
        m.if(get(DIFF), m.block(null, [set(PREFIX, m.i32.add(get(PREFIX), m.i32.sub(m.i32.clz(get(DIFF)), c(24)))), m.br('matched')])),
        set(PREFIX, m.i32.add(get(PREFIX), c(8))),
        set(I, m.i32.add(get(I), c(1))),
        m.br('bytes'),
      ]))]),
      set(PREFIX, m.select(m.i32.lt_u(get(PREFIX), get(LIMIT)), get(PREFIX), get(LIMIT))),
    ]);
    const body = m.block(null, [
      set(KEY_LEN, load(get(KEY))),
      set(MAX, m.i32.shl(m.i32.sub(field(get(DESC), Descriptor.KeySize), c(4)), c(3))),
      set(FOUND, c(0)),
      set(NODE, load(field(get(DESC), Descriptor.Storage))),
      m.block('done', [m.loop('walk', m.block(null, [
        m.br('done', m.i32.eqz(get(NODE))),
        matchLen,
        m.if(m.i32.eq(get(PREFIX), get(MAX)), m.block(null, [set(FOUND, get(NODE)), m.br('done')])),
        m.br('done', m.i32.lt_u(get(PREFIX), get(PREFIXLEN))),
        m.if(m.i32.eqz(node(LpmNode.Intermediate)), set(FOUND, get(NODE))),
        set(NODE, load(m.i32.add(get(NODE), m.i32.shl(keyBit(get(PREFIXLEN)), c(2))))),
        m.br('walk'),
      ]))]),
      m.if(m.i32.eqz(get(FOUND)), ret32(c(0))),
      load(get(FOUND), LpmNode.Value),
    ], i32);
    m.addFunction(LPM_LOOKUP, b.createType([i32, i32]), i32, [i32, i32, i32, i32, i32, i32, i32, i32, i32], body);
  }

  // bpf_map_lookup_elem(map, key): the value's address (this CPU's copy), 0, or FALLBACK.
  {
    const [DESC, KEY, OPS, S] = [0, 1, 2, 3];
    const address = (e: Expr) => m.return(m.i64.extend_u(m.i32.add(e, m.call(CPU_OFFSET, [get(DESC)], i32))));
    const body = m.block(null, [
      set(OPS, field(get(DESC), Descriptor.Ops)),
      m.if(m.i32.eq(get(OPS), c(DescriptorOps.Array)), m.block(null, [
        set(S, load(get(KEY))),
        m.if(m.i32.ge_u(get(S), field(get(DESC), Descriptor.MaxEntries)), ret64(0)),
        address(m.i32.add(field(get(DESC), Descriptor.Storage), m.i32.mul(get(S), field(get(DESC), Descriptor.Stride)))),
      ])),
      m.if(m.i32.eq(get(OPS), c(DescriptorOps.Hash)), m.block(null, [
        set(S, m.call(FIND, [get(DESC), get(KEY), hashOf(get(DESC), get(KEY))], i32)),
        m.if(m.i32.eq(get(S), c(NONE)), ret64(0)),
        m.if(m.i32.and(field(get(DESC), Descriptor.Flags), c(DescriptorFlag.Lru)), m.call(TOUCH, [get(DESC), get(S)], b.none)),
        address(m.i32.add(m.call(SLOT, [get(DESC), get(S)], i32), field(get(DESC), Descriptor.ValueOffset))),
      ])),
      m.if(m.i32.eq(get(OPS), c(DescriptorOps.LpmTrie)), m.return(m.i64.extend_u(m.call(LPM_LOOKUP, [get(DESC), get(KEY)], i32)))),
      m.i64.const(FALLBACK),
    ], i64);
    m.addFunction(MAP_OPS.lookup, b.createType([i32, i32]), i64, [i32, i32], body);
  }

  // bpf_map_update_elem(map, key, value, flags): 0, a negative errno, or FALLBACK.
  {
    const [DESC, KEY, VALUE, FLAGS, OPS, S, DST, H] = [0, 1, 2, 3, 4, 5, 6, 7];
    const flags = () => m.local.get(FLAGS, i64);
    const write = (dst: Expr) => m.block(null, [
      set(DST, m.i32.add(dst, m.call(CPU_OFFSET, [get(DESC)], i32))),
      m.memory.copy(get(DST), get(VALUE), field(get(DESC), Descriptor.ValueSize)),
    ]);
    const body = m.block(null, [
      set(OPS, field(get(DESC), Descriptor.Ops)),
      // Kinds without updates here, BPF_F_LOCK, and values with a spin lock (a copy must leave it alone) go to the helper.
      m.if(m.i32.or(
        m.i32.and(m.i32.ne(get(OPS), c(DescriptorOps.Array)), m.i32.ne(get(OPS), c(DescriptorOps.Hash))),
        m.i32.or(m.i64.ne(m.i64.and(flags(), m.i64.const(BigInt(BPF_F_LOCK))), m.i64.const(0n)), m.i32.and(field(get(DESC), Descriptor.Flags), c(DescriptorFlag.SpinLock))),
      ), ret64(FALLBACK)),
      // BPF_ANY, BPF_NOEXIST and BPF_EXIST are the only flags left.
      m.if(m.i64.gt_u(flags(), m.i64.const(2n)), ret64(-Errno.EINVAL)),
      m.if(m.i32.eq(get(OPS), c(DescriptorOps.Array)), m.block(null, [
        set(S, load(get(KEY))),
        // Every element exists: an index past the end cannot be added, and NOEXIST always fails.
        m.if(m.i32.ge_u(get(S), field(get(DESC), Descriptor.MaxEntries)), ret64(-Errno.E2BIG)),
        m.if(m.i64.eq(flags(), m.i64.const(BigInt(BPF_NOEXIST))), ret64(-Errno.EEXIST)),
        write(m.i32.add(field(get(DESC), Descriptor.Storage), m.i32.mul(get(S), field(get(DESC), Descriptor.Stride)))),
        ret64(0),
      ])),
      // A hash map: a key already there is written in place; a new one is inserted. One hash serves both.
      set(H, hashOf(get(DESC), get(KEY))),
      set(S, m.call(FIND, [get(DESC), get(KEY), get(H)], i32)),
      m.if(m.i32.eq(get(S), c(NONE)), m.if(m.i64.eq(flags(), m.i64.const(BigInt(BPF_EXIST))), ret64(-Errno.ENOENT),
        m.return(m.call(INSERT, [get(DESC), get(KEY), get(VALUE), get(H)], i64)))),
      m.if(m.i64.eq(flags(), m.i64.const(BigInt(BPF_NOEXIST))), ret64(-Errno.EEXIST)),
      write(m.i32.add(m.call(SLOT, [get(DESC), get(S)], i32), field(get(DESC), Descriptor.ValueOffset))),
      m.if(m.i32.and(field(get(DESC), Descriptor.Flags), c(DescriptorFlag.Lru)), m.call(TOUCH, [get(DESC), get(S)], b.none)),
      m.i64.const(0n),
    ], i64);
    m.addFunction(MAP_OPS.update, b.createType([i32, i32, i32, i64]), i64, [i32, i32, i32, i32], body);
  }
}
