// Helpers that call back into the program, with Linux's ids and prototypes (linux/bpf.h):
// bpf_loop (181, kernel/bpf/bpf_iter.c) and bpf_for_each_map_elem (164, the map kinds'
// map_for_each_callback in kernel/bpf/hashtab.c and arraymap.c). The callback is a function pointer
// the program passes (`lddw rX, func`); HelperCall.callFunction runs it on whichever engine runs the
// program, in a new frame below the caller's.
import { Errno, MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import type { HelperSpec } from './table.js';

/** Iterations one bpf_loop call may ask for (Linux BPF_MAX_LOOPS). */
export const BPF_MAX_LOOPS = 1 << 23;

/** Linux helper ids of the callback helpers. */
export const CallbackHelperId = { forEachMapElem: 164, loop: 181 } as const;

/** What bpf_for_each_map_elem needs from the runtime (the map helpers' environment has both). */
export interface CallbackHelperEnvironment {
  /** The map whose handle is at a guest address, or undefined. */
  mapAt(address: number): BpfMap | undefined;
  /** The simulated CPU the current run is on: per-CPU maps give its values. */
  cpu(): number;
  /**
   * Whether every map handle is the map's descriptor (maps/descriptor.ts), as a Runtime's are: then
   * the JIT may walk arrays and hash maps itself (jit/table-calls.ts).
   */
  readonly handlesAreDescriptors?: boolean;
}

/**
 * bpf_loop(nr_loops, callback_fn, callback_ctx, flags): calls callback_fn(index, callback_ctx) for
 * index 0, 1, ... until nr_loops calls are made or a callback returns non-zero (the verifier allows
 * only 0 or 1); returns the number of calls made. -EINVAL for non-zero flags, -E2BIG past BPF_MAX_LOOPS.
 */
export const loopHelper: HelperSpec = {
  id: CallbackHelperId.loop,
  name: 'bpf_loop',
  proto: { ret: 'integer', args: ['anything', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], callback: 'loop' },
  impl: (call) => {
    const loops = call.argU32(1);
    const callback = call.arg(2);
    // A stack pointer or NULL: a plain number unless its high half is set (no BigInt per callback).
    const ctx = call.argHighU32(3) === 0 ? call.argU32(3) : call.arg(3);
    if (call.arg(4) !== 0n) return call.returnNumber(-Errno.EINVAL);
    if (loops > BPF_MAX_LOOPS) return call.returnNumber(-Errno.E2BIG);
    let i = 0;
    while (i < loops) {
      const stop = call.callFunction(callback, [i, ctx]) !== 0n;
      i++;
      if (stop) break;
    }
    call.returnNumber(i);
  },
};

/**
 * bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): calls callback_fn(map, key, value,
 * callback_ctx) for each element until one returns non-zero; returns the number of elements
 * visited. -EINVAL for non-zero flags.
 */
export function forEachMapElemHelper(env: CallbackHelperEnvironment): HelperSpec {
  return {
    id: CallbackHelperId.forEachMapElem,
    name: 'bpf_for_each_map_elem',
    compiledInWasm: env.handlesAreDescriptors === true,
    proto: {
      ret: 'integer', args: ['const_map_ptr', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], callback: 'for_each_map_elem',
      mapTypes: [MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH],
    },
    impl: (call) => {
      const map = env.mapAt(call.argU32(1));
      // Deviation: Linux's verifier refuses a map argument that is no map, or a kind without a walk
      // (anything but hash, array and their per-CPU and LRU variants), with -EINVAL; here the call returns it.
      if (!map?.forEachAt || call.arg(4) !== 0n) return call.returnNumber(-Errno.EINVAL);
      const handle = call.arg(1);
      const callback = call.arg(2);
      const ctx = call.arg(3);
      call.returnNumber(map.forEachAt(env.cpu(), (key, value) => call.callFunction(callback, [handle, key, value, ctx]) !== 0n));
    },
  };
}

/** The callback helpers, bpf_for_each_map_elem bound to a runtime's maps. */
export function callbackHelpers(env: CallbackHelperEnvironment): HelperSpec[] {
  return [loopHelper, forEachMapElemHelper(env)];
}
