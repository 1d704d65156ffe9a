// Helper calls, checked against the helper table's prototypes (Linux check_helper_call and
// check_func_arg): each argument's type, the memory it names and the size that goes with it, map
// kinds a helper accepts, references acquired and given back, the spin lock, callbacks, the
// clobbered registers and the type of r0 after the call.
import type { Instruction } from '../isa/instruction.js';
import type { HelperArg, HelperArgKind, HelperProto, HelperSpec } from '../helpers/table.js';
import { LINUX_HELPER_NAMES } from '../helpers/linux-helper-names.js';
import { readReg } from './alu.js';
import type { Env } from './env.js';
import { pushCallback } from './functions.js';
import { checkMapAccess, checkPointerUnmodified, helperMemAccess, regAt, setReg } from './memory.js';
import { initializedDynptr, markDynptr } from './dynptr.js';
import { reject } from './reject.js';
import { NOT_INIT, pointer, RegType, typeName, unknownScalar, withFields, type MapInfo, type Reg } from './registers.js';
import { forEachReg, type DynptrSlot, type State } from './state.js';
import { tnumIsConst } from './tnum.js';

/** Linux BPF_MAX_VAR_SIZ: sizes beyond this are unbounded. */
const MAX_VAR_SIZE = 1 << 29;
/** The id libbpf's poisoned CO-RE relocations call. */
const CORE_POISON_ID = 0xbad2310;
const Helper = { tailCall: 12, getLocalStorage: 81, spinLock: 93, spinUnlock: 94 } as const;
/**
 * Helpers whose result is their socket argument seen as another type (Linux is_ptr_cast_function):
 * sk_fullsock, tcp_sock and the skc_to_* casts. The result lives under the argument's reference.
 */
const CAST_HELPERS = new Set([95, 96, 136, 137, 138, 139, 140, 196]);
const SOCKMAP = 15;
const SOCKHASH = 18;

/** Map types only some helpers take (Linux check_map_func_compatibility, the map side). */
const MAP_ONLY_WITH: ReadonlyMap<number, readonly number[]> = new Map([
  [3, [12]], // PROG_ARRAY: bpf_tail_call
  [4, [22, 25, 55, 111, 121]], // PERF_EVENT_ARRAY: perf_event_read/output, skb_output, read_value, xdp_output
  [27, [130, 131, 134, 198, 199, 200]], // RINGBUF
  [7, [27]], // STACK_TRACE: get_stackid
  [8, [33, 37]], // CGROUP_ARRAY: skb_under_cgroup, current_task_under_cgroup
  [19, [81]], [21, [81]], // CGROUP_STORAGE, PERCPU_CGROUP_STORAGE: get_local_storage
  [14, [51, 1]], [25, [51, 1]], [16, [51]], // DEVMAP, DEVMAP_HASH: redirect_map, lookup; CPUMAP: redirect_map
  [17, [51, 1]], // XSKMAP: redirect_map, lookup
  [12, [1]], [13, [1]], // map-in-map: lookup only
  [15, [52, 53, 60, 82, 1]], // SOCKMAP: sk/msg_redirect_map, sock_map_update, sk_select_reuseport, lookup (+ update/delete where may_update_sockmap)
  [18, [72, 70, 71, 82, 1]], // SOCKHASH: the same for hashes
  [22, [87, 88, 89]], [23, [87, 88, 89]], // QUEUE, STACK
  [30, [87, 89]], // BLOOM_FILTER: push, peek
  [24, [107, 108, 194]], // SK_STORAGE
  [28, [145, 146, 194]], // INODE_STORAGE
  [29, [156, 157, 194]], // TASK_STORAGE
  [20, [82]], // REUSEPORT_SOCKARRAY: sk_select_reuseport
  [31, [209]], // USER_RINGBUF: user_ringbuf_drain
]);

/** Program types whose programs may update and delete sockmap and sockhash entries (Linux may_update_sockmap; BPF iterators too, which are not told apart here). */
const MAY_UPDATE_SOCKMAP = new Set(['socket_filter', 'sched_cls', 'sched_act', 'xdp', 'sk_reuseport', 'flow_dissector', 'sk_lookup']);

/** What the argument checks of one call learned (Linux struct bpf_call_arg_meta). */
interface CallMeta {
  map?: MapInfo;
  releaseRegno: number;
  refObjId: number;
  allocSize: number;
  callback?: number;
  /** The initialised dynptr a 'ptr_to_dynptr' argument named. */
  dynptr?: DynptrSlot;
}

function helperName(id: number): string {
  return LINUX_HELPER_NAMES[id] ? `${LINUX_HELPER_NAMES[id]}` : 'unknown';
}

