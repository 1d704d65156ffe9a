// The only file that imports binaryen. It is loaded lazily (it takes about half a second), and
// this module owns what binaryen keeps process-global or easy to get wrong: features, the memory
// import, optimisation levels (set and restored around each use), validation and disposal.
import type binaryenNamespace from 'binaryen';
import { BpfError } from '../isa/errors.js';

/** The binaryen namespace, for code generators that build expressions (they never import binaryen). */
export type Binaryen = typeof binaryenNamespace;
/** A binaryen module under construction. */
export type WasmModule = binaryenNamespace.Module;
/** A binaryen expression. */
export type Expr = binaryenNamespace.ExpressionRef;
/** binaryen's Relooper, which structures a control-flow graph of blocks. */
export type Relooper = binaryenNamespace.Relooper;
/** A binaryen value type. */
export type WasmType = binaryenNamespace.Type;

let loading: Promise<Binaryen> | undefined;
let loadMs = 0;

/** Loads binaryen once; later calls share the same promise. */
export function loadBinaryen(): Promise<Binaryen> {
  loading ??= (async () => {
    const start = performance.now();
    const mod = await import('binaryen');
    loadMs = performance.now() - start;
    return mod.default;
  })();
  return loading;
}

/** Milliseconds the first loadBinaryen() took (0 before it finished). */
export function binaryenLoadMs(): number {
  return loadMs;
}

/** The generated module failed binaryen's validation: a bug in the code generator. */
export class WasmValidationError extends BpfError {
  constructor(detail: string) {
    super('wasm-invalid', `generated WebAssembly does not validate: ${detail}`);
  }
}

/**
 * Passes of optimisation level 1, the default: inline small functions (bpf-to-bpf calls are
 * frequent and cheap to inline) and drop dead code. V8's optimising tier does the rest; binaryen's
 * full -O2 measured no faster at run time here and costs about 15 times the compile time.
 */
const FAST_PASSES = ['inlining', 'vacuum'];

/** Options for finishing a module. */
export interface FinishOptions {
  /** 0: no optimisation; 1: inlining and dead code (FAST_PASSES); 2..4: binaryen's full -O2..-O4. */
  readonly optimize: number;
  /** Also return the WebAssembly text. */
  readonly text?: boolean;
}

/** What a finished module gives back. */
export interface FinishedModule {
  readonly binary: Uint8Array;
  readonly text?: string;
}

/**
 * Creates a module with the features the lowering uses and guest memory imported as env.memory,
 * lets `build` fill it, then validates, optimises and emits it, and always disposes of it.
 */
export function buildModule(b: Binaryen, build: (m: WasmModule) => void, options: FinishOptions): FinishedModule {
  const m = new b.Module();
  try {
    m.setFeatures(b.Features.MVP | b.Features.SignExt | b.Features.MutableGlobals | b.Features.BulkMemory | b.Features.BulkMemoryOpt | b.Features.ReferenceTypes);
    // No maximum: any guest memory the host gives (ours has one; a standalone host may not).
    m.setMemory(0, -1, null, [], false, false, 'memory');
    m.addMemoryImport('memory', 'env', 'memory');
    build(m);
    if (!m.validate()) throw new WasmValidationError('see the messages binaryen printed above');
    if (options.optimize === 1) {
      m.runPasses(FAST_PASSES);
    } else if (options.optimize > 1) {
      const previous = b.getOptimizeLevel();
      const previousShrink = b.getShrinkLevel();
      b.setOptimizeLevel(options.optimize);
      b.setShrinkLevel(0);
      try {
        m.optimize();
      } finally {
        b.setOptimizeLevel(previous);
        b.setShrinkLevel(previousShrink);
      }
    }
    return { binary: m.emitBinary(), ...(options.text ? { text: m.emitText() } : {}) };
  } finally {
    m.dispose();
  }
}
