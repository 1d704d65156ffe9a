// BPF_MAP_TYPE_LPM_TRIE (11): longest-prefix match, following kernel/bpf/lpm_trie.c node for node
// (a binary trie of real and intermediate nodes), so get_next_key walks in the kernel's postorder.
// A key is `struct bpf_lpm_trie_key_u8`: a u32 prefixlen (host order) and then the data bytes (network
// order). Nodes and values live in guest memory, so compiled programs can look up without calling
// out to JavaScript (maps/descriptor.ts); lookups read the key where it lies and allocate nothing.
// Deviation from Linux: updating an existing prefix writes its value in place (Linux swaps in a new
// node), so a value keeps its address while its prefix lives.
import type { GuestMemory } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_EXIST, BPF_NOEXIST, Errno, KMALLOC_MAX_SIZE, MapFlag, MapType, roundUp8 } from './constants.js';
import { Descriptor, DescriptorOps, LpmNode } from './descriptor.js';
import { GuestWords } from './guest-words.js';
import { checkFlags, invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';
import { ValuePool } from './value-pool.js';

/** LPM_DATA_SIZE_MAX: at most 256 data bytes (2048-bit prefixes). */
const DATA_SIZE_MAX = 256;
/** sizeof(struct lpm_trie_node) on x86_64, which bounds value_size. */
const TRIE_NODE_SIZE = 40;

/** A node is its guest address (LpmNode gives the layout); 0 is no node. */
type TrieNode = number;
const NO_NODE = 0;

/** Bit `index` (0 = most significant bit of byte 0) of the bytes at `at`. */
function bitOf(bytes: Uint8Array, at: number, index: number): number {
  return (bytes[at + (index >>> 3)]! >>> (7 - (index & 7))) & 1;
}

/** Builds an LPM key: u32 prefixlen (little-endian) followed by the data bytes. */
export function lpmKey(prefixlen: number, data: ArrayLike<number>): Uint8Array {
  const key = new Uint8Array(4 + data.length);
  new DataView(key.buffer).setUint32(0, prefixlen, true);
  key.set(data, 4);
  return key;
}

/** A longest-prefix-match trie. */
export class LpmTrieMap extends BaseMap {
  private entries_ = 0;
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  private readonly pool: ValuePool;
  /** Nodes: the header LpmNode describes, then the key's data bytes as given (bits past prefixlen included, as Linux keeps them). */
  private readonly nodes: ValuePool;
  /** One word: the root node. */
  private readonly rootWord: GuestWords;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.pool = new ValuePool(memory, roundUp8(this.valueSize), this.maxEntries, `map ${this.name} values`, this.regions);
    // Intermediate nodes join two others, so there are fewer of them than real ones.
    this.nodes = new ValuePool(memory, roundUp8(LpmNode.Data + this.dataSize), 2 * this.maxEntries, `map ${this.name} nodes`, this.regions);
    this.rootWord = new GuestWords(memory, 1, `map ${this.name} root`, this.regions);
  }

  get size(): number {
    return this.entries_;
  }

  protected override storageDescription(): [Descriptor, number][] {
    return [[Descriptor.Ops, DescriptorOps.LpmTrie], [Descriptor.Storage, this.rootWord.address]];
  }

  // ---- nodes ----

  private get root(): TrieNode {
    return this.memory.i32[this.rootWord.base]!;
  }

  private word(node: TrieNode, field: LpmNode): number {
    return this.memory.i32[(node + field) >>> 2]!;
  }

  private setWord(node: TrieNode, field: LpmNode, value: number): void {
    this.memory.i32[(node + field) >>> 2] = value;
  }

  private prefixlen(node: TrieNode): number {
    return this.word(node, LpmNode.Prefixlen);
  }

  private isIntermediate(node: TrieNode): boolean {
    return this.word(node, LpmNode.Intermediate) !== 0;
  }

  private child(node: TrieNode, bit: number): TrieNode {
    return this.word(node, bit ? LpmNode.Child1 : LpmNode.Child0);
  }

  /** A node with the data bytes at dataAddr: real (with a fresh value) or intermediate. */
  private newNode(prefixlen: number, dataAddr: number, valueAddr: number | undefined): TrieNode {
    const node = this.nodes.take();
    this.setWord(node, LpmNode.Prefixlen, prefixlen);
    this.setWord(node, LpmNode.Intermediate, valueAddr === undefined ? 1 : 0);
    this.setWord(node, LpmNode.Value, valueAddr === undefined ? 0 : this.newValue(valueAddr));
    this.setData(node, dataAddr);
    return node;
  }

  private setData(node: TrieNode, dataAddr: number): void {
    this.memory.bytes.copyWithin(node + LpmNode.Data, dataAddr, dataAddr + this.dataSize);
  }

  /** longest_prefix_match: leading bits the node and the key (data at dataAddr) share, up to both lengths. */
  private matchLen(node: TrieNode, bytes: Uint8Array, dataAddr: number, keyLen: number): number {
    const limit = Math.min(this.prefixlen(node), keyLen);
    const data = node + LpmNode.Data;
    let prefix = 0;
    for (let i = 0; prefix < limit; i++) {
      const diff = bytes[data + i]! ^ bytes[dataAddr + i]!;
      if (diff !== 0) {
        prefix += Math.clz32(diff) - 24;
        break;
      }
      prefix += 8;
    }
    return Math.min(prefix, limit);
  }

  lookupAddress(keyAddr: number): number {
    return this.findValue(keyAddr);
  }

  protected findValue(keyAddr: number): number {
    const bytes = this.memory.bytes;
    const keyLen = this.memory.view.getUint32(keyAddr, true);
    const dataAddr = keyAddr + 4;
    let found = NO_NODE;
    for (let node = this.root; node !== NO_NODE; ) {
      const m = this.matchLen(node, bytes, dataAddr, keyLen);
      if (m === this.maxPrefixlen) {
        found = node;
        break;
      }
      const prefixlen = this.prefixlen(node);
      if (m < prefixlen) break;
      if (!this.isIntermediate(node)) found = node;
      node = this.child(node, bitOf(bytes, dataAddr, prefixlen));
    }
    return found === NO_NODE ? 0 : this.word(found, LpmNode.Value);
  }

  /** trie_check_add_elem: whether one more entry may be added. */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return -Errno.ENOENT;
    if (this.entries_ === this.maxEntries) return -Errno.ENOSPC;
    this.entries_++;
    return 0;
  }

  private setChild(parent: TrieNode, bit: number, node: TrieNode): void {
    if (parent === NO_NODE) this.memory.i32[this.rootWord.base] = node;
    else this.setWord(parent, bit ? LpmNode.Child1 : LpmNode.Child0, node);
  }

  private newValue(valueAddr: number): number {
    const at = this.pool.take();
    this.copyValue(at, valueAddr);
    return at;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number): number {
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const view = this.memory.view;
    const keyLen = view.getUint32(keyAddr, true);
    if (keyLen > this.maxPrefixlen) return -Errno.EINVAL;
    const dataAddr = keyAddr + 4;

    // Find the slot to attach a new node to.
    let parent = NO_NODE;
    let bit = 0;
    let node = this.root;
    let matchlen = 0;
    while (node !== NO_NODE) {
      matchlen = this.matchLen(node, this.memory.bytes, dataAddr, keyLen);
      const prefixlen = this.prefixlen(node);
      if (prefixlen !== matchlen || prefixlen === keyLen) break;
      parent = node;
      bit = bitOf(this.memory.bytes, dataAddr, prefixlen);
      node = this.child(node, bit);
    }

    if (node === NO_NODE) {
      const err = this.checkAdd(flags);
      if (err) return err;
      this.setChild(parent, bit, this.newNode(keyLen, dataAddr, valueAddr));
      return 0;
    }
    if (this.prefixlen(node) === matchlen) {
      // The exact prefix has a node: replace a real one's value, or turn an intermediate one real.
      if (!this.isIntermediate(node)) {
        if (flags === BPF_NOEXIST) return -Errno.EEXIST;
        this.copyValue(this.word(node, LpmNode.Value), valueAddr);
      } else {
        const err = this.checkAdd(flags);
        if (err) return err;
        this.setWord(node, LpmNode.Intermediate, 0);
        this.setWord(node, LpmNode.Value, this.newValue(valueAddr));
      }
      this.setData(node, dataAddr);
      return 0;
    }
    const err = this.checkAdd(flags);
    if (err) return err;
    // Taking nodes may grow guest memory: read the byte view after.
    const fresh = this.newNode(keyLen, dataAddr, valueAddr);
    if (matchlen === keyLen) {
      // The new prefix covers the node: insert it above.
      this.setWord(fresh, bitOf(this.memory.bytes, node + LpmNode.Data, matchlen) ? LpmNode.Child1 : LpmNode.Child0, node);
      this.setChild(parent, bit, fresh);
      return 0;
    }
    // They diverge below both: join them under an intermediate node.
    const im = this.newNode(matchlen, node + LpmNode.Data, undefined);
    const freshOnRight = bitOf(this.memory.bytes, dataAddr, matchlen) !== 0;
    this.setWord(im, LpmNode.Child0, freshOnRight ? node : fresh);
    this.setWord(im, LpmNode.Child1, freshOnRight ? fresh : node);
    this.setChild(parent, bit, im);
    return 0;
  }

  deleteAt(keyAddr: number): number {
    const bytes = this.memory.bytes;
    const keyLen = this.memory.view.getUint32(keyAddr, true);
    if (keyLen > this.maxPrefixlen) return -Errno.EINVAL;
    const dataAddr = keyAddr + 4;
    let parent = NO_NODE;
    let bit = 0;
    let grandparent = NO_NODE;
    let parentBit = 0;
    let node = this.root;
    let matchlen = 0;
    while (node !== NO_NODE) {
      matchlen = this.matchLen(node, bytes, dataAddr, keyLen);
      const prefixlen = this.prefixlen(node);
      if (prefixlen !== matchlen || prefixlen === keyLen) break;
      grandparent = parent;
      parentBit = bit;
      parent = node;
      bit = bitOf(bytes, dataAddr, prefixlen);
      node = this.child(node, bit);
    }
    if (node === NO_NODE || this.prefixlen(node) !== keyLen || keyLen !== matchlen || this.isIntermediate(node)) return -Errno.ENOENT;
    this.entries_--;
    this.pool.give(this.word(node, LpmNode.Value));
    this.setWord(node, LpmNode.Value, 0);
    const [child0, child1] = [this.child(node, 0), this.child(node, 1)];
    if (child0 !== NO_NODE && child1 !== NO_NODE) {
      // Still a branch point: keep it as an intermediate node.
      this.setWord(node, LpmNode.Intermediate, 1);
      return 0;
    }
    if (parent !== NO_NODE && this.isIntermediate(parent) && child0 === NO_NODE && child1 === NO_NODE) {
      // A leaf under an intermediate node: the parent goes too, its other child moves up.
      this.setChild(grandparent, parentBit, this.child(parent, node === this.child(parent, 0) ? 1 : 0));
      this.nodes.give(parent);
      this.nodes.give(node);
      return 0;
    }
    this.setChild(parent, bit, child0 !== NO_NODE ? child0 : child1);
    this.nodes.give(node);
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    if (this.root === NO_NODE) return -Errno.ENOENT;
    let searchRoot = this.root;
    let next = NO_NODE;
    const keyLen = keyAddr === 0 ? 0 : this.memory.view.getUint32(keyAddr, true);
    if (keyAddr !== 0 && keyLen <= this.maxPrefixlen) {
      const bytes = this.memory.bytes;
      const dataAddr = keyAddr + 4;
      const stack: TrieNode[] = [];
      let node = this.root;
      let matchlen = 0;
      while (node !== NO_NODE) {
        stack.push(node);
        matchlen = this.matchLen(node, bytes, dataAddr, keyLen);
        const prefixlen = this.prefixlen(node);
        if (prefixlen !== matchlen || prefixlen === keyLen) break;
        node = this.child(node, bitOf(bytes, dataAddr, prefixlen));
      }
      if (node !== NO_NODE && this.prefixlen(node) === matchlen && !this.isIntermediate(node)) {
        // The key's node is found: the next node in postorder is the leftmost of a right sibling
        // subtree, or the first real ancestor.
        let at = stack.length - 1;
        let cur = stack[at]!;
        searchRoot = NO_NODE;
        while (at > 0) {
          const up = stack[at - 1]!;
          if (this.child(up, 0) === cur && this.child(up, 1) !== NO_NODE) {
            searchRoot = this.child(up, 1);
            break;
          }
          if (!this.isIntermediate(up)) {
            next = up;
            break;
          }
          cur = up;
          at--;
        }
        if (next === NO_NODE && searchRoot === NO_NODE) return -Errno.ENOENT;
      }
    }
    if (next === NO_NODE) {
      // The leftmost real node in postorder; intermediate nodes always have two children.
      for (let node = searchRoot; node !== NO_NODE; ) {
        if (this.isIntermediate(node)) {
          node = this.child(node, 0);
        } else {
          next = node;
          const left = this.child(node, 0);
          node = left !== NO_NODE ? left : this.child(node, 1);
        }
      }
    }
    this.memory.view.setUint32(outAddr, this.prefixlen(next), true);
    this.memory.bytes.copyWithin(outAddr + 4, next + LpmNode.Data, next + LpmNode.Data + this.dataSize);
    return 0;
  }
}

