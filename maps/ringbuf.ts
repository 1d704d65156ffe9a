// BPF_MAP_TYPE_RINGBUF (27) (kernel/bpf/ringbuf.c): a multi-record byte ring that programs fill with
// reserve/submit/discard or output, and JS drains in order, by callback or as an async iterator.
// Records keep Linux's 8-byte header (u32 len with BUSY and DISCARD bits, u32 pg_off) in guest
// memory. Linux maps the data pages twice so a record that wraps is contiguous; here the data area
// is allocated twice as large, so a record starting near the end runs on into the second half.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { Errno, MapFlag, MapType, roundUp8 } from './constants.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { KeylessMap } from './keyless-map.js';
import type { MapOptions, MapSpec } from './map.js';
import { EventStream } from './event-stream.js';

const BUSY_BIT = 0x80000000;
const DISCARD_BIT = 0x40000000;
const HEADER_SIZE = 8;
const PAGE_SIZE = 4096;
/** Submit and output flags. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
/** bpf_ringbuf_query flags. */
export const RingbufQuery = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;
/** RINGBUF_MAX_RECORD_SZ. */
const MAX_RECORD_SIZE = Math.floor(0xffffffff / 4);

/** A ring buffer of variable-size records. */
export class RingbufMap extends KeylessMap {
  private readonly data: Region;
  private readonly mask: number;
  private producer = 0;
  private consumer = 0;
  private readonly stream = new EventStream<Uint8Array>((deliver) => this.drain(deliver));

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, { update: Errno.ENOTSUPP, keyed: Errno.ENOTSUPP });
    this.mask = this.maxEntries - 1;
    this.data = memory.allocate(2 * this.maxEntries, `map ${this.name} ring`);
    this.regions.push(this.data);
  }

  /** Bytes produced and not yet consumed (records and headers). */
  get size(): number {
    return this.producer - this.consumer;
  }

  /** bpf_ringbuf_reserve: the sample's guest address, or 0 when flags are set or there is no room. */
  reserve(size: number, flags: number): number {
    if (flags !== 0 || size > MAX_RECORD_SIZE) return 0;
    const length = roundUp8(size + HEADER_SIZE);
    if (length > this.maxEntries) return 0;
    // The producer may run at most size - 1 bytes ahead of the consumer.
    if (this.producer + length - this.consumer > this.mask) return 0;
    const header = this.data.start + (this.producer & this.mask);
    const view = this.memory.view;
    view.setUint32(header, (size | BUSY_BIT) >>> 0, true);
    view.setUint32(header + 4, Math.floor((header - this.data.start) / PAGE_SIZE), true);
    this.producer += length;
    return header + HEADER_SIZE;
  }

  /** Whether `address` is a sample in this ring (what bpf_ringbuf_submit/discard are given). */
  holdsSample(address: number): boolean {
    return address >= this.data.start + HEADER_SIZE && address < this.data.end;
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard: commits a reserved sample. */
  commit(sample: number, flags: number, discard: boolean): void {
    const header = sample - HEADER_SIZE;
    const view = this.memory.view;
    const len = view.getUint32(header, true);
    view.setUint32(header, ((len & ~BUSY_BIT) | (discard ? DISCARD_BIT : 0)) >>> 0, true);
    if (!(flags & BPF_RB_NO_WAKEUP)) this.stream.wake();
  }

  /** bpf_ringbuf_output: copies a record in; 0, -EINVAL (flags) or -EAGAIN (no room). */
  output(dataAddr: number, size: number, flags: number): number {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -Errno.EINVAL;
    const sample = this.reserve(size, 0);
    if (sample === 0) return -Errno.EAGAIN;
    this.memory.bytes.copyWithin(sample, dataAddr, dataAddr + size);
    this.commit(sample, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): number {
    switch (flags) {
      case RingbufQuery.AVAIL_DATA:
        return this.producer - this.consumer;
      case RingbufQuery.RING_SIZE:
        return this.maxEntries;
      case RingbufQuery.CONS_POS:
        return this.consumer;
      case RingbufQuery.PROD_POS:
        return this.producer;
      default:
        return 0;
    }
  }

  /**
   * Consumes submitted records in order, calling `onRecord` with a copy of each (discarded ones are
   * skipped); stops at a record still reserved. Returns how many were delivered (ring_buffer__consume).
   */
  drain(onRecord: (record: Uint8Array) => void): number {
    let delivered = 0;
    this.consumer = this.scan(this.consumer, (record) => {
      delivered++;
      onRecord(record);
    });
    return delivered;
  }

  /** Copies of the submitted records not yet consumed, in order, without consuming them. */
  pending(): Uint8Array[] {
    const records: Uint8Array[] = [];
    this.scan(this.consumer, (record) => records.push(record));
    return records;
  }

  /** Walks the records from position `from` up to the first one still reserved; returns the position reached. */
  private scan(from: number, onRecord: (record: Uint8Array) => void): number {
    let at = from;
    while (at < this.producer) {
      const header = this.data.start + (at & this.mask);
      const len = this.memory.view.getUint32(header, true);
      if (len & BUSY_BIT) break;
      const size = len & ~(BUSY_BIT | DISCARD_BIT);
      const record = len & DISCARD_BIT ? undefined : this.copyOut(header + HEADER_SIZE, size);
      at += roundUp8(size + HEADER_SIZE);
      if (record) onRecord(record);
    }
    return at;
  }

  /** Records as they are submitted, until close(). */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this.stream.iterate();
  }

  /** Ends every async iteration once the records already submitted are read. */
  close(): void {
    this.stream.close();
  }

  override lookup(): Uint8Array | undefined {
    this.fail('lookup', Errno.ENOTSUPP);
  }
}

/** ringbuf_map_alloc's checks. */
export function checkRingbufSpec(spec: MapSpec): MapCheckFailure | undefined {
  if ((spec.flags ?? 0) & ~MapFlag.NUMA_NODE) return invalid('ring buffers accept no map_flags but BPF_F_NUMA_NODE');
  if (spec.keySize !== 0 || spec.valueSize !== 0) return invalid('key_size and value_size must be 0');
  const n = spec.maxEntries;
  if (n === 0 || n % PAGE_SIZE !== 0 || (n & (n - 1)) !== 0) return invalid(`max_entries ${n} must be a power of two and a multiple of ${PAGE_SIZE}`);
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_RINGBUF. */
export const ringbufKind: MapKind = {
  type: MapType.RINGBUF,
  name: 'ringbuf',
  check: checkRingbufSpec,
  create: (memory, spec, options) => new RingbufMap(memory, spec, options),
};
