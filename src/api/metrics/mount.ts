/**
 * The fastify side of the metrics: hooks that count and time every request of the app by
 * its route pattern, and `GET /metrics` for Prometheus.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { metricsPath } from './constants.js';
import type { Metrics } from './metrics.js';

/** nginx's status for "the client closed the request"; the OpenAI routes use it too. */
const clientClosedStatus = 499;

/**
 * Records every response of `app` in `nines_http_requests_total` and
 * `nines_http_request_duration_seconds`, and answers `GET /metrics` with the scrape. Call it
 * on the root instance (fastify's hooks are encapsulated: inside a plugin it would see only
 * that plugin's routes) before the app starts listening. A request is labelled by the
 * PATTERN of the route that matched (`request.routeOptions.url`), so a key in the path never
 * becomes a label value, and by `route="unmatched"` when none did. A streamed response is
 * timed to its last byte.
 */
export function mountMetrics(app: FastifyInstance, metrics: Metrics): void {
  const replies = new WeakMap<FastifyRequest, FastifyReply>();
  const recorded = new WeakSet<FastifyRequest>();
  const record = (request: FastifyRequest, reply: FastifyReply, status: number) => {
    if (recorded.has(request)) return;
    recorded.add(request);
    metrics.observeHttpRequest({ route: request.routeOptions.url, method: request.method, status, durationSeconds: Math.max(0, reply.elapsedTime) / 1000 });
  };
  app.addHook('onRequest', (request, reply, done) => {
    replies.set(request, reply);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    record(request, reply, reply.statusCode);
    done();
  });
  // A client that goes away before the response ends (a stream it stopped reading) gets no
  // onResponse; without this hook its request would never be counted.
  app.addHook('onRequestAbort', (request, done) => {
    const reply = replies.get(request);
    if (reply !== undefined) record(request, reply, clientClosedStatus);
    done();
  });
  app.get(metricsPath, async (_request, reply) => {
    const text = await metrics.scrape();
    return reply.header('content-type', metrics.contentType).send(text);
  });
}
