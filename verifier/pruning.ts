// State pruning (Linux is_state_visited, states_equal, regsafe, stacksafe, refsafe): a path that
// reaches a prune point in a state some fully explored state there already covers is safe and
// stops. Scalars are compared by their bounds everywhere (Linux compares only those it marked
// precise; comparing all is stricter, so never less safe); registers no later instruction reads
// are ignored (static liveness, cfg.ts). Loops whose states repeat exactly are infinite.
import { boundsWithin } from './bounds.js';
import { reject } from './reject.js';
import { RegType, unknownScalar, type Reg } from './registers.js';
import { copyState, type Checkpoint, type Frame, isSpilled, slotAt, StackByte, type State } from './state.js';

/** Keeps old-to-current id pairs consistent across one comparison (Linux struct bpf_idmap). */
class IdMap {
  private readonly pairs = new Map<number, number>();
  private readonly seen = new Set<number>();
  private fresh = -1;

  /** Linux check_ids: both zero, or a consistent one-to-one pairing. */
  check(old: number, cur: number): boolean {
    if ((old === 0) !== (cur === 0)) return false;
    if (old === 0) return true;
    const paired = this.pairs.get(old);
    if (paired !== undefined) return paired === cur;
    if (this.seen.has(cur)) return false;
    this.pairs.set(old, cur);
    this.seen.add(cur);
    return true;
  }

  /** Linux check_scalar_ids: an unlinked current scalar gets a fresh id of its own. */
  checkScalar(old: number, cur: number): boolean {
    if (!old) return true;
    return this.check(old, cur || this.fresh--);
  }
}

/** How strictly two states are compared. */
export type Exactness = 'within' | 'exact';

function sameShape(old: Reg, cur: Reg): boolean {
  return old.type === cur.type && old.nullable === cur.nullable && old.rdonly === cur.rdonly && old.off === cur.off
    && old.map === cur.map && old.memSize === cur.memSize && old.memKind === cur.memKind && old.range === cur.range
    && old.frameNo === cur.frameNo && old.subprog === cur.subprog && old.btfName === cur.btfName;
}

function exactlyEqual(old: Reg, cur: Reg, ids: IdMap): boolean {
  return sameShape(old, cur) && old.addConst === cur.addConst && boundsWithin(old, cur) && boundsWithin(cur, old)
    && ids.check(old.id, cur.id) && ids.check(old.refObjId, cur.refObjId);
}

/** Linux regsafe: whatever `cur` may hold, the explored `old` allowed. */
function regSafe(old: Reg, cur: Reg, ids: IdMap, exact: Exactness): boolean {
  if (exact === 'exact') return old.type === RegType.NotInit ? cur.type === RegType.NotInit : exactlyEqual(old, cur, ids);
  if (old.type === RegType.NotInit) return true;
  if (old.type !== cur.type || old.nullable !== cur.nullable || old.rdonly !== cur.rdonly) return false;
  switch (old.type) {
    case RegType.Scalar:
      if (old.addConst !== cur.addConst || (old.addConst && old.off !== cur.off)) return false;
      return boundsWithin(old, cur) && ids.checkScalar(old.id, cur.id);
    case RegType.MapKey: case RegType.MapValue: case RegType.Mem:
      return sameShape(old, cur) && boundsWithin(old, cur) && ids.check(old.id, cur.id) && ids.check(old.refObjId, cur.refObjId);
    case RegType.Packet: case RegType.PacketMeta:
      // The current pointer must have at least the range the old one had, at the same offset.
      if (old.range > cur.range || old.off !== cur.off || !ids.check(old.id, cur.id)) return false;
      return boundsWithin(old, cur);
    default:
      return exactlyEqual(old, cur, ids);
  }
}

/** A slot's contents read as one 64-bit scalar, when they can be (Linux scalar_reg_for_stack). */
function scalarOfSlot(types: string, spill: Reg | undefined): Reg | undefined {
  if (types === 'rrrrrrrr' && spill?.type === RegType.Scalar) return spill;
  if (/^[m?]{8}$/.test(types)) return unknownScalar();
  return undefined;
}

/** Linux stacksafe (privileged: bytes the explored path saw as unknown data match anything). */
function stackSafe(old: Frame, cur: Frame, ids: IdMap, exact: Exactness): boolean {
  const slots = Math.max(old.stack.length, exact === 'exact' ? cur.stack.length : 0);
  for (let spi = 0; spi < slots; spi++) {
    const o = slotAt(old, spi);
    const c = slotAt(cur, spi);
    // A dynptr must be the same kind and start at the same slot (Linux stacksafe, STACK_DYNPTR).
    if (o.dynptr && (!c.dynptr || c.dynptr.first !== o.dynptr.first || c.dynptr.kind !== o.dynptr.kind)) return false;
    if (exact === 'exact') {
      if (o.types !== c.types) return false;
      if (isSpilled(o) && !regSafe(o.spill!, c.spill!, ids, exact)) return false;
      continue;
    }
    if (/^[?m]{8}$/.test(o.types)) continue;
    const os = scalarOfSlot(o.types, o.spill);
    const cs = scalarOfSlot(c.types, c.spill);
    if (os && cs) {
      if (!regSafe(os, cs, ids, exact)) return false;
      continue;
    }
    for (let k = 0; k < 8; k++) {
      const ot = o.types[k]!;
      const ct = c.types[k]!;
      if (ot === StackByte.INVALID || ot === StackByte.MISC) continue;
      if (ot !== ct) return false;
    }
    if (isSpilled(o) && (!isSpilled(c) || !regSafe(o.spill!, c.spill!, ids, exact))) return false;
  }
  return true;
}

