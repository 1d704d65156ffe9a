// BPF_MAP_TYPE_INODE_STORAGE (28) and BPF_MAP_TYPE_TASK_STORAGE (29) (kernel/bpf/bpf_inode_storage.c,
// bpf_task_storage.c over bpf_local_storage.c): values that hang off an inode or a task, as socket
// storage hangs off a socket (sk-storage.ts). User space names the owner by an fd (a file's, or a
// pidfd); this runtime has neither files nor pidfds, so every user-space operation that takes an
// owner is -EBADF (a closed fd), and the maps hold nothing. Programs reach them only through
// bpf_{inode,task}_storage_get/delete, which this runtime does not provide: such programs fail to
// load, one by one, naming the helper. Creation makes Linux's checks (bpf_local_storage_map_alloc_check).
import { Errno, MapType } from './constants.js';
import type { MapKind } from './kind.js';
import { EmptyMap } from './empty-map.js';
import { checkLocalStorageSpec } from './sk-storage.js';

/** Inode or task storage with no owners to hang values off. */
export class OwnerlessStorageMap extends EmptyMap {
  protected updateValue(): number {
    return -Errno.EBADF;
  }

  deleteAt(): number {
    return -Errno.EBADF;
  }

  /** Linux has no get_next_key here (notsupp_get_next_key). */
  nextKeyAt(): number {
    return -Errno.ENOTSUPP;
  }

  /** The key is an fd naming the owner; there is none to name (-EBADF). */
  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.keyIn(key);
    this.fail('lookup', Errno.EBADF);
  }

  override delete(key: Uint8Array): boolean {
    this.keyIn(key);
    this.fail('delete', Errno.EBADF);
  }
}

/** Registry entries for BPF_MAP_TYPE_INODE_STORAGE and BPF_MAP_TYPE_TASK_STORAGE. */
export const inodeStorageKind: MapKind = {
  type: MapType.INODE_STORAGE,
  name: 'inode_storage',
  check: (spec) => checkLocalStorageSpec(spec, 'inode storage', 'a file fd'),
  create: (memory, spec, options) => new OwnerlessStorageMap(memory, spec, options),
};

export const taskStorageKind: MapKind = {
  type: MapType.TASK_STORAGE,
  name: 'task_storage',
  check: (spec) => checkLocalStorageSpec(spec, 'task storage', 'a pidfd'),
  create: (memory, spec, options) => new OwnerlessStorageMap(memory, spec, options),
};
