// `ebpf-wasm playground`: serves the playground page (dist/playground, built by `npm run build`) on
// localhost until interrupted. The page runs everything itself; the server only hands out files.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm', '.pcap': 'application/vnd.tcpdump.pcap', '.pcapng': 'application/octet-stream', '.o': 'application/octet-stream',
};

export interface PlaygroundOptions {
  port?: string;
  host?: string;
}

/** Serves the built playground; resolves once listening, with the address (the CLI then waits for Ctrl-C). */
export async function playgroundCommand(options: PlaygroundOptions, onListening: (url: string) => void = (url) => process.stdout.write(`playground: ${url} (Ctrl-C to stop)\n`)): Promise<void> {
  const root = fileURLToPath(new URL('../playground/', import.meta.url));
  if (!existsSync(join(root, 'index.html'))) throw new UsageError(`${root}: the playground is not built (run npm run build)`);
  const port = Number(options.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: '${options.port}' is not a port number (0 to 65535; 0 picks a free one)`);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    // Nothing outside the playground's folder.
    if (request.method !== 'GET' || !(file + sep).startsWith(root)) {
      response.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (bytes) => response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(bytes),
      () => response.writeHead(404, { 'content-type': 'text/plain' }).end(`${path}: not found\n`),
    );
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(new UsageError(`cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)));
    server.listen(port, host, done);
  });
  const address = server.address() as AddressInfo;
  onListening(`http://${host}:${address.port}/`);
}
