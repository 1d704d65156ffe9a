// Register state: what kind of value each register holds (Linux enum bpf_reg_type, the subset of the
// program types this runtime runs) and what is known about it. A Reg is immutable once it is in a
// state: transfer functions build a new one. Scalars keep their value in the Bounds fields;
// pointers keep their variable offset there and their fixed offset in `off`.
import { assignBounds, type Bounds, constBounds } from './bounds.js';
import { formatTnum, tnumIsConst, tnumIsUnknown, TNUM_UNKNOWN, type Tnum } from './tnum.js';
import { S64_MIN, S64_MAX, S32_MIN, S32_MAX, U32_MAX } from './bounds.js';
import { U64_MAX } from './tnum.js';

/** Register value kinds (Linux bpf_reg_type base types). */
export const enum RegType {
  NotInit, Scalar, Ctx, ConstMap, MapValue, MapKey, Stack, PacketMeta, Packet, PacketEnd, FlowKeys,
  Sock, SockCommon, TcpSock, XdpSock, Mem, Func, BtfId,
}

/** What a PTR_TO_MEM points at, for messages and for the helpers that take it back. */
export type MemKind = 'mem' | 'ringbuf' | 'buf';

/** A map as the verifier sees it: its layout and what a program may do with it. */
export interface MapInfo {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** BPF_F_RDONLY_PROG (.rodata, .kconfig): programs may only read values. */
  readonly readOnly: boolean;
  /** For read-only global data: its frozen contents, so loads from it are known constants. */
  readonly frozen?: Uint8Array;
  /** Byte offset of a `struct bpf_spin_lock` in the value. */
  readonly spinLockOffset?: number;
  /** Byte offset of a `struct bpf_timer` in the value. */
  readonly timerOffset?: number;
  /** The template of a map-in-map's inner maps. */
  readonly inner?: MapInfo;
}

/** One register's state (a class, so every register has one shape and copies are cheap). */
export class Reg implements Bounds {
  type: RegType = RegType.NotInit;
  /** PTR_MAYBE_NULL: must be compared with 0 before use. */
  nullable = false;
  /** MEM_RDONLY: the memory may be read, not written. */
  rdonly = false;
  /** Fixed offset of a pointer. For linked scalars (addConst), the constant added. */
  off = 0;
  /** Pointers: the object identity null checks and packet range checks refine. Scalars: copies share it. */
  id = 0;
  /** Set on pointers that hold an acquired reference (must be released). */
  refObjId = 0;
  /** Packet pointers: bytes known to be inside the packet from `off`; -1 beyond data_end, -2 at it. */
  range = 0;
  /** ConstMap, MapValue, MapKey: the map. */
  map: MapInfo | undefined = undefined;
  /** Mem, MapKey, BtfId: bytes addressable from offset 0. */
  memSize = 0;
  memKind: MemKind = 'mem';
  /** Stack pointers: the call frame they point into. */
  frameNo = 0;
  /** Func pointers: the subprogram. */
  subprog = 0;
  /**
   * Scalars: the value decided a branch on some path (Linux would mark it precise). Set on the
   * register object, which states share, so earlier checkpoints holding the same value see it too.
   * A hint for loop widening and the log only: state comparison never looks at it.
   */
  precise = false;
  /** Scalars: this is `other + off` for the register whose id it shares (Linux BPF_ADD_CONST). */
  addConst = false;
  /** BtfId pointers: the struct's name. */
  btfName = '';
  /** Mem pointers: the dynptr this is a slice of (Linux dynptr_id), 0 for other memory. */
  dynptrId = 0;
  var: Tnum = TNUM_UNKNOWN;
  smin = S64_MIN;
  smax = S64_MAX;
  umin = 0n;
  umax = U64_MAX;
  s32min = S32_MIN;
  s32max = S32_MAX;
  u32min = 0;
  u32max = U32_MAX;

  /** A copy with the same fields. */
  clone(): Reg {
    const r = new Reg();
    r.type = this.type; r.nullable = this.nullable; r.rdonly = this.rdonly; r.off = this.off; r.id = this.id;
    r.refObjId = this.refObjId; r.range = this.range; r.map = this.map; r.memSize = this.memSize; r.memKind = this.memKind;
    r.frameNo = this.frameNo; r.subprog = this.subprog; r.precise = this.precise; r.addConst = this.addConst; r.btfName = this.btfName;
    r.dynptrId = this.dynptrId;
    r.var = this.var; r.smin = this.smin; r.smax = this.smax; r.umin = this.umin; r.umax = this.umax;
    r.s32min = this.s32min; r.s32max = this.s32max; r.u32min = this.u32min; r.u32max = this.u32max;
    return r;
  }
}

