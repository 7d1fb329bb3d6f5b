/**
 * What the node hands to its shell: messages to send and results of finished operations,
 * collected until `ready()` and cleared by `advance()` (the etcd-io/raft Ready/Advance pair).
 * Both queues are capped; a shell that never drains them loses the newest items, counted,
 * rather than the node growing without bound.
 */
import type { Contact } from './contact.js';
import type { KademliaMessage } from './messages.js';
import type { OperationResult } from './operations.js';

export interface OutgoingMessage {
  readonly to: Contact;
  readonly message: KademliaMessage;
}

export interface Ready {
  readonly messages: readonly OutgoingMessage[];
  readonly results: readonly OperationResult[];
}

export class Outbox {
  private messages: OutgoingMessage[] = [];
  private results: OperationResult[] = [];
  private readyMessageCount = 0;
  private readyResultCount = 0;

  /** @param onDrop called for every item refused because its queue was full */
  constructor(
    private readonly messagesMax: number,
    private readonly resultsMax: number,
    private readonly onDrop: () => void,
  ) {}

  push(to: Contact, message: KademliaMessage): void {
    if (this.messages.length >= this.messagesMax) {
      this.onDrop();
      return;
    }
    this.messages.push({ to, message });
  }

  pushResult(result: OperationResult): void {
    if (this.results.length >= this.resultsMax) {
      this.onDrop();
      return;
    }
    this.results.push(result);
  }

  hasReady(): boolean {
    return this.messages.length > 0 || this.results.length > 0;
  }

  ready(): Ready {
    this.readyMessageCount = this.messages.length;
    this.readyResultCount = this.results.length;
    return { messages: this.messages, results: this.results };
  }

  /** Forgets what the last `ready()` returned; anything added since stays for the next one. */
  advance(): void {
    this.messages = this.messages.length === this.readyMessageCount ? [] : this.messages.slice(this.readyMessageCount);
    this.results = this.results.length === this.readyResultCount ? [] : this.results.slice(this.readyResultCount);
    this.readyMessageCount = 0;
    this.readyResultCount = 0;
  }
}
