/**
 * The node's local admin channel: a small HTTP server on 127.0.0.1 only, for commands run on
 * the same machine (`nines peers`) and for tests that drive a node process. Every request
 * must carry the token from node.json (mode 0600) as `Authorization: Bearer <token>`, so
 * other users of the machine cannot use it either. Issue 7 replaces this with the admin API.
 *
 *   GET  /v0/status                      node ID, contact, roles, discovery, DHT counters
 *   GET  /v0/routing-table               the routing table bucket by bucket
 *   POST /v0/lookup          { keys }    one lookup per key, in parallel
 *   POST /v0/provide         { key }     announce that this node provides key
 *   POST /v0/find-providers  { key }     find the providers of key
 */
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../net/index.js';
import type { OperationResult } from '../p2p/kademlia/index.js';
import { adminHost, adminKeysPerRequestMax, adminRequestBytesMax } from './constants.js';

/** What the admin channel can do; the Node implements it. */
export interface AdminApi {
  status(): unknown;
  routingTable(): unknown;
  lookup(key: string): Promise<OperationResult>;
  provide(key: string): Promise<OperationResult>;
  findProviders(key: string): Promise<OperationResult>;
}

/** An admin request that cannot be served, with its HTTP status (the one table of statuses, as in fastify). */
class AdminHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const statusOfErrorCode: Record<string, number> = {
  DHT_INPUT_INVALID: 400,
  DHT_BUSY: 503,
  DHT_STOPPED: 503,
  KADEMLIA_INPUT: 400,
};

/** The fields of an operation result a caller needs, as plain JSON. */
export function resultSummary(result: OperationResult): Record<string, unknown> {
  return {
    kind: result.kind,
    key: result.key,
    ok: result.ok,
    error: result.error,
    closest: result.closest,
    providers: result.providers,
    stored: result.stored,
    refusals: result.refusals,
    hops: result.hops,
    requests: result.requests,
    failures: result.failures,
    ticks: result.finishedTick - result.startedTick,
  };
}

export class AdminServer {
  private server: http.Server | undefined;

  constructor(
    private readonly api: AdminApi,
    private readonly token: string,
    private readonly logger: Logger,
  ) {}

  async listen(): Promise<number> {
    const server = http.createServer((request, response) => void this.serve(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, adminHost, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      this.authorize(request);
      const body = request.method === 'POST' ? await readJson(request) : undefined;
      const answer = await this.route(request.method ?? 'GET', new URL(request.url ?? '/', 'http://admin').pathname, body);
      send(response, 200, answer);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const status = error instanceof AdminHttpError ? error.status : typeof code === 'string' ? (statusOfErrorCode[code] ?? 500) : 500;
      if (status === 500) this.logger.error({ detail: (error as Error).message }, 'admin request failed');
      send(response, status, { error: { code: typeof code === 'string' ? code : 'ADMIN_INTERNAL', message: (error as Error).message } });
    }
  }

  private authorize(request: http.IncomingMessage): void {
    const expected = Buffer.from(`Bearer ${this.token}`);
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AdminHttpError(401, 'ADMIN_UNAUTHORIZED', 'missing or wrong admin token; local commands read it from <data dir>/node.json');
    }
  }

  private async route(method: string, path: string, body: unknown): Promise<unknown> {
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /v0/status':
        return this.api.status();
      case 'GET /v0/routing-table':
        return this.api.routingTable();
      case 'POST /v0/lookup': {
        const keys = (body as { keys?: unknown }).keys;
        if (!Array.isArray(keys) || keys.length === 0 || keys.length > adminKeysPerRequestMax || !keys.every((key) => typeof key === 'string')) {
          throw new AdminHttpError(400, 'ADMIN_BODY_INVALID', `the body must be { "keys": [...] } with 1 to ${adminKeysPerRequestMax} keys`);
        }
        const results = await Promise.all(keys.map((key: string) => this.api.lookup(key)));
        return { results: results.map(resultSummary) };
      }
      case 'POST /v0/provide':
        return resultSummary(await this.api.provide(keyOf(body)));
      case 'POST /v0/find-providers':
        return resultSummary(await this.api.findProviders(keyOf(body)));
      default:
        throw new AdminHttpError(404, 'ADMIN_NOT_FOUND', `no admin route ${route}`);
    }
  }
}

function keyOf(body: unknown): string {
  const key = (body as { key?: unknown }).key;
  if (typeof key !== 'string') throw new AdminHttpError(400, 'ADMIN_BODY_INVALID', 'the body must be { "key": "<40 hex characters>" }');
  return key;
}

function readJson(request: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > adminRequestBytesMax) {
        reject(new AdminHttpError(413, 'ADMIN_BODY_TOO_LARGE', `admin request bodies are at most ${adminRequestBytesMax} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', reject);
    request.on('end', () => {
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
        resolve(parsed);
      } catch (error) {
        reject(new AdminHttpError(400, 'ADMIN_BODY_INVALID', `the body must be a JSON object: ${(error as Error).message}`));
      }
    });
  });
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
