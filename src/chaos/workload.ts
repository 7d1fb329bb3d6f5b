/**
 * The steady workload of a chaos run: chat clients, each holding a conversation of a few
 * short turns (`conversation_id`, seeded, `max_tokens` small), and key-value clients that put
 * new numbered keys and read acknowledged ones back.
 *
 * The client rule: a client sends each request once, to one gateway, and never sends again a
 * request a gateway may have received — if that gateway dies mid-request, the request FAILED
 * (the gateway may retry inside the swarm; the client may not). Only a refused connection,
 * where nothing listened and the request never reached a peer, moves the client to the next
 * gateway with the same request; those are recorded apart (`refused`).
 */
import type { Rng } from '../core/rng.js';
import { allRefusedPauseMs, chatPauseMs, chatRequestTimeoutMs, chatTokensMax, kvPauseMs, kvRequestTimeoutMs, turnsPerConversation } from './constants.js';
import { authorizationHeaders, send, type HttpOutcome, type HttpRequestOptions } from './http-client.js';
import type { AcknowledgedTurn } from './lost-messages.js';
import type { RequestKind, RequestRecord } from './types.js';

export interface WorkloadParts {
  /** Every gateway's API URL, by peer index; the workload sends only there. */
  gateways: readonly string[];
  /** The indexes (into gateways) the chat clients use; default all. */
  chatGateways?: readonly number[];
  apiKey: string | undefined;
  model: string;
  /** Names this run's conversations and keys, so that runs against one swarm do not mix. */
  runTag: string;
  acks: string;
  rng: Rng;
  now: () => number;
  record: (record: RequestRecord) => void;
}

/** A client's gateways (indexes into WorkloadParts.gateways) and the one it uses now. */
interface Cursor {
  candidates: readonly number[];
  position: number;
}

const phrases = ['Who made the light?', 'And God said', 'The LORD is my shepherd', 'In the beginning', 'Blessed are the meek', 'Let there be light'];

export class Workload {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly turns = new Map<string, AcknowledgedTurn[]>();
  private readonly puts = new Map<string, string>();

  constructor(private readonly parts: WorkloadParts) {}

  start(chatClients: number, kvClients: number): void {
    this.running = true;
    for (let client = 0; client < chatClients; client++) this.loops.push(this.chatLoop(client));
    for (let client = 0; client < kvClients; client++) this.loops.push(this.kvLoop(client));
  }

  /** Stops sending; resolves once every request in flight has its outcome. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Each conversation's acknowledged turns, in the order they were acknowledged. */
  acknowledgedTurns(): ReadonlyMap<string, AcknowledgedTurn[]> {
    return this.turns;
  }

  /** Each acknowledged put's key and value. */
  acknowledgedPuts(): ReadonlyMap<string, string> {
    return this.puts;
  }

  private headers(): Record<string, string> {
    return authorizationHeaders(this.parts.apiKey);
  }

  /**
   * Sends one request to the client's gateway; on a refused connection only, to the next one.
   * Returns the outcome and the gateway it reached, or undefined when every gateway refused.
   */
  private async sendOnce(kind: RequestKind, cursor: Cursor, path: string, options: HttpRequestOptions): Promise<{ outcome: HttpOutcome; gateway: number; atMs: number } | undefined> {
    const { gateways } = this.parts;
    for (let attempt = 0; attempt < cursor.candidates.length; attempt++) {
      const atMs = this.parts.now();
      const gateway = cursor.candidates[cursor.position];
      const outcome = await send(`${gateways[gateway]}${path}`, options);
      if (outcome.kind !== 'refused') return { outcome, gateway, atMs };
      this.parts.record({ atMs, kind, gateway, ok: false, status: null, latencyMs: this.parts.now() - atMs, error: 'connection refused', refused: true });
      cursor.position = (cursor.position + 1) % cursor.candidates.length;
    }
    return undefined;
  }

  private finish(kind: RequestKind, sent: { outcome: HttpOutcome; gateway: number; atMs: number }, ok: boolean, error: string | null): void {
    const status = sent.outcome.kind === 'answer' ? sent.outcome.answer.status : null;
    this.parts.record({ atMs: sent.atMs, kind, gateway: sent.gateway, ok, status, latencyMs: this.parts.now() - sent.atMs, error, refused: false });
  }