/** LPM_CREATE_FLAG_MASK. */
const LPM_CREATE_FLAG_MASK = MapFlag.NO_PREALLOC | MapFlag.NUMA_NODE | ACCESS_MASK;

/** The checks of trie_alloc: every failure is -EINVAL. */
export function checkLpmSpec(spec: MapSpec): MapCheckFailure | undefined {
  const flags = spec.flags ?? 0;
  if (spec.maxEntries === 0) return invalid('max_entries must be non-zero');
  if (!(flags & MapFlag.NO_PREALLOC)) return invalid('LPM tries require BPF_F_NO_PREALLOC');
  const bad = checkFlags(flags, LPM_CREATE_FLAG_MASK);
  if (bad) return bad;
  if (spec.keySize < 5 || spec.keySize > 4 + DATA_SIZE_MAX) return invalid(`key_size ${spec.keySize} must be 4 + 1..${DATA_SIZE_MAX} data bytes`);
  if (spec.valueSize < 1 || spec.valueSize > KMALLOC_MAX_SIZE - DATA_SIZE_MAX - TRIE_NODE_SIZE) return invalid(`value_size ${spec.valueSize} is out of range`);
  if (spec.spinLockOffset !== undefined) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in LPM tries' };
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_LPM_TRIE. */
export const lpmTrieKind: MapKind = {
  type: MapType.LPM_TRIE,
  name: 'lpm_trie',
  check: checkLpmSpec,
  create: (memory, spec, options) => new LpmTrieMap(memory, spec, options),
};
