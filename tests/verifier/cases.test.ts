// Our own verifier cases (tests/verifier/cases/*.c, built by build.sh): what Linux's selftests do not
// cover here, our program types' contexts, the extension helpers, and the failures users hit most.
// Each program's verdict must be the running kernel's (recorded in kernel-verdicts.json by
// `build.sh --kernel`), a rejection must carry the kernel's message, and its whole report must match
// its golden file (UPDATE_GOLDEN=1 rewrites them).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { VerifierError } from '../../verifier/diagnostics.js';
import { PROJECT_ROOT } from '../support/suite.js';

const DIR = join(PROJECT_ROOT, 'tests', 'verifier', 'cases');
const SOURCES = readdirSync(DIR).filter((f) => f.endsWith('.c')).sort();
const KERNEL: Record<string, { kernel: 'accepted' | 'rejected'; message: string }> = JSON.parse(readFileSync(join(DIR, 'kernel-verdicts.json'), 'utf8'));

/** Programs whose verdict differs from the kernel's on purpose, and why. */
const NOT_LINUX: Record<string, { verdict: 'accepted' | 'rejected'; why: string }> = {
  flow_map: { verdict: 'accepted', why: 'the flow map (0x1000) and its helpers are this runtime\'s extensions; Linux has neither' },
};
/** Rejections whose kernel log does not end with the reason (it ends with a state dump). */
const KERNEL_LAST_LINE_IS_STATE = new Set(['infinite_loop']);

test('there are verifier cases, each built and with a kernel verdict', () => {
  expect(SOURCES.length).toBeGreaterThanOrEqual(20);
  for (const src of SOURCES) {
    expect(existsSync(join(DIR, src.replace(/\.c$/, '.o'))), `${src} is built`).toBe(true);
    expect(KERNEL[src.replace(/\.c$/, '')], `${src} has a kernel verdict`).toBeDefined();
  }
});

describe.each(SOURCES.map((s) => s.replace(/\.c$/, '')))('%s', (name) => {
  test('verdict agrees with Linux (or differs where the runtime goes beyond it)', async () => {
    const obj = await new Runtime().loadObject(join(DIR, `${name}.o`));
    const ours = obj.programs.has(name) ? 'accepted' : 'rejected';
    const expected = NOT_LINUX[name]?.verdict ?? KERNEL[name]!.kernel;
    const failure = obj.failures.get(name);
    expect(ours, failure?.message).toBe(expected);
    if (ours === 'accepted') {
      expect(obj.program(name).verified).toBe(true);
      return;
    }
    expect(failure).toBeInstanceOf(VerifierError);
    const error = failure as VerifierError;
    if (!KERNEL_LAST_LINE_IS_STATE.has(name)) expect(error.report.message).toContain(KERNEL[name]!.message);
    // The report: heading, Linux's reason, the place with its source line, the state, the path, the suggestion.
    const golden = join(DIR, 'golden', `${name}.txt`);
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, `${error.log}\n`);
    expect(`${error.log}\n`).toBe(readFileSync(golden, 'utf8'));
    expect(error.log).toMatch(new RegExp(`^Verification failed: .+\\nReason: .+(\\n {8}.+)*\\nAt: pc \\d+ in ${name}\\+\\d+ \\(${name}\\.c:\\d+: `));
    expect(error.log).toMatch(/\nSuggestion: \S/);
  });
});
