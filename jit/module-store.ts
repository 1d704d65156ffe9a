// Where compiled modules may be kept between processes: a seam the JIT asks through, so that it
// runs where there are no files. The Node entry's disk cache (jit/disk-cache.ts) fills it in when
// turned on; otherwise modules are compiled once per process (the in-memory cache).

/** A compiled module as a store keeps it: its bytes and the helper ids it imports. */
export interface StoredModule {
  readonly binary: Uint8Array;
  readonly helperIds: readonly number[];
}

/** A store of compiled modules by key (see compileCached): reads that miss give undefined; writes may fail quietly. */
export interface ModuleStore {
  read(key: string): StoredModule | undefined;
  write(key: string, entry: StoredModule): void;
}

let store: ModuleStore | undefined;

/** Sets (or, with undefined, removes) the store compiled modules are read from and written to. */
export function setModuleStore(next: ModuleStore | undefined): void {
  store = next;
}

/** The store in use, if any. */
export function moduleStore(): ModuleStore | undefined {
  return store;
}
