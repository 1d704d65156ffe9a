// The contract between a JIT-compiled module and its host, also what an ahead-of-time `.wasm`
// file imports and exports (documented in the README).
//
// Imports (all from module "env"):
//   memory                      the guest memory (WebAssembly.Memory)
//   trap(code, pc, value)       i32 i32 i32 -> (): the host throws; `code` is a TrapCode
//   helper_<id>()               () -> (): runs helper <id> with r1..r5 in the register file; r0 back there
//   callx_helper(id, pc)        i32 i32 -> (): callx to a helper id; the host looks it up
// Exports:
//   run(regs, r1Lo, r1Hi, argsInFile, fp, packet, packetLength, budget)   i32 x8 -> i32
//     r1 is given as its two 32-bit halves; r2..r5 are read from the register file at `regs`
//     (r0..r10 as 64-bit little-endian slots) when `argsInFile` is non-zero, else they are 0. r0 is
//     written back to the register file and its low half returned. `fp` is the main frame's r10;
//     `packet`/`packetLength` bound the legacy ABS/IND loads; `budget` bounds the loop back-edges
//     taken in the run. (Everything crosses as i32: a JS-to-wasm i64 is a BigInt each way.)
//   repeat(regs, r1Lo, r1Hi, argsInFile, fp, packet, packetLength, budget, count)   i32 x9 -> i32
//     `run` with these arguments `count` times (at least once), each run with the full budget;
//     returns the last run's r0 low half (the register file holds its r0). BPF_PROG_TEST_RUN's
//     repeat loop, for programs whose helpers keep no state of a run's own on the host.
//   packet, packet_length, mac_header, network_header   mutable i32 globals, only in programs with
//     legacy loads: the bounds `run` set, and the MAC and network headers SKF_LL_OFF and SKF_NET_OFF
//     offsets count from (0: absent, those loads fail). The host sets them before `run` (the headers)
//     and while a helper runs, when the helper moves the packet.
//   callback(slot, pc)          i32 i32 -> (); only in programs that take a function's address
//     (lddw src 4), and only while a helper runs: calls the address-taken function whose first
//     slot is `slot` (the low half of its function pointer) in the frame below the helper's
//     caller, r1..r5 from the register file, r0 back there; `pc` is the helper call's, for
//     traps. Each call spends one unit of the budget.

/** Why compiled code called the host's trap import. */
export const enum TrapCode {
  /** A bpf-to-bpf call would nest deeper than 8 frames. */
  CallDepth = 1,
  /** Control ran past the last instruction. */
  FellOffEnd = 2,
  /** callx to something that is neither an address-taken function nor a helper id. */
  CallxTarget = 3,
  /** lddw with a map or BTF pseudo source the loader did not resolve; value = src. */
  UnresolvedLddw = 4,
  /** call by BTF id (kfunc); value = the id. */
  CallBtf = 5,
  /** Misaligned atomic; value = the address. */
  MisalignedAtomic = 6,
  /** The loop budget ran out. */
  Budget = 7,
  /** A legacy packet load was out of bounds: the program ends with r0 = 0 (already stored). */
  ProgramExit = 8,
  /** An access through r10 outside the current frame; value = the address. */
  OutsideFrame = 9,
  /** A helper called back a slot that is no address-taken function; value = the slot. */
  CallbackTarget = 10,
}

export const IMPORT_MODULE = 'env';
export const TRAP_IMPORT = 'trap';
export const CALLX_HELPER_IMPORT = 'callx_helper';
export const RUN_EXPORT = 'run';
export const REPEAT_EXPORT = 'repeat';
export const CALLBACK_EXPORT = 'callback';
/** The exported globals of the legacy loads' packet: start, length, MAC header, network header. */
export const PACKET_GLOBALS = ['packet', 'packet_length', 'mac_header', 'network_header'] as const;

/** The import name of helper `id`. */
export function helperImportName(id: number): string {
  return `helper_${id}`;
}
