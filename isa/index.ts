// The BPF instruction set: opcode table, instruction records, encoding, validity, assembly text.
export * from './fields.js';
export * from './opcodes.js';
export * from './errors.js';
export * from './instruction.js';
export * from './validate.js';
export * from './abi.js';
export { assemble, type AssembleOptions } from './assembler.js';
export { disassemble, formatInstruction } from './disassembler.js';
export * from './objdump.js';
