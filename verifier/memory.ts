// Loads, stores and helper memory arguments, checked against the region the pointer's type says it
// points into (Linux check_mem_access, check_helper_mem_access and the per-type checks they call):
// map values and keys, the stack, the packet up to the range learned from data_end, the context
// by the program type's rules, socket structs, and sized memory (ring buffer samples).
import { coerceToSize, coerceToSizeSx } from './bounds.js';
import { socketAccessOk } from './context.js';
import type { Env } from './env.js';
import { reject } from './reject.js';
import {
  constScalar, isPacketPointer, isSocketType, pointer, RegType, typeName, unknownScalar, withFields, type MapInfo, type Reg,
} from './registers.js';
import { curFrame } from './state.js';
import { checkNoDynptrRead, checkNoDynptrWrite, destroyDynptrsIn } from './dynptr.js';
import { frameOf, MAX_VAR_OFF, stackBounds, stackHelperAccess, stackReadFixed, stackReadVar, stackWriteFixed, stackWriteVar } from './stack.js';
import { formatTnum, tnumAdd, tnumConst, tnumIsAligned, tnumIsConst } from './tnum.js';

/** Linux MAX_PACKET_OFF: packet offsets the verifier tracks. */
export const MAX_PACKET_OFF = 0xffff;
/** BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG map flags. */
const RDONLY_PROG = 0x80;
const WRONLY_PROG = 0x100;

/** The current frame's register `regno`. */
export function regAt(env: Env, regno: number): Reg {
  return curFrame(env.state).regs[regno]!;
}

/** Sets the current frame's register `regno`. */
export function setReg(env: Env, regno: number, reg: Reg): void {
  curFrame(env.state).regs[regno] = reg;
}

function alignmentDesc(type: RegType): string {
  switch (type) {
    case RegType.MapKey: return 'key ';
    case RegType.MapValue: return 'value ';
    case RegType.Ctx: return 'context ';
    case RegType.Stack: return 'stack ';
    case RegType.Sock: return 'sock ';
    case RegType.SockCommon: return 'sock_common ';
    case RegType.TcpSock: return 'tcp_sock ';
    case RegType.XdpSock: return 'xdp_sock ';
    case RegType.FlowKeys: return 'flow keys ';
    default: return '';
  }
}

/** Linux check_ptr_alignment: stack accesses are always aligned; others only under strict alignment. */
function checkAlignment(env: Env, reg: Reg, off: number, size: number, strictOnce: boolean): void {
  const strict = (env.options.strictAlignment ?? false) || strictOnce;
  if (isPacketPointer(reg)) {
    if (!strict || size === 1) return;
    // NET_IP_ALIGN: the IP header sits 2 bytes past a 4-byte boundary.
    if (!tnumIsAligned(tnumAdd(reg.var, tnumConst(BigInt(2 + reg.off + off))), size)) {
      reject('misaligned', `misaligned packet access off 2+${formatTnum(reg.var)}+${reg.off}+${off} size ${size}`);
    }
    return;
  }
  if (!(strict || reg.type === RegType.Stack) || size === 1) return;
  if (!tnumIsAligned(tnumAdd(reg.var, tnumConst(BigInt(reg.off + off))), size)) {
    reject('misaligned', `misaligned ${alignmentDesc(reg.type)}access off ${formatTnum(reg.var)}+${reg.off}+${off} size ${size}`);
  }
}

/** Linux __check_mem_access's message for an access outside [0, memSize), by pointer type. */
function outOfRange(regno: number, reg: Reg, off: number, size: number, memSize: number): { kind: 'map-range' | 'packet-range' | 'mem-range'; text: string } {
  switch (reg.type) {
    case RegType.MapKey: return { kind: 'map-range', text: `invalid access to map key, key_size=${memSize} off=${off} size=${size}` };
    case RegType.MapValue: return { kind: 'map-range', text: `invalid access to map value, value_size=${memSize} off=${off} size=${size}` };
    case RegType.Packet: case RegType.PacketMeta: case RegType.PacketEnd:
      return { kind: 'packet-range', text: `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${memSize})` };
    default: return { kind: 'mem-range', text: `invalid access to memory, mem_size=${memSize >>> 0} off=${off} size=${size}` };
  }
}

