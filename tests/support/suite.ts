// The one place tests find the shared bpf_conformance suite. In CI (CI=true) a missing suite is a
// failure; elsewhere the suites that need it are skipped with a line saying so.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project root. */
export const PROJECT_ROOT = root;

/** `../shared/bpf_conformance/tests` beside the checkout, or $BPF_CONFORMANCE_TESTS. */
export const SUITE_DIR = process.env.BPF_CONFORMANCE_TESTS ?? resolve(root, '..', 'shared', 'bpf_conformance', 'tests');

/** Whether the suite is present; throws in CI when it is not. */
export function suiteAvailable(): boolean {
  if (existsSync(SUITE_DIR)) return true;
  if (process.env.CI === 'true') throw new Error(`bpf_conformance suite not found at ${SUITE_DIR} (required in CI)`);
  console.warn(`SKIPPED: bpf_conformance suite not found at ${SUITE_DIR}; conformance tests are skipped`);
  return false;
}
