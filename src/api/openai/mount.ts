/**
 * The fastify side of the OpenAI routes: src/api/server.ts calls mountOpenAiRoutes when a
 * peer serves completions.
 */
import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OpenAiError } from './errors.js';
import { OpenAiRoutes, openAiPaths, type OpenAiRoutesOptions } from './routes.js';

/**
 * Mounts the OpenAI routes on their own paths (more specific than the key-value wildcard),
 * with their own body limit and errors in OpenAI's shape. A client that disconnects aborts
 * its request's signal, which stops the generation.
 */
export function mountOpenAiRoutes(app: FastifyInstance, options: OpenAiRoutesOptions): void {
  const routes = new OpenAiRoutes(options);
  const bodyBytesMax = routes.limits.requestBytesMax;
  const errorHandler = (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode ?? 500;
    const refusal =
      status === 413
        ? new OpenAiError('request_too_large', `The request body is over this server's limit of ${bodyBytesMax} bytes; send a shorter prompt or conversation.`)
        : status < 500
          ? new OpenAiError('invalid_request_error', `The request could not be read: ${error.message}`)
          : new OpenAiError('internal_error', `The server failed to serve the request: ${error.message}`);
    void reply.status(refusal.status).headers(refusal.headers()).send(refusal.body());
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const disconnected = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) disconnected.abort();
    });
    const url = new URL(request.url, 'http://peer');
    const response = await routes.handle({
      method: request.method,
      path: url.pathname,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
      signal: disconnected.signal,
    });
    void reply.status(response.status).headers(response.headers);
    return reply.send('stream' in response ? Readable.from(response.stream) : response.body);
  };
  for (const url of [...openAiPaths, '/v1/models/*']) {
    app.all(url, { bodyLimit: bodyBytesMax, errorHandler }, handler);
  }
}