function inside(off: number, size: number, memSize: number, zeroOk: boolean): boolean {
  return off >= 0 && (size > 0 || (size === 0 && zeroOk)) && off + size <= memSize;
}

/** Linux check_mem_region_access: [reg + off, + size) within [0, memSize) for every value of reg's variable part. */
export function checkMemRegion(regno: number, reg: Reg, off: number, size: number, memSize: number, zeroOk: boolean): void {
  const lo = reg.smin + BigInt(off);
  if (reg.smin < 0n && (reg.smin === -(1n << 63n) || lo !== BigInt(Number(BigInt.asIntN(32, lo))) || lo < 0n)) {
    reject('negative-index', `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, [regno]);
  }
  if (!inside(Number(lo), size, memSize, zeroOk)) {
    const { kind, text } = outOfRange(regno, reg, Number(lo), size, memSize);
    reject(kind, `${text}\nR${regno} min value is outside of the allowed memory range`, [regno]);
  }
  if (reg.umax >= BigInt(MAX_VAR_OFF)) {
    reject('unbounded-index', `R${regno} unbounded memory access, make sure to bounds check any such access`, [regno]);
  }
  const hi = Number(reg.umax) + off;
  if (!inside(hi, size, memSize, zeroOk)) {
    const { kind, text } = outOfRange(regno, reg, hi, size, memSize);
    reject(kind, `${text}\nR${regno} max value is outside of the allowed memory range`, [regno]);
  }
}

/** Linux check_packet_access: inside the range a data_end comparison proved. `off` includes reg.off. */
export function checkPacketAccess(regno: number, reg: Reg, off: number, size: number, zeroOk: boolean): void {
  if (reg.smin < 0n) {
    reject('negative-index', `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, [regno]);
  }
  if (reg.range < 0 || !inside(off, size, reg.range, zeroOk)) {
    const message = reg.range < 0
      ? `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=0)`
      : `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${reg.range})`;
    reject('packet-range', `${message}\nR${regno} offset is outside of the packet`, [regno]);
  }
}

/** Map value accesses: bounds, then fields a load or store must not touch (spin locks, timers). */
export function checkMapAccess(regno: number, reg: Reg, off: number, size: number, zeroOk: boolean, helper: boolean): void {
  const map = reg.map!;
  checkMemRegion(regno, reg, off, size, map.valueSize, zeroOk);
  const lo = Number(reg.smin) + off;
  const hi = Number(reg.umax) + off + size;
  const fields: [number | undefined, number, string][] = [[map.spinLockOffset, 4, 'bpf_spin_lock'], [map.timerOffset, 16, 'bpf_timer']];
  for (const [at, length, name] of fields) {
    if (at === undefined || !(lo < at + length && at < hi)) continue;
    reject('special-field', helper ? `${name} cannot be accessed directly by load/store` : `${name} cannot be accessed directly by load/store`);
  }
}

function checkMapAccessType(map: MapInfo, off: number, size: number, write: boolean): void {
  if (write && ((map.flags & RDONLY_PROG) !== 0 || map.readOnly)) {
    reject('read-only', `write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
  }
  if (!write && (map.flags & WRONLY_PROG) !== 0) reject('read-only', `read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
}

/** Linux __check_ptr_off_reg: a context or socket pointer must be used exactly as the program got it. */
export function checkPointerUnmodified(reg: Reg, regno: number, fixedOffOk: boolean): void {
  if (reg.off < 0) reject('ctx-modified', `negative offset ${typeName(reg)} ptr R${regno} off=${reg.off} disallowed`, [regno]);
  if (!fixedOffOk && reg.off) reject('ctx-modified', `dereference of modified ${typeName(reg)} ptr R${regno} off=${reg.off} disallowed`, [regno]);
  if (!tnumIsConst(reg.var) || reg.var.value !== 0n) {
    reject('var-offset', `variable ${typeName(reg)} access var_off=${formatTnum(reg.var)} disallowed`, [regno]);
  }
}

/** The constant a read-only map's frozen contents give for a load at a known offset. */
function frozenValue(map: MapInfo, at: number, size: number, ldsx: boolean): bigint | undefined {
  const data = map.frozen;
  if (!data || at < 0 || at + size > data.length) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]!);
  return ldsx ? BigInt.asIntN(size * 8, v) : v;
}

