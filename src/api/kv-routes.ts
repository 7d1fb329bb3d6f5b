/**
 * The key-value HTTP API of a storage peer, independent of the HTTP server that carries it:
 * a request (method, path, query, headers, body) in, a response (status, headers, JSON) out.
 *
 *   GET    /v1/kv/<key>?consistency=linearizable|session|stale   the value (404 when absent)
 *   PUT    /v1/kv/<key>?acks=leader|quorum|all                    body: the value, as text
 *   DELETE /v1/kv/<key>?acks=...
 *   POST   /v1/kv/<key>/cas?acks=...     body: {"expected": string|null, "value": string|null}
 *   GET    /v1/cluster/status            leader, term, commit and applied indexes, followers' lag
 *
 * Every request needs `Authorization: Bearer <key>` with one of the cluster's API keys (the
 * same keys as the OpenAI and admin routes), unless the cluster is open: 401 KV_UNAUTHORIZED
 * without a known key, 401 KV_NO_KEYS while the cluster has none.
 *
 * Every answer carries the header `x-nines-session`: the log index the client has now seen.
 * Passing it back on a read (header or `?session=`) with consistency=session makes any peer
 * wait until it has applied that index: read-after-write, whichever peer the read reaches.
 * Errors are `{"error": {"code", "message", "leader"?}}`, with the status from one table.
 */
import { keyBytesMax, valueBytesMax, type AckLevel, type RaftStatus } from '../replication/leader/index.js';
import type { KvWrite, ReadConsistency, WriteOutcome } from '../node/raft/raft-peer.js';
import { handleReplicaKvRequest, type ReplicaKvBackend } from './replica-kv-routes.js';
import type { ApiKeyRing } from './openai/auth.js';

export const sessionHeader = 'x-nines-session';
/** Request bodies at most: the largest value plus room for the JSON around a compare-and-set. */
export const kvBodyBytesMax = 2 * valueBytesMax + 1024;

/** What the routes need from a storage peer (RaftPeer provides it). */
export interface KvBackend {
  write(command: KvWrite, acks?: AckLevel): Promise<WriteOutcome>;
  read(key: string, consistency: ReadConsistency, sessionIndex?: number): Promise<{ value: string | null; index: number }>;
  status(): RaftStatus;
}