/**
 * Linux states_equal: same frames and call sites, same lock and references (ids paired), every
 * live register and every used stack slot covered. `live(frame)` gives the live registers of a frame.
 */
export function statesEqual(old: State, cur: State, exact: Exactness, live: (frameIndex: number) => number): boolean {
  if (old.frames.length !== cur.frames.length) return false;
  const ids = new IdMap();
  if ((old.lock === undefined) !== (cur.lock === undefined)) return false;
  if (old.lock && cur.lock && (old.lock.map !== cur.lock.map || !ids.check(old.lock.id, cur.lock.id))) return false;
  if (old.refs.length !== cur.refs.length) return false;
  for (let i = 0; i < old.refs.length; i++) {
    if (old.refs[i]!.frame !== cur.refs[i]!.frame || !ids.check(old.refs[i]!.id, cur.refs[i]!.id)) return false;
  }
  for (let f = 0; f < old.frames.length; f++) {
    const of = old.frames[f]!;
    const cf = cur.frames[f]!;
    if (of.callsite !== cf.callsite || of.inCallback !== cf.inCallback) return false;
    if (of.callbackDepth > cf.callbackDepth) return false;
    const mask = exact === 'exact' ? 0x3ff : live(f);
    for (let r = 0; r < 10; r++) {
      if ((mask & (1 << r)) === 0) continue;
      if (!regSafe(of.regs[r]!, cf.regs[r]!, ids, exact)) return false;
    }
    if (!stackSafe(of, cf, ids, exact)) return false;
  }
  return true;
}

/** Whether widening forgets `cur`: a scalar that changed, unless one of the two values decided a branch. */
function widens(prev: Reg, cur: Reg): boolean {
  if (prev.type !== RegType.Scalar || cur.type !== RegType.Scalar || prev.precise || cur.precise) return false;
  return !exactlyEqual(prev, cur, new IdMap());
}

/**
 * Scalars of `cur` that differ from the earlier visit `prev` become unknown, so a loop's states
 * converge. Linux lets only imprecise scalars differ, and a scalar turns precise mostly when its
 * known value decides a branch: those stay, so counted loops still count.
 */
export function widenScalars(prev: State, cur: State): void {
  for (let f = 0; f < Math.min(prev.frames.length, cur.frames.length); f++) {
    const pf = prev.frames[f]!;
    const cf = cur.frames[f]!;
    for (let r = 0; r < 10; r++) {
      if (widens(pf.regs[r]!, cf.regs[r]!)) cf.regs[r] = unknownScalar();
    }
    for (let spi = 0; spi < cf.stack.length; spi++) {
      const ps = slotAt(pf, spi);
      const cs = slotAt(cf, spi);
      if (!isSpilled(cs) || !isSpilled(ps) || !widens(ps.spill!, cs.spill!)) continue;
      cf.stack[spi] = { types: cs.types, spill: unknownScalar() };
    }
  }
}

/** The explored states, by pc, and the bookkeeping that decides when to store one. */
export class ExploredStates {
  private readonly byPc = new Map<number, Checkpoint[]>();
  /** Stored states, for the statistics. */
  count = 0;
  peak = 0;

  /** The checkpoints stored at a pc. */
  at(pc: number): readonly Checkpoint[] {
    return this.byPc.get(pc) ?? [];
  }

  /** Stores a copy of `cur` at `pc`; `cur` continues as its descendant. */
  add(pc: number, cur: State): Checkpoint {
    const checkpoint: Checkpoint = { state: copyState(cur), pc, branches: 1, parent: cur.parent, hits: 0, misses: 0 };
    cur.parent = checkpoint;
    let list = this.byPc.get(pc);
    if (!list) this.byPc.set(pc, (list = []));
    list.push(checkpoint);
    this.count++;
    this.peak = Math.max(this.peak, this.count);
    return checkpoint;
  }

  /**
   * Forgets explored states at `pc` that keep failing to prune (Linux's miss_cnt rule), in-progress ones
   * too: the paths below them keep their parent links. Loop heads that must checkpoint keep theirs longer.
   */
  evict(pc: number, force: boolean): void {
    const list = this.byPc.get(pc);
    if (!list) return;
    const kept = list.filter((c) => {
      const n = force && c.branches > 0 ? 64 : 3;
      return c.misses <= c.hits * n + n;
    });
    this.count -= list.length - kept.length;
    this.byPc.set(pc, kept);
  }
}

/** A path finished (exited or was pruned): the checkpoints it descends from may now be complete. */
export function finishPath(state: State): void {
  for (let c = state.parent; c; c = c.parent) {
    if (--c.branches > 0) break;
  }
}

/** Linux's infinite-loop verdict, with the two states that repeat. */
export function infiniteLoop(pc: number): never {
  reject('infinite-loop', `infinite loop detected at insn ${pc}`);
}
