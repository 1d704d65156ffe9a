// Helpers that read the runtime's simulated machine (linux/bpf.h ids): clocks (5, 125, 160, 208),
// jiffies (118), random numbers (7), the CPU id (8), the NUMA node (42), bpf_trace_printk (6),
// bpf_strncmp (182), and bpf_strtol/bpf_strtoul (105, 106, in strtox.ts).
// Clock, random source and CPU come from the runtime, so replays are deterministic.
import { Errno } from '../maps/constants.js';
import { formatPrintk, PrintkFormatError } from './printk.js';
import type { HelperCall, HelperSpec } from './table.js';
import { strtoxHelpers } from './strtox.js';

/** CONFIG_HZ of the kernel this runtime follows (Debian's). */
const HZ = 250n;
/** INITIAL_JIFFIES: jiffies start 300 s short of wrapping a u32, so wrap bugs show early. */
const INITIAL_JIFFIES = (1n << 32n) - 300n * HZ;

/** What these helpers read from the runtime. */
export interface SystemHelperEnvironment {
  /** Monotonic nanoseconds (every ktime flavour reads this one clock). */
  now(): bigint;
  /** now() as a number when the clock can give it as a safe integer without a BigInt (cheaper per packet); else undefined. */
  nowSafe?(): number | undefined;
  /** A uniformly distributed u32. */
  random(): number;
  /** The simulated CPU the current run is on. */
  cpu(): number;
  /** Receives each bpf_trace_printk line (what Linux writes to the trace pipe). */
  print(line: string): void;
}

const latin1 = new TextDecoder('latin1');

/** Reads a NUL-terminated string from guest memory, or undefined when its first byte is unmapped. */
export function readGuestString(call: HelperCall, address: number, max: number): string | undefined {
  const region = call.memory.find(address, 1);
  if (!region) return undefined;
  const bytes = call.memory.bytes.subarray(address, Math.min(region.end, address + max));
  const nul = bytes.indexOf(0);
  return latin1.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** Reads `length` bytes of guest memory inside one region, or undefined. */
export function readGuestBytes(call: HelperCall, address: number, length: number): Uint8Array | undefined {
  return call.memory.find(address, length) ? call.memory.bytes.slice(address, address + length) : undefined;
}

/** The helpers, bound to a runtime's machine. */
export function systemHelpers(env: SystemHelperEnvironment): HelperSpec[] {
  const clock = (id: number, name: string): HelperSpec => ({
    id, name, proto: { ret: 'integer', args: [] },
    impl: (call) => {
      const ns = env.nowSafe?.();
      if (ns !== undefined) call.returnNumber(ns);
      else call.returnBigInt(env.now());
    },
  });
  return [
    clock(5, 'bpf_ktime_get_ns'),
    clock(125, 'bpf_ktime_get_boot_ns'),
    clock(160, 'bpf_ktime_get_coarse_ns'),
    clock(208, 'bpf_ktime_get_tai_ns'),
    {
      // get_jiffies_64(): ticks of HZ since boot, from INITIAL_JIFFIES, on the runtime's clock.
      id: 118, name: 'bpf_jiffies64', proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnBigInt(INITIAL_JIFFIES + (env.now() * HZ) / 1_000_000_000n),
    },
    ...strtoxHelpers,
    {
      id: 7, name: 'bpf_get_prandom_u32', proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(env.random() >>> 0),
    },
    {
      id: 8, name: 'bpf_get_smp_processor_id', proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(env.cpu()),
    },
    {
      id: 42, name: 'bpf_get_numa_node_id', proto: { ret: 'integer', args: [] },
      impl: (call) => call.returnNumber(0),
    },
    {
      id: 6, name: 'bpf_trace_printk',
      // Linux declares only the format: r3..r5 are read as the format needs them, initialised or not.
      proto: { ret: 'integer', args: ['ptr_to_mem', 'const_size'] },
      impl: (call) => {
        // The format must be NUL-terminated within fmt_size, as bpf_bprintf_prepare demands.
        const at = call.argU32(1);
        const size = call.argU32(2);
        const region = call.memory.find(at, Math.max(size, 1));
        const bytes = region && size > 0 ? call.memory.bytes.subarray(at, at + size) : undefined;
        if (!bytes || bytes[size - 1] !== 0) return call.returnNumber(-Errno.EINVAL);
        const format = latin1.decode(bytes.subarray(0, bytes.indexOf(0)));
        try {
          const line = formatPrintk(format, [call.arg(3), call.arg(4), call.arg(5)], (a, max) => readGuestString(call, a, max), 3, (a, n) => readGuestBytes(call, a, n));
          env.print(line);
          call.returnNumber(line.length);
        } catch (err) {
          if (!(err instanceof PrintkFormatError)) throw err;
          call.returnNumber(-Errno.EINVAL);
        }
      },
    },
    {
      id: 182, name: 'bpf_strncmp',
      proto: { ret: 'integer', args: ['ptr_to_mem', 'const_size', 'ptr_to_const_str'] },
      impl: (call) => {
        // strncmp(s1, s2, s1_sz) with the kernel's -1/0/1 result; s2 is a read-only, NUL-terminated string.
        const bytes = call.memory.bytes;
        const s1 = call.argU32(1);
        const s2 = call.argU32(3);
        const n = call.argU32(2);
        let result = 0;
        for (let i = 0; i < n; i++) {
          const a = bytes[s1 + i]!;
          const b = bytes[s2 + i]!;
          if (a !== b) {
            result = a < b ? -1 : 1;
            break;
          }
          if (a === 0) break;
        }
        call.returnNumber(result);
      },
    },
  ];
}
