/**
 * The key-value HTTP API in the multi-leader and leaderless modes: the same paths as in
 * single-leader mode (kv-routes.ts), with what those modes add — siblings and their context.
 *
 *   GET    /v1/kv/<key>?r=N&n=N&consistency=quorum|local   {key, value?, values, context, conflict} or a set's {key, elements}
 *   PUT    /v1/kv/<key>?w=N&n=N&lww=true&context=<token>    body: the value, as text        -> {context}
 *   DELETE /v1/kv/<key>?w=N&n=N&context=<token>                                              -> {context}
 *
 * r, w and n (leaderless only) are per request, within the cluster's n: n replicas are reached
 * now, r or w of them must answer.
 *   POST   /v1/kv/<key>/append                             body: one element (multi-leader) -> {id}
 *
 * A read returns every concurrent value (`values`; `value` only when there is exactly one)
 * and a `context` token; a write that passes that context back (query `context=` or header
 * `x-nines-context`) replaces exactly the values it read. Without a context a write replaces
 * what the coordinating peer has seen, and any concurrent value elsewhere stays as a sibling.
 * In multi-leader mode every answer carries `x-nines-session` (what the peer has applied, as a
 * version vector token); a read that passes it back waits until the peer it reaches has applied
 * at least that much: read-after-write on any peer.
 */
import { keyBytesMax, valueBytesMax } from '../replication/leader/index.js';
import { decodeVector, encodeVector, type VersionVector } from '../replication/versions/index.js';
import { errorResponse, type KvRequest, type KvResponse } from './kv-routes.js';

export const contextHeader = 'x-nines-context';
const sessionHeader = 'x-nines-session';

export type ReplicationMode = 'single-leader' | 'multi-leader' | 'leaderless';

export interface ReplicaElement {
  id: string;
  value: string;
  timestamp: { wallMs: number; logical: number; node: string };
}

export type ReplicaRead =
  | { kind: 'register'; values: string[]; context: VersionVector; deleted: boolean; session?: VersionVector }
  | { kind: 'set'; elements: ReplicaElement[]; session?: VersionVector }
  | { kind: 'missing'; session?: VersionVector };

export interface ReplicaWritten {
  context?: VersionVector;
  elementId?: string;
  session?: VersionVector;
}

/** What the routes need from a multi-leader or leaderless peer. */
export interface ReplicaKvBackend {
  readonly mode: 'multi-leader' | 'leaderless';
  get(key: string, options: { quorum?: number; replicas?: number; session?: VersionVector; local: boolean }): Promise<ReplicaRead>;
  put(key: string, value: string | null, options: { context?: VersionVector; quorum?: number; replicas?: number; lastWriterWins: boolean }): Promise<ReplicaWritten>;
  append(key: string, value: string): Promise<ReplicaWritten>;
  status(): unknown;
}

class BadRequest extends Error {
  readonly code = 'BAD_REQUEST';
}

export async function handleReplicaKvRequest(backend: ReplicaKvBackend, request: KvRequest): Promise<KvResponse> {
  try {
    return await route(backend, request);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    return errorResponse(typeof code === 'string' ? code : 'INTERNAL', typeof code === 'string' ? message : `the peer failed to serve the request: ${message}`);
  }
}

