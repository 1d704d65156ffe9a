// CO-RE: applies a program's .BTF.ext relocation records against a target BTF, with libbpf's
// semantics (tools/lib/bpf/relo_core.c): candidates by essential name (`___flavour` stripped),
// field matching through anonymous members, compatibility and `matches` rules, enumerators by
// name, ambiguity checks, and the instruction patching of bpf_core_patch_insn (ALU imm, LDX/ST/STX
// offset and size, lddw imm64). Where libbpf would poison an instruction or fail, this throws a
// CoreRelocationError; where it gives a value for a missing target (exists → 0) it does the same.
import { type Instruction, lddwValue, splitImm64 } from '../isa/instruction.js';
import { findSpec } from '../isa/opcodes.js';
import { Class } from '../isa/fields.js';
import type { Btf } from './btf.js';
import { type BtfCoreRelo, type BtfExt, CORE_RELO_KIND_NAMES, CoreReloKind } from './btf-ext.js';
import { formatType } from './btf-format.js';
import { BtfKind } from './btf-types.js';
import {
  type CompositeType, CoreFailure, describeAccess, type EnumType, essentialName, failure, isEnum, isEnumvalKind, isFieldKind, isTypeKind, kindOf,
  kindsCompatible, matchSpec, parseSpec, sizeOf, skip, type Spec,
} from './core-spec.js';
import { CoreRelocationError } from './errors.js';
import type { ProgramSpec } from './object.js';

export { essentialName, essentialNameLength } from './core-spec.js';

/** The offset of LDX/ST/STX is a signed 16-bit field (SHRT_MAX). */
const MAX_OFFSET = 0x7fff;

/** What a relocated program is made from: an ObjectSpec fits. */
export interface CoreLocalObject {
  readonly file: string;
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
}

/** One relocation as applied. */
export interface AppliedCoreRelocation {
  /** Slot in the linked program. */
  readonly pc: number;
  readonly section: string;
  /** Byte offset of the instruction in its section (insn_off). */
  readonly sectionOffset: number;
  /** CoreReloKind. */
  readonly kind: number;
  /** The access in C terms: `task_struct.real_parent`, `enum pid_type::PIDTYPE_PGID`, `struct mm_struct`. */
  readonly access: string;
  /** The value the object's own BTF gives (what the compiler put in the instruction). */
  readonly original: bigint;
  /** The value the target gives, now in the instruction. */
  readonly value: bigint;
  /** The target root type that matched (the first, when flavours agree); undefined when none did. */
  readonly target: number | undefined;
}

/** A program's instructions with every CO-RE relocation applied. */
export interface CoreRelocatedProgram {
  readonly insns: readonly Instruction[];
  readonly relocations: readonly AppliedCoreRelocation[];
  /** With `poison`: the relocations that failed, each instruction replaced by a call to CORE_POISON_HELPER_ID. */
  readonly poisoned: readonly CoreRelocationError[];
}

/** Options of applyCoreRelocations. */
export interface CoreRelocationOptions {
  /**
   * Do as libbpf does with a relocation that finds no target (or cannot resize a load): replace the
   * instruction by `call 0xbad2310` instead of failing, so that code guarded by an existence check
   * still loads; the call fails only if it runs. Off by default: such relocations are errors.
   */
  readonly poison?: boolean;
}

/** The helper id libbpf's poisoned instructions call ("bad relo"); no such helper exists in Linux. */
export const CORE_POISON_HELPER_ID = 0xbad2310;

// --- Values -----------------------------------------------------------------------------------

/** What one side (local or target) gives for a relocation. */
interface SideValue {
  readonly value: bigint;
  /** For FIELD_BYTE_OFFSET of a non-bitfield: the field's size and (skipped) type, for load/store size changes. */
  readonly fieldSize: number;
  readonly fieldType: number;
  /** Whether the instruction must hold exactly the local value (false where the compiler's value is not reliable). */
  readonly validate: boolean;
}

/** Marks a relocation libbpf would poison: no target, where the kind has no value for that. */
const POISON = Symbol('poison');

