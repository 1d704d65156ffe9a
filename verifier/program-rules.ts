// What each program type may do, as Linux's verifier ops for that type decide it: its context and
// what r1 (and r2) hold at entry, direct packet access, legacy LD_ABS/IND, and the range the
// program's return value must be in (check_return_code).
import type { AttachPoint } from '../loader/program-types.js';
import { contextRule, type AccessRule } from './context.js';
import { constScalar, NOT_INIT, pointer, RegType, type Reg } from './registers.js';

/** The rules of one program type. */
export interface ProgramRules {
  readonly type: string;
  /** Context access rule (undefined: r1 is not a context, as for 'raw'). */
  readonly ctx: AccessRule | undefined;
  /** r1..r5 at entry. */
  readonly entryArgs: readonly Reg[];
  readonly packetRead: boolean;
  readonly packetWrite: boolean;
  /** BPF_LD_ABS and BPF_LD_IND are allowed (Linux may_access_skb). */
  readonly ldAbs: boolean;
  /** The range r0 must be in at the main program's exit (none: any scalar). */
  readonly returnRange?: readonly [number, number];
}

/** The rules of a program type; undefined for a type the verifier has no model of. */
export function programRules(type: string, attach: AttachPoint, rawMemorySize = 0): ProgramRules | undefined {
  const ctx = contextRule(type, attach);
  const ctxArgs = [pointer(RegType.Ctx), NOT_INIT, NOT_INIT, NOT_INIT, NOT_INIT];
  switch (type) {
    case 'xdp':
      return { type, ctx, entryArgs: ctxArgs, packetRead: true, packetWrite: true, ldAbs: false };
    case 'sched_cls':
      return { type, ctx, entryArgs: ctxArgs, packetRead: true, packetWrite: true, ldAbs: true };
    case 'socket_filter':
      return { type, ctx, entryArgs: ctxArgs, packetRead: false, packetWrite: false, ldAbs: true };
    case 'cgroup_skb':
      // Egress programs may also return 2 and 3 (congestion notification); ingress only 0 and 1.
      return { type, ctx, entryArgs: ctxArgs, packetRead: true, packetWrite: false, ldAbs: false, returnRange: attach === 'egress' ? [0, 3] : [0, 1] };
    case 'kprobe': case 'tracepoint': case 'raw_tracepoint': case 'tracing':
      return { type, ctx, entryArgs: ctxArgs, packetRead: false, packetWrite: false, ldAbs: false };
    case 'raw':
      // The conformance convention: r1 points at memory of a size known when the program runs, r2 holds it.
      return {
        type, ctx: undefined, packetRead: false, packetWrite: false, ldAbs: false,
        entryArgs: [pointer(RegType.Mem, { memSize: rawMemorySize }), constScalar(BigInt(rawMemorySize)), NOT_INIT, NOT_INIT, NOT_INIT],
      };
    default:
      return undefined;
  }
}