/** How a load or store names its value: the register it reads or writes, or a BPF_ST immediate. */
export type AccessValue = { readonly regno: number } | { readonly imm: number } | undefined;

/**
 * One load or store through register `regno` at `off` (Linux check_mem_access). For a load into a
 * register, returns the loaded value (zero- or sign-extended); the caller writes it.
 */
export function memAccess(env: Env, regno: number, off: number, size: number, write: boolean, value: AccessValue, ldsx: boolean, strictOnce = false): Reg | undefined {
  const reg = regAt(env, regno);
  checkAlignment(env, reg, off, size, strictOnce);
  const at = off + reg.off;
  const loads = !write && value !== undefined && 'regno' in value;
  let result: Reg | undefined;
  if (reg.nullable && reg.type !== RegType.Scalar) {
    reject('null-pointer', `R${regno} invalid mem access '${typeName(reg)}'`, [regno]);
  }
  switch (reg.type) {
    case RegType.MapKey:
      if (write) reject('read-only', `write to change key R${regno} not allowed`);
      checkMemRegion(regno, reg, at, size, reg.map!.keySize, false);
      result = unknownScalar();
      break;
    case RegType.MapValue: {
      checkMapAccessType(reg.map!, at, size, write);
      checkMapAccess(regno, reg, at, size, false, false);
      if (loads) {
        const known = reg.map!.readOnly && tnumIsConst(reg.var) ? frozenValue(reg.map!, at + Number(reg.var.value), size, ldsx) : undefined;
        if (known !== undefined) return constScalar(known);
        result = unknownScalar();
      }
      break;
    }
    case RegType.Mem:
      if (write && reg.rdonly) reject('read-only', `R${regno} cannot write into ${typeName(reg)}`);
      checkMemRegion(regno, reg, at, size, reg.memSize, false);
      result = unknownScalar();
      break;
    case RegType.Ctx: {
      checkPointerUnmodified(reg, regno, false);
      const load = env.rules.ctx?.(at, size, write, ldsx);
      if (!load) reject('ctx-field', `invalid bpf_context access off=${at} size=${size}`, [regno]);
      if (loads && load.type !== RegType.Scalar) {
        // Packet pointers come out at offset zero with no range yet; a maybe-NULL socket gets an id to check.
        return pointer(load.type, load.nullable ? { nullable: true, id: env.nextId() } : {});
      }
      result = unknownScalar();
      break;
    }
    case RegType.Stack:
      return stackAccess(env, regno, reg, at, size, write, value, ldsx);
    case RegType.Packet: case RegType.PacketMeta:
      if (write && !env.rules.packetWrite) reject('packet-write', 'cannot write into packet');
      checkPacketAccess(regno, reg, at, size, false);
      result = unknownScalar();
      break;
    case RegType.Sock: case RegType.SockCommon: case RegType.TcpSock: case RegType.XdpSock:
      if (write) reject('read-only', `R${regno} cannot write into ${typeName(reg)}`);
      checkPointerUnmodified(reg, regno, false);
      if (!socketAccessOk(reg.type, at, size)) reject('ctx-field', `R${regno} invalid ${typeName(reg)} access off=${at} size=${size}`);
      result = unknownScalar();
      break;
    default:
      reject('bad-pointer-type', `R${regno} invalid mem access '${typeName(reg)}'`, [regno]);
  }
  if (!loads || !result) return undefined;
  if (size < 8) {
    const r = withFields(result, {});
    if (ldsx) coerceToSizeSx(r, size);
    else coerceToSize(r, size);
    return r;
  }
  return result;
}

