// The object loader's public surface: the ELF64 reader (more stages follow: BTF, maps, programs).
export * from './errors.js';
export * from './elf.js';
export * from './btf-types.js';
export * from './btf.js';
export * from './btf-format.js';
export * from './btf-ext.js';