function isConstZero(reg: Reg): boolean {
  return reg.type === RegType.Scalar && tnumIsConst(reg.var) && reg.var.value === 0n;
}

const MEM_TYPES = 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_';
const SOCK_TYPES = 'sock_common, sock, tcp_sock, xdp_sock';
/** BTF structs a 'ptr_to_btf_id_sock_common' argument may point to (struct sock_common and those starting with it). */
const SOCK_STRUCTS = new Set(['sock_common', 'sock', 'inet_sock', 'inet_connection_sock', 'tcp_sock', 'udp_sock', 'unix_sock', 'request_sock', 'inet_timewait_sock']);

/** The register types an argument kind accepts, and Linux's "expected=" list for the message. */
function accepts(kind: HelperArgKind, reg: Reg, writes: boolean): { ok: boolean; expected: string } {
  const mem = (reg.type === RegType.Stack || reg.type === RegType.Packet || reg.type === RegType.PacketMeta || reg.type === RegType.MapKey
    || reg.type === RegType.MapValue || reg.type === RegType.Mem) && !reg.nullable && !(writes && reg.rdonly);
  switch (kind) {
    case 'const_map_ptr': return { ok: reg.type === RegType.ConstMap, expected: 'map_ptr' };
    case 'const_size': case 'const_size_or_zero': case 'const_alloc_size_or_zero': case 'const_size_known': case 'anything':
      return { ok: reg.type === RegType.Scalar, expected: 'scalar' };
    case 'ptr_to_ctx': case 'ptr_to_ctx_or_null': return { ok: reg.type === RegType.Ctx, expected: 'ctx' };
    case 'ptr_to_func': return { ok: reg.type === RegType.Func, expected: 'func' };
    case 'ptr_to_stack_or_null': return { ok: reg.type === RegType.Stack, expected: 'fp' };
    case 'ptr_to_ringbuf_mem': return { ok: reg.type === RegType.Mem && reg.memKind === 'ringbuf' && !reg.nullable, expected: 'ringbuf_mem' };
    case 'ptr_to_spin_lock': return { ok: reg.type === RegType.MapValue && !reg.nullable, expected: 'map_value, ptr_' };
    case 'ptr_to_sock_common':
      return { ok: (reg.type === RegType.Sock || reg.type === RegType.SockCommon || reg.type === RegType.TcpSock || reg.type === RegType.XdpSock) && !reg.nullable, expected: SOCK_TYPES };
    case 'ptr_to_btf_id_sock_common':
      // Linux btf_id_sock_common_types: the socket pointers, or a BTF pointer to a socket struct.
      return {
        ok: ((reg.type === RegType.Sock || reg.type === RegType.SockCommon || reg.type === RegType.TcpSock || reg.type === RegType.XdpSock)
          || (reg.type === RegType.BtfId && SOCK_STRUCTS.has(reg.btfName))) && !reg.nullable,
        expected: `${SOCK_TYPES}, ptr_`,
      };
    case 'ptr_to_socket': return { ok: reg.type === RegType.Sock && !reg.nullable, expected: 'sock' };
    case 'ptr_to_const_str': return { ok: reg.type === RegType.MapValue && !reg.nullable, expected: 'map_value' };
    default: return { ok: mem, expected: MEM_TYPES };
  }
}

/** The size argument of a memory argument (Linux check_mem_size_reg). */
function checkSize(env: Env, regno: number, zeroOk: boolean, write: boolean, packetOk: boolean): void {
  const reg = regAt(env, regno);
  if (reg.smin < 0n) reject('helper-size', `R${regno} min value is negative, either use unsigned or 'var &= const'`, [regno]);
  if (reg.umin === 0n && !zeroOk) reject('helper-size', `R${regno} invalid zero-sized read: u64=[${reg.umin},${reg.umax}]`, [regno]);
  if (reg.umax >= BigInt(MAX_VAR_SIZE)) reject('helper-size', `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`, [regno]);
  helperMemAccess(env, regno - 1, Number(reg.umax), write, zeroOk, packetOk);
}

/** Linux process_spin_lock: the lock is the map value's, taken once, given back by the same path. */
function spinLock(env: Env, regno: number, reg: Reg, lock: boolean): void {
  if (!tnumIsConst(reg.var)) reject('lock', `R${regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset`);
  const map = reg.map!;
  if (map.spinLockOffset === undefined) reject('lock', `map '${map.name}' has no valid bpf_spin_lock`);
  const at = Number(reg.var.value) + reg.off;
  if (at !== map.spinLockOffset) reject('lock', `off ${at} doesn't point to 'struct bpf_spin_lock' that is at ${map.spinLockOffset}`);
  const state = env.state;
  if (lock) {
    if (state.lock) reject('lock', 'Locking two bpf_spin_locks are not allowed');
    state.lock = { id: reg.id, map };
  } else {
    if (!state.lock) reject('lock', 'bpf_spin_unlock without taking a lock');
    if (state.lock.map !== map || state.lock.id !== reg.id) reject('lock', 'bpf_spin_unlock of different lock');
    state.lock = undefined;
  }
}

