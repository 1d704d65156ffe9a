// BPF_MAP_TYPE_LPM_TRIE (11): longest-prefix match, following kernel/bpf/lpm_trie.c node for node
// (a binary trie of real and intermediate nodes), so get_next_key walks in the kernel's postorder.
// A key is `struct bpf_lpm_trie_key_u8`: a u32 prefixlen (host order) and then the data bytes (network
// order). Values live in guest memory; lookups read the key where it lies and allocate nothing.
// Deviation from Linux: updating an existing prefix writes its value in place (Linux swaps in a new
// node), so a value keeps its address while its prefix lives.
import type { GuestMemory } from '../runtime/memory.js';
import { ACCESS_MASK, BPF_EXIST, BPF_NOEXIST, Errno, KMALLOC_MAX_SIZE, MapFlag, MapType, roundUp8 } from './constants.js';
import { checkFlags, invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';
import { ValuePool } from './value-pool.js';

/** LPM_DATA_SIZE_MAX: at most 256 data bytes (2048-bit prefixes). */
const DATA_SIZE_MAX = 256;
/** sizeof(struct lpm_trie_node) on x86_64, which bounds value_size. */
const TRIE_NODE_SIZE = 40;

interface TrieNode {
  prefixlen: number;
  /** The key's data bytes as given when the node was made (bits past prefixlen included, as Linux keeps them). */
  data: Uint8Array;
  /** An intermediate node: a branch point that holds no entry. */
  im: boolean;
  /** Guest address of the value; 0 for intermediate nodes. */
  value: number;
  child0: TrieNode | null;
  child1: TrieNode | null;
}

/** Bit `index` (0 = most significant bit of byte 0) of a byte string. */
function bitOf(data: Uint8Array, at: number, index: number): number {
  return (data[at + (index >>> 3)]! >>> (7 - (index & 7))) & 1;
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
  private root: TrieNode | null = null;
  private entries_ = 0;
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  private readonly pool: ValuePool;

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.dataSize = this.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.pool = new ValuePool(memory, roundUp8(this.valueSize), this.maxEntries, `map ${this.name} values`, this.regions);
  }

  get size(): number {
    return this.entries_;
  }

  /** longest_prefix_match: leading bits the node and the key (data at dataAddr) share, up to both lengths. */
  private matchLen(node: TrieNode, bytes: Uint8Array, dataAddr: number, keyLen: number): number {
    const limit = Math.min(node.prefixlen, keyLen);
    const data = node.data;
    let prefix = 0;
    for (let i = 0; prefix < limit; i++) {
      const diff = data[i]! ^ bytes[dataAddr + i]!;
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
    let found: TrieNode | null = null;
    for (let node = this.root; node; ) {
      const m = this.matchLen(node, bytes, dataAddr, keyLen);
      if (m === this.maxPrefixlen) {
        found = node;
        break;
      }
      if (m < node.prefixlen) break;
      if (!node.im) found = node;
      node = bitOf(bytes, dataAddr, node.prefixlen) ? node.child1 : node.child0;
    }
    return found ? found.value : 0;
  }

  /** trie_check_add_elem: whether one more entry may be added. */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return -Errno.ENOENT;
    if (this.entries_ === this.maxEntries) return -Errno.ENOSPC;
    this.entries_++;
    return 0;
  }

  private setChild(parent: TrieNode | null, bit: number, node: TrieNode | null): void {
    if (!parent) this.root = node;
    else if (bit) parent.child1 = node;
    else parent.child0 = node;
  }

  private newValue(valueAddr: number): number {
    const at = this.pool.take();
    this.copyValue(at, valueAddr);
    return at;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number): number {
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const view = this.memory.view;
    const bytes = this.memory.bytes;
    const keyLen = view.getUint32(keyAddr, true);
    if (keyLen > this.maxPrefixlen) return -Errno.EINVAL;
    const dataAddr = keyAddr + 4;
    const keyData = () => bytes.slice(dataAddr, dataAddr + this.dataSize);

    // Find the slot to attach a new node to.
    let parent: TrieNode | null = null;
    let bit = 0;
    let node = this.root;
    let matchlen = 0;
    while (node) {
      matchlen = this.matchLen(node, bytes, dataAddr, keyLen);
      if (node.prefixlen !== matchlen || node.prefixlen === keyLen) break;
      parent = node;
      bit = bitOf(bytes, dataAddr, node.prefixlen);
      node = bit ? node.child1 : node.child0;
    }
    const make = (): TrieNode => ({ prefixlen: keyLen, data: keyData(), im: false, value: this.newValue(valueAddr), child0: null, child1: null });

    if (!node) {
      const err = this.checkAdd(flags);
      if (err) return err;
      this.setChild(parent, bit, make());
      return 0;
    }
    if (node.prefixlen === matchlen) {
      // The exact prefix has a node: replace a real one's value, or turn an intermediate one real.
      if (!node.im) {
        if (flags === BPF_NOEXIST) return -Errno.EEXIST;
        this.copyValue(node.value, valueAddr);
      } else {
        const err = this.checkAdd(flags);
        if (err) return err;
        node.im = false;
        node.value = this.newValue(valueAddr);
      }
      node.data = keyData();
      return 0;
    }
    const err = this.checkAdd(flags);
    if (err) return err;
    const fresh = make();
    if (matchlen === keyLen) {
      // The new prefix covers the node: insert it above.
      if (bitOf(node.data, 0, matchlen)) fresh.child1 = node;
      else fresh.child0 = node;
      this.setChild(parent, bit, fresh);
      return 0;
    }
    // They diverge below both: join them under an intermediate node.
    const im: TrieNode = { prefixlen: matchlen, data: node.data.slice(), im: true, value: 0, child0: null, child1: null };
    if (bitOf(bytes, dataAddr, matchlen)) {
      im.child0 = node;
      im.child1 = fresh;
    } else {
      im.child0 = fresh;
      im.child1 = node;
    }
    this.setChild(parent, bit, im);
    return 0;
  }

  deleteAt(keyAddr: number): number {
    const bytes = this.memory.bytes;
    const keyLen = this.memory.view.getUint32(keyAddr, true);
    if (keyLen > this.maxPrefixlen) return -Errno.EINVAL;
    const dataAddr = keyAddr + 4;
    let parent: TrieNode | null = null;
    let bit = 0;
    let grandparent: TrieNode | null = null;
    let parentBit = 0;
    let node = this.root;
    let matchlen = 0;
    while (node) {
      matchlen = this.matchLen(node, bytes, dataAddr, keyLen);
      if (node.prefixlen !== matchlen || node.prefixlen === keyLen) break;
      grandparent = parent;
      parentBit = bit;
      parent = node;
      bit = bitOf(bytes, dataAddr, node.prefixlen);
      node = bit ? node.child1 : node.child0;
    }
    if (!node || node.prefixlen !== keyLen || node.prefixlen !== matchlen || node.im) return -Errno.ENOENT;
    this.entries_--;
    this.pool.give(node.value);
    node.value = 0;
    if (node.child0 && node.child1) {
      // Still a branch point: keep it as an intermediate node.
      node.im = true;
      return 0;
    }
    if (parent && parent.im && !node.child0 && !node.child1) {
      // A leaf under an intermediate node: the parent goes too, its other child moves up.
      this.setChild(grandparent, parentBit, node === parent.child0 ? parent.child1 : parent.child0);
      return 0;
    }
    this.setChild(parent, bit, node.child0 ?? node.child1);
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    if (!this.root) return -Errno.ENOENT;
    let searchRoot: TrieNode | null = this.root;
    let next: TrieNode | null = null;
    const keyLen = keyAddr === 0 ? 0 : this.memory.view.getUint32(keyAddr, true);
    if (keyAddr !== 0 && keyLen <= this.maxPrefixlen) {
      const bytes = this.memory.bytes;
      const dataAddr = keyAddr + 4;
      const stack: TrieNode[] = [];
      let node: TrieNode | null = this.root;
      let matchlen = 0;
      while (node) {
        stack.push(node);
        matchlen = this.matchLen(node, bytes, dataAddr, keyLen);
        if (node.prefixlen !== matchlen || node.prefixlen === keyLen) break;
        node = bitOf(bytes, dataAddr, node.prefixlen) ? node.child1 : node.child0;
      }
      if (node && node.prefixlen === matchlen && !node.im) {
        // The key's node is found: the next node in postorder is the leftmost of a right sibling
        // subtree, or the first real ancestor.
        let at = stack.length - 1;
        let cur = stack[at]!;
        searchRoot = null;
        while (at > 0) {
          const up = stack[at - 1]!;
          if (up.child0 === cur && up.child1) {
            searchRoot = up.child1;
            break;
          }
          if (!up.im) {
            next = up;
            break;
          }
          cur = up;
          at--;
        }
        if (!next && !searchRoot) return -Errno.ENOENT;
      }
    }
    if (!next) {
      // The leftmost real node in postorder; intermediate nodes always have two children.
      for (let node = searchRoot; node; ) {
        if (node.im) {
          node = node.child0;
        } else {
          next = node;
          node = node.child0 ?? node.child1;
        }
      }
    }
    const view = this.memory.view;
    view.setUint32(outAddr, next!.prefixlen, true);
    this.memory.bytes.set(next!.data, outAddr + 4);
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
