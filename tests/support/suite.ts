// The one place tests find the shared bpf_conformance suite. In CI (CI=true) a missing suite is a
// failure; elsewhere the suites that need it are skipped, with one line saying so (global-setup.ts).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project root. */
export const PROJECT_ROOT = root;

/** `../shared/bpf_conformance/tests` beside the checkout, or $BPF_CONFORMANCE_TESTS. */
export const SUITE_DIR = process.env.BPF_CONFORMANCE_TESTS ?? resolve(root, '..', 'shared', 'bpf_conformance', 'tests');

/**
 * Whether the suite is present. Its absence is announced once by the global set-up
 * (tests/support/global-setup.ts), which also fails the run in CI; here it only skips.
 */
export function suiteAvailable(): boolean {
  return existsSync(SUITE_DIR);
}