function argKind(arg: HelperArg): HelperArgKind {
  return typeof arg === 'string' ? arg : arg.kind;
}

/** Checks argument `i` (0-based) of a call against its prototype. */
function checkArg(env: Env, helper: HelperSpec, i: number, meta: CallMeta): void {
  const proto = helper.proto;
  const arg = proto.args[i]!;
  const kind = argKind(arg);
  const regno = i + 1;
  const reg = readReg(env, regno);
  if (kind === 'anything') return;
  if (kind === 'ptr_to_uninit_dynptr') return markDynptr(env, regno, reg, proto.dynptr!, proto.kfunc ?? false);
  if (kind === 'ptr_to_dynptr') {
    meta.dynptr = initializedDynptr(env, regno, reg, proto.kfunc ?? false);
    return;
  }
  const packetOk = (proto.packetAccess ?? false) && env.rules.packetRead;
  if ((reg.type === RegType.Packet || reg.type === RegType.PacketMeta) && !packetOk) {
    reject('helper-arg', 'helper access to the packet is not allowed', [regno]);
  }
  const nullOk = kind === 'ptr_to_mem_or_null' || kind === 'ptr_to_buffer_or_null' || kind === 'ptr_to_map_value_or_null' || kind === 'ptr_to_stack_or_null' || kind === 'ptr_to_ctx_or_null';
  const isNull = nullOk && isConstZero(reg);
  const writes = kind === 'ptr_to_uninit_mem' || kind === 'ptr_to_buffer_or_null' || kind === 'ptr_to_uninit_map_value' || kind === 'ptr_to_uninit_map_key' || kind === 'ptr_to_long';
  // A sockmap's or sockhash's values are sockets (Linux resolve_map_arg_type).
  const socketValue = kind === 'ptr_to_map_value' && meta.map !== undefined && (meta.map.type === SOCKMAP || meta.map.type === SOCKHASH);
  if (!isNull) {
    const { ok, expected } = accepts(socketValue ? 'ptr_to_sock_common' : kind, reg, writes);
    if (!ok) reject('helper-arg', `R${regno} type=${typeName(reg)} expected=${expected}`, [regno]);
    if (proto.releases === regno) {
      if (reg.off) reject('ref-release', `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`, [regno]);
      checkPointerUnmodified(reg, regno, false);
    } else if (reg.type === RegType.Ctx || reg.type === RegType.Sock || reg.type === RegType.SockCommon || reg.type === RegType.TcpSock) {
      checkPointerUnmodified(reg, regno, false);
    }
  }
  if (proto.releases === regno) {
    if (!reg.refObjId && !isConstZero(reg)) reject('ref-release', `R${regno} must be referenced when passed to release function`, [regno]);
    meta.releaseRegno = regno;
  }
  if (reg.refObjId) meta.refObjId = reg.refObjId;
  switch (kind) {
    case 'const_map_ptr':
      meta.map = reg.map;
      return;
    case 'ptr_to_map_key': case 'ptr_to_uninit_map_key':
      if (!meta.map) reject('helper-map', 'invalid map_ptr to access map->key');
      helperMemAccess(env, regno, meta.map.keySize, kind === 'ptr_to_uninit_map_key', false, packetOk);
      return;
    case 'ptr_to_map_value': case 'ptr_to_uninit_map_value': case 'ptr_to_map_value_or_null':
      if (isNull || socketValue) return;
      if (!meta.map) reject('helper-map', 'invalid map_ptr to access map->value');
      helperMemAccess(env, regno, meta.map.valueSize, kind === 'ptr_to_uninit_map_value', false, packetOk);
      return;
    case 'ptr_to_mem': case 'ptr_to_uninit_mem':
      if (typeof arg !== 'string') helperMemAccess(env, regno, arg.size, kind === 'ptr_to_uninit_mem', false, packetOk);
      return;
    case 'const_size': case 'const_size_or_zero': {
      const previous = argKind(proto.args[i - 1]!);
      checkSize(env, regno, kind === 'const_size_or_zero', previous === 'ptr_to_uninit_mem', packetOk);
      return;
    }
    case 'const_size_known': {
      // Linux check_kfunc_args, KF_ARG_PTR_TO_MEM_SIZE: the buffer (unless NULL and optional) is
      // memory of this size the kfunc may fill; the size must be a constant, and sizes the result.
      if (!isConstZero(regAt(env, regno - 1))) checkSize(env, regno, true, true, packetOk);
      if (!tnumIsConst(reg.var)) reject('helper-size', `R${regno} must be a known constant`, [regno]);
      meta.allocSize = Number(reg.var.value);
      return;
    }
    case 'const_alloc_size_or_zero':
      if (!tnumIsConst(reg.var)) reject('helper-size', `R${regno} is not a known constant'`, [regno]);
      meta.allocSize = Number(reg.var.value);
      return;
    case 'ptr_to_func':
      meta.callback = reg.subprog;
      return;
    case 'ptr_to_spin_lock':
      spinLock(env, regno, reg, helper.id === Helper.spinLock);
      return;
    case 'ptr_to_long':
      helperMemAccess(env, regno, 8, true, false, packetOk);
      return;
    case 'ptr_to_const_str': {
      const map = reg.map!;
      if (!map.readOnly) reject('helper-arg', `R${regno} does not point to a readonly map'`, [regno]);
      if (!tnumIsConst(reg.var)) reject('helper-arg', `R${regno} is not a constant address'`, [regno]);
      checkMapAccess(regno, reg, reg.off, map.valueSize - reg.off, false, true);
      const at = reg.off + Number(reg.var.value);
      if (!map.frozen || map.frozen.subarray(at, map.valueSize).indexOf(0) < 0) reject('helper-arg', 'string is not zero-terminated');
      return;
    }
    default:
      return;
  }
}