function base(type: RegType, b: Bounds): Reg {
  const r = new Reg();
  r.type = type;
  assignBounds(r, b);
  return r;
}

/** An unwritten register. */
export const NOT_INIT: Reg = Object.freeze(new Reg());

/** A scalar about which nothing is known. */
export function unknownScalar(): Reg {
  const r = new Reg();
  r.type = RegType.Scalar;
  return r;
}

/** A scalar of known value. */
export function constScalar(value: bigint): Reg {
  return base(RegType.Scalar, constBounds(value));
}

/** A scalar with the given bounds. */
export function scalarOf(b: Bounds): Reg {
  return base(RegType.Scalar, b);
}

/** A pointer of a type at offset 0 (variable part known zero), with more fields set. */
export function pointer(type: RegType, fields: Partial<Reg> = {}): Reg {
  return withFields(base(type, ZERO), fields);
}

const ZERO = constBounds(0n);

/** A copy of a register with some fields changed. */
export function withFields(reg: Reg, fields: Partial<Reg>): Reg {
  const r = reg.clone();
  for (const k in fields) (r as unknown as Record<string, unknown>)[k] = (fields as Record<string, unknown>)[k];
  return r;
}

/** Whether a register holds a pointer (anything initialised but a scalar). */
export function isPointer(reg: Reg): boolean {
  return reg.type !== RegType.Scalar && reg.type !== RegType.NotInit;
}

/** Packet pointers: data, data_meta (not data_end). */
export function isPacketPointer(reg: Reg): boolean {
  return reg.type === RegType.Packet || reg.type === RegType.PacketMeta;
}

/** Packet pointers and data_end. */
export function isPacketPointerAny(reg: Reg): boolean {
  return reg.type === RegType.Packet || reg.type === RegType.PacketMeta || reg.type === RegType.PacketEnd;
}

/** Socket pointer kinds. */
export function isSocketType(type: RegType): boolean {
  return type === RegType.Sock || type === RegType.SockCommon || type === RegType.TcpSock || type === RegType.XdpSock;
}

/**
 * A pointer the verifier knows is not NULL (Linux reg_not_null). As in Linux, context, stack and
 * packet pointers are not in the list, so comparing them with 0 explores both ways.
 */
export function regNotNull(reg: Reg): boolean {
  if (reg.nullable) return false;
  switch (reg.type) {
    case RegType.Sock: case RegType.TcpSock: case RegType.MapValue: case RegType.MapKey: case RegType.SockCommon: case RegType.Mem:
      return true;
    default:
      return false;
  }
}

const NAMES: Record<RegType, string> = {
  [RegType.NotInit]: '?', [RegType.Scalar]: 'scalar', [RegType.Ctx]: 'ctx', [RegType.ConstMap]: 'map_ptr',
  [RegType.MapValue]: 'map_value', [RegType.MapKey]: 'map_key', [RegType.Stack]: 'fp', [RegType.PacketMeta]: 'pkt_meta',
  [RegType.Packet]: 'pkt', [RegType.PacketEnd]: 'pkt_end', [RegType.FlowKeys]: 'flow_keys', [RegType.Sock]: 'sock',
  [RegType.SockCommon]: 'sock_common', [RegType.TcpSock]: 'tcp_sock', [RegType.XdpSock]: 'xdp_sock', [RegType.Mem]: 'mem',
  [RegType.Func]: 'func', [RegType.BtfId]: 'ptr_',
};

/** Linux's name of a register type (reg_type_str): "map_value_or_null", "rdonly_mem", "ringbuf_mem_or_null". */
export function typeName(reg: Pick<Reg, 'type' | 'nullable' | 'rdonly' | 'memKind' | 'btfName'>): string {
  const prefix = (reg.rdonly ? 'rdonly_' : '') + (reg.type === RegType.Mem && reg.memKind === 'ringbuf' ? 'ringbuf_' : '');
  const name = reg.type === RegType.Mem && reg.memKind === 'buf' ? 'buf' : NAMES[reg.type];
  const btf = reg.type === RegType.BtfId ? reg.btfName : '';
  const postfix = reg.nullable ? (reg.type === RegType.BtfId ? 'or_null_' : '_or_null') : '';
  return reg.type === RegType.BtfId ? `${prefix}${name}${postfix}${btf}` : `${prefix}${name}${postfix}`;
}

