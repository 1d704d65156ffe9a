// What DEVMAP and CPUMAP share (kernel/bpf/devmap.c, cpumap.c): an array of redirect targets whose
// values (struct bpf_devmap_val / bpf_cpumap_val: a u32, then optionally a program fd/id) live in
// guest memory, where a program's lookup can read them; an entry may carry a program object for
// the runtime to run on redirected frames. Kind-specific rules come in through `accept`.
import type { GuestMemory, Region } from '../runtime/memory.js';
import { BPF_EXIST, BPF_NOEXIST, Errno, roundUp8 } from './constants.js';
import { BaseMap, type MapOptions, type MapSpec } from './map.js';

/** A redirect target as the runtime uses it. */
export interface RedirectTarget {
  /** The value's first u32: ifindex (devmap) or qsize (cpumap). */
  readonly first: number;
  /** The entry's program, when its value named one. */
  readonly program: unknown;
}

/** A verdict on a value being stored: an errno, "clear the slot", or the program to keep with it. */
export type TargetVerdict = { readonly errno: number } | { readonly clear: true } | { readonly program: unknown };

/** An array of redirect targets. */
export abstract class RedirectTargetArray extends BaseMap {
  private readonly values: Region;
  private readonly elementSize: number;
  private readonly present: Uint8Array;
  private readonly programs: unknown[];
  private count = 0;

  constructor(memory: GuestMemory, spec: MapSpec, protected readonly options: MapOptions) {
    super(memory, spec, options, false);
    this.elementSize = roundUp8(this.valueSize);
    this.values = memory.allocate(this.maxEntries * this.elementSize, `map ${this.name} values`);
    this.regions.push(this.values);
    this.present = new Uint8Array(this.maxEntries);
    this.programs = new Array<unknown>(this.maxEntries).fill(undefined);
  }

  /** Checks a value (first u32, program id or undefined without one) for slot `index`. */
  protected abstract accept(index: number, first: number, programId: number | undefined): TargetVerdict;

  get size(): number {
    return this.count;
  }

  /** The target at an index, for bpf_redirect_map; undefined when empty or past the end. */
  targetAt(index: number): RedirectTarget | undefined {
    const i = index >>> 0;
    if (i >= this.maxEntries || !this.present[i]) return undefined;
    return { first: this.memory.view.getUint32(this.values.start + i * this.elementSize, true), program: this.programs[i] };
  }

  lookupAddress(keyAddr: number): number {
    return this.findValue(keyAddr);
  }

  protected findValue(keyAddr: number): number {
    const i = this.indexAt(keyAddr);
    return i < this.maxEntries && this.present[i] ? this.values.start + i * this.elementSize : 0;
  }

  protected updateValue(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (cpu >= 0) return -Errno.EINVAL; // programs only redirect through these maps
    if (flags > BPF_EXIST) return -Errno.EINVAL;
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (flags === BPF_NOEXIST) return -Errno.EEXIST;
    const view = this.memory.view;
    const first = view.getUint32(valueAddr, true);
    const programId = this.valueSize >= 8 ? view.getInt32(valueAddr + 4, true) : 0;
    const verdict = this.accept(i, first, programId > 0 ? programId : undefined);
    if ('errno' in verdict) return -verdict.errno;
    if ('clear' in verdict) {
      this.clear(i);
      return 0;
    }
    const at = this.values.start + i * this.elementSize;
    view.setUint32(at, first, true);
    // Lookups read the program's id back where the update gave its fd (here: its id).
    if (this.valueSize >= 8) view.setUint32(at + 4, programId > 0 ? programId : 0, true);
    if (!this.present[i]) this.count++;
    this.present[i] = 1;
    this.programs[i] = verdict.program;
    return 0;
  }

  private clear(i: number): void {
    if (this.present[i]) this.count--;
    this.present[i] = 0;
    this.programs[i] = undefined;
    this.memory.bytes.fill(0, this.values.start + i * this.elementSize, this.values.start + (i + 1) * this.elementSize);
  }

  /** Deleting an empty slot succeeds; an index past the end is -EINVAL (dev_map_delete_elem, cpu_map_delete_elem). */
  deleteAt(keyAddr: number): number {
    const i = this.indexAt(keyAddr);
    if (i >= this.maxEntries) return -Errno.EINVAL;
    this.clear(i);
    return 0;
  }

  nextKeyAt(keyAddr: number, outAddr: number): number {
    return this.nextIndexAt(keyAddr, outAddr);
  }
}
