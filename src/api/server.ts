/**
 * The HTTP API a peer serves to clients (fastify 5): today the key-value store and the
 * cluster status; the OpenAI-compatible routes and the dashboard join it later. Bodies are
 * read as text with a hard limit, and the routes themselves (kv-routes.ts) validate every
 * field, so a bad request gets a 4xx with a message and never reaches the store.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { handleKvRequest, kvBodyBytesMax, type KvBackend } from './kv-routes.js';

export interface ApiServerOptions {
  host: string;
  port: number;
  kv: KvBackend;
}

export class ApiServer {
  private constructor(
    private readonly app: FastifyInstance,
    readonly address: { host: string; port: number },
  ) {}

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const app = Fastify({ bodyLimit: kvBodyBytesMax, logger: false });
    // Values are stored as sent: every body is read as text, whatever its content type says.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
      const status = error.statusCode ?? 500;
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
      void reply.status(status).send({ error: { code, message: error.message } });
    });
    app.all('/v1/*', async (request, reply) => {
      const url = new URL(request.url, 'http://peer');
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
    app.get('/healthz', async () => ({ ok: true }));
    await app.listen({ host: options.host, port: options.port });
    const bound = app.server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
    return new ApiServer(app, { host: options.host, port });
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
