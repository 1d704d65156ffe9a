// A map with its BTF key and value types: the JS API in JS values instead of bytes (through
// loader/btf-value.ts), and dump() in the shape of `bpftool map dump` for BTF-described maps.
// A side (key or value) without BTF is shown as bpftool shows it without BTF: an array of
// "0xNN" strings, one per byte; that side takes such an array, an array of byte numbers, or a Uint8Array.
import { btfTypeName, decodeBtfValue, encodeBtfValue, BtfValueError, type BtfJsValue, type BtfValueOptions } from '../loader/btf-value.js';
import type { Btf } from '../loader/btf.js';
import { BtfKind, type BtfDatasec, type BtfVar } from '../loader/btf-types.js';
import { MapType, roundUp8 } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import { socketStorageKey } from '../maps/sk-storage.js';

/** Options of a TypedMap: how values decode (see BtfValueOptions). */
export type TypedMapOptions = Pick<BtfValueOptions, 'bigint' | 'networkByteOrder'>;

/** A global-data map's section and where its symbols put its variables. */
export interface GlobalData {
  readonly section: string;
  readonly variables: readonly { readonly name: string; readonly offset: number }[];
}

/** One CPU's copy of a per-CPU value, as bpftool prints it. */
export interface PerCpuValue {
  readonly cpu: number;
  readonly value: BtfJsValue;
}

/** One dump() entry: `{ key, value }`, or `{ key, values: [{ cpu, value }] }` for per-CPU maps (bpftool's JSON). */
export type TypedMapEntry =
  | { readonly key: BtfJsValue; readonly value: BtfJsValue }
  | { readonly key: BtfJsValue; readonly values: readonly PerCpuValue[] };

/** Map types whose values are one per CPU (BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE is 21). */
const PER_CPU_TYPES = new Set<number>([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH, 21]);

/** How one side of a map turns into bytes and back. */
interface SideCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): BtfJsValue;
}

/** A BpfMap taking and returning JS values; keyType and valueType are BTF ids (undefined: that side is hex). */
export class TypedMap {
  /** Whether values are one per simulated CPU. */
  readonly perCpu: boolean;
  /** Whether this global-data map's section has a DATASEC in BTF, so its value decodes as `{ variable: value }` (merged string sections have none). */
  readonly typedData: boolean;
  private readonly key: SideCodec;
  private readonly value: SideCodec;

  constructor(
    readonly map: BpfMap,
    readonly btf: Btf | undefined,
    readonly keyType: number | undefined,
    readonly valueType: number | undefined,
    options: TypedMapOptions = {},
    /** For a global-data map: its section, whose DATASEC types the value as `{ variable: value }`, and where its symbols put each variable. */
    readonly data?: GlobalData,
  ) {
    this.perCpu = PER_CPU_TYPES.has(map.type);
    const key = sideCodec(map, btf, keyType, map.keySize, 'key', options);
    this.key = map.type === MapType.SK_STORAGE ? socketKeyCodec(key) : key;
    const datasec = valueType === undefined && data ? btf?.byName(data.section, BtfKind.DATASEC)[0] : undefined;
    this.typedData = datasec?.kind === BtfKind.DATASEC;
    this.value = datasec?.kind === BtfKind.DATASEC ? datasecCodec(map, btf!, datasec, data!, options) : sideCodec(map, btf, valueType, map.valueSize, 'value', options);
  }

  get name(): string {
    return this.map.name;
  }

  /** The key's bytes. */
  encodeKey(key: unknown): Uint8Array {
    return this.key.encode(key);
  }

  decodeKey(bytes: Uint8Array): BtfJsValue {
    return this.key.decode(bytes);
  }

  /** One value's bytes (one CPU's, for per-CPU maps). */
  encodeValue(value: unknown): Uint8Array {
    return this.value.encode(value);
  }

  decodeValue(bytes: Uint8Array): BtfJsValue {
    return this.value.decode(bytes);
  }

