// BPF_MAP_TYPE_USER_RINGBUF (31) (kernel/bpf/ringbuf.c): a ring buffer user space produces into
// (through mmap, in Linux) and programs drain with bpf_user_ringbuf_drain. This runtime has no
// producer side yet, so the buffer is always empty; it is created with Linux's checks (those of a
// ring buffer) so that objects defining one load, and every operation from user space is
// -ENOTSUPP, as in Linux. Programs calling bpf_user_ringbuf_drain fail to load, one by one, until
// the helper exists.
import type { GuestMemory } from '../runtime/memory.js';
import { Errno, MapType } from './constants.js';
import type { MapKind } from './kind.js';
import { KeylessMap } from './keyless-map.js';
import type { MapOptions, MapSpec } from './map.js';
import { checkRingbufSpec } from './ringbuf.js';

/** A user ring buffer with nothing produced into it. */
export class UserRingbufMap extends KeylessMap {
  constructor(memory: GuestMemory, spec: MapSpec, options: MapOptions = {}) {
    super(memory, spec, options, { update: Errno.ENOTSUPP, keyed: Errno.ENOTSUPP });
  }

  get size(): number {
    return 0;
  }

  override lookup(): Uint8Array | undefined {
    this.fail('lookup', Errno.ENOTSUPP);
  }
}

/** Registry entry for BPF_MAP_TYPE_USER_RINGBUF: ringbuf_map_alloc's checks. */
export const userRingbufKind: MapKind = {
  type: MapType.USER_RINGBUF,
  name: 'user_ringbuf',
  check: checkRingbufSpec,
  create: (memory, spec, options) => new UserRingbufMap(memory, spec, options),
};
