// Fuzzing the whole load path (ELF, BTF, maps, binding, helpers, engines) with mutated and
// truncated copies of every fixture object: the only errors allowed are BpfError subclasses whose
// one-line message names the file, and a failed load leaves no map, program or guest memory behind.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { BpfError } from '../../isa/errors.js';
import { Runtime } from '../../runtime/runtime.js';
import { PROJECT_ROOT } from '../support/suite.js';
import { prng } from '../support/prng.js';

const FIXTURES = join(PROJECT_ROOT, 'tests', 'fixtures');
const OBJECTS = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
const CASES_PER_OBJECT = 120;
/** proto_parser's mutants each take the verifier up to a second (it walks ~400,000 instructions): fewer of them. */
const casesFor = (name: string) => (name.startsWith('proto_parser') ? 30 : CASES_PER_OBJECT);


test('there are fixture objects to fuzz', () => {
  expect(OBJECTS.length).toBeGreaterThanOrEqual(15);
});

test.for(OBJECTS)('%s: mutated and truncated copies load or fail cleanly with a typed error', async (name) => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
  const rand = prng(name.split('').reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const runtime = new Runtime();
  // Regions a failed load must give back; map handles are slots in shared blocks and stay, as does the runtime's current-CPU word.
  const live = () => runtime.memory.regions().filter((r) => r.name !== 'map handles' && r.name !== 'current CPU').length;
  let failed = 0;
  const cases = casesFor(name);
  for (let i = 0; i < cases; i++) {
    const truncate = i % 4 === 0;
    const copy = bytes.slice(0, truncate ? Math.floor(rand() * bytes.length) : bytes.length);
    if (!truncate) for (let k = 0, n = 1 + Math.floor(rand() * 8); k < n; k++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
    const before = live();
    try {
      (await runtime.loadObject(copy, { fileName: 'mutant.o' })).close();
    } catch (err) {
      if (!(err instanceof BpfError)) throw new Error(`case ${i}: ${(err as Error).stack}`);
      expect((err as Error).message, `case ${i}`).toMatch(/^mutant\.o: [^\n]+$/);
      expect(live(), `case ${i}: ${(err as Error).message}: a failed load left ${runtime.memory.regions().map((r) => r.name).join(", ")}`).toBe(before);
      failed++;
    }
  }
  expect(failed).toBeGreaterThan(cases / 4);
  // Loads that succeeded were closed: nothing is left but the runtime's own blocks.
  expect(live()).toBe(0);
}, 120_000);
