// Guest memory: one WebAssembly.Memory per runtime holding every byte a BPF program can address
// (DESIGN.md "Guest memory"). A guest pointer is a byte offset into it. Regions are allocated from
// it with size-class free lists; the region table lets the checked interpreter validate accesses.
import { BpfError } from '../isa/errors.js';

const PAGE = 65536;
/** Offsets below this are never allocated, so NULL and small offsets from NULL always fault. */
export const NULL_GUARD = 4096;
/** Unallocated bytes kept after every region, so an access just past its end faults instead of landing in a neighbour. */
export const GUARD_BYTES = 64;

/** An allocated block of guest memory. */
export interface Region {
  /** First guest address. */
  readonly start: number;
  /** One past the last guest address. */
  readonly end: number;
  readonly writable: boolean;
  /** What the region holds, for fault messages ("stack", "packet", "map foo values", ...). */
  readonly name: string;
}

interface MutableRegion extends Region {
  start: number;
  end: number;
  /** Allocation size (a size class), which may exceed end - start. */
  capacity: number;
  /** Where the block really starts; `start` may be moved up (the stack shrinks as frames return). */
  base: number;
}

/** Guest memory could not satisfy an allocation. */
export class OutOfGuestMemoryError extends BpfError {
  constructor(size: number, maxBytes: number) {
    super('out-of-guest-memory', `cannot allocate ${size} bytes: guest memory is limited to ${maxBytes} bytes`);
  }
}

/** Options for a guest memory. */
export interface GuestMemoryOptions {
  /** Initial size in 64 KiB pages (default 16: 1 MiB). */
  initialPages?: number;
  /** Maximum size in 64 KiB pages (default 16384: 1 GiB). */
  maximumPages?: number;
}

/** Size classes: powers of two from 16 bytes; larger blocks are rounded up to 4 KiB. */
function sizeClass(size: number): number {
  if (size <= 16) return 16;
  if (size <= 4096) return 1 << (32 - Math.clz32(size - 1));
  return Math.ceil(size / 4096) * 4096;
}

/** One guest address space with an allocator and a region table. */
export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  private readonly maxBytes: number;
  private top = NULL_GUARD;
  private readonly freeLists = new Map<number, number[]>();
  /** Live regions sorted by start. */
  private readonly table: MutableRegion[] = [];
  private buffer!: ArrayBuffer;
  /** Byte view of the whole memory; refreshed when the memory grows. */
  bytes!: Uint8Array;
  /** DataView of the whole memory; refreshed when the memory grows. */
  view!: DataView;
  /** The whole memory as 32-bit words (index = address / 4), for tables kept in guest memory; refreshed when it grows. */
  i32!: Int32Array;
  /** Bumped whenever the region table changes, so cached lookups know to retry. */
  generation = 0;

  constructor(options: GuestMemoryOptions = {}) {
    const initial = options.initialPages ?? 16;
    const maximum = options.maximumPages ?? 16384;
    this.memory = new WebAssembly.Memory({ initial, maximum });
    this.maxBytes = maximum * PAGE;
    this.refresh();
  }

  /** Re-reads the views after the memory grew; cheap when it did not. */
  refresh(): void {
    // Growing detaches the old buffer, and a view of a detached buffer has no bytes: one field read
    // tells, where WebAssembly.Memory's buffer getter costs more (this runs per run and per helper call).
    if (this.bytes !== undefined && this.bytes.byteLength !== 0) return;
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this.bytes = new Uint8Array(this.buffer);
      this.view = new DataView(this.buffer);
      this.i32 = new Int32Array(this.buffer);
    }
  }

  /** Allocates a zero-filled region. */
  allocate(size: number, name: string, options: { writable?: boolean } = {}): Region {
    const capacity = sizeClass(Math.max(1, size) + GUARD_BYTES);
    let base = this.freeLists.get(capacity)?.pop();
    if (base === undefined) {
      base = this.top;
      const end = base + capacity;
      if (end > this.maxBytes) throw new OutOfGuestMemoryError(size, this.maxBytes);
      if (end > this.memory.buffer.byteLength) {
        this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
        this.refresh();
      }
      this.top = end;
    }
    this.bytes.fill(0, base, base + capacity);
    // The guard bytes after `end` stay outside every region.
    const region: MutableRegion = { start: base, end: base + size, writable: options.writable ?? true, name, capacity, base };
    this.table.splice(this.indexAfter(base), 0, region);
    this.generation++;
    return region;
  }

  /** Returns a region's block to its size class. */
  free(region: Region): void {
    const r = region as MutableRegion;
    const at = this.table.indexOf(r);
    if (at < 0) return;
    this.table.splice(at, 1);
    const list = this.freeLists.get(r.capacity) ?? [];
    list.push(r.base);
    this.freeLists.set(r.capacity, list);
    this.generation++;
  }

  /** Moves the first accessible address of a region within its block (the stack uses it as frames come and go). */
  setStart(region: Region, start: number): void {
    const r = region as MutableRegion;
    if (start < r.base || start > r.end) throw new RangeError(`region ${r.name}: start ${start} outside its block`);
    r.start = start;
    this.generation++;
  }

  /** The region holding every byte of [address, address + size), or undefined. */
  find(address: number, size: number): Region | undefined {
    const i = this.indexAfter(address) - 1;
    if (i < 0) return undefined;
    const r = this.table[i]!;
    return address >= r.start && address + size <= r.end ? r : undefined;
  }

  /** The region whose block contains an address (for naming a fault), or undefined. */
  near(address: number): Region | undefined {
    const i = this.indexAfter(address) - 1;
    if (i < 0) return undefined;
    const r = this.table[i]!;
    return address < r.base + r.capacity ? r : undefined;
  }

  /** Live regions, sorted by address. */
  regions(): readonly Region[] {
    return this.table;
  }

  /** Index of the first region whose base is above `address`. */
  private indexAfter(address: number): number {
    let lo = 0;
    let hi = this.table.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.table[mid]!.base <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