  /** The value for `key`, or undefined; for per-CPU maps an array with one value per CPU. */
  lookup(key: unknown): BtfJsValue | undefined {
    const bytes = this.map.lookup(this.key.encode(key));
    return bytes === undefined ? undefined : this.decodeStored(bytes);
  }

  /** BPF_MAP_UPDATE_ELEM (BPF_ANY, BPF_NOEXIST, BPF_EXIST); for per-CPU maps every CPU gets `value`, as bpftool does. */
  update(key: unknown, value: unknown, flags = 0): void {
    const one = this.value.encode(value);
    this.map.update(this.key.encode(key), this.perCpu ? this.perCpuBytes(this.allCpus(one)) : one, flags);
  }

  /** Per-CPU maps: one value per CPU (missing CPUs get zeros). */
  updatePerCpu(key: unknown, values: readonly unknown[], flags = 0): void {
    if (!this.perCpu) throw new TypeError(`map ${this.name} is not a per-CPU map; use update()`);
    if (values.length > this.map.cpus) throw new RangeError(`map ${this.name}: ${values.length} values for ${this.map.cpus} CPUs`);
    this.map.update(this.key.encode(key), this.perCpuBytes(values.map((v) => this.value.encode(v))), flags);
  }

  /** BPF_MAP_DELETE_ELEM: true if an entry went. */
  delete(key: unknown): boolean {
    return this.map.delete(this.key.encode(key));
  }

  *keys(): IterableIterator<BtfJsValue> {
    for (const key of this.map.keys()) yield this.key.decode(key);
  }

  /** [key, value] pairs; per-CPU values are arrays with one value per CPU. */
  *entries(): IterableIterator<[BtfJsValue, BtfJsValue]> {
    for (const [key, value] of this.map.entries()) yield [this.key.decode(key), this.decodeStored(value)];
  }

  [Symbol.iterator](): IterableIterator<[BtfJsValue, BtfJsValue]> {
    return this.entries();
  }

  /** Every entry, as `bpftool map dump` prints a BTF-described map in JSON (its "formatted" part). */
  dump(): TypedMapEntry[] {
    const out: TypedMapEntry[] = [];
    for (const [key, value] of this.map.entries()) {
      const k = this.key.decode(key);
      out.push(this.perCpu
        ? { key: k, values: this.cpuSlices(value).map((bytes, cpu) => ({ cpu, value: this.value.decode(bytes) })) }
        : { key: k, value: this.value.decode(value) });
    }
    return out;
  }

  private decodeStored(bytes: Uint8Array): BtfJsValue {
    return this.perCpu ? this.cpuSlices(bytes).map((b) => this.value.decode(b)) : this.value.decode(bytes);
  }

  /** A per-CPU buffer split into each CPU's value (each CPU's copy is padded to 8 bytes, as in Linux). */
  private cpuSlices(bytes: Uint8Array): Uint8Array[] {
    const stride = roundUp8(this.map.valueSize);
    return Array.from({ length: this.map.cpus }, (_, cpu) => bytes.subarray(cpu * stride, cpu * stride + this.map.valueSize));
  }

  private allCpus(one: Uint8Array): Uint8Array[] {
    return new Array<Uint8Array>(this.map.cpus).fill(one);
  }

  private perCpuBytes(values: readonly Uint8Array[]): Uint8Array {
    const stride = roundUp8(this.map.valueSize);
    const out = new Uint8Array(this.map.jsValueSize);
    values.forEach((v, cpu) => out.set(v, cpu * stride));
    return out;
  }
}

/**
 * Socket storage keys: a socket (anything with a bigint `cookie`, such as `runtime.sockets.open`'s)
 * or a bigint cookie becomes the u64 key the map takes; a number goes through the key's BTF type.
 */
function socketKeyCodec(base: SideCodec): SideCodec {
  return {
    encode: (value) => {
      const cookie = typeof value === 'bigint' ? value : typeof value === 'object' && value !== null && typeof (value as { cookie?: unknown }).cookie === 'bigint' ? (value as { cookie: bigint }).cookie : undefined;
      return cookie === undefined ? base.encode(value) : socketStorageKey(cookie);
    },
    decode: (bytes) => base.decode(bytes),
  };
}