/** bpf_core_calc_field_relo. */
function fieldValue(kind: number, spec: Spec | undefined): SideValue | typeof POISON {
  const plain = (value: number | bigint, validate = true, fieldSize = 0, fieldType = 0): SideValue =>
    ({ value: BigInt(value), validate, fieldSize, fieldType });
  if (kind === CoreReloKind.FIELD_EXISTS) return plain(spec ? 1 : 0);
  if (!spec) return POISON;
  const acc = spec.accessors.at(-1)!;
  if (acc.name === undefined) {
    // An array element (or the root itself): only its offset and size can be relocated.
    const size = sizeOf(spec.btf, acc.typeId);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) return plain(spec.bitOffset / 8, true, size, acc.typeId);
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return plain(size);
    failure(`a ${CORE_RELO_KIND_NAMES[kind]} relocation cannot apply to an array element`);
  }
  const holder = spec.btf.typeById(acc.typeId) as CompositeType;
  const member = holder.members[acc.idx]!;
  const { id: fieldType, t: mt } = skip(spec.btf, member.type);
  const bitOffset = spec.bitOffset;
  let bits = member.bitfieldSize;
  const bitfield = bits > 0;
  let byteSize: number;
  let byteOffset: number;
  if (bitfield) {
    // The smallest aligned load of at least the member's type size that holds every bit.
    byteSize = (mt as { size: number }).size;
    byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    while (bitOffset + bits - byteOffset * 8 > byteSize * 8) {
      if (byteSize >= 8) failure('the bitfield cannot be read with one 64-bit load');
      byteSize *= 2;
      byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOf(spec.btf, fieldType);
    byteOffset = bitOffset / 8;
    bits = byteSize * 8;
  }
  // For bitfields every aspect but signedness and the right shift is ambiguous: the compiler may differ.
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return bitfield ? plain(byteOffset, false) : plain(byteOffset, true, byteSize, fieldType);
    case CoreReloKind.FIELD_BYTE_SIZE:
      return plain(byteSize, !bitfield);
    case CoreReloKind.FIELD_SIGNED: {
      const signed = (isEnum(kindOf(mt)) && (mt as EnumType).signed) || (mt?.kind === BtfKind.INT && (mt.encoding & 1) !== 0);
      return plain(signed ? 1 : 0);
    }
    case CoreReloKind.FIELD_LSHIFT_U64:
      // Little-endian: shift the field's top bit up to bit 63.
      return plain(64 - (bitOffset + bits - byteOffset * 8), !bitfield);
    case CoreReloKind.FIELD_RSHIFT_U64:
      return plain(64 - bits);
    default:
      return failure(`relocation kind ${kind} is not a field relocation`);
  }
}

/** bpf_core_calc_type_relo: a missing target gives 0 for every type relocation. */
function typeValue(kind: number, spec: Spec | undefined): SideValue {
  const v = (value: number, validate = true): SideValue => ({ value: BigInt(value), validate, fieldSize: 0, fieldType: 0 });
  if (!spec) return v(0);
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      // Type ids change when objects are linked: the compiler's value is not checked.
      return v(spec.rootTypeId, false);
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return v(1);
    case CoreReloKind.TYPE_SIZE:
      return v(sizeOf(spec.btf, spec.rootTypeId));
    default:
      return failure(`relocation kind ${kind} is not a type relocation`);
  }
}

/** bpf_core_calc_enumval_relo. 32-bit enumerators are sign-extended to 64 bits, as libbpf reads them (s32). */
function enumValue(kind: number, spec: Spec | undefined): SideValue | typeof POISON {
  const v = (value: bigint): SideValue => ({ value, validate: true, fieldSize: 0, fieldType: 0 });
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return v(spec ? 1n : 0n);
  if (!spec) return POISON;
  const acc = spec.accessors[0]!;
  const t = spec.btf.typeById(acc.typeId) as EnumType;
  const value = t.values[acc.idx]!.value;
  return v(t.kind === BtfKind.ENUM ? BigInt.asUintN(64, BigInt((value as number) | 0)) : BigInt.asUintN(64, value as bigint));
}

/** bpf_core_relo_res: the decision for one relocation. */
interface Resolution {
  readonly original: SideValue;
  readonly target: SideValue | typeof POISON;
  /** A load or store would change size in a way that changes the value read (libbpf poisons it). */
  readonly badSizeChange: boolean;
}

/** bpf_core_calc_relo: local and target values for one candidate (or none). */
function calculate(kind: number, local: Spec, target: Spec | undefined): Resolution {
  if (isFieldKind(kind)) {
    const original = fieldValue(kind, local);
    if (original === POISON) return failure('the local type does not hold the field');
    const value = fieldValue(kind, target);
    let badSizeChange = false;
    if (value !== POISON && original.fieldSize !== value.fieldSize) {
      // Safe only between pointers, or between unsigned integers (zero extension keeps the value).
      const a = local.btf.typeById(original.fieldType);
      const b = target!.btf.typeById(value.fieldType);
      const unsignedInts = a?.kind === BtfKind.INT && b?.kind === BtfKind.INT && a.encoding !== 1 && b.encoding !== 1;
      badSizeChange = !(a?.kind === BtfKind.PTR && b?.kind === BtfKind.PTR) && !unsignedInts;
    }
    return { original, target: value, badSizeChange };
  }
  if (isTypeKind(kind)) return { original: typeValue(kind, local), target: typeValue(kind, target), badSizeChange: false };
  const original = enumValue(kind, local);
  if (original === POISON) return failure('the local enum has no such enumerator');
  return { original, target: enumValue(kind, target), badSizeChange: false };
}