  private async chatLoop(client: number): Promise<void> {
    const candidates = this.parts.chatGateways ?? this.parts.gateways.map((_, index) => index);
    const cursor: Cursor = { candidates, position: client % candidates.length };
    for (let conversation = 0; this.running; conversation++) {
      const conversationId = `chaos-${this.parts.runTag}-c${client}-${conversation}`;
      const acknowledged: AcknowledgedTurn[] = [];
      this.turns.set(conversationId, acknowledged);
      let session: string | undefined;
      for (let turn = 0; turn < turnsPerConversation && this.running; ) {
        // Short, for the model's small context window; unique within its conversation, which is all the read-back needs.
        const user = `${turn + 1}. ${phrases[this.parts.rng.nextInt(phrases.length)]}`;
        const body = JSON.stringify({ model: this.parts.model, messages: [{ role: 'user', content: user }], max_tokens: chatTokensMax, seed: this.parts.rng.nextInt(1_000_000), conversation_id: conversationId, stream: false });
        const headers = { ...this.headers(), 'content-type': 'application/json', ...(session !== undefined && { 'x-nines-session': session }) };
        const sent = await this.sendOnce('chat', cursor, '/v1/chat/completions', { method: 'POST', headers, body, timeoutMs: chatRequestTimeoutMs });
        if (sent === undefined) {
          await pause(allRefusedPauseMs);
          continue;
        }
        turn++;
        const answer = chatAnswer(sent.outcome);
        this.finish('chat', sent, answer.ok, answer.error);
        if (answer.ok) {
          acknowledged.push({ user, assistant: answer.text });
          session = answer.session ?? session;
        }
        await pause(chatPauseMs);
      }
    }
  }

  private async kvLoop(client: number): Promise<void> {
    // Key-value requests go to the storage peers: every gateway but the front ones (gateway-only, no store), which the chat clients have to themselves.
    const all = this.parts.gateways.map((_, index) => index);
    const chat = new Set(this.parts.chatGateways ?? all);
    const candidates = chat.size === all.length ? all : all.filter((index) => !chat.has(index));
    const cursor: Cursor = { candidates, position: (client + 1) % candidates.length };
    const mine: string[] = [];
    for (let step = 0; this.running; step++) {
      if (step % 2 === 0 || mine.length === 0) {
        const key = `chaos/${this.parts.runTag}/kv/${client}-${step}`;
        const value = `${this.parts.runTag}:${client}:${step}`;
        const sent = await this.sendOnce('kv-put', cursor, `/v1/kv/${encodeURIComponent(key)}?acks=${this.parts.acks}`, { method: 'PUT', headers: this.headers(), body: value, timeoutMs: kvRequestTimeoutMs });
        if (sent === undefined) await pause(allRefusedPauseMs);
        else {
          const ok = sent.outcome.kind === 'answer' && sent.outcome.answer.status === 200;
          this.finish('kv-put', sent, ok, ok ? null : problemOf(sent.outcome));
          if (ok) {
            this.puts.set(key, value);
            mine.push(key);
          }
        }
      } else {
        const key = mine[this.parts.rng.nextInt(mine.length)];
        const sent = await this.sendOnce('kv-get', cursor, `/v1/kv/${encodeURIComponent(key)}?consistency=linearizable`, { method: 'GET', headers: this.headers(), timeoutMs: kvRequestTimeoutMs });
        if (sent === undefined) await pause(allRefusedPauseMs);
        else {
          const read = readValue(sent.outcome);
          const ok = read.value === this.puts.get(key);
          this.finish('kv-get', sent, ok, ok ? null : (read.error ?? `the read found ${JSON.stringify(read.value)}, not the acknowledged value`));
        }
      }
      await pause(kvPauseMs);
    }
  }
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** The error an outcome stands for: the answer's own error message when it has one. */
export function problemOf(outcome: HttpOutcome): string {
  if (outcome.kind !== 'answer') return outcome.message;
  try {
    const body = JSON.parse(outcome.answer.text) as { error?: { message?: unknown; code?: unknown } };
    if (typeof body.error?.message === 'string') return `${outcome.answer.status} ${String(body.error.code ?? '')}: ${body.error.message}`.slice(0, 300);
  } catch {
    // Not JSON: the status alone says it.
  }
  return `status ${outcome.answer.status}`;
}

function chatAnswer(outcome: HttpOutcome): { ok: true; text: string; session: string | undefined; error: null } | { ok: false; error: string } {
  if (outcome.kind !== 'answer' || outcome.answer.status !== 200) return { ok: false, error: problemOf(outcome) };
  try {
    const body = JSON.parse(outcome.answer.text) as { choices?: Array<{ message?: { content?: unknown } }> };
    const text = body.choices?.[0]?.message?.content;
    if (typeof text !== 'string') return { ok: false, error: 'a 200 answer without the assistant text' };
    const session = outcome.answer.headers['x-nines-session'];
    return { ok: true, text, session: typeof session === 'string' ? session : undefined, error: null };
  } catch {
    return { ok: false, error: 'a 200 answer that is not JSON' };
  }
}

/** The value a KV GET found (null for 404), or the error when it found nothing usable. */
export function readValue(outcome: HttpOutcome): { value: string | null | undefined; error: string | null } {
  if (outcome.kind === 'answer' && outcome.answer.status === 404) return { value: null, error: null };
  if (outcome.kind !== 'answer' || outcome.answer.status !== 200) return { value: undefined, error: problemOf(outcome) };
  try {
    const body = JSON.parse(outcome.answer.text) as { value?: unknown };
    return typeof body.value === 'string' ? { value: body.value, error: null } : { value: undefined, error: 'a 200 answer without a value' };
  } catch {
    return { value: undefined, error: 'a 200 answer that is not JSON' };
  }
}