function sideCodec(map: BpfMap, btf: Btf | undefined, type: number | undefined, size: number, side: 'key' | 'value', options: TypedMapOptions): SideCodec {
  if (btf === undefined || type === undefined) return hexCodec(size, side);
  const codecOptions: BtfValueOptions = { ...options, path: side };
  const typeSize = btf.sizeOf(type);
  if (typeSize !== size) {
    const name = btfTypeName(btf, type);
    throw new BtfValueError('bad-size', side, name, `map ${map.name}: the ${side} type ${name} is ${typeSize} bytes, but the map's ${side}s are ${size}`);
  }
  return {
    encode: (value) => encodeBtfValue(btf, type, value, codecOptions),
    decode: (bytes) => decodeBtfValue(btf, type, bytes, codecOptions),
  };
}

/**
 * A global-data map's value through its section's DATASEC: an object with one member per variable.
 * Encoding starts from the map's current value, so a value naming some variables leaves the others
 * as they are (a topology sets one global without restating the rest).
 */
function datasecCodec(map: BpfMap, btf: Btf, datasec: BtfDatasec, data: GlobalData, options: TypedMapOptions): SideCodec {
  const vars = datasec.vars.map((v) => {
    const name = btf.type(v.type).name;
    const type = (btf.type(v.type) as BtfVar).type;
    // Offsets from the symbols, as libbpf's btf_fixup_datasec takes them (clang writes 0 in objects).
    const symbol = data.variables.find((s) => s.name === name);
    return { name, type, offset: symbol?.offset ?? v.offset, size: btf.sizeOf(type) };
  });
  const codecOptions = (name: string): BtfValueOptions => ({ ...options, path: `value.${name}` });
  return {
    decode: (bytes) => Object.fromEntries(vars.map((v) => [v.name, decodeBtfValue(btf, v.type, bytes.subarray(v.offset, v.offset + v.size), codecOptions(v.name))])),
    encode: (value) => {
      if (value instanceof Uint8Array) return value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new BtfValueError('wrong-type', 'value', datasec.name, `the value of ${datasec.name} is an object of its variables (${vars.map((v) => v.name).join(', ')})`);
      }
      const bytes = map.lookup(new Uint8Array(map.keySize)) ?? new Uint8Array(map.valueSize);
      for (const [name, v] of Object.entries(value)) {
        const found = vars.find((x) => x.name === name);
        if (!found) throw new BtfValueError('unknown-member', `value.${name}`, datasec.name, `${datasec.name} has no variable '${name}' (it has ${vars.map((x) => x.name).join(', ')})`);
        bytes.set(encodeBtfValue(btf, found.type, v, codecOptions(name)), found.offset);
      }
      return bytes;
    },
  };
}

/** A side without BTF: bytes as bpftool's JSON shows them, ["0x0a", "0x00", ...]. */
function hexCodec(size: number, side: 'key' | 'value'): SideCodec {
  const typeName = `${size} bytes without BTF`;
  return {
    decode: (bytes) => Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, '0')}`),
    encode: (value) => {
      if (value instanceof Uint8Array) {
        if (value.length !== size) throw new BtfValueError('bad-size', side, typeName, `the ${side} is ${size} bytes, got ${value.length}`);
        return value;
      }
      if (!Array.isArray(value)) {
        throw new BtfValueError('wrong-type', side, typeName, `the map's ${side} has no BTF type, so it takes a Uint8Array or an array of bytes, not ${typeof value}`);
      }
      if (value.length !== size) throw new BtfValueError('bad-size', side, typeName, `the ${side} is ${size} bytes, got an array of ${value.length}`);
      return Uint8Array.from(value, (b: unknown, i) => {
        const n = typeof b === 'string' && /^0x[0-9a-f]{1,2}$/i.test(b) ? parseInt(b, 16) : b;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) {
          throw new BtfValueError('wrong-type', `${side}[${i}]`, typeName, `a byte is a number 0..255 or a string "0xNN", not ${JSON.stringify(b)}`);
        }
        return n;
      });
    },
  };
}
