// BPF_MAP_TYPE_PERF_EVENT_ARRAY (4): per-CPU output channels for bpf_perf_event_output. Linux puts
// perf event fds in the slots and user space reads each CPU's mmapped ring; here JS opens a buffer
// per index (as libbpf's perf_buffer does, one per CPU) and drains samples and lost-sample counts by
// callback or async iterator. Samples are copied out of guest memory when output: programs never
// read these buffers, so they live on the JS side. A buffer counts bytes as perf does: an 8-byte
// record header plus the u32-sized raw sample padded to 8; what does not fit is counted as lost.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapFlag, MapType, roundUp8 } from './constants.js';
import { checkArraySpec } from './array.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';
import { EventStream } from './event-stream.js';

/** `flags` index meaning "the current CPU's slot" (BPF_F_CURRENT_CPU, the whole BPF_F_INDEX_MASK). */
export const BPF_F_CURRENT_CPU = 0xffffffff;

/** What a drain delivers: a sample, or a count of samples lost because the buffer was full. */
export type PerfEvent = { readonly cpu: number; readonly data: Uint8Array } | { readonly cpu: number; readonly lost: number };

interface PerfBuffer {
  readonly capacity: number;
  used: number;
  lost: number;
  readonly samples: Uint8Array[];
}

/** A perf event array. */
export class PerfEventArrayMap extends BaseMap {
  private readonly buffers: (PerfBuffer | undefined)[];
  private readonly stream = new EventStream<PerfEvent>((deliver) => this.drain(deliver));

  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, false);
    this.buffers = new Array<PerfBuffer | undefined>(this.maxEntries).fill(undefined);
  }

  /** Slots with an open buffer. */
  get size(): number {
    return this.buffers.filter((b) => b).length;
  }

  /** Opens a buffer of `pages` 4 KiB pages at an index (the index is the CPU it belongs to). */
  open(index: number, pages = 8): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) this.fail('open', Errno.E2BIG);
    this.buffers[index] = { capacity: pages * 4096, used: 0, lost: 0, samples: [] };
  }

  /** Opens a buffer at every index. */
  openAll(pages = 8): void {
    for (let i = 0; i < this.maxEntries; i++) this.open(i, pages);
  }

  /**
   * bpf_perf_event_output's map part: `index` is the low 32 bits of flags (BPF_F_CURRENT_CPU for
   * `cpu`'s slot); `extra` is appended (the skb/xdp helpers' packet bytes). 0, -E2BIG (index past the
   * end), -ENOENT (no buffer), -EOPNOTSUPP (another CPU's buffer); a full buffer counts a lost sample.
   */
  outputAt(index: number, cpu: number, dataAddr: number, size: number, extra?: Uint8Array): number {
    const slot = index === BPF_F_CURRENT_CPU ? cpu : index;
    if (slot >= this.maxEntries) return -Errno.E2BIG;
    const buffer = this.buffers[slot];
    if (!buffer) return -Errno.ENOENT;
    if (slot !== cpu) return -Errno.EOPNOTSUPP;
    const total = size + (extra?.length ?? 0);
    const cost = 8 + roundUp8(4 + total);
    if (buffer.used + cost > buffer.capacity) {
      buffer.lost++;
    } else {
      const data = new Uint8Array(total);
      data.set(this.memory.bytes.subarray(dataAddr, dataAddr + size));
      if (extra) data.set(extra, size);
      buffer.samples.push(data);
      buffer.used += cost;
    }
    this.stream.wake();
    return 0;
  }

  /**
   * bpf_perf_event_read's map part (get_map_perf_counter): -E2BIG past the end, -ENOENT for an empty
   * slot, and for an open buffer (a per-CPU software event, as libbpf's perf_buffer opens) -EINVAL
   * from another CPU (perf_event_read_local) or a count of 0 from its own.
   */
  readCounter(index: number, cpu: number): number {
    const slot = index === BPF_F_CURRENT_CPU ? cpu : index;
    if (slot >= this.maxEntries) return -Errno.E2BIG;
    if (!this.buffers[slot]) return -Errno.ENOENT;
    return slot === cpu ? 0 : -Errno.EINVAL;
  }

  /** Delivers every buffered sample and lost count, CPU by CPU (perf_buffer__consume); returns the events delivered. */
  drain(onEvent: (event: PerfEvent) => void): number {
    let n = 0;
    this.buffers.forEach((buffer, cpu) => {
      if (!buffer) return;
      if (buffer.lost) {
        onEvent({ cpu, lost: buffer.lost });
        buffer.lost = 0;
        n++;
      }
      for (const data of buffer.samples.splice(0)) {
        onEvent({ cpu, data });
        n++;
      }
      buffer.used = 0;
    });
    return n;
  }

  /** The events a drain would deliver now, CPU by CPU, without delivering them. */
  pending(): PerfEvent[] {
    const events: PerfEvent[] = [];
    this.buffers.forEach((buffer, cpu) => {
      if (!buffer) return;
      if (buffer.lost) events.push({ cpu, lost: buffer.lost });
      for (const data of buffer.samples) events.push({ cpu, data: data.slice() });
    });
    return events;
  }

  /** Events as they are output, until close(). */
  [Symbol.asyncIterator](): AsyncIterableIterator<PerfEvent> {
    return this.stream.iterate();
  }

  /** Ends every async iteration once the buffered events are read. */
  close(): void {
    this.stream.close();
  }

  // Programs only output; user space cannot read slots back (-ENOTSUPP) and fills them with open().
  lookupAddress(): number {
    return 0;
  }

  protected findValue(): number {
    return 0;
  }

  override lookup(): Uint8Array | undefined {
    this.fail('lookup', Errno.ENOTSUPP);
  }

  protected updateValue(): number {
    return -Errno.EINVAL;
  }

  deleteAt(keyAddr: number): number {
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (!this.buffers[i]) return -Errno.ENOENT;
    this.buffers[i] = undefined;
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }

  protected override get hasBatchOps(): boolean {
    return false;
  }
}

/** fd_array_map_alloc_check for perf event arrays (BPF_F_PRESERVE_ELEMS is theirs). */
export function checkPerfEventArraySpec(spec: MapSpec): MapCheckFailure | undefined {
  if (spec.valueSize !== 4) return invalid('value_size must be 4');
  const flags = spec.flags ?? 0;
  if (flags & (MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG)) return invalid('BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not allowed');
  if (spec.spinLockOffset !== undefined) return { errno: Errno.EOPNOTSUPP, detail: 'bpf_spin_lock is not allowed in perf event arrays' };
  return checkArraySpec({ ...spec, flags: flags & ~MapFlag.PRESERVE_ELEMS }, false, true);
}

/** Registry entry for BPF_MAP_TYPE_PERF_EVENT_ARRAY. */
export const perfEventArrayKind: MapKind = {
  type: MapType.PERF_EVENT_ARRAY,
  name: 'perf_event_array',
  check: checkPerfEventArraySpec,
  create: (memory, spec, options) => new PerfEventArrayMap(memory, spec, options),
};
