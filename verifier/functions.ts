// Calls between BPF functions and returns (Linux check_func_call, push_callback_call and
// prepare_func_exit): frames and their limits, callbacks of bpf_loop and bpf_for_each_map_elem
// walked as loops that return to the helper call, and what the program may return at its exit.
import type { Instruction } from '../isa/instruction.js';
import type { HelperSpec } from '../helpers/table.js';
import { MAX_FRAMES } from '../isa/abi.js';
import { Op, specOf } from '../isa/opcodes.js';
import type { ControlFlow } from './cfg.js';
import type { Env, VerifierInput } from './env.js';
import { readReg } from './alu.js';
import { leakMessage } from './helper-calls.js';
import { regAt } from './memory.js';
import { reject, rejectAt } from './reject.js';
import { NOT_INIT, pointer, RegType, typeName, unknownScalar, type MapInfo, type Reg } from './registers.js';
import { curFrame, newFrame, type State } from './state.js';

const CallbackHelper = { loop: 181, forEachMapElem: 164 } as const;
const TAIL_CALL = 12;

/** Linux verbose_invalid_scalar: "... has smin=1 smax=5 should have been in [0, 1]". */
function rangeMessage(reg: Reg, range: readonly [number, number], where: string, name: string): string {
  let text = `${where} the register ${name} has`;
  let unknown = true;
  if (reg.smin > -(1n << 63n)) {
    text += ` smin=${reg.smin}`;
    unknown = false;
  }
  if (reg.smax < (1n << 63n) - 1n) {
    text += ` smax=${reg.smax}`;
    unknown = false;
  }
  if (unknown) text += ' unknown scalar value';
  return `${text} should have been in [${range[0]}, ${range[1]}]`;
}

function subprogAt(env: Env, pc: number): number {
  const s = env.cfg.subprograms.find((p) => p.start === pc);
  if (!s) reject('cfg-range', `verifier bug. No program starts at insn ${pc}`);
  return s.index;
}

/** A call to a BPF function: a new frame with r1..r5 passed, the caller's r0..r5 gone. Returns the callee's first pc. */
export function checkLocalCall(env: Env, insn: Instruction): number {
  const state = env.state;
  if (state.frames.length >= MAX_FRAMES) reject('call-depth', `the call stack of ${state.frames.length + 1} frames is too deep`);
  const target = insn.pc + 1 + insn.imm;
  const subprog = subprogAt(env, target);
  const caller = curFrame(state);
  const callee = newFrame(state.frames.length, insn.pc, subprog);
  for (let r = 1; r <= 5; r++) callee.regs[r] = caller.regs[r]!;
  for (let r = 0; r <= 5; r++) caller.regs[r] = NOT_INIT;
  state.frames.push(callee);
  return target;
}

/**
 * A helper that runs a callback: the callback is walked as a call made from the helper's call
 * site, on a path of its own; when it returns, the helper call is checked again, which may run it
 * once more (bpf_loop, up to its count) until the states repeat. This path goes on past the call.
 */
export function pushCallback(env: Env, insn: Instruction, helper: HelperSpec, subprogPc: number, map: MapInfo | undefined): void {
  const state = env.state;
  const caller = curFrame(state);
  if (helper.id === CallbackHelper.loop) {
    // bpf_loop runs at most r1 times: stop unrolling once this path has run it that often.
    const count = regAt(env, 1).umax;
    if (BigInt(caller.callbackDepth) >= count) {
      caller.callbackDepth = 0;
      return;
    }
  }
  if (state.frames.length >= MAX_FRAMES) reject('call-depth', `the call stack of ${state.frames.length + 1} frames is too deep`);
  const subprog = env.cfg.subprograms[subprogPc];
  if (!subprog) reject('callback', 'callback is not a function of this program');
  const regs = caller.regs;
  env.fork(subprog.start, (s: State) => {
    const outer = curFrame(s);
    const callee = newFrame(s.frames.length, insn.pc, subprog.index);
    callee.inCallback = true;
    callee.callbackHelper = helper.id;
    callee.callbackRet = [0, 1];
    if (helper.id === CallbackHelper.loop) {
      callee.regs[1] = unknownScalar();
      callee.regs[2] = regs[3]!;
    } else {
      callee.regs[1] = pointer(RegType.ConstMap, { map });
      callee.regs[2] = pointer(RegType.MapKey, { map });
      callee.regs[3] = pointer(RegType.MapValue, { map });
      callee.regs[4] = regs[3]!;
    }
    outer.callbackDepth++;
    s.callbackDepth++;
    s.frames.push(callee);
  });
  caller.callbackDepth = 0;
}

/** What exit means in the current frame. Returns the pc to continue at, or undefined when the path ends. */
export function checkExit(env: Env): number | undefined {
  const state = env.state;
  const frame = curFrame(state);
  if (state.frames.length === 1) {
    if (state.lock) reject('lock', 'bpf_spin_unlock is missing');
    const leak = leakMessage(state);
    if (leak) reject('ref-leak', `${leak}\nBPF_EXIT instruction in main prog would lead to reference leak`);
    const r0 = readReg(env, 0);
    const range = env.rules.returnRange;
    if (range) {
      if (r0.type !== RegType.Scalar) reject('return-value', `At program exit the register R0 is not a known value (${typeName(r0)})`, [0]);
      if (r0.smin < BigInt(range[0]) || r0.smax > BigInt(range[1])) reject('return-value', rangeMessage(r0, range, 'At program exit', 'R0'), [0]);
    }
    return undefined;
  }
  if (frame.inCallback) {
    const leak = leakMessage(state, frame.frameNo);
    if (leak) reject('ref-leak', leak);
  }
  const r0 = regAt(env, 0);
  if (r0.type === RegType.Stack) reject('return-value', 'cannot return stack pointer to the caller', [0]);
  state.frames.pop();
  const caller = curFrame(state);
  if (frame.inCallback) {
    if (r0.type !== RegType.Scalar) reject('return-value', 'R0 not a scalar value', [0]);
    const range = frame.callbackRet;
    if (r0.smin < BigInt(range[0]) || r0.smax > BigInt(range[1])) reject('return-value', rangeMessage(r0, range, 'At callback return', 'R0'), [0]);
    // Back to the helper call, which decides whether the callback runs again.
    env.afterCallback(frame.callsite);
    return frame.callsite;
  }
  caller.regs[0] = r0;
  return frame.callsite + 1;
}

/**
 * Linux check_btf_func: a subprogram that uses LD_ABS/LD_IND or tail-calls hands r0 back from them
 * when they fail, so BTF must say it returns an integer. Checked before any path is walked.
 */
export function checkFunctionReturnTypes(cfg: ControlFlow, functions: VerifierInput['functions']): void {
  for (const sub of cfg.subprograms) {
    if (sub.index === 0 || functions?.find((f) => f.pc === sub.start)?.returnsInt !== false) continue;
    for (let pc = sub.start; pc < sub.end; pc++) {
      const insn = cfg.byPc[pc];
      if (!insn) continue;
      const form = specOf(insn.op).form;
      if (form === 'ldabs' || form === 'ldind') rejectAt(pc, 'func-return-type', 'LD_ABS is only allowed in functions that return \'int\'.');
      if (insn.op === Op.CallHelper && insn.imm === TAIL_CALL) rejectAt(pc, 'func-return-type', 'tail_call is only allowed in functions that return \'int\'.');
    }
  }
}
