// BPF_MAP_TYPE_CONTROL (0x1001), an extension (DESIGN.md "Control map"): a map whose lookups and
// updates reach a runtime subsystem instead of stored data; map_extra names the subsystem. A
// lookup snapshots the record into a value buffer of the map's own value size: at most that many
// bytes of the runtime's layout, the rest zero, so a program built against an older, shorter
// layout keeps working when the layout grows. An update changes the writable fields that differ,
// leaves read-only ones, and refuses non-zero bytes past the layout with -E2BIG; a subsystem with
// no writable field refuses every update with -EACCES. Keys exist while their subject does.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { BPF_EXIST, BPF_NOEXIST, Errno, MapType } from './constants.js';
import { invalid, type MapCheckFailure, type MapKind } from './kind.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** The subsystems (map_extra). */
export const ControlType = { XDP_ATTR: 1, PROG_STATS: 2, SOCK_ATTR: 3 } as const;

/** One field of a control record. */
export interface ControlField {
  readonly name: string;
  readonly offset: number;
  /** 2, 4 or 8 bytes, little-endian unsigned. */
  readonly size: 2 | 4 | 8;
  readonly writable: boolean;
}

/** A record layout: its fields in order and its size. */
export interface ControlLayout {
  /** The C struct's name (`bpf_ctrl_xdp_attr`). */
  readonly name: string;
  readonly size: number;
  readonly fields: readonly ControlField[];
}

/** What a control map reaches: one subsystem's records, by key. */
export interface ControlSource {
  readonly layout: ControlLayout;
  /** Bytes of a key: 4 (an ifindex, a program id) or 8 (a socket cookie). */
  readonly keySize: 4 | 8;
  /** The keys that exist now, in order. */
  keys(): readonly bigint[];
  /** Writes the whole record of `key` at `at`; false when there is no such subject. */
  read(key: bigint, view: DataView, at: number): boolean;
  /** Sets a writable field of `key`'s record: 0, or a negative errno (-ENOENT, -EINVAL for a value it refuses). */
  write(key: bigint, field: ControlField, value: bigint): number;
}

/** Lays out fields one after another at their natural alignment, as C would (writable ones named). */
export function controlLayout(name: string, fields: readonly (readonly [string, 2 | 4 | 8])[], writable: readonly string[] = []): ControlLayout {
  let offset = 0;
  const out: ControlField[] = [];
  for (const [field, size] of fields) {
    offset = Math.ceil(offset / size) * size;
    out.push({ name: field, offset, size, writable: writable.includes(field) });
    offset += size;
  }
  const align = Math.max(...fields.map(([, s]) => s));
  return { name, size: Math.ceil(offset / align) * align, fields: out };
}

function readField(view: DataView, at: number, size: number): bigint {
  return size === 8 ? view.getBigUint64(at, true) : BigInt(size === 4 ? view.getUint32(at, true) : view.getUint16(at, true));
}

/** A control map. */
export class ControlMap extends BaseMap {
  /** A value buffer per key, refreshed by every lookup: what a program's lookup points at. */
  private readonly buffers = new Map<bigint, Region>();
  /** Where a record is read before the map's share of it is copied out. */
  private readonly record: Region;

  constructor(memory: GuestMemory, spec: MapSpec, private readonly source: ControlSource) {
    super(memory, spec, {}, false);
    this.record = memory.allocate(Math.max(8, source.layout.size), `map ${this.name} record`);
    this.regions.push(this.record);
  }

  get size(): number {
    return this.source.keys().length;
  }

  private keyAt(keyAddr: number): bigint {
    const v = this.memory.view;
    return this.keySize === 8 ? v.getBigUint64(keyAddr, true) : BigInt(v.getUint32(keyAddr, true));
  }

  /** The record of a key, in a buffer of the map's value size (truncated or zero-filled); 0 when there is none. */
  lookupAddress(keyAddr: number): number {
    const key = this.keyAt(keyAddr);
    const layout = this.source.layout;
    if (!this.source.read(key, this.memory.view, this.record.start)) return 0;
    let buffer = this.buffers.get(key);
    if (!buffer) {
      buffer = this.memory.allocate(this.valueSize, `map ${this.name} value`);
      this.regions.push(buffer);
      this.buffers.set(key, buffer);
    }
    const bytes = this.memory.bytes;
    const shown = Math.min(this.valueSize, layout.size);
    bytes.copyWithin(buffer.start, this.record.start, this.record.start + shown);
    bytes.fill(0, buffer.start + shown, buffer.start + this.valueSize);
    return buffer.start;
  }

  protected findValue(keyAddr: number): number {
    return this.lookupAddress(keyAddr);
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number): number {
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const layout = this.source.layout;
    if (!layout.fields.some((f) => f.writable)) return -Errno.EACCES;
    const key = this.keyAt(keyAddr);
    const view = this.memory.view;
    if (!this.source.read(key, view, this.record.start)) return -Errno.ENOENT;
    if (flags === BPF_NOEXIST) return -Errno.EEXIST;
    // Bytes past the layout this runtime knows must be zero: a newer program's field we would drop.
    for (let i = layout.size; i < this.valueSize; i++) if (this.memory.bytes[valueAddr + i] !== 0) return -Errno.E2BIG;
    for (const field of layout.fields) {
      if (!field.writable || field.offset + field.size > this.valueSize) continue;
      const value = readField(view, valueAddr + field.offset, field.size);
      if (value === readField(view, this.record.start + field.offset, field.size)) continue;
      const err = this.source.write(key, field, value);
      if (err) return err;
    }
    return 0;
  }

  /** Subjects come and go with the runtime, not through the map. */
  deleteAt(): number {
    return -Errno.EOPNOTSUPP;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    const keys = this.source.keys();
    let next: bigint | undefined;
    if (keyAddr === 0) next = keys[0];
    else {
      const key = this.keyAt(keyAddr);
      const i = keys.indexOf(key);
      next = i < 0 ? keys[0] : keys[i + 1];
    }
    if (next === undefined) return -Errno.ENOENT;
    if (this.keySize === 8) this.memory.view.setBigUint64(outAddr, next, true);
    else this.memory.view.setUint32(outAddr, Number(next), true);
    return 0;
  }
}

/** The creation rules: a known subsystem in map_extra, its key size, a value size, no flags. */
function checkControlSpec(spec: MapSpec, options: MapOptions): MapCheckFailure | undefined {
  const source = options.control?.(Number(BigInt.asUintN(64, BigInt(spec.mapExtra ?? 0))));
  if (!source) return invalid(`map_extra ${spec.mapExtra ?? 0} names no control subsystem (1 XDP_ATTR, 2 PROG_STATS, 3 SOCK_ATTR)`);
  if (spec.keySize !== source.keySize) return invalid(`a ${source.layout.name} control map's key is ${source.keySize} bytes, not ${spec.keySize}`);
  if (spec.valueSize === 0 || spec.maxEntries === 0) return invalid('value_size and max_entries must be non-zero');
  if (spec.flags) return invalid(`map_flags 0x${spec.flags.toString(16)}: a control map takes none`);
  return undefined;
}

/** Registry entry for BPF_MAP_TYPE_CONTROL. */
export const controlKind: MapKind = {
  type: MapType.CONTROL,
  name: 'control',
  check: checkControlSpec,
  create: (memory, spec, options) => new ControlMap(memory, spec, options.control!(Number(BigInt.asUintN(64, BigInt(spec.mapExtra ?? 0))))!),
};