export interface KvRequest {
  method: string;
  /** The path without the query string, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface KvResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Error codes and their HTTP statuses, in one place. */
const statusOfCode: Record<string, number> = {
  BAD_REQUEST: 400,
  KV_UNAUTHORIZED: 401,
  KV_NO_KEYS: 401,
  KV_COMMAND_INVALID: 400,
  KV_TOO_MANY_SIBLINGS: 409,
  KEY_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  KV_UNAVAILABLE: 503,
  KV_TIMEOUT: 504,
  KV_OUTCOME_UNKNOWN: 504,
};

class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorResponse(code: string, message: string, extra: Record<string, unknown> = {}): KvResponse {
  const status = statusOfCode[code] ?? 500;
  const headers: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
  return { status, headers, body: { error: { code, message, ...extra } } };
}

/** The paths that take the cluster's API keys (the rest of /v1/* on a storage peer is a 404). */
export function isKvPath(path: string): boolean {
  return path.startsWith('/v1/kv/') || path.startsWith('/v1/cluster/');
}

/** The 401 a request gets when it does not carry one of the cluster's keys; undefined when it may go on. */
export function kvRefusal(auth: ApiKeyRing, authorization: string | undefined): KvResponse | undefined {
  if (auth.state === 'closed') {
    return errorResponse('KV_NO_KEYS', 'this cluster has no API keys, so the key-value API is closed: add one with nines cluster key add <name> --dir <cluster dir>, or create the cluster with --open');
  }
  try {
    auth.authenticate(authorization);
    return undefined;
  } catch (error) {
    return errorResponse('KV_UNAUTHORIZED', `${(error as Error).message} (nines kv takes it with --api-key or NINES_API_KEY)`);
  }
}

/** Any storage peer's backend: single-leader (Raft), multi-leader or leaderless. */
export type AnyKvBackend = KvBackend | ReplicaKvBackend;

function isReplicaBackend(backend: AnyKvBackend): backend is ReplicaKvBackend {
  return 'mode' in backend;
}

export async function handleKvRequest(backend: AnyKvBackend, request: KvRequest): Promise<KvResponse | undefined> {
  if (request.path === '/v1/cluster/status') {
    if (request.method !== 'GET') return errorResponse('METHOD_NOT_ALLOWED', 'use GET /v1/cluster/status');
    const mode = isReplicaBackend(backend) ? backend.mode : 'single-leader';
    return { status: 200, headers: {}, body: { mode, ...(backend.status() as object) } };
  }
  if (!request.path.startsWith('/v1/kv/')) return undefined;
  if (isReplicaBackend(backend)) return handleReplicaKvRequest(backend, request);
  try {
    return await route(backend, request);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (typeof code === 'string' && code in statusOfCode) {
      const leader = (error as { leaderHint?: unknown }).leaderHint;
      return errorResponse(code, message, typeof leader === 'string' ? { leader } : {});
    }
    return errorResponse('INTERNAL', `the peer failed to serve the request: ${message}`);
  }
}

async function route(backend: KvBackend, request: KvRequest): Promise<KvResponse> {
  let rest = request.path.slice('/v1/kv/'.length);
  const isCas = rest.endsWith('/cas') && request.method === 'POST';
  if (isCas) rest = rest.slice(0, -'/cas'.length);
  const key = keyOf(rest);
  if (Buffer.byteLength(request.body) > kvBodyBytesMax) throw new BadRequest('PAYLOAD_TOO_LARGE', `the body is over ${kvBodyBytesMax} bytes`);
  switch (request.method) {
    case 'GET': {
      const consistency = consistencyOf(request.query.get('consistency'));
      const session = sessionOf(request);
      const { value, index } = await backend.read(key, consistency, session);
      const headers = { [sessionHeader]: String(Math.max(index, session)) };
      if (value === null) return { status: 404, headers, body: { error: { code: 'KEY_NOT_FOUND', message: `no value for key ${JSON.stringify(key)}` } } };
      return { status: 200, headers, body: { key, value, index } };
    }
    case 'PUT':
      return written(await backend.write({ op: 'put', key, value: request.body }, acksOf(request.query.get('acks'))));
    case 'DELETE':
      return written(await backend.write({ op: 'delete', key }, acksOf(request.query.get('acks'))));
    case 'POST': {
      if (!isCas) throw new BadRequest('METHOD_NOT_ALLOWED', 'POST is only for /v1/kv/<key>/cas');
      const { expected, value } = casBodyOf(request.body);
      return written(await backend.write({ op: 'cas', key, expected, value }, acksOf(request.query.get('acks'))));
    }
    default:
      throw new BadRequest('METHOD_NOT_ALLOWED', `${request.method} is not a key-value method; use GET, PUT, DELETE or POST .../cas`);
  }
}

function written(outcome: WriteOutcome): KvResponse {
  return { status: 200, headers: { [sessionHeader]: String(outcome.index) }, body: { index: outcome.index, ...(outcome.result !== undefined && { result: outcome.result }) } };
}

function keyOf(encoded: string): string {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new BadRequest('BAD_REQUEST', 'the key is not valid percent-encoding');
  }
  if (key.length === 0) throw new BadRequest('BAD_REQUEST', 'the key is empty: use /v1/kv/<key>');
  if (Buffer.byteLength(key) > keyBytesMax) throw new BadRequest('BAD_REQUEST', `the key is over ${keyBytesMax} bytes`);
  return key;
}

function consistencyOf(value: string | null): ReadConsistency {
  if (value === null) return 'linearizable';
  if (value === 'linearizable' || value === 'session' || value === 'stale') return value;
  throw new BadRequest('BAD_REQUEST', `consistency must be linearizable, session or stale, got ${JSON.stringify(value)}`);
}

function acksOf(value: string | null): AckLevel | undefined {
  if (value === null) return undefined;
  if (value === 'leader' || value === 'quorum' || value === 'all') return value;
  throw new BadRequest('BAD_REQUEST', `acks must be leader, quorum or all, got ${JSON.stringify(value)}`);
}

function sessionOf(request: KvRequest): number {
  const header = request.headers[sessionHeader];
  const text = request.query.get('session') ?? (Array.isArray(header) ? header[0] : header);
  if (text === undefined || text === null || text === '') return 0;
  if (!/^\d{1,15}$/.test(text)) throw new BadRequest('BAD_REQUEST', `the session token must be a log index (a non-negative integer), got ${JSON.stringify(text)}`);
  return Number(text);
}

function casBodyOf(body: string): { expected: string | null; value: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequest('BAD_REQUEST', 'a compare-and-set body must be JSON: {"expected": string|null, "value": string|null}');
  }
  const fields = parsed as { expected?: unknown; value?: unknown } | null;
  const isText = (item: unknown) => item === null || typeof item === 'string';
  if (typeof fields !== 'object' || fields === null || !isText(fields.expected) || !isText(fields.value)) {
    throw new BadRequest('BAD_REQUEST', 'a compare-and-set body needs "expected" and "value", each a string or null');
  }
  return { expected: fields.expected as string | null, value: fields.value as string | null };
}