function stackAccess(env: Env, regno: number, reg: Reg, at: number, size: number, write: boolean, value: AccessValue, ldsx: boolean): Reg | undefined {
  const { min, max } = stackBounds(env, regno, reg, at, size, write ? 'write to' : 'read from');
  const frame = frameOf(env, reg);
  const fixed = tnumIsConst(reg.var);
  if (write) {
    destroyDynptrsIn(env, frame, min, max);
    if (fixed) {
      const stored = value && 'regno' in value ? { reg: regAt(env, value.regno) } : { imm: value && 'imm' in value ? value.imm : 0 };
      // An atomic's write (no value) is plain data.
      if (!value) stackWriteVar(frame, min, max, false);
      else {
        const linked = stackWriteFixed(env, frame, min, size, stored);
        if (linked && value && 'regno' in value) setReg(env, value.regno, linked);
      }
    } else {
      const v = value && 'regno' in value ? regAt(env, value.regno) : undefined;
      const zero = value && 'imm' in value ? value.imm === 0 : v !== undefined && v.type === RegType.Scalar && tnumIsConst(v.var) && v.var.value === 0n;
      stackWriteVar(frame, min, max, zero);
    }
    return undefined;
  }
  if (!value || !('regno' in value)) return undefined;
  checkNoDynptrRead(frame, min, max);
  return fixed ? stackReadFixed(frame, min, size, ldsx) : stackReadVar(frame, min, max, size, ldsx);
}

/**
 * A helper reads (or, for `write`, fills) `size` bytes at the pointer in `regno` (Linux
 * check_helper_mem_access). `zeroOk`: a zero size is allowed.
 */
export function helperMemAccess(env: Env, regno: number, size: number, write: boolean, zeroOk: boolean, packetOk: boolean): void {
  const reg = regAt(env, regno);
  switch (reg.type) {
    case RegType.Packet: case RegType.PacketMeta:
      if (!packetOk || !env.rules.packetRead) reject('helper-arg', 'helper access to the packet is not allowed', [regno]);
      checkPacketAccess(regno, reg, reg.off, size, zeroOk);
      return;
    case RegType.MapKey:
      if (write) reject('read-only', `R${regno} cannot write into ${typeName(reg)}`);
      checkMemRegion(regno, reg, reg.off, size, reg.map!.keySize, false);
      return;
    case RegType.MapValue:
      checkMapAccessType(reg.map!, reg.off, size, write);
      checkMapAccess(regno, reg, reg.off, size, zeroOk, true);
      return;
    case RegType.Mem:
      if (write && reg.rdonly) reject('read-only', `R${regno} cannot write into ${typeName(reg)}`);
      checkMemRegion(regno, reg, reg.off, size, reg.memSize, zeroOk);
      return;
    case RegType.Stack: {
      if (size === 0 && !zeroOk) reject('helper-size', 'invalid zero-sized read');
      const { min, max } = stackBounds(env, regno, reg, reg.off, size, 'indirect access to');
      const frame = frameOf(env, reg);
      if (write) checkNoDynptrWrite(frame, min, max);
      else checkNoDynptrRead(frame, min, max, regno);
      stackHelperAccess(frame, min, max, write);
      return;
    }
    default:
      if (zeroOk && size === 0 && reg.type === RegType.Scalar && tnumIsConst(reg.var) && reg.var.value === 0n) return;
      reject('helper-arg', `R${regno} type=${typeName(reg)} expected=fp`, [regno]);
  }
}

/** Whether a pointer type can be a helper's memory argument at all (Linux mem_types). */
export function isMemoryPointer(reg: Reg): boolean {
  return reg.type === RegType.Stack || reg.type === RegType.Packet || reg.type === RegType.PacketMeta
    || reg.type === RegType.MapKey || reg.type === RegType.MapValue || reg.type === RegType.Mem;
}

export { isSocketType };
