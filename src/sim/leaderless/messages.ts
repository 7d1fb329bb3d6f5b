/** What travels in the simulated leaderless cluster: the core's messages, the shell's failure-detector pings, and client requests and replies. */
import type { KvReply, KvRequest, LeaderlessMessage } from '../../replication/leaderless/index.js';
import { describeLeaderlessMessage } from '../../replication/leaderless/index.js';

export type SimulatedLeaderlessMessage =
  | { readonly kind: 'core'; readonly message: LeaderlessMessage }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' }
  | { readonly kind: 'request'; readonly request: KvRequest }
  | { readonly kind: 'reply'; readonly reply: KvReply };

export function describeSimulatedLeaderlessMessage(message: SimulatedLeaderlessMessage): string {
  switch (message.kind) {
    case 'core':
      return describeLeaderlessMessage(message.message);
    case 'request':
      return `request ${message.request.kind} ${message.request.key}`;
    case 'reply':
      return `reply ${message.reply.requestId} ${message.reply.ok ? 'ok' : message.reply.code}`;
    default:
      return message.kind;
  }
}