async function route(backend: ReplicaKvBackend, request: KvRequest): Promise<KvResponse> {
  let rest = request.path.slice('/v1/kv/'.length);
  const action = request.method === 'POST' ? (rest.endsWith('/append') ? 'append' : rest.endsWith('/cas') ? 'cas' : undefined) : undefined;
  if (action !== undefined) rest = rest.slice(0, -(action.length + 1));
  const key = keyOf(rest);
  if (backend.mode === 'multi-leader' && ['r', 'w', 'n'].some((name) => request.query.has(name))) {
    throw new BadRequest('r, w and n are leaderless settings; in multi-leader mode a read is one peer\'s copy and a write is acknowledged by the peer that takes it');
  }
  if (Buffer.byteLength(request.body) > valueBytesMax) throw new BadRequestWithCode('PAYLOAD_TOO_LARGE', `the value is over ${valueBytesMax} bytes`);
  switch (request.method) {
    case 'GET': {
      const consistency = request.query.get('consistency') ?? 'quorum';
      if (consistency !== 'quorum' && consistency !== 'local') throw new BadRequest(`in ${backend.mode} mode consistency is quorum (r replicas answer) or local (this peer's copy), got ${JSON.stringify(consistency)}`);
      const read = await backend.get(key, { quorum: quorumOf(request.query.get('r'), 'r'), replicas: quorumOf(request.query.get('n'), 'n'), session: sessionOf(request), local: consistency === 'local' });
      return readResponse(key, read);
    }
    case 'PUT':
    case 'DELETE': {
      const written = await backend.put(key, request.method === 'PUT' ? request.body : null, {
        context: contextOf(request),
        quorum: quorumOf(request.query.get('w'), 'w'),
        replicas: quorumOf(request.query.get('n'), 'n'),
        lastWriterWins: flagOf(request.query.get('lww'), 'lww'),
      });
      return writtenResponse(written, written.context === undefined ? {} : { context: encodeVector(written.context) });
    }
    case 'POST': {
      if (action === 'cas') {
        throw new BadRequestWithCode('KV_COMMAND_INVALID', `compare-and-set needs single-leader replication; in ${backend.mode} mode read the key and write with the context it returned`);
      }
      if (action !== 'append') throw new BadRequestWithCode('METHOD_NOT_ALLOWED', 'POST is only for /v1/kv/<key>/append');
      const written = await backend.append(key, request.body);
      return writtenResponse(written, { id: written.elementId });
    }
    default:
      throw new BadRequestWithCode('METHOD_NOT_ALLOWED', `${request.method} is not a key-value method; use GET, PUT, DELETE or POST .../append`);
  }
}

class BadRequestWithCode extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readResponse(key: string, read: ReplicaRead): KvResponse {
  const headers = sessionHeaders(read.session);
  if (read.kind === 'set') return { status: 200, headers, body: { key, elements: read.elements } };
  if (read.kind === 'missing' || read.deleted) {
    const context = read.kind === 'register' ? { context: encodeVector(read.context) } : {};
    return { status: 404, headers, body: { error: { code: 'KEY_NOT_FOUND', message: `no value for key ${JSON.stringify(key)}` }, ...context } };
  }
  const single = read.values.length === 1 ? { value: read.values[0] } : {};
  return { status: 200, headers, body: { key, ...single, values: read.values, context: encodeVector(read.context), conflict: read.values.length > 1 } };
}

function writtenResponse(written: ReplicaWritten, body: Record<string, unknown>): KvResponse {
  return { status: 200, headers: sessionHeaders(written.session), body };
}

function sessionHeaders(session: VersionVector | undefined): Record<string, string> {
  return session === undefined ? {} : { [sessionHeader]: encodeVector(session) };
}

function keyOf(encoded: string): string {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new BadRequest('the key is not valid percent-encoding');
  }
  if (key.length === 0) throw new BadRequest('the key is empty: use /v1/kv/<key>');
  if (Buffer.byteLength(key) > keyBytesMax) throw new BadRequest(`the key is over ${keyBytesMax} bytes`);
  return key;
}

function quorumOf(text: string | null, name: string): number | undefined {
  if (text === null) return undefined;
  if (!/^[1-9][0-9]{0,2}$/.test(text)) throw new BadRequest(`${name} must be a positive number of replicas, got ${JSON.stringify(text)}`);
  return Number(text);
}

function flagOf(text: string | null, name: string): boolean {
  if (text === null || text === 'false') return false;
  if (text === 'true' || text === '') return true;
  throw new BadRequest(`${name} must be true or false, got ${JSON.stringify(text)}`);
}

function tokenOf(request: KvRequest, query: string, header: string, what: string): VersionVector | undefined {
  const fromHeader = request.headers[header];
  const text = request.query.get(query) ?? (Array.isArray(fromHeader) ? fromHeader[0] : fromHeader);
  if (text === undefined || text === null || text === '') return undefined;
  const decoded = decodeVector(text);
  if ('problem' in decoded && typeof decoded.problem === 'string') throw new BadRequest(`the ${what} is not one this API issued (${decoded.problem}); pass back the token a read or write returned`);
  return decoded as VersionVector;
}

function contextOf(request: KvRequest): VersionVector | undefined {
  return tokenOf(request, 'context', contextHeader, 'context');
}

function sessionOf(request: KvRequest): VersionVector | undefined {
  return tokenOf(request, 'session', sessionHeader, 'session token');
}