// --- Patching ---------------------------------------------------------------------------------

const SIZE_BITS: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const SIZE_OF_BITS = [4, 2, 1, 8];

/** bpf_core_patch_insn: writes the target value into the instruction, checking it held the local one. */
function patch(insn: Instruction, kind: number, res: Resolution): Instruction {
  if (res.target === POISON) {
    throw new CoreFailure(isEnumvalKind(kind) ? 'the target has no matching enumerator' : 'no type in the target BTF has this field', true);
  }
  const original = res.original.value;
  const value = res.target.value;
  const check = (held: bigint, what: string) => {
    if (res.original.validate && held !== original) {
      failure(`the instruction's ${what} is ${held}, but the object's BTF gives ${original}: the object's BTF and code disagree`);
    }
  };
  const cls = insn.opcode & 0x07;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      if ((insn.opcode & 0x08) !== 0) failure('the instruction at the relocation takes a register, not an immediate');
      check(BigInt.asUintN(64, BigInt(insn.imm)), 'immediate');
      return { ...insn, imm: Number(BigInt.asIntN(32, value)) };
    }
    case Class.LDX:
    case Class.ST:
    case Class.STX: {
      check(BigInt.asUintN(64, BigInt(insn.off)), 'offset');
      if (value > BigInt(MAX_OFFSET)) failure(`offset ${value} does not fit the instruction's 16-bit offset`);
      if (res.badSizeChange) {
        throw new CoreFailure('the field changes size and is neither a pointer nor an unsigned integer, so the load or store cannot be resized', true);
      }
      let out: Instruction = { ...insn, off: Number(value) };
      const from = res.original.fieldSize;
      const to = res.target.fieldSize;
      if (from !== to) {
        const bytes = SIZE_OF_BITS[(insn.opcode >> 3) & 0x03]!;
        if (bytes !== from) failure(`the instruction accesses ${bytes} bytes, but the field is ${from} bytes`);
        if (SIZE_BITS[to] === undefined) failure(`the target field is ${to} bytes, which no load or store accesses`);
        const opcode = (insn.opcode & ~0x18) | SIZE_BITS[to]!;
        const row = findSpec(opcode, insn) ?? failure(`no instruction accesses ${to} bytes like this one`);
        out = { ...out, opcode, op: row.op };
      }
      return out;
    }
    case Class.LD: {
      if (insn.immHi === undefined || insn.src !== 0 || insn.off !== 0) failure('the instruction at the relocation is not a plain 64-bit immediate load');
      check(lddwValue(insn), '64-bit immediate');
      return { ...insn, ...splitImm64(value) };
    }
    default:
      return failure(`cannot relocate an instruction of opcode 0x${insn.opcode.toString(16)}`);
  }
}

/** bpf_core_poison_insn: a call to a helper that does not exist (an lddw keeps its width, as two poisoned slots do). */
function poisonCall(pc: number): Instruction {
  const row = findSpec(0x85, { src: 0, off: 0, imm: CORE_POISON_HELPER_ID })!;
  return { pc, op: row.op, opcode: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON_HELPER_ID };
}

// --- The pass ---------------------------------------------------------------------------------

/** Candidate target types per local root type, pruned as relocations match (libbpf's cand_cache). */
type CandidateCache = Map<number, number[]>;

/** bpf_core_find_cands: target types of a compatible kind whose essential name is the local one's. */
function candidates(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId, 'CO-RE root');
  const name = essentialName(lt.name);
  const found: number[] = [];
  for (const t of target.types) {
    if (t && t.name !== '' && kindsCompatible(t.kind, lt.kind) && essentialName(t.name) === name) found.push(t.id);
  }
  return found;
}