const decimalS = (v: bigint): string => (v >= -32768n && v <= 32767n ? v.toString() : `0x${BigInt.asUintN(64, v).toString(16)}`);
const decimalU = (v: bigint): string => (v <= 65535n ? v.toString() : `0x${v.toString(16)}`);

function scalarRanges(reg: Reg, out: string[]): void {
  const s32 = (v: number) => (v >= -32768 && v <= 32767 ? BigInt(v) : BigInt(v >>> 0));
  const items: { name: string; val: bigint; omit: boolean }[] = [
    { name: 'smin', val: reg.smin, omit: reg.smin === S64_MIN },
    { name: 'smax', val: reg.smax, omit: reg.smax === S64_MAX },
    { name: 'umin', val: reg.umin, omit: reg.umin === 0n },
    { name: 'umax', val: reg.umax, omit: reg.umax === U64_MAX },
    { name: 'smin32', val: s32(reg.s32min), omit: reg.s32min === S32_MIN },
    { name: 'smax32', val: s32(reg.s32max), omit: reg.s32max === S32_MAX },
    { name: 'umin32', val: BigInt(reg.u32min), omit: reg.u32min === 0 },
    { name: 'umax32', val: BigInt(reg.u32max), omit: reg.u32max === U32_MAX },
  ];
  // Equal values share one print (smin=smin32=0), as Linux does; negatives never pair with positives.
  const same = (a: bigint, b: bigint) => BigInt.asUintN(64, a) === BigInt.asUintN(64, b);
  for (let i = 0; i < items.length; i++) {
    const m1 = items[i]!;
    if (m1.omit) continue;
    const neg1 = m1.name[0] === 's' && m1.val < 0n;
    let text = `${m1.name}=`;
    for (let j = i + 2; j < items.length; j += 2) {
      const m2 = items[j]!;
      if (m2.omit || !same(m2.val, m1.val)) continue;
      const neg2 = m2.name[0] === 's' && m2.val < 0n;
      if (neg2 !== neg1) continue;
      m2.omit = true;
      text += `${m2.name}=`;
    }
    out.push(text + (m1.name[0] === 's' ? decimalS(m1.val) : decimalU(BigInt.asUintN(64, m1.val))));
  }
}

/** Linux's rendering of a register's state (print_reg_state), e.g. `pkt(off=14,r=14)`, `scalar(umax=255)`. */
export function formatReg(reg: Reg, frameNo = 0): string {
  const p = reg.type === RegType.Scalar && reg.precise ? 'P' : '';
  if (reg.type === RegType.Scalar && tnumIsConst(reg.var)) return p + decimalS(BigInt.asIntN(64, reg.var.value));
  let out = p + typeName(reg);
  if (reg.type === RegType.Stack) {
    if (reg.frameNo !== frameNo) out += `[${reg.frameNo}]`;
    if (tnumIsConst(reg.var)) return out + decimalS(BigInt.asIntN(64, reg.var.value) + BigInt(reg.off));
  }
  const parts: string[] = [];
  if (reg.id) parts.push(`id=${reg.id}${reg.addConst ? (reg.off >= 0 ? `+${reg.off}` : `${reg.off}`) : ''}`);
  if (reg.refObjId) parts.push(`ref_obj_id=${reg.refObjId}`);
  if ((reg.type === RegType.ConstMap || reg.type === RegType.MapValue || reg.type === RegType.MapKey) && reg.map) {
    if (reg.map.name) parts.push(`map=${reg.map.name}`);
    parts.push(`ks=${reg.map.keySize},vs=${reg.map.valueSize}`);
  }
  if (reg.type !== RegType.Scalar && reg.off) parts.push(`off=${decimalS(BigInt(reg.off))}`);
  if (isPacketPointer(reg)) parts.push(`r=${reg.range < 0 ? decimalU(BigInt.asUintN(16, BigInt(reg.range))) : reg.range}`);
  if (reg.type === RegType.Mem) parts.push(`sz=${decimalU(BigInt(reg.memSize))}`);
  if (tnumIsConst(reg.var)) {
    if (reg.var.value !== 0n) parts.push(`imm=${decimalS(BigInt.asIntN(64, reg.var.value))}`);
  } else {
    scalarRanges(reg, parts);
    if (!tnumIsUnknown(reg.var)) parts.push(`var_off=${formatTnum(reg.var)}`);
  }
  return `${out}(${parts.join(',')})`;
}
