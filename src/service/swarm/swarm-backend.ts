/**
 * The completion backend of a gateway in the swarm: the OpenAI API's jobs run on compute
 * peers found through the DHT, move to another peer when one dies mid-answer (the client's
 * stream goes on, with the same text), and — with a conversation id — keep their history in
 * the replicated store, read with the client's session token.
 *
 * With `conversation_id`, a request's messages are this turn's new messages; the gateway puts
 * the stored history before them and, when the answer is complete, appends both the new
 * messages and the answer, and returns the session token of that write.
 */
import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '../../model/chat-template.js';
import { CompletionError, type CompletionBackend, type CompletionEvent, type CompletionJob, type ModelCard } from '../completion-backend.js';
import { asCompletionErrorValue, prepareJob, type PromptModel } from '../prepared-job.js';
import { firstChunkTokens, laterChunkTokens, NoComputePeerError, runAcrossPeers, type ComputeDirectory, type RunnerOptions } from '../compute/failover-runner.js';
import { newMessage, type ConversationStore } from './conversations.js';

export interface SwarmModel extends PromptModel {
  name: string;
  contextLength: number;
}

export interface SwarmBackendParts {
  model: SwarmModel;
  directory: ComputeDirectory;
  /** Where conversations live; without it, conversation_id is refused. */
  conversations?: ConversationStore;
  runner?: RunnerOptions;
  /** Called on every mid-answer failover, for logs and the availability record. */
  onFailover?: (event: { from: string; to: string | undefined; reason: string; tokensSoFar: number }) => void;
  createdSeconds?: number;
  now?: () => number;
}

export class SwarmCompletionBackend implements CompletionBackend {
  private readonly card: ModelCard;
  private readonly now: () => number;

  constructor(private readonly parts: SwarmBackendParts) {
    this.now = parts.now ?? Date.now;
    this.card = { id: parts.model.name, created: parts.createdSeconds ?? Math.floor(Date.now() / 1000), ownedBy: 'nines', contextTokens: parts.model.contextLength };
  }

  models(): ModelCard[] {
    return [{ ...this.card }];
  }

  /** This turn's tokens (a conversation's stored history is counted when the job runs). */
  promptTokens(job: CompletionJob): number {
    this.checkModel(job);
    return prepareJob(this.parts.model, job).prompt.length;
  }

  async *run(job: CompletionJob, signal: AbortSignal): AsyncGenerator<CompletionEvent, void, undefined> {
    this.checkModel(job);
    const { history, turn } = await this.conversationOf(job);
    const prepared = prepareJob(this.parts.model, history.length === 0 ? job : { ...job, input: { kind: 'chat', messages: [...history, ...turn] } });
    if (prepared.prompt.length >= this.card.contextTokens) {
      throw new CompletionError('context_length_exceeded', `the prompt is ${prepared.prompt.length} tokens (with the conversation's history) but the context window holds ${this.card.contextTokens}; start a new conversation or send less`, 'messages');
    }
    yield { type: 'start', promptTokens: prepared.prompt.length };
    const request = { jobId: randomBytes(12).toString('hex'), model: job.model, prompt: prepared.prompt, sampler: prepared.sampler, maxTokens: job.maxTokens, stop: prepared.stop, traceTopK: job.trace ? job.traceTopK : 0 };
    const runner: RunnerOptions = { firstChunkTokens: job.streamed === true ? firstChunkTokens : laterChunkTokens, ...this.parts.runner };
    let text = '';
    let completionTokens = 0;
    try {
      for await (const event of runAcrossPeers(request, this.parts.directory, signal, runner)) {
        if (event.kind === 'failover') {
          this.parts.onFailover?.(event);
          continue;
        }
        if (event.kind === 'token') {
          const { step } = event;
          completionTokens++;
          text += step.text;
          yield {
            type: 'token', tokenId: step.id, text: step.text, tokenText: step.tokenText, peer: event.peer,
            ...(step.probability !== undefined && { probability: step.probability }),
            ...(step.candidates !== undefined && { candidates: step.candidates }),
          };
          continue;
        }
        text += event.text;
        const sessionToken = job.conversationId === undefined ? undefined : await this.record(job.conversationId, turn, text);
        yield { type: 'end', reason: event.reason, text: event.text, promptTokens: prepared.prompt.length, completionTokens, ...(sessionToken !== undefined && { sessionToken }) };
        return;
      }
    } catch (error) {
      if (error instanceof NoComputePeerError) throw new CompletionError('server_busy', error.message);
      throw asCompletionErrorValue(error);
    }
  }

  private checkModel(job: CompletionJob): void {
    if (job.model !== this.card.id) throw new CompletionError('model_not_found', `The model '${job.model}' does not exist in this swarm; it serves '${this.card.id}' (see GET /v1/models).`, 'model');
  }

  private async conversationOf(job: CompletionJob): Promise<{ history: ChatMessage[]; turn: ChatMessage[] }> {
    if (job.conversationId === undefined) return { history: [], turn: job.input.kind === 'chat' ? job.input.messages : [] };
    if (job.input.kind !== 'chat') throw new CompletionError('invalid_request_error', 'conversation_id is for chat completions (messages), not text completions', 'conversation_id');
    if (this.parts.conversations === undefined) throw new CompletionError('unsupported_feature', 'this gateway has no replicated store to keep conversations in; start it with the storage role or send the whole conversation in messages', 'conversation_id');
    const stored = await this.parts.conversations.load(job.conversationId, job.sessionToken);
    return { history: stored.map(({ role, content }) => ({ role, content })), turn: job.input.messages };
  }

  private async record(conversationId: string, turn: ChatMessage[], answer: string): Promise<string> {
    const at = this.now();
    // Each message one millisecond apart, so a merged conversation keeps this turn's order.
    const messages = [...turn, { role: 'assistant' as const, content: answer }].map((message, index) => newMessage(message.role, message.content, at + index));
    return (await this.parts.conversations!.append(conversationId, messages)).sessionToken;
  }
}
