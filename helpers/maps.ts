// Map helpers with Linux's ids and prototypes (linux/bpf.h): element ops (1-3), queue/stack ops
// (87-89), tail calls through a PROG_ARRAY (12), perf events (25), spin locks (93, 94), ring
// buffers (130-134) and the flow map's extension helpers (DESIGN.md). A map argument is the guest
// address the runtime bound the program's map reference to; `mapAt` turns it back into the map.
import { BpfError } from '../isa/errors.js';
import { Errno, MapType } from '../maps/constants.js';
import type { BpfMap } from '../maps/map.js';
import { FlowMap } from '../maps/flow-map.js';
import { PerfEventArrayMap } from '../maps/perf-event-array.js';
import { ProgArrayMap } from '../maps/prog-array.js';
import { RingbufMap } from '../maps/ringbuf.js';
import type { HelperCall, HelperSpec } from './table.js';

/** What the map helpers need from the runtime. */
export interface MapHelperEnvironment {
  /** The map whose handle is at a guest address, or undefined. */
  mapAt(address: number): BpfMap | undefined;
  /** The simulated CPU the current run is on. */
  cpu(): number;
  /**
   * Whether every map handle is the map's descriptor (maps/descriptor.ts), as a Runtime's are: then
   * the JIT may run lookups and updates itself (jit/map-ops.ts).
   */
  readonly handlesAreDescriptors?: boolean;
  /** Every ring buffer, to find the one a sample belongs to (bpf_ringbuf_submit has no map argument). */
  ringbufs(): Iterable<RingbufMap>;
  /**
   * The packet behind a context (from data, as bpf_xdp_copy and bpf_skb_copy read it), for program
   * types whose bpf_perf_event_output may append packet bytes (BPF_F_CTXLEN_MASK); absent for others.
   */
  packetOf?(ctx: number): Uint8Array | undefined;
}

/** BPF_F_INDEX_MASK: the perf event index in bpf_perf_event_output's flags. */
const BPF_F_INDEX_MASK = 0xffffffffn;
/** BPF_F_CTXLEN_MASK: how many packet bytes XDP and skb programs append to a perf event. */
const BPF_F_CTXLEN_MASK = 0xfffff00000000n;

/** A program took a spin lock it already holds, or released one it does not: Linux's verifier refuses both. */
export class SpinLockError extends BpfError {
  constructor(address: number, detail: string) {
    super('spin-lock', `bpf_spin_lock at 0x${address.toString(16)}: ${detail}`);
  }
}