/** Every register derived from a reference, and the reference itself, go when it is given back. */
function release(state: State, refObjId: number): boolean {
  const before = state.refs.length;
  state.refs = state.refs.filter((r) => r.id !== refObjId);
  if (state.refs.length === before) return false;
  forEachReg(state, (reg, set) => {
    if (reg.refObjId === refObjId) set(unknownScalar());
  });
  return true;
}

/** Packet pointers are invalid once a helper may have moved the packet (Linux clear_all_pkt_pointers). */
export function forgetPacketPointers(state: State): void {
  forEachReg(state, (reg, set) => {
    // Slices of packet dynptrs go with the packet pointers (Linux reg_is_dynptr_slice_pkt).
    if (reg.type === RegType.Packet || reg.type === RegType.PacketMeta || reg.type === RegType.PacketEnd || (reg.type === RegType.Mem && reg.dynptrId)) set(unknownScalar());
  });
}

/** Linux check_reference_leak's message for every reference still held (by one callback frame, when given). */
export function leakMessage(state: State, callbackFrame?: number): string | undefined {
  const held = callbackFrame === undefined ? state.refs : state.refs.filter((r) => r.frame === callbackFrame);
  if (held.length === 0) return undefined;
  return held.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.pc}`).join('\n');
}

/** The frame number of the innermost frame if it is a callback's, else 0. */
function callbackFrame(state: State): number {
  const f = state.frames[state.frames.length - 1]!;
  return f.inCallback ? f.frameNo : 0;
}

/** r0 after a call, by the prototype's return kind. */
function returnValue(env: Env, proto: HelperProto, meta: CallMeta, name: string): Reg {
  switch (proto.ret) {
    case 'integer': return unknownScalar();
    case 'void': return NOT_INIT;
    case 'ptr_to_map_value': case 'ptr_to_map_value_or_null': {
      if (!meta.map) reject('helper-map', `kernel subsystem misconfigured verifier (${name} returns a map value but takes no map)`);
      const nullable = proto.ret === 'ptr_to_map_value_or_null';
      return pointer(RegType.MapValue, { map: meta.map, nullable, id: nullable || meta.map.spinLockOffset !== undefined ? env.nextId() : 0 });
    }
    case 'ptr_to_ringbuf_mem_or_null':
      return pointer(RegType.Mem, { memKind: 'ringbuf', memSize: meta.allocSize, nullable: true, id: env.nextId() });
    case 'ptr_to_mem_or_null':
      return pointer(RegType.Mem, { memSize: meta.allocSize, nullable: true, id: env.nextId() });
    case 'ptr_to_socket_or_null': return pointer(RegType.Sock, { nullable: true, id: env.nextId() });
    case 'ptr_to_sock_common_or_null': return pointer(RegType.SockCommon, { nullable: true, id: env.nextId() });
    case 'ptr_to_tcp_sock_or_null': return pointer(RegType.TcpSock, { nullable: true, id: env.nextId() });
    case 'dynptr_slice_or_null': case 'dynptr_slice_rdwr_or_null': {
      // Linux check_kfunc_call: a slice is PTR_TO_MEM of the constant size, read-only unless _rdwr, which needs packet writes.
      const rdwr = proto.ret === 'dynptr_slice_rdwr_or_null';
      if (rdwr && !env.rules.packetWrite) reject('helper-arg', 'the prog does not allow writes to packet data');
      return pointer(RegType.Mem, { memSize: meta.allocSize, nullable: true, rdonly: !rdwr, id: env.nextId(), dynptrId: meta.dynptr!.id });
    }
  }
}

/** Checks a helper call and applies it. Returns the pc to continue at. */
export function checkHelperCall(env: Env, insn: Instruction): number {
  const id = insn.imm;
  const state = env.state;
  if (state.lock && id !== Helper.spinUnlock) reject('lock', 'function calls are not allowed while holding a lock');
  // libbpf's poisoned call: fine in dead code, a rejection when a path reaches it.
  if (id === CORE_POISON_ID) {
    reject('helper-unknown', `invalid func unknown#${id}\nA CO-RE relocation of this instruction failed: the kernel type or field it reads does not exist in the runtime's BTF`);
  }
  const helper = env.helper(id);
  if (!helper) {
    if (LINUX_HELPER_NAMES[id]) reject('helper-unknown', `program of this type cannot use helper ${helperName(id)}#${id}`);
    reject('helper-unknown', `invalid func unknown#${id}`);
  }
  const proto = helper.proto;
  const meta: CallMeta = { releaseRegno: 0, refObjId: 0, allocSize: 0 };
  for (let i = 0; i < proto.args.length; i++) checkArg(env, helper, i, meta);

  if (meta.releaseRegno) {
    const reg = regAt(env, meta.releaseRegno);
    if (!(meta.refObjId ? release(state, meta.refObjId) : isConstZero(reg))) {
      reject('ref-release', `func ${helper.name}#${id} reference has not been acquired before`);
    }
  }
  if (meta.map && proto.mapTypes && !proto.mapTypes.includes(meta.map.type)) {
    reject('helper-map', `cannot pass map_type ${meta.map.type} into func ${helper.name}#${id}`);
  }
  const onlyWith = meta.map ? MAP_ONLY_WITH.get(meta.map.type) : undefined;
  if (meta.map && onlyWith && !onlyWith.includes(id)) {
    const sockmapUpdate = (meta.map.type === SOCKMAP || meta.map.type === SOCKHASH) && (id === 2 || id === 3);
    if (sockmapUpdate && !MAY_UPDATE_SOCKMAP.has(env.rules.type)) reject('helper-map', 'cannot update sockmap in this context');
    if (!sockmapUpdate) reject('helper-map', `cannot pass map_type ${meta.map.type} into func ${helper.name}#${id}`);
  }

  if (id === Helper.getLocalStorage && !isConstZero(regAt(env, 2))) reject('helper-arg', 'get_local_storage() doesn\'t support non-zero flags');
  if (id === Helper.tailCall) {
    if (state.lock) reject('lock', 'tail_call cannot be used inside bpf_spin_lock-ed region');
    const leak = leakMessage(state);
    if (leak) reject('ref-leak', `${leak}\ntail_call would lead to reference leak`);
  }
  if (proto.callback) {
    if (meta.callback === undefined) reject('callback', `${helper.name}: callback argument is not a function`);
    pushCallback(env, insn, helper, meta.callback, meta.map);
  }

  const regs = state.frames[state.frames.length - 1]!.regs;
  for (let r = 0; r <= 5; r++) regs[r] = NOT_INIT;
  let r0 = returnValue(env, proto, meta, helper.name);
  // A socket looked up in a sockmap or sockhash is a reference the program must release.
  const socketLookup = id === 1 && meta.map !== undefined && (meta.map.type === SOCKMAP || meta.map.type === SOCKHASH);
  if (CAST_HELPERS.has(id) && meta.refObjId) {
    r0 = withFields(r0, { refObjId: meta.refObjId });
  } else if (proto.acquires || socketLookup) {
    const refId = env.nextId();
    state.refs = [...state.refs, { id: refId, pc: insn.pc, kind: proto.ret === 'ptr_to_ringbuf_mem_or_null' ? 'ringbuf' : 'socket', frame: callbackFrame(state) }];
    r0 = withFields(r0, { id: refId, refObjId: refId });
  }
  setReg(env, 0, r0);
  if (proto.changesPacket) forgetPacketPointers(state);
  return insn.pc + 1;
}
