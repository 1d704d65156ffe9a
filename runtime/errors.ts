// The runtime's own misuse error, apart from runtime.ts so that the modules runtime.ts imports can throw it too.
import { BpfError } from '../isa/errors.js';

/** A runtime-level misuse: an unknown name, a closed object, a map of another runtime, a bad option. */
export class RuntimeError extends BpfError {
  constructor(detail: string) {
    super('runtime', detail);
  }
}

/** LoadOptions.globals that cannot be set: the section they name, and what is wrong (`detail`). */
export class GlobalDataError extends RuntimeError {
  constructor(file: string, readonly section: string, readonly detail: string) {
    super(`${file}: ${section}: ${detail}`);
  }
}