/** bpf_core_calc_relo_insn: the decision for one relocation, over every candidate. */
function resolve(local: Btf, relo: BtfCoreRelo, spec: Spec, target: Btf, cache: CandidateCache): { res: Resolution; matched: number | undefined } {
  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    const v: SideValue = { value: BigInt(relo.typeId), validate: false, fieldSize: 0, fieldType: 0 };
    return { res: { original: v, target: v, badSizeChange: false }, matched: undefined };
  }
  if (local.type(relo.typeId).name === '') failure('libbpf does not relocate anonymous types');
  let cands = cache.get(relo.typeId);
  if (!cands) {
    cands = candidates(local, relo.typeId, target);
    cache.set(relo.typeId, cands);
  }
  let chosen: { res: Resolution; spec: Spec; id: number } | undefined;
  const kept: number[] = [];
  for (const id of cands) {
    const cand = matchSpec(spec, relo.kind, target, id);
    if (!cand) continue;
    const res = calculate(relo.kind, spec, cand);
    if (!chosen) {
      chosen = { res, spec: cand, id };
    } else if (cand.bitOffset !== chosen.spec.bitOffset) {
      failure(`ambiguous target: candidates [${chosen.id}] ${formatType(target, chosen.id)} and [${id}] ${formatType(target, id)} ` +
        `place the field at different offsets (bit ${chosen.spec.bitOffset} and ${cand.bitOffset})`);
    } else if ((res.target === POISON) !== (chosen.res.target === POISON) ||
      (res.target !== POISON && chosen.res.target !== POISON && res.target.value !== chosen.res.target.value)) {
      const show = (r: Resolution) => (r.target === POISON ? 'failure' : String(r.target.value));
      failure(`ambiguous target: candidates [${chosen.id}] ${formatType(target, chosen.id)} and [${id}] ${formatType(target, id)} ` +
        `give different values (${show(chosen.res)} and ${show(res)})`);
    }
    kept.push(id);
  }
  // Later relocations of the same root only consider the candidates that matched so far.
  if (kept.length > 0) cache.set(relo.typeId, kept);
  if (chosen) return { res: chosen.res, matched: chosen.id };
  return { res: calculate(relo.kind, spec, undefined), matched: undefined };
}

/**
 * Applies every CO-RE relocation of `program` against `target` (a kernel's BTF; see
 * runtime/kernel-btf.ts) and returns the patched instructions with what each relocation did.
 * Relocations are resolved in the order of the object's .BTF.ext, with libbpf's candidate pruning
 * shared across the whole object; those outside the program's linked functions are resolved for
 * that pruning but not reported. Throws CoreRelocationError naming the file, section, offset and access.
 */
export function applyCoreRelocations(program: ProgramSpec, object: CoreLocalObject, target: Btf, options: CoreRelocationOptions = {}): CoreRelocatedProgram {
  const ext = object.btfExt;
  if (!ext || ext.coreRelos.length === 0) return { insns: program.insns, relocations: [], poisoned: [] };
  const local = object.btf!;
  const insns = [...program.insns];
  const byPc = new Map(insns.map((insn, i) => [insn.pc, i]));
  const applied: AppliedCoreRelocation[] = [];
  const poisoned: CoreRelocationError[] = [];
  /** Poisoned lddws become two calls, as in libbpf: the second slot's call, by the lddw's index. */
  const secondSlots = new Map<number, Instruction>();
  const cache: CandidateCache = new Map();
  for (const block of ext.coreRelos) {
    const functions = program.functions.filter((f) => f.section === block.section);
    for (const relo of block.records) {
      const fn = functions.find((f) => relo.pc >= f.sectionPc && relo.pc < f.sectionPc + f.slots);
      if (!fn) {
        // Another program's instruction: resolved only so that candidate pruning follows libbpf.
        try {
          resolve(local, relo, parseSpec(local, relo), target, cache);
        } catch (err) {
          if (!(err instanceof CoreFailure)) throw err;
        }
        continue;
      }
      let spec: Spec | undefined;
      let index: number | undefined;
      try {
        spec = parseSpec(local, relo);
        const { res, matched } = resolve(local, relo, spec, target, cache);
        const pc = fn.pc + (relo.pc - fn.sectionPc);
        index = byPc.get(pc) ?? failure('the relocation does not point at the start of an instruction');
        insns[index] = patch(insns[index]!, relo.kind, res);
        applied.push({
          pc,
          section: block.section,
          sectionOffset: relo.insnOff,
          kind: relo.kind,
          access: describeAccess(local, relo, spec),
          original: res.original.value,
          value: (res.target as SideValue).value,
          target: matched,
        });
      } catch (err) {
        if (!(err instanceof CoreFailure)) throw err;
        const access = describeAccess(local, relo, spec);
        const error = new CoreRelocationError(object.file, block.section, relo.insnOff, CORE_RELO_KIND_NAMES[relo.kind]!, access, err.message, { cause: err });
        if (!options.poison || !err.poisonable || index === undefined) throw error;
        const held = insns[index]!;
        insns[index] = poisonCall(held.pc);
        if (held.immHi !== undefined) secondSlots.set(index, poisonCall(held.pc + 1));
        poisoned.push(error);
      }
    }
  }
  const out = secondSlots.size === 0 ? insns : insns.flatMap((insn, i) => (secondSlots.has(i) ? [insn, secondSlots.get(i)!] : [insn]));
  return { insns: out, relocations: applied, poisoned };
}