/** The map helpers, bound to a runtime's maps. */
export function mapHelpers(env: MapHelperEnvironment): HelperSpec[] {
  // Deviation from Linux: a map argument that is no map cannot pass the verifier; here it is -EINVAL (NULL for lookups).
  const withMap = <M extends BpfMap>(call: HelperCall, kind: abstract new (...args: never[]) => M, act: (map: M) => number) => {
    const map = env.mapAt(call.argU32(1));
    call.returnNumber(map instanceof kind ? act(map) : -Errno.EINVAL);
  };
  const anyMap = (call: HelperCall, act: (map: BpfMap) => number) => {
    const map = env.mapAt(call.argU32(1));
    call.returnNumber(map ? act(map) : -Errno.EINVAL);
  };
  // A u64 flags argument; bits above 32 are never valid, so they become an all-ones value every op refuses.
  const flags = (call: HelperCall, i: number) => (call.argHighU32(i) !== 0 ? 0xffffffff : call.argU32(i));
  return [
    {
      id: 1, name: 'bpf_map_lookup_elem', compiledInWasm: env.handlesAreDescriptors === true,
      proto: { ret: 'ptr_to_map_value_or_null', args: ['const_map_ptr', 'ptr_to_map_key'], packetAccess: true },
      impl: (call) => {
        const map = env.mapAt(call.argU32(1));
        call.returnNumber(map ? map.lookupAddress(call.argU32(2), env.cpu()) : 0);
      },
    },
    {
      id: 2, name: 'bpf_map_update_elem', compiledInWasm: env.handlesAreDescriptors === true,
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_map_value', 'anything'], packetAccess: true },
      impl: (call) => anyMap(call, (m) => m.updateAt(call.argU32(2), call.argU32(3), flags(call, 4), env.cpu())),
    },
    {
      id: 3, name: 'bpf_map_delete_elem',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_map_key'], packetAccess: true },
      impl: (call) => anyMap(call, (m) => m.deleteAt(call.argU32(2))),
    },
    {
      id: 87, name: 'bpf_map_push_elem',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_map_value', 'anything'], packetAccess: true, mapTypes: [MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER] },
      impl: (call) => anyMap(call, (m) => m.pushAt(call.argU32(2), flags(call, 3))),
    },
    {
      id: 88, name: 'bpf_map_pop_elem',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_uninit_map_value'], mapTypes: [MapType.QUEUE, MapType.STACK] },
      impl: (call) => anyMap(call, (m) => m.popAt(call.argU32(2))),
    },
    {
      id: 89, name: 'bpf_map_peek_elem',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_uninit_map_value'], mapTypes: [MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER] },
      impl: (call) => anyMap(call, (m) => m.peekAt(call.argU32(2))),
    },
    {
      id: 12, name: 'bpf_tail_call',
      // A failed tail call goes on after the call; what the target did to the packet is unknown then.
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'const_map_ptr', 'anything'], mapTypes: [MapType.PROG_ARRAY], changesPacket: true },
      impl: (call) => {
        // On success the program ends and the target runs with the same context. On failure the
        // program goes on after the call; Linux leaves r0 unspecified there, we return -ENOENT.
        const map = env.mapAt(call.argU32(2));
        const target = map instanceof ProgArrayMap ? map.programAt(call.argU32(3)) : undefined;
        if (target === undefined || !call.canTailCall()) return call.returnNumber(-Errno.ENOENT);
        call.returnNumber(0);
        call.requestTailCall(target, call.arg(1));
      },
    },
    {
      id: 25, name: 'bpf_perf_event_output',
      proto: { ret: 'integer', args: ['ptr_to_ctx', 'const_map_ptr', 'anything', 'ptr_to_mem', 'const_size_or_zero'], mapTypes: [MapType.PERF_EVENT_ARRAY] },
      impl: (call) => {
        // XDP and skb programs may ask for the first (flags >> 32) packet bytes after the sample
        // (bpf_xdp_event_output, bpf_skb_event_output); other types take index bits only.
        const map = env.mapAt(call.argU32(2));
        const f = BigInt.asUintN(64, call.arg(3));
        const allowed = env.packetOf ? BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK : BPF_F_INDEX_MASK;
        if (!(map instanceof PerfEventArrayMap) || (f & ~allowed) !== 0n) return call.returnNumber(-Errno.EINVAL);
        const ctxLength = Number(f >> 32n);
        let extra: Uint8Array | undefined;
        if (env.packetOf) {
          const packet = env.packetOf(call.argU32(1));
          if (!packet || ctxLength > packet.length) return call.returnNumber(-Errno.EFAULT);
          if (ctxLength > 0) extra = packet.subarray(0, ctxLength);
        }
        call.returnNumber(map.outputAt(Number(f & BPF_F_INDEX_MASK), env.cpu(), call.argU32(4), call.argU32(5), extra));
      },
    },
    {
      id: 93, name: 'bpf_spin_lock',
      proto: { ret: 'void', args: ['ptr_to_spin_lock'] },
      impl: (call) => {
        // One program runs at a time, so the lock is never contended; holding it twice is a deadlock.
        const at = call.argU32(1);
        if (call.memory.view.getUint32(at, true) !== 0) throw new SpinLockError(at, 'already held (deadlock)');
        call.memory.view.setUint32(at, 1, true);
        call.returnNumber(0);
      },
    },
    {
      id: 94, name: 'bpf_spin_unlock',
      proto: { ret: 'void', args: ['ptr_to_spin_lock'] },
      impl: (call) => {
        const at = call.argU32(1);
        if (call.memory.view.getUint32(at, true) === 0) throw new SpinLockError(at, 'released while not held');
        call.memory.view.setUint32(at, 0, true);
        call.returnNumber(0);
      },
    },
    {
      id: 130, name: 'bpf_ringbuf_output',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_mem', 'const_size_or_zero', 'anything'], mapTypes: [MapType.RINGBUF] },
      impl: (call) => withMap(call, RingbufMap, (m) => m.output(call.argU32(2), call.argU32(3), flags(call, 4))),
    },
    {
      id: 131, name: 'bpf_ringbuf_reserve',
      proto: { ret: 'ptr_to_ringbuf_mem_or_null', args: ['const_map_ptr', 'const_alloc_size_or_zero', 'anything'], mapTypes: [MapType.RINGBUF], acquires: true },
      impl: (call) => {
        const map = env.mapAt(call.argU32(1));
        call.returnNumber(map instanceof RingbufMap && call.argHighU32(2) === 0 ? map.reserve(call.argU32(2), flags(call, 3)) : 0);
      },
    },
    ...(['submit', 'discard'] as const).map((what, i): HelperSpec => ({
      id: 132 + i, name: `bpf_ringbuf_${what}`,
      proto: { ret: 'void', args: ['ptr_to_ringbuf_mem', 'anything'], releases: 1 },
      impl: (call) => {
        const sample = call.argU32(1);
        for (const ring of env.ringbufs()) {
          if (ring.holdsSample(sample)) {
            ring.commit(sample, flags(call, 2), what === 'discard');
            break;
          }
        }
        call.returnNumber(0);
      },
    })),
    {
      id: 134, name: 'bpf_ringbuf_query',
      proto: { ret: 'integer', args: ['const_map_ptr', 'anything'], mapTypes: [MapType.RINGBUF] },
      impl: (call) => {
        const map = env.mapAt(call.argU32(1));
        call.returnNumber(map instanceof RingbufMap ? map.query(flags(call, 2)) : 0);
      },
    },
    {
      id: 0x10010, name: 'bpf_flow_map_insert',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_map_key', 'ptr_to_map_value', 'anything'], mapTypes: [MapType.FLOW] },
      impl: (call) => withMap(call, FlowMap, (m) => m.insertAt(call.argU32(2), call.argU32(3), call.argU32(4), flags(call, 5))),
    },
    {
      id: 0x10011, name: 'bpf_flow_map_lookup',
      proto: { ret: 'ptr_to_map_value_or_null', args: ['const_map_ptr', 'ptr_to_map_key', { kind: 'ptr_to_uninit_mem', size: 4 }], mapTypes: [MapType.FLOW] },
      impl: (call) => {
        const map = env.mapAt(call.argU32(1));
        call.returnNumber(map instanceof FlowMap ? map.lookupFlowAt(call.argU32(2), call.argU32(3)) : 0);
      },
    },
    {
      id: 0x10012, name: 'bpf_flow_map_peer',
      proto: { ret: 'integer', args: ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_uninit_map_key'], mapTypes: [MapType.FLOW] },
      impl: (call) => withMap(call, FlowMap, (m) => m.peerAt(call.argU32(2), call.argU32(3))),
    },
  ];
}
