/**
 * The HTTP API a peer serves to clients (fastify 5): the key-value store, the cluster
 * status and, when the peer serves completions, the OpenAI-compatible routes; the admin
 * API, the Prometheus metrics and the dashboard on every peer. Bodies are read as text with a hard limit, and the routes
 * themselves (kv-routes.ts, openai/) parse and validate every field, so a bad request gets
 * a 4xx with a message and never reaches the store or the model.
 */
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { handleKvRequest, isKvPath, kvBodyBytesMax, kvRefusal, type AnyKvBackend } from './kv-routes.js';
import type { ApiKeyRing } from './openai/auth.js';
import type { OpenAiRoutesOptions } from './openai/routes.js';
import { mountAdminRoutes, type AdminRoutesOptions } from './admin/routes.js';
import { mountMetrics, type Metrics } from './metrics/index.js';
import { mountDashboard } from './dashboard.js';

export interface ApiServerOptions {
  host: string;
  port: number;
  /** The key-value store of the peer's storage role; without it /v1/kv and /v1/cluster answer 404. */
  kv?: AnyKvBackend;
  /** The cluster's keys, which /v1/kv and /v1/cluster take (an open ring lets everyone in); required with `kv`. */
  kvAuth?: ApiKeyRing;
  /** The OpenAI-compatible routes (/v1/chat/completions, /v1/completions, /v1/models); without them those paths answer 404. */
  completions?: OpenAiRoutesOptions;
  /** The admin API (admin/routes.ts): the swarm, availability, a local swarm's chaos buttons. */
  admin?: AdminRoutesOptions;
  /** Prometheus metrics (metrics/): served at /metrics, and every request counted by route. */
  metrics?: Metrics;
}

export class ApiServer {
  private constructor(
    private readonly app: FastifyInstance,
    readonly address: { host: string; port: number },
    private readonly silentSockets: ReadonlySet<Socket>,
  ) {}

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    // The store is never served without a decision about who may use it: an open cluster says so with an open ring.
    if (options.kv !== undefined && options.kvAuth === undefined) throw new TypeError('ApiServer: kv needs kvAuth, the cluster\'s key ring (new ApiKeyRing({ open: true }) for an open cluster)');
    const kvAuth = options.kvAuth;
    const app = Fastify({ bodyLimit: kvBodyBytesMax, logger: false });
    // Values are stored as sent: every body is read as text, whatever its content type says.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    // First, so that its hooks see every route registered after it.
    if (options.metrics !== undefined) mountMetrics(app, options.metrics);
    app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
      const status = error.statusCode ?? 500;
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
      void reply.status(status).send({ error: { code, message: error.message } });
    });
    app.all('/v1/*', async (request, reply) => {
      const url = new URL(request.url, 'http://peer');
      if (options.kv === undefined) {
        const why = /^\/v1\/(kv|cluster)\//.test(url.pathname) ? ': it has no storage role, so ask a storage peer' : '';
        return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${url.pathname} on this peer${why}` } });
      }
      const refusal = isKvPath(url.pathname) ? kvRefusal(kvAuth!, request.headers.authorization) : undefined;
      if (refusal !== undefined) return reply.status(refusal.status).headers(refusal.headers).send(refusal.body);
      const response = await handleKvRequest(options.kv, {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: typeof request.body === 'string' ? request.body : '',
      });
      if (response === undefined) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${url.pathname}` } });
      return reply.status(response.status).headers(response.headers).send(response.body);
    });
    if (options.completions !== undefined) {
      // Loaded only when the peer serves completions: a storage-only peer never loads the serving code or its validation library.
      const { mountOpenAiRoutes } = await import('./openai/mount.js');
      mountOpenAiRoutes(app, options.completions);
    }
    if (options.admin !== undefined) mountAdminRoutes(app, options.admin);
    // The dashboard (web/, built into dist/web) at /: every peer serves it.
    mountDashboard(app);
    app.get('/healthz', async () => ({ ok: true }));
    const silentSockets = trackSilentSockets(app);
    await app.listen({ host: options.host, port: options.port });
    const bound = app.server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
    return new ApiServer(app, { host: options.host, port }, silentSockets);
  }

  /**
   * Stops taking requests and waits for those in progress (streams included) to finish; at
   * `deadlineMs` (ms since the epoch) whatever is still open is cut.
   */
  async close(deadlineMs?: number): Promise<void> {
    const closing = this.app.close();
    for (const socket of this.silentSockets) socket.destroy();
    if (deadlineMs === undefined) return closing;
    const cut = setTimeout(() => this.app.server.closeAllConnections(), Math.max(0, deadlineMs - Date.now()));
    try {
      await closing;
    } finally {
      clearTimeout(cut);
    }
  }
}

/**
 * Connections that have not sent a request yet. Node counts such a connection as busy
 * until its headers timeout (a minute), so one would hold close() that long; HTTP clients
 * open them ahead of need (fetch does after a cancelled stream), and nothing is lost by
 * closing them.
 */
function trackSilentSockets(app: FastifyInstance): ReadonlySet<Socket> {
  const silent = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    silent.add(socket);
    socket.once('close', () => silent.delete(socket));
  });
  app.server.on('request', (request: { socket: Socket }) => silent.delete(request.socket));
  return silent;
}
