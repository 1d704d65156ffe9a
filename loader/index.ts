// The object loader's public surface: ELF64, BTF and BTF.ext readers, and the object pipeline
// that turns them into a plain description (programs, maps, global data, references).
export * from './errors.js';
export * from './elf.js';
export * from './btf-types.js';
export * from './btf.js';
export * from './btf-format.js';
export * from './btf-ext.js';
export * from './program-types.js';
export * from './map-specs.js';
export * from './object.js';
export * from './btf-builder.js';
export * from './core.js';
export * from './btf-value.js';
export { objectListing, type ObjectListingOptions } from './listing.js';
