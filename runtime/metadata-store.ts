// The XDP metadata key/value store (DESIGN.md "XDP metadata key/value store", an extension beyond
// Linux): small typed values a program stores with its frame, which travel with it through
// XDP_REDIRECT to devmap and cpumap programs and the egress hook. The store lives at the start of
// the frame's headroom, where Linux keeps its xdp_frame, apart from the data_meta area: a 16-byte
// header holding a 2-bit size code per key for 64 keys (0 absent, 1 = 2 bytes, 2 = 4, 3 = 8), then
// the present values packed in key order, so a value's offset is the sum of the sizes of the
// present keys below it. Whatever the store takes, bpf_xdp_adjust_head and _meta can no longer use.
// Keys from 1 << 32 up are receive hints the runtime fills in outside the header.
import { Errno } from '../maps/constants.js';
import type { GuestMemory } from './memory.js';
import { RuntimeError } from './errors.js';

/** Bytes of the store's header: 64 keys x 2 bits. */
export const KV_HEADER_SIZE = 16;
/** Keys 0..KV_KEYS-1 live in the header. */
export const KV_KEYS = 64;
/** Receive hints: keys the runtime fills in on receive (read-only to programs). Keys are numbers: every valid one is below 2^53. */
export const RxHint = { RX_HASH: 2 ** 32 + 1, VLAN_TCI: 2 ** 32 + 2, RX_TIMESTAMP: 2 ** 32 + 3 } as const;
/** The value sizes a key may hold, by size code. */
const SIZES = [0, 2, 4, 8] as const;

/** The receive hints of a frame, when its receiving interface provides them. */
export interface RxHints {
  /** A hash of the flow (u32). */
  rxHash?: number;
  /** The outer 802.1Q tag's TCI (u16). */
  vlanTci?: number;
  /** The capture's timestamp in ns since the epoch (u64). */
  rxTimestamp?: bigint;
}

/** What the store needs of a frame. */
export interface KvFrame {
  readonly memory: GuestMemory;
  /** Where the store begins (just past the xdp_frame area). */
  readonly storeStart: number;
  /** Bytes the store takes now (0 when empty: no header either). */
  storeSize: number;
  /** The lowest address of data_meta: the store may grow up to it. */
  readonly dataMeta: number;
  hints: RxHints | undefined;
}

/** The header as four u32 words, 16 keys each (2 bits a key, key 0 in the low bits of word 0). */
type Header = [number, number, number, number];

function codes(frame: KvFrame): Header {
  if (frame.storeSize === 0) return [0, 0, 0, 0];
  const v = frame.memory.view;
  const at = frame.storeStart;
  return [v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true), v.getUint32(at + 12, true)];
}

