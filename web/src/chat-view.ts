/**
 * Chat with the swarm through this peer's gateway. Each turn sends only the new message
 * with a `conversation_id`: the swarm keeps the history in its replicated store. The
 * `x-nines-session` token that each answer returns goes with the next turn, so the next
 * turn sees this one whichever replica serves it (read-after-write).
 */
import type { ApiClient } from './api.js';
import { ChatStreamReader, type ChatStreamEvent } from './chat-stream.js';
import { element, replaceChildren } from './dom.js';
import { shortId } from './format.js';
import { serverSentEvents } from './sse.js';
import { TokenTooltip, TokenWriter } from './token-view.js';

/** Candidates shown per token: the five most likely, as `nines generate --trace` shows. */
const traceTopK = 5;
const maxTokensDefault = 48;
const maxTokensMax = 512;

export class ChatPanel {
  private readonly transcript = element('div', { class: 'transcript', 'data-testid': 'chat-transcript', 'aria-live': 'polite' });
  private readonly input = element('textarea', { rows: 2, placeholder: 'Say something to the swarm…', 'data-testid': 'chat-input' });
  private readonly send = element('button', { type: 'submit', 'data-testid': 'chat-send' }, 'Send');
  private readonly model = element('select', { 'data-testid': 'model-select', 'aria-label': 'model' });
  private readonly maxTokens = element('input', { type: 'number', min: 1, max: maxTokensMax, value: maxTokensDefault, 'aria-label': 'max tokens', class: 'small' });
  private readonly status = element('p', { class: 'muted', 'data-testid': 'chat-status' });
  private readonly tooltip = new TokenTooltip();
  private conversationId = newConversationId();
  private session: string | null = null;

  constructor(
    container: HTMLElement,
    private readonly api: ApiClient,
  ) {
    const restart = element('button', { type: 'button', class: 'secondary' }, 'New conversation');
    restart.addEventListener('click', () => this.restart());
    const form = element('form', { class: 'chat-form' }, this.input, element('div', { class: 'row' }, this.model, element('label', {}, 'max tokens ', this.maxTokens), this.send, restart));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.turn();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        void this.turn();
      }
    });
    replaceChildren(container, this.transcript, form, this.status);
  }

  async loadModels(): Promise<void> {
    try {
      const models = await this.api.getJson<{ data: { id: string }[] }>('/v1/models');
      const current = this.model.value;
      replaceChildren(this.model, ...models.data.map((model) => element('option', { value: model.id }, model.id)));
      if (models.data.some((model) => model.id === current)) this.model.value = current;
      this.status.textContent = models.data.length === 0 ? 'This peer serves no model: start it with the gateway role.' : '';
    } catch (error) {
      this.status.textContent = `No models: ${messageOf(error)}`;
    }
  }

  private restart(): void {
    this.conversationId = newConversationId();
    this.session = null;
    replaceChildren(this.transcript);
    this.status.textContent = 'A new conversation.';
  }

  private async turn(): Promise<void> {
    const content = this.input.value.trim();
    if (content === '' || this.send.disabled) return;
    if (this.model.value === '') await this.loadModels();
    this.input.value = '';
    this.send.disabled = true;
    this.transcript.append(element('div', { class: 'message user' }, content));
    const answer = element('div', { class: 'message assistant', 'data-testid': 'chat-answer' });
    this.transcript.append(answer);
    this.status.textContent = 'The swarm is answering…';
    try {
      await this.stream(content, answer);
    } catch (error) {
      answer.append(element('p', { class: 'error' }, messageOf(error)));
      this.status.textContent = 'The turn failed.';
    } finally {
      this.send.disabled = false;
      this.transcript.scrollTop = this.transcript.scrollHeight;
    }
  }

  private async stream(content: string, answer: HTMLElement): Promise<void> {
    const maxTokens = Math.max(1, Math.min(maxTokensMax, Math.round(Number(this.maxTokens.value)) || maxTokensDefault));
    const response = await this.api.fetch('/v1/chat/completions', {
      method: 'POST',
      headers: this.api.headers({ 'content-type': 'application/json', ...(this.session !== null && { 'x-nines-session': this.session }) }),
      body: JSON.stringify({ model: this.model.value, messages: [{ role: 'user', content }], stream: true, trace: true, trace_top_k: traceTopK, max_tokens: maxTokens, conversation_id: this.conversationId }),
    });
    if (response.body === null) throw new Error('the answer had no body');
    const writer = new TokenWriter(answer, this.tooltip);
    const reader = new ChatStreamReader();
    // The compute peers in the order they served: more than one means the gateway failed over mid-answer.
    const peers: string[] = [];
    const handle = (event: ChatStreamEvent) => {
      if (event.type === 'piece') {
        writer.append(event.text, event.steps);
        for (const step of event.steps) if (step.peer !== undefined && peers.at(-1) !== step.peer) peers.push(step.peer);
      } else if (event.type === 'error') {
        throw new Error(event.message);
      } else {
        if (event.session !== null) this.session = event.session;
        const finish = event.finishReason === null ? 'finished' : `finished: ${event.finishReason === 'stop' ? 'the model ended its answer' : 'max tokens reached'}`;
        this.status.textContent = `${finish}${servedBy(peers)}`;
        answer.dataset.done = 'true';
      }
      this.transcript.scrollTop = this.transcript.scrollHeight;
    };
    for await (const data of serverSentEvents(response.body)) for (const event of reader.read(data)) handle(event);
    for (const event of reader.close()) handle(event);
  }
}

function servedBy(peers: readonly string[]): string {
  if (peers.length === 0) return '';
  if (peers.length === 1) return ` · computed by peer ${shortId(peers[0])}`;
  return ` · computed by peers ${peers.map(shortId).join(' → ')}: the gateway failed over mid-answer`;
}

/** crypto.randomUUID exists only in secure contexts, and a peer's dashboard may be plain http on a LAN address; getRandomValues works everywhere. */
function newConversationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `dashboard-${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
