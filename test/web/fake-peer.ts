/**
 * A stand-in for a peer's HTTP API, for browser tests of the dashboard's own behaviour: it
 * serves the built dashboard (dist/web) with the real mountDashboard, and the admin and chat
 * routes with fixed answers in the real shapes (the chat stream is made by the gateway's own
 * chunk builders). It records what the dashboard sent, and a kill turns a peer down.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { mountDashboard } from '../../src/api/dashboard.js';
import { chatChunk, sseDone, sseFrame, type CompletionIdentity, type TraceEntry } from '../../src/api/openai/responses.js';

export const fakeKey = 'sk-dashboard-test';
export const fakeIds = ['1a'.repeat(20), '5c'.repeat(20), 'e7'.repeat(20)];
export const fakeAnswer: TraceEntry[] = [
  { token: 'In', id: 1145, probability: 0.61, candidates: [{ token: 'In', id: 1145, probability: 0.61 }, { token: 'And', id: 295, probability: 0.3 }, { token: 'The', id: 300, probability: 0.09 }] },
  { token: ' the', id: 258, probability: 0.97, candidates: [{ token: ' the', id: 258, probability: 0.97 }, { token: ' that', id: 402, probability: 0.03 }] },
  { token: ' begin', id: 1801, probability: 0.4, candidates: [{ token: ' beginning', id: 1900, probability: 0.5 }, { token: ' begin', id: 1801, probability: 0.4 }, { token: ' day', id: 700, probability: 0.1 }] },
  { token: 'ning', id: 1243, probability: 0.99, candidates: [{ token: 'ning', id: 1243, probability: 0.99 }] },
].map((entry) => ({ ...entry, peer: fakeIds[1] }));

export interface ChatRequestSeen {
  body: { model?: string; stream?: boolean; trace?: boolean; trace_top_k?: number; conversation_id?: string; messages?: { role: string; content: string }[] };
  session: string | undefined;
}

export class FakePeer {
  readonly states = new Map(fakeIds.map((id) => [id, 'up' as 'up' | 'down']));
  readonly chats: ChatRequestSeen[] = [];
  readonly kills: string[] = [];
  readonly restarts: string[] = [];
  localSwarm = true;
  /** The fake's address, once it listens. */
  url = '';
  private sessionCounter = 16;

  private constructor(readonly app: FastifyInstance) {}

  static async start(dashboardDirectory: string): Promise<FakePeer> {
    const app = Fastify();
    mountDashboard(app, dashboardDirectory);
    const peer = new FakePeer(app);
    const guarded = (handler: (request: FastifyRequest, reply: FastifyReply) => unknown) => async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.headers.authorization !== `Bearer ${fakeKey}`) return reply.status(401).send({ error: { code: 'ADMIN_UNAUTHORIZED', message: 'Incorrect API key provided.' } });
      return handler(request, reply);
    };
    app.get('/v1/admin/swarm', guarded(() => peer.swarm()));
    app.get('/v1/admin/peers/:nodeId/routing-table', guarded((request) => peer.routingTable((request.params as { nodeId: string }).nodeId)));
    app.get('/v1/admin/peers/:nodeId/status', guarded((request) => peer.status((request.params as { nodeId: string }).nodeId)));
    app.get('/v1/admin/availability', guarded(() => peer.availability()));
    app.get('/v1/admin/requests', guarded(() => ({ series: peer.requestSeries() })));
    app.get('/v1/models', guarded(() => ({ object: 'list', data: [{ id: 'nines-kjv', object: 'model', created: 0, owned_by: 'nines' }] })));
    app.post('/v1/admin/local-swarm/peers/:nodeId/kill', guarded((request) => peer.kill((request.params as { nodeId: string }).nodeId)));
    app.post('/v1/admin/local-swarm/peers/:nodeId/restart', guarded((request) => peer.restart((request.params as { nodeId: string }).nodeId)));
    app.post('/v1/chat/completions', guarded((request, reply) => peer.chat(request, reply)));
    peer.url = await app.listen({ host: '127.0.0.1', port: 0 });
    return peer;
  }

  close(): Promise<void> {
    return this.app.close();
  }

  private up(): string[] {
    return fakeIds.filter((id) => this.states.get(id) === 'up');
  }

  private swarm(): unknown {
    return {
      self: fakeIds[0],
      leader: fakeIds[0],
      mode: 'single-leader',
      truncated: false,
      localSwarm: this.localSwarm,
      peers: fakeIds.map((nodeId, index) => {
        const state = this.states.get(nodeId)!;
        const contact = `127.0.0.1:${41000 + index}#${nodeId}`;
        // As src/node/admin/swarm-view.ts answers: a peer that does not answer is down, with nothing known of it but its contact.
        if (state === 'down') return { nodeId, contact, api: null, roles: [], leader: null, mode: null, reaches: [], state };
        return { nodeId, contact, api: `http://127.0.0.1:${42000 + index}`, roles: ['peer', 'storage', 'compute', 'gateway'], leader: fakeIds[0], mode: 'single-leader', state, reaches: this.up().filter((id) => id !== nodeId) };
      }),
    };
  }

  private routingTable(nodeId: string): unknown {
    const others = fakeIds.filter((id) => id !== nodeId);
    return { nodeId, contact: `127.0.0.1:41000#${nodeId}`, size: others.length, buckets: [...others.map((id, index) => ({ index, contacts: [{ nodeId: id, host: '127.0.0.1', port: 41001 + index, lastSeenMs: 1_700_000_000_000 }] })), { index: 2, contacts: [] }] };
  }

  private status(nodeId: string): unknown {
    const leader = nodeId === fakeIds[0];
    return {
      nodeId,
      roles: ['storage', 'compute', 'gateway'],
      storage: { mode: 'single-leader', replication: { id: nodeId, role: leader ? 'leader' : 'follower', term: 3, leader: fakeIds[0], commit: 41, applied: 41, followers: leader ? fakeIds.slice(1).map((peer) => ({ peer, match: 41, next: 42, state: 'replicate' })) : [] } },
      serving: { gateway: { computePeers: fakeIds.map((id) => ({ id, inFlight: 0, reportedLoad: 0, suspected: false, breaker: this.states.get(id) === 'up' ? 'closed' : 'open' })) } },
    };
  }

  private availability(): unknown {
    const down = fakeIds.filter((id) => this.states.get(id) === 'down');
    const hit = down.length > 0;
    const figures = (availability: number | null, failures: number) => ({ availability, nines: availability === null || availability === 1 ? null : -Math.log10(1 - availability), mtbfMs: failures === 0 ? null : 600_000, mttrMs: failures === 0 ? null : 1_200, failures, uptimeMs: 600_000, downtimeMs: failures * 1_200, observedMs: 601_200 });
    return {
      sinceMs: 0, untilMs: 1, windowMs: 3_600_000,
      cluster: figures(hit ? 0.998 : 1, hit ? 1 : 0),
      services: ['gateway', 'compute', 'storage'].map((service) => ({ service, peers: 3, ...figures(1, 0) })),
      peers: fakeIds.map((peer) => ({ peer, ...figures(down.includes(peer) ? 0.95 : 1, down.includes(peer) ? 1 : 0) })),
      client: { requests: 200, ok: hit ? 198 : 200, failed: hit ? 2 : 0, rejected: 0, availability: hit ? 0.99 : 1, nines: hit ? 2 : null },
      slo: { target: 0.999, allowedFailures: 0.2, failures: hit ? 2 : 0, errorBudgetRemaining: hit ? -9 : 1, met: !hit },
      leaderChanges: [{ atMs: 1_700_000_000_000, leader: fakeIds[0], term: 3 }],
      ninesTable: [1, 2, 3].map((nines) => ({ nines, availability: 1 - 10 ** -nines, percent: 100 - 100 * 10 ** -nines, downtimePerDayMs: 86_400_000 * 10 ** -nines, downtimePerMonthMs: 2_592_000_000 * 10 ** -nines, downtimePerYearMs: 31_536_000_000 * 10 ** -nines })),
    };
  }

  private requestSeries(): unknown[] {
    const now = Date.now();
    return Array.from({ length: 30 }, (_, index) => ({ atMs: now - (30 - index) * 1000, ok: 3 + (index % 4), failed: index === 20 ? 1 : 0, rejected: 0, latencyMsP50: 40 + index, latencyMsP99: 90 + 2 * index }));
  }

  private kill(nodeId: string): unknown {
    this.kills.push(nodeId);
    this.states.set(nodeId, 'down');
    return { ok: true };
  }

  private restart(nodeId: string): unknown {
    this.restarts.push(nodeId);
    this.states.set(nodeId, 'up');
    return { ok: true };
  }

  private chat(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const session = request.headers['x-nines-session'];
    this.chats.push({ body: request.body as ChatRequestSeen['body'], session: typeof session === 'string' ? session : undefined });
    const identity: CompletionIdentity = { id: 'chatcmpl-fake', created: 1, model: 'nines-kjv', seed: 1 };
    const frames = [
      sseFrame(chatChunk(identity, { role: 'assistant', content: '' }, null)),
      // The second turn fails over half-way: its last tokens come from another compute peer.
      ...fakeAnswer.map((step, index) => ({ ...step, peer: this.chats.length === 2 && index >= 2 ? fakeIds[2] : step.peer })).map((step) => sseFrame(chatChunk(identity, { content: step.token }, null, { trace: [step] }))),
      sseFrame(chatChunk(identity, {}, 'length', { session: String(++this.sessionCounter) })),
      sseDone,
    ];
    return reply.status(200).headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }).send(frames.join(''));
  }
}