function codeOf(header: Header, key: number): number {
  return (header[key >>> 4]! >>> ((key & 15) * 2)) & 3;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * Offset of key's value past the header: the sizes of the present keys below it. Per word, the
 * slots holding each size code are picked out with masks and counted with popcount; no walking.
 */
function offsetOf(header: Header, key: number): number {
  let offset = 0;
  for (let w = 0; w < 4; w++) {
    const slots = Math.min(16, Math.max(0, key - w * 16));
    if (slots === 0) break;
    const word = slots === 16 ? header[w]! : header[w]! & ((1 << (slots * 2)) - 1);
    const low = word & 0x55555555;
    const high = (word >>> 1) & 0x55555555;
    offset += 2 * popcount(low & ~high) + 4 * popcount(high & ~low) + 8 * popcount(low & high);
  }
  return offset;
}

function writeHeader(frame: KvFrame, header: Header): void {
  const v = frame.memory.view;
  for (let w = 0; w < 4; w++) v.setUint32(frame.storeStart + 4 * w, header[w]!, true);
}

function withCode(header: Header, key: number, code: number): Header {
  const out: Header = [header[0], header[1], header[2], header[3]];
  const shift = (key & 15) * 2;
  out[key >>> 4] = ((out[key >>> 4]! & ~(3 << shift)) | (code << shift)) >>> 0;
  return out;
}

function valuesSize(header: Header): number {
  return offsetOf(header, KV_KEYS);
}

/** A hint's value as bytes of its size, or undefined when the frame has none. */
function hintBytes(frame: KvFrame, key: number): Uint8Array | undefined {
  const h = frame.hints;
  if (!h) return undefined;
  if (key === RxHint.RX_HASH && h.rxHash !== undefined) return le(BigInt(h.rxHash), 4);
  if (key === RxHint.VLAN_TCI && h.vlanTci !== undefined) return le(BigInt(h.vlanTci), 2);
  if (key === RxHint.RX_TIMESTAMP && h.rxTimestamp !== undefined) return le(h.rxTimestamp, 8);
  return undefined;
}

function le(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

const isHint = (key: number) => key === RxHint.RX_HASH || key === RxHint.VLAN_TCI || key === RxHint.RX_TIMESTAMP;
/** A key in the header: an integer 0..63. */
const isHeaderKey = (key: number) => Number.isInteger(key) && key >= 0 && key < KV_KEYS;

/** bpf_xdp_kv_get: copies the value of `key` (exactly `len` bytes, its size) to `to`; 0, -ENOENT (absent), -EINVAL (bad key or len). */
export function kvGet(frame: KvFrame, key: number, to: number, len: number): number {
  if (!isHeaderKey(key)) {
    if (!isHint(key)) return -Errno.EINVAL;
    const bytes = hintBytes(frame, key);
    const size = key === RxHint.RX_HASH ? 4 : key === RxHint.VLAN_TCI ? 2 : 8;
    if (len !== size) return -Errno.EINVAL;
    if (!bytes) return -Errno.ENOENT;
    frame.memory.bytes.set(bytes, to);
    return 0;
  }
  if (len !== 2 && len !== 4 && len !== 8) return -Errno.EINVAL;
  const header = codes(frame);
  const code = codeOf(header, key);
  if (code === 0) return -Errno.ENOENT;
  if (SIZES[code] !== len) return -Errno.EINVAL;
  const at = frame.storeStart + KV_HEADER_SIZE + offsetOf(header, key);
  frame.memory.bytes.copyWithin(to, at, at + len);
  return 0;
}

/**
 * bpf_xdp_kv_set: stores `len` bytes (2, 4 or 8) from `from` under `key`; 0, -EINVAL (bad key,
 * len or flags, a hint, or a present key of another size), -ENOSPC (the headroom below data_meta
 * cannot take it).
 */
export function kvSet(frame: KvFrame, key: number, from: number, len: number, flags: number): number {
  if (!isHeaderKey(key) || flags !== 0 || (len !== 2 && len !== 4 && len !== 8)) return -Errno.EINVAL;
  const k = key;
  const header = codes(frame);
  const code = codeOf(header, k);
  const bytes = frame.memory.bytes;
  const values = frame.storeStart + KV_HEADER_SIZE;
  if (code !== 0) {
    if (SIZES[code] !== len) return -Errno.EINVAL;
    const at = values + offsetOf(header, k);
    bytes.copyWithin(at, from, from + len);
    return 0;
  }
  const used = frame.storeSize === 0 ? 0 : KV_HEADER_SIZE + valuesSize(header);
  const needed = (frame.storeSize === 0 ? KV_HEADER_SIZE : 0) + len;
  if (frame.storeStart + used + needed > frame.dataMeta) return -Errno.ENOSPC;
  // The value goes in key order: what follows it moves up by its size.
  const at = values + offsetOf(header, k);
  const end = frame.storeStart + Math.max(used, KV_HEADER_SIZE);
  const value = bytes.slice(from, from + len);
  bytes.copyWithin(at + len, at, end);
  bytes.set(value, at);
  frame.storeSize = Math.max(used, KV_HEADER_SIZE) + len;
  writeHeader(frame, withCode(header, k, SIZES.indexOf(len as 2 | 4 | 8)));
  return 0;
}

/** bpf_xdp_kv_delete: removes `key`; 0, -ENOENT (absent), -EINVAL (bad key, or a hint). */
export function kvDelete(frame: KvFrame, key: number): number {
  if (!isHeaderKey(key)) return -Errno.EINVAL;
  const k = key;
  const header = codes(frame);
  const code = codeOf(header, k);
  if (code === 0) return -Errno.ENOENT;
  const len = SIZES[code]!;
  const values = frame.storeStart + KV_HEADER_SIZE;
  const at = values + offsetOf(header, k);
  const bytes = frame.memory.bytes;
  bytes.copyWithin(at, at + len, frame.storeStart + frame.storeSize);
  const next = withCode(header, k, 0);
  if (next.every((w) => w === 0)) {
    // The last key gone, the header goes too: the headroom is whole again.
    bytes.fill(0, frame.storeStart, frame.storeStart + frame.storeSize);
    frame.storeSize = 0;
    return 0;
  }
  bytes.fill(0, frame.storeStart + frame.storeSize - len, frame.storeStart + frame.storeSize);
  frame.storeSize -= len;
  writeHeader(frame, next);
  return 0;
}

/** Every pair of a frame, keys in order (values as unsigned little-endian integers), and with `hints` the receive hints after them. */
export function kvEntries(frame: KvFrame, hints = true): [number, bigint][] {
  const out: [number, bigint][] = [];
  const header = codes(frame);
  const v = frame.memory.view;
  let at = frame.storeStart + KV_HEADER_SIZE;
  for (let k = 0; k < KV_KEYS; k++) {
    const size = SIZES[codeOf(header, k)]!;
    if (!size) continue;
    const value = size === 2 ? BigInt(v.getUint16(at, true)) : size === 4 ? BigInt(v.getUint32(at, true)) : v.getBigUint64(at, true);
    out.push([k, value]);
    at += size;
  }
  if (!hints) return out;
  for (const key of [RxHint.RX_HASH, RxHint.VLAN_TCI, RxHint.RX_TIMESTAMP]) {
    const bytes = hintBytes(frame, key);
    if (bytes) out.push([key, bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n)]);
  }
  return out;
}

/** The store's bytes (header and values), to copy a frame with its store. */
export function kvSnapshot(frame: KvFrame): Uint8Array {
  return frame.memory.bytes.slice(frame.storeStart, frame.storeStart + frame.storeSize);
}

/** Names for keys, shared by cooperating programs and JS (runtime.metadataKeys); the hints are named already. */
export class MetadataKeys {
  private readonly byName = new Map<string, number>([['rx_hash', RxHint.RX_HASH], ['vlan_tci', RxHint.VLAN_TCI], ['rx_timestamp', RxHint.RX_TIMESTAMP]]);

  /** Names `key` (0..63); throws RuntimeError for a key out of range or a name or key taken by another. */
  register(name: string, key: number): number {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new RuntimeError(`metadata key name '${name}' must be a word (letters, digits, _ . -)`);
    if (!Number.isInteger(key) || key < 0 || key >= KV_KEYS) throw new RuntimeError(`metadata key ${key} for '${name}' must be an integer from 0 to ${KV_KEYS - 1}`);
    const known = this.byName.get(name);
    if (known !== undefined && known !== key) throw new RuntimeError(`metadata key name '${name}' is key ${known} already`);
    const holder = this.nameOf(key);
    if (holder !== undefined && holder !== name) throw new RuntimeError(`metadata key ${key} is '${holder}' already`);
    this.byName.set(name, key);
    return key;
  }

  /** The key a name stands for. */
  key(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** The name of a key, if it has one. */
  nameOf(key: number): string | undefined {
    for (const [name, k] of this.byName) if (k === key) return name;
    return undefined;
  }

  /** A frame's pairs as text: `packet_id=42 class=3 rx_hash=0x5d1c2a77` (unnamed keys as `key7=...`). */
  describe(pairs: readonly [number, bigint][]): string {
    return pairs.map(([k, v]) => `${this.nameOf(k) ?? `key${k}`}=${k >= KV_KEYS ? `0x${v.toString(16)}` : v}`).join(' ');
  }
}
