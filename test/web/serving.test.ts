/**
 * src/api/dashboard.ts: the built dashboard served at / and /assets/, with content types
 * and cache headers; traversal refused, missing files 404, and a 503 that says what to do
 * when the dashboard was never built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetNameOf, DashboardPathError, defaultDashboardDirectory, mountDashboard } from '../../src/api/dashboard.js';

let root: string;
let built: FastifyInstance;
let missing: FastifyInstance;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'nines-dashboard-'));
  const web = join(root, 'web');
  mkdirSync(join(web, 'assets', 'fonts'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>nines</title>');
  writeFileSync(join(web, 'assets', 'index-abc123.js'), 'console.log("dashboard")');
  writeFileSync(join(web, 'assets', 'index-abc123.css'), 'body { margin: 0 }');
  writeFileSync(join(web, 'assets', 'fonts', 'mono.woff2'), Buffer.from([1, 2, 3]));
  writeFileSync(join(web, 'assets', 'notes.txt'), 'not a type the dashboard serves');
  writeFileSync(join(root, 'secret.json'), '{"secret":true}');
  built = Fastify();
  mountDashboard(built, web);
  missing = Fastify();
  mountDashboard(missing, join(root, 'never-built'));
  await Promise.all([built.ready(), missing.ready()]);
});

afterAll(async () => {
  await Promise.all([built.close(), missing.close()]);
  rmSync(root, { recursive: true, force: true });
});

describe('mountDashboard', () => {
  it('serves index.html at / and /index.html, asked for again each time', async () => {
    for (const url of ['/', '/index.html']) {
      const response = await built.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      expect(response.body).toContain('<title>nines</title>');
    }
  });

  it('serves the hashed assets with their content types, cached for good', async () => {
    const cases: [string, string, string][] = [
      ['/assets/index-abc123.js', 'text/javascript; charset=utf-8', 'console.log("dashboard")'],
      ['/assets/index-abc123.css', 'text/css; charset=utf-8', 'body { margin: 0 }'],
      ['/assets/fonts/mono.woff2', 'font/woff2', '\u0001\u0002\u0003'],
    ];
    for (const [url, type, body] of cases) {
      const response = await built.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.body).toBe(body);
    }
    const head = await built.inject({ method: 'HEAD', url: '/assets/index-abc123.js' });
    expect(head.statusCode).toBe(200);
  });

  it('answers 404 for a missing file, a directory and a type it does not serve', async () => {
    for (const url of ['/assets/index-zzz.js', '/assets/fonts', '/assets/notes.txt', '/assets/index-abc123.js/more.js']) {
      const response = await built.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.body).toContain('no such dashboard file');
    }
  });

  it('refuses every path that could leave the assets directory, raw or percent-encoded', async () => {
    const attempts = [
      '/assets/../secret.json',
      '/assets/../../secret.json',
      '/assets/%2e%2e/secret.json',
      '/assets/%2E%2E%2Fsecret.json',
      '/assets/fonts/..%2f..%2fsecret.json',
      '/assets/..%5csecret.json',
      '/assets/%2fetc%2fpasswd',
      '/assets/index-abc123.js%00.css',
      '/assets/.hidden.js',
      '/assets/%E0%A4%A',
    ];
    for (const url of attempts) {
      const response = await built.inject({ method: 'GET', url });
      expect([400, 404], url).toContain(response.statusCode);
      expect(response.body, url).not.toContain('"secret":true');
    }
    // The ones that reach the route get the reason, not just a status.
    const encoded = await built.inject({ method: 'GET', url: '/assets/%2E%2E%2Fsecret.json' });
    expect(encoded.statusCode).toBe(400);
    expect(encoded.body).toMatch(/is not an asset name/);
  });

  it('refuses a raw .. sent over a real socket, which no client library would normalise first', async () => {
    const address = await built.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    for (const path of ['/assets/../secret.json', '/assets/fonts/../../secret.json', '/assets/..\\secret.json']) {
      const answer = await rawGet(Number(port), path);
      expect(answer, path).toMatch(/^HTTP\/1\.1 (400|404)/);
      expect(answer, path).not.toContain('"secret":true');
    }
  });

  it('answers 503 with what to do when the dashboard is not built', async () => {
    for (const url of ['/', '/assets/index-abc123.js']) {
      const response = await missing.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(503);
      expect(response.body).toBe('the dashboard is not built: run npm run build\n');
    }
  });
});

function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.once('end', () => resolve(answer));
    socket.once('error', reject);
  });
}

describe('assetNameOf', () => {
  it('returns the decoded name under /assets/ and drops the query', () => {
    expect(assetNameOf('/assets/index-abc.js?v=1')).toBe('index-abc.js');
    expect(assetNameOf('/assets/fonts/mono.woff2')).toBe('fonts/mono.woff2');
  });

  it('throws a DashboardPathError naming the bad segment', () => {
    expect(() => assetNameOf('/assets/a/../b.js')).toThrow(DashboardPathError);
    expect(() => assetNameOf('/assets/')).toThrow(/1 to 256 characters/);
    expect(() => assetNameOf(`/assets/${'a'.repeat(300)}.js`)).toThrow(/1 to 256 characters/);
    expect(() => assetNameOf('/other/x.js')).toThrow(/not under \/assets\//);
  });
});

describe('defaultDashboardDirectory', () => {
  it('is dist/web next to the compiled server, and the same dist/web when run from the sources', () => {
    expect(defaultDashboardDirectory(pathToFileURL('/opt/nines/dist/api/dashboard.js').href)).toBe('/opt/nines/dist/web');
    expect(defaultDashboardDirectory(pathToFileURL('/opt/nines/src/api/dashboard.ts').href)).toBe('/opt/nines/dist/web');
  });
});
