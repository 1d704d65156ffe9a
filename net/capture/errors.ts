// Typed errors of capture reading and writing. A read error names the file, the 1-based record and
// the byte offset where the bad data starts, in one line, so a CLI can print it as it is.
import { BpfError } from '../../isa/errors.js';

/** Where a read error is: the record being read (0 for the file header) and its byte offset. */
export interface CaptureLocation {
  readonly file: string;
  readonly record: number;
  readonly offset: number;
}

/**
 * A capture that cannot be read on: bad magic, an impossible length, a truncated record.
 * Every record before it has been delivered. `code` is one of `capture-bad-magic`,
 * `capture-unsupported`, `capture-corrupt`, `capture-truncated`.
 */
export class CaptureError extends BpfError implements CaptureLocation {
  constructor(
    code: 'capture-bad-magic' | 'capture-unsupported' | 'capture-corrupt' | 'capture-truncated',
    readonly file: string,
    readonly record: number,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(code, `${file}: ${record === 0 ? 'file header' : `record ${record}`} at byte ${offset}: ${detail}`);
  }
}

/** A reader or writer used wrongly: writing after close, an unknown interface, a comment too long for pcapng. */
export class CaptureUsageError extends BpfError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('capture-usage', detail, options);
  }
}

/** A capture file that cannot be opened, read, written or renamed; wraps the system error. */
export class CaptureFileError extends BpfError {
  constructor(readonly file: string, cause: unknown) {
    super('capture-file', `${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
