/**
 * The admin API every peer serves next to the key-value and OpenAI routes: what the
 * dashboard, `nines report` and `nines chaos` read, and the chaos buttons of a local swarm.
 *
 *   GET  /v1/admin/swarm                               every known peer: roles, state, whom it reaches, the leader
 *   GET  /v1/admin/peers/<nodeId>/status               that peer's full status (replication, breakers, ...)
 *   GET  /v1/admin/peers/<nodeId>/routing-table        that peer's Kademlia routing table
 *   GET  /v1/admin/availability?since=<ms>&slo=<0..1>  MTBF, MTTR, availability and nines (src/availability)
 *   GET  /v1/admin/requests?seconds=<1..600>           this gateway's requests per second, for live plots
 *   POST /v1/admin/local-swarm/peers/<nodeId>/kill     local swarms only (started by nines start / chaos)
 *   POST /v1/admin/local-swarm/peers/<nodeId>/restart
 *
 * The routes take the cluster's API keys like the OpenAI routes do (401 without one, unless the
 * cluster is open). They only read, except the local-swarm pair, which a peer forwards to the
 * supervisor that started it and which exists nowhere else.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyRing } from '../openai/auth.js';

/** What the admin routes need from the node. */
export interface AdminBackend {
  swarm(): Promise<unknown>;
  peerStatus(nodeId: string): Promise<unknown>;
  peerRoutingTable(nodeId: string): Promise<unknown>;
  /** Undefined when this peer cannot compute availability (no replicated store to read it from). */
  availability?: (options: { sinceMs: number; sloTarget: number }) => Promise<unknown>;
  /** Undefined on peers without the gateway role. */
  requests?: (seconds: number) => unknown;
  /** Present only on a peer started by a local swarm supervisor. */
  localSwarm?: { kill(nodeId: string): Promise<void>; restart(nodeId: string): Promise<void> };
}

export interface AdminRoutesOptions {
  backend: AdminBackend;
  /** The cluster's keys (a live ring: a peer swaps them when api-keys.json changes); a closed ring, or undefined, refuses every admin request. */
  auth: ApiKeyRing | undefined;
  now?: () => number;
}

/** How far back an availability report may reach by default: one day. */
export const availabilitySinceMsDefault = 24 * 3_600_000;
export const sloTargetDefault = 0.999;
export const requestSecondsMax = 600;
const nodeIdPattern = /^[0-9a-f]{40}$/;

/** An admin request that cannot be served, with its HTTP status. */
export class AdminRouteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function mountAdminRoutes(app: FastifyInstance, options: AdminRoutesOptions): void {
  const now = options.now ?? Date.now;
  const { backend } = options;
  const guarded = (handler: (request: FastifyRequest) => Promise<unknown> | unknown) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      authorize(options.auth, request.headers.authorization);
      return reply.status(200).send(await handler(request));
    } catch (error) {
      const refusal = error instanceof AdminRouteError ? error : asRouteError(error);
      return reply.status(refusal.status).headers(refusal.status === 503 ? { 'retry-after': '1' } : {}).send({ error: { code: refusal.code, message: refusal.message } });
    }
  };
  app.get('/v1/admin/swarm', guarded(() => backend.swarm()));
  app.get('/v1/admin/peers/:nodeId/status', guarded((request) => backend.peerStatus(nodeIdOf(request))));
  app.get('/v1/admin/peers/:nodeId/routing-table', guarded((request) => backend.peerRoutingTable(nodeIdOf(request))));
  app.get('/v1/admin/availability', guarded((request) => {
    if (backend.availability === undefined) throw new AdminRouteError(404, 'ADMIN_NO_AVAILABILITY', 'this peer has no storage role and no gateway: ask a peer that has one');
    const query = request.query as Record<string, string | undefined>;
    return backend.availability({ sinceMs: sinceOf(query.since, now()), sloTarget: sloOf(query.slo) });
  }));
  app.get('/v1/admin/requests', guarded((request) => {
    if (backend.requests === undefined) throw new AdminRouteError(404, 'ADMIN_NOT_A_GATEWAY', 'this peer has no gateway role, so it counts no requests: ask a gateway');
    const seconds = integerOf((request.query as Record<string, string | undefined>).seconds, 'seconds', 1, requestSecondsMax, 300);
    return { series: backend.requests(seconds) };
  }));
  for (const action of ['kill', 'restart'] as const) {
    app.post(`/v1/admin/local-swarm/peers/:nodeId/${action}`, guarded(async (request) => {
      if (backend.localSwarm === undefined) throw new AdminRouteError(404, 'ADMIN_NOT_LOCAL_SWARM', 'this peer was not started by nines start or nines chaos, so it cannot kill or restart peers');
      await backend.localSwarm[action](nodeIdOf(request));
      return { ok: true };
    }));
  }
}

function authorize(auth: ApiKeyRing | undefined, authorization: string | undefined): void {
  if (auth === undefined || auth.state === 'closed') {
    throw new AdminRouteError(401, 'ADMIN_NO_KEYS', 'this cluster has no API keys, so the admin API is closed: add one with nines cluster key add <name>, or create the cluster with --open');
  }
  try {
    auth.authenticate(authorization);
  } catch (error) {
    throw new AdminRouteError(401, 'ADMIN_UNAUTHORIZED', (error as Error).message);
  }
}

function asRouteError(error: unknown): AdminRouteError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ADMIN_PEER_UNKNOWN') return new AdminRouteError(404, code, message);
  if (code === 'ADMIN_PEER_UNREACHABLE' || code === 'ADMIN_UNAVAILABLE') return new AdminRouteError(503, code, message);
  return new AdminRouteError(500, 'ADMIN_INTERNAL', `the peer failed to answer: ${message}`);
}

function nodeIdOf(request: FastifyRequest): string {
  const nodeId = (request.params as { nodeId?: string }).nodeId ?? '';
  if (!nodeIdPattern.test(nodeId)) throw new AdminRouteError(400, 'ADMIN_BAD_REQUEST', `"${nodeId.slice(0, 64)}" is not a node ID: 40 lowercase hex characters`);
  return nodeId;
}

/** `since` is a time in ms since the epoch, or a duration back from now: 90s, 30m, 6h, 7d. */
export function sinceOf(value: string | undefined, nowMs: number): number {
  if (value === undefined || value === '') return nowMs - availabilitySinceMsDefault;
  const duration = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  if (duration !== null) {
    const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 's' | 'm' | 'h' | 'd'];
    return nowMs - Number(duration[1]) * unitMs;
  }
  const milliseconds = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(milliseconds) && milliseconds <= nowMs) return milliseconds;
  throw new AdminRouteError(400, 'ADMIN_BAD_REQUEST', `since=${value.slice(0, 64)} is neither a duration back from now (90s, 30m, 6h, 7d) nor a past time in milliseconds since the epoch`);
}

function sloOf(value: string | undefined): number {
  if (value === undefined || value === '') return sloTargetDefault;
  const target = Number(value);
  if (!(target > 0 && target < 1)) throw new AdminRouteError(400, 'ADMIN_BAD_REQUEST', `slo=${value.slice(0, 64)} must be a fraction between 0 and 1, e.g. 0.999`);
  return target;
}

function integerOf(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new AdminRouteError(400, 'ADMIN_BAD_REQUEST', `${name}=${value.slice(0, 64)} must be a whole number from ${min} to ${max}`);
  return number;
}
