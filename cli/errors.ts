// How the CLI reports failures: one line naming the input and what is wrong, exit code 1;
// a stack trace only with --debug.
import { BpfError, VerifierError } from '../index.js';

/** A mistake in how the command was called or in a file it was given. */
export class UsageError extends BpfError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Prefixes a message with the file it is about, unless it already names it. */
export function aboutFile(file: string, err: unknown): Error {
  if (!(err instanceof Error) || err.message.startsWith(file)) return err as Error;
  const wrapped = new BpfError(err instanceof BpfError ? err.code : 'error', `${file}: ${err.message}`, { cause: err });
  return wrapped;
}

/** Prints an error as one line (or with its stack under --debug) and sets exit code 1. */
export function report(err: unknown, debug: boolean): void {
  let message = err instanceof Error ? err.message : String(err);
  // A verifier rejection: one line here; `verify` prints the whole explanation.
  const rejection = err instanceof VerifierError ? err : err instanceof Error && err.cause instanceof VerifierError ? err.cause : undefined;
  if (rejection) message += ` ('ebpf-wasm verify OBJECT --program ${rejection.program}' explains why)`;
  process.stderr.write(`ebpf-wasm: ${message}\n`);
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof BpfError)) process.stderr.write('(this is a bug in ebpf-wasm; run with --debug for a stack trace)\n');
  process.exitCode = 1;
}
