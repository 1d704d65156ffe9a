import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the project's sources by relative path, and run the compiled build in dist/
    // (`npm test` builds first). That is what users run, and it keeps tsc's inlining of the
    // opcode const enum: under vitest's per-file transform the interpreter's dispatch switch
    // would compare against enum properties one by one, about 100 times slower.
    alias: [
      { find: /^(?:\.\.\/)+(isa|interpreter|runtime|helpers|conformance|jit|loader|fuzz|bench|cli|maps|verifier|net|testing)\/(.*)$/, replacement: `${root}dist/$1/$2` },
      { find: /^(?:\.\.\/)+(index|browser)\.js$/, replacement: `${root}dist/$1.js` },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
  },
});
