// Typed errors of map creation and of the JS map API. Each names the map; operation errors carry
// the Linux errno the same call returns to a BPF program.
import { BpfError } from '../isa/errors.js';
import { errnoName } from './constants.js';

/** Base of every map error; `errno` (positive) is set when Linux would return -errno. */
export class MapError extends BpfError {
  constructor(
    code: string,
    readonly mapName: string,
    detail: string,
    readonly errno?: number,
    options?: { cause?: unknown },
  ) {
    super(code, `map ${mapName}: ${detail}`, options);
  }
}

/** Creation parameters Linux's map_alloc_check refuses; `errno` is what bpf(BPF_MAP_CREATE) returns. */
export class MapCreateError extends MapError {
  constructor(mapName: string, detail: string, errno: number, options?: { cause?: unknown }) {
    super('map-invalid', mapName, `${detail} (${errnoName(errno)})`, errno, options);
  }
}

/** A key or value from JS whose size is not the map's. */
export class MapSizeError extends MapError {
  constructor(mapName: string, readonly what: 'key' | 'value', readonly expected: number, readonly actual: number) {
    super('map-bad-size', mapName, `${what} must be ${expected} bytes, got ${actual}`);
  }
}

/** A JS map operation that Linux fails with an errno (EEXIST, ENOENT, E2BIG, EINVAL, ...). */
export class MapOpError extends MapError {
  constructor(mapName: string, readonly op: string, errno: number, readonly processed?: number) {
    super(`map-${errnoName(errno).toLowerCase()}`, mapName, `${op}: ${errnoName(errno)}${processed === undefined ? '' : ` after ${processed} elements`}`, errno);
  }
}
