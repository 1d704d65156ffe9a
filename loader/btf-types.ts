// BTF type records as plain data, one interface per kind, with the kernel's numbers
// (include/uapi/linux/btf.h, Documentation/bpf/btf.rst), and the error every BTF reader throws.
import { BpfError } from '../isa/errors.js';

/** BTF_KIND_* numbers. */
export const BtfKind = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** A BTF_KIND_* number. */
export type BtfKindNumber = (typeof BtfKind)[keyof typeof BtfKind];

/** The kinds' names as bpftool prints them, indexed by kind number. */
export const BTF_KIND_NAMES: readonly string[] = ['UNKNOWN', ...Object.keys(BtfKind)];

/** BTF_INT_ENCODING bits of an INT. */
export const BtfIntEncoding = { SIGNED: 1, CHAR: 2, BOOL: 4 } as const;

/** btf_func_linkage: a FUNC's vlen. */
export const BtfFuncLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

/** A VAR's linkage (BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN). */
export const BtfVarLinkage = { STATIC: 0, GLOBAL_ALLOCATED: 1, GLOBAL_EXTERN: 2 } as const;

/** Fields every type record has. */
interface BtfTypeCommon {
  /** Type id: 1 for the first record; 0 is void and has no record. */
  readonly id: number;
  /** '' for anonymous types. */
  readonly name: string;
  /** Byte offset of the record in the file (or in the blob, for a bare BTF blob); errors name it. */
  readonly at: number;
}

/** BTF_KIND_INT: an integer of `size` bytes whose value is `bits` bits from `bitOffset`. */
export interface BtfInt extends BtfTypeCommon {
  readonly kind: typeof BtfKind.INT;
  readonly size: number;
  /** BtfIntEncoding bits. */
  readonly encoding: number;
  readonly bitOffset: number;
  readonly bits: number;
}

/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT and TYPE_TAG: a name or qualifier on another type. */
export interface BtfRef extends BtfTypeCommon {
  readonly kind:
    | typeof BtfKind.PTR
    | typeof BtfKind.TYPEDEF
    | typeof BtfKind.VOLATILE
    | typeof BtfKind.CONST
    | typeof BtfKind.RESTRICT
    | typeof BtfKind.TYPE_TAG;
  readonly type: number;
}

/** BTF_KIND_ARRAY: `length` elements of `type`. */
export interface BtfArray extends BtfTypeCommon {
  readonly kind: typeof BtfKind.ARRAY;
  readonly type: number;
  readonly indexType: number;
  readonly length: number;
}

/** A struct or union member. */
export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** Width of a bitfield member (kind_flag set and non-zero size); 0 otherwise. */
  readonly bitfieldSize: number;
}

/** BTF_KIND_STRUCT and BTF_KIND_UNION. */
export interface BtfComposite extends BtfTypeCommon {
  readonly kind: typeof BtfKind.STRUCT | typeof BtfKind.UNION;
  readonly size: number;
  /** kind_flag: members' offsets hold a bitfield size in their top 8 bits. */
  readonly kindFlag: boolean;
  readonly members: readonly BtfMember[];
}

/** An enumerator; ENUM values are numbers, ENUM64 values bigints. */
export interface BtfEnumValue<V> {
  readonly name: string;
  readonly value: V;
}

/** BTF_KIND_ENUM: 32-bit enumerators, signed when kind_flag is set. */
export interface BtfEnum extends BtfTypeCommon {
  readonly kind: typeof BtfKind.ENUM;
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue<number>[];
}

/** BTF_KIND_ENUM64: 64-bit enumerators, signed when kind_flag is set. */
export interface BtfEnum64 extends BtfTypeCommon {
  readonly kind: typeof BtfKind.ENUM64;
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue<bigint>[];
}

/** BTF_KIND_FWD: a struct or union declared but not defined here. */
export interface BtfFwd extends BtfTypeCommon {
  readonly kind: typeof BtfKind.FWD;
  readonly union: boolean;
}

/** BTF_KIND_FUNC: a function, its FUNC_PROTO and its linkage. */
export interface BtfFunc extends BtfTypeCommon {
  readonly kind: typeof BtfKind.FUNC;
  readonly type: number;
  /** BtfFuncLinkage. */
  readonly linkage: number;
}

/** A FUNC_PROTO parameter; a last parameter with name '' and type 0 means `...`. */
export interface BtfParam {
  readonly name: string;
  readonly type: number;
}

/** BTF_KIND_FUNC_PROTO: return type and parameters. */
export interface BtfFuncProto extends BtfTypeCommon {
  readonly kind: typeof BtfKind.FUNC_PROTO;
  readonly returnType: number;
  readonly params: readonly BtfParam[];
}

/** BTF_KIND_VAR: a global variable. */
export interface BtfVar extends BtfTypeCommon {
  readonly kind: typeof BtfKind.VAR;
  readonly type: number;
  /** BtfVarLinkage. */
  readonly linkage: number;
}

/** One variable of a DATASEC. */
export interface BtfVarSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

/** BTF_KIND_DATASEC: the variables of a data section (clang leaves size 0 in objects). */
export interface BtfDatasec extends BtfTypeCommon {
  readonly kind: typeof BtfKind.DATASEC;
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}

/** BTF_KIND_FLOAT. */
export interface BtfFloat extends BtfTypeCommon {
  readonly kind: typeof BtfKind.FLOAT;
  readonly size: number;
}

/** BTF_KIND_DECL_TAG: a tag on a declaration, or on its member/parameter `componentIndex` (-1: the whole). */
export interface BtfDeclTag extends BtfTypeCommon {
  readonly kind: typeof BtfKind.DECL_TAG;
  readonly type: number;
  readonly componentIndex: number;
}

/** Any BTF type record. */
export type BtfType =
  | BtfInt
  | BtfRef
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

/** The .BTF header (struct btf_header). */
export interface BtfHeader {
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  /** Offsets are relative to the end of the header, as in the file. */
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

/** Where a BTF problem is: the section and the byte offset (in the file when the section's offset is known). */
export interface BtfLocation {
  readonly section?: string;
  readonly offset?: number;
}

/** A malformed, truncated or inconsistent .BTF or .BTF.ext: names the file, the section and the byte offset. */
export class BtfError extends BpfError {
  readonly section: string | undefined;
  readonly offset: number | undefined;

  constructor(
    readonly file: string,
    detail: string,
    where: BtfLocation = {},
    options?: { cause?: unknown },
  ) {
    const parts = [file];
    if (where.section !== undefined) parts.push(`section ${where.section}`);
    if (where.offset !== undefined) parts.push(`offset 0x${where.offset.toString(16)}`);
    super('bad-btf', `${parts.join(': ')}: ${detail}`, options);
    this.section = where.section;
    this.offset = where.offset;
  }
}
