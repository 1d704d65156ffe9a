// Every bpf_conformance test program survives asm -> bytes -> records -> asm -> bytes unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDataFile, rawToBytes } from '../../conformance/data-file.js';
import { assemble, decode, disassemble, encode, validate } from '../../isa/index.js';
import { SUITE_DIR, suiteAvailable } from '../support/suite.js';

const available = suiteAvailable();
const files = available ? readdirSync(SUITE_DIR).filter((f) => f.endsWith('.data')).sort() : [];

describe.skipIf(!available)('bpf_conformance round trip', () => {
  test('the suite has its 313 test files', () => {
    expect(files.length).toBe(313);
  });

  test.for(files)('%s', (file) => {
    const path = join(SUITE_DIR, file);
    const data = parseDataFile(readFileSync(path, 'utf8'), file);
    expect(data, `${file} is skipped by the upstream runner`).toBeDefined();
    const bytes = data!.raw
      ? rawToBytes(data!.raw)
      : encode(assemble(data!.asm!, { source: file, firstLine: data!.asmLine ?? 1 }));
    expect(bytes.length).toBeGreaterThan(0);

    const insns = decode(bytes);
    validate(insns);
    if (!data!.raw) expect(insns).toEqual(assemble(data!.asm!));

    const text = disassemble(insns);
    const again = encode(assemble(text, { source: `${file} (disassembled)` }));
    expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
  });
});
