// Reading perf counters (linux/bpf.h; kernel/trace/bpf_trace.c): perf_event_read (22) and
// perf_event_read_value (55) on a BPF_MAP_TYPE_PERF_EVENT_ARRAY. The runtime has no hardware or
// software counters, so a slot holds at most one of the output buffers JS opens: an empty slot is
// Linux's -ENOENT, an index past the end -E2BIG.
import { Errno, MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import { PerfEventArrayMap } from '../maps/perf-event-array.js';
import type { HelperSpec } from './table.js';

/** BPF_F_INDEX_MASK: the slot in the flags' low 32 bits (all ones: the current CPU's). */
const INDEX_MASK = 0xffffffffn;
/** sizeof(struct bpf_perf_event_value): counter, enabled and running, u64 each. */
export const PERF_EVENT_VALUE_SIZE = 24;

/** What these helpers need: the map behind a map pointer, and the CPU the run is on. */
export interface PerfEventEnvironment {
  mapAt(address: number): BpfMap | undefined;
  cpu(): number;
}

/** bpf_perf_event_read and bpf_perf_event_read_value. */
export function perfEventHelpers(env: PerfEventEnvironment): HelperSpec[] {
  /** get_map_perf_counter: the counter, or a negative errno. */
  const counter = (mapAddress: number, flags: bigint): number => {
    const map = env.mapAt(mapAddress);
    if (flags & ~INDEX_MASK) return -Errno.EINVAL;
    // Deviation: Linux's verifier allows only perf event arrays here; another map gives -EINVAL.
    if (!(map instanceof PerfEventArrayMap)) return -Errno.EINVAL;
    return map.readCounter(Number(flags & INDEX_MASK), env.cpu());
  };
  const mapTypes = [MapType.PERF_EVENT_ARRAY];
  return [
    {
      id: 22, name: 'bpf_perf_event_read', proto: { ret: 'integer', args: ['const_map_ptr', 'anything'], mapTypes },
      impl: (call) => call.returnNumber(counter(call.argU32(1), BigInt.asUintN(64, call.arg(2)))),
    },
    {
      id: 55, name: 'bpf_perf_event_read_value',
      proto: { ret: 'integer', args: ['const_map_ptr', 'anything', 'ptr_to_uninit_mem', 'const_size'], mapTypes },
      impl: (call) => {
        const buf = call.argU32(3);
        const size = call.argU32(4);
        const value = size === PERF_EVENT_VALUE_SIZE ? counter(call.argU32(1), BigInt.asUintN(64, call.arg(2))) : -Errno.EINVAL;
        const bytes = call.memory.bytes;
        // Every failure zeroes the buffer; a counter that exists was never enabled or running here.
        bytes.fill(0, buf, buf + size);
        if (value >= 0) call.memory.view.setBigUint64(buf, BigInt(value), true);
        call.returnNumber(value < 0 ? value : 0);
      },
    },
  ];
}
