// `ebpf-wasm playground`: serves the built page, its script and the examples' index, nothing
// outside its folder, and refuses a bad port in one line. (scripts/playground-e2e.mjs drives the
// page itself in Chromium.)
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../support/suite.js';

const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'ebpf-wasm.mjs');

test('serves the page, its assets and the examples, and nothing outside its folder', async () => {
  const server = spawn(process.execPath, [CLI, 'playground', '--port', '0'], { cwd: PROJECT_ROOT });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (chunk: Buffer) => {
        const m = /playground: (http:\/\/\S+)/.exec(chunk.toString());
        if (m) resolve(m[1]!);
      });
      server.on('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const page = await fetch(url);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('assets/main.js');
    const script = await fetch(new URL('assets/main.js', url));
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    const examples = (await (await fetch(new URL('examples/index.json', url))).json()) as { name: string; topology?: string }[];
    expect(examples.filter((e) => e.topology).map((e) => e.name)).toEqual(['egress-acl', 'firewall', 'kv-tags', 'lb', 'mtu-guard', 'nat', 'sockstat', 'tc-counter']);
    expect((await fetch(new URL('examples/lb/lb.o', url))).status).toBe(200);
    expect((await fetch(new URL('/%2e%2e/%2e%2e/package.json', url))).status).toBe(404);
    expect((await fetch(new URL('missing.js', url))).status).toBe(404);
  } finally {
    server.kill();
  }
});

test('a bad port is one line naming the option', () => {
  const r = spawnSync(process.execPath, [CLI, 'playground', '--port', '70000'], { encoding: 'utf8' });
  expect(r.status).toBe(1);
  expect(r.stderr).toBe("ebpf-wasm: --port: '70000' is not a port number (0 to 65535; 0 picks a free one)\n");
});
