/**
 * The control server of a local swarm: loopback-only HTTP with a random bearer token, through
 * which the swarm's own peers (and `nines chaos`) may kill and restart its peers. Only the
 * processes the swarm started learn the token (in their environment), so a swarm that was not
 * started by `nines start` or `nines chaos` has no such door at all.
 *
 *   GET  /peers                   {"peers": [LocalPeerView, ...]}
 *   POST /peers/<peer>/kill       SIGKILL; {"peer": LocalPeerView} once the process is gone
 *   POST /peers/<peer>/restart    {"peer": LocalPeerView} once it is ready again
 *
 * <peer> is the peer's index (from 0) or its node ID (40 hex digits). Every request needs
 * `Authorization: Bearer <token>`. Errors are {"error": {"code", "message"}}.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { controlHost, controlRequestBytesMax, controlTokenBytes } from './constants.js';
import { LocalSwarmError } from './errors.js';
import type { LocalPeerView } from './peer-process.js';

export interface ControlActions {
  peers(): LocalPeerView[];
  kill(index: number): Promise<LocalPeerView>;
  restart(index: number): Promise<LocalPeerView>;
}

interface Answer {
  status: number;
  body: unknown;
}

function failure(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

export class ControlServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly token: string,
  ) {}

  static async start(actions: ControlActions): Promise<ControlServer> {
    const token = randomBytes(controlTokenBytes).toString('base64url');
    const server = createServer((request, response) => void serve(request, response, actions, token));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, controlHost, () => resolve());
    });
    const { port } = server.address() as { port: number };
    return new ControlServer(server, `http://${controlHost}:${port}`, token);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function serve(request: IncomingMessage, response: ServerResponse, actions: ControlActions, token: string): Promise<void> {
  let answer: Answer;
  try {
    answer = await route(request, actions, token);
  } catch (error) {
    answer = error instanceof LocalSwarmError ? failure(error.status, error.code, error.message) : failure(500, 'INTERNAL', `the swarm failed to act: ${(error as Error).message}`);
  }
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function route(request: IncomingMessage, actions: ControlActions, token: string): Promise<Answer> {
  if (!authorized(request.headers.authorization, token)) return failure(401, 'UNAUTHORIZED', 'send Authorization: Bearer <token>, the token this swarm gave its peers in NINES_LOCAL_SWARM_TOKEN');
  if (!(await bodyWithinLimit(request))) return failure(413, 'PAYLOAD_TOO_LARGE', `control requests take no body (at most ${controlRequestBytesMax} bytes are read)`);
  const path = new URL(request.url ?? '/', 'http://control').pathname;
  if (path === '/peers') {
    if (request.method !== 'GET') return failure(405, 'METHOD_NOT_ALLOWED', 'use GET /peers');
    return { status: 200, body: { peers: actions.peers() } };
  }
  const match = /^\/peers\/([^/]+)\/(kill|restart)$/.exec(path);
  if (match === null) return failure(404, 'NOT_FOUND', `no route ${request.method} ${path}; the routes are GET /peers, POST /peers/<peer>/kill, POST /peers/<peer>/restart`);
  if (request.method !== 'POST') return failure(405, 'METHOD_NOT_ALLOWED', `use POST ${path}`);
  const index = peerIndexOf(match[1], actions.peers());
  if (index === undefined) return failure(404, 'LOCAL_PEER_NOT_FOUND', `no peer ${JSON.stringify(match[1])} in this swarm: name it by its index (from 0) or its node ID`);
  const peer = match[2] === 'kill' ? await actions.kill(index) : await actions.restart(index);
  return { status: 200, body: { peer } };
}

/** The index of the peer named by an index (from 0) or a node ID. */
export function peerIndexOf(name: string, peers: readonly LocalPeerView[]): number | undefined {
  if (/^\d{1,3}$/.test(name)) return peers.find((peer) => peer.index === Number(name))?.index;
  const nodeId = name.toLowerCase();
  return peers.find((peer) => peer.nodeId === nodeId)?.index;
}

function authorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Reads (and discards) the body, stopping at the limit: false when the body was larger. */
async function bodyWithinLimit(request: IncomingMessage): Promise<boolean> {
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > controlRequestBytesMax) return false;
  }
  return true;
}
