/**
 * After a chaos run: were acknowledged writes kept? Pure functions over what the clients
 * were told (acknowledged) and what a linearizable read finds in the store afterwards.
 *
 * A conversation turn is acknowledged when the gateway answered 2xx with the assistant's
 * text: both its messages (the user's, then the assistant's) must then be in the stored
 * conversation, in the order the turns were acknowledged. The store may hold more — a turn
 * whose answer never reached the client may still have been written — but never less.
 */

export interface AcknowledgedTurn {
  user: string;
  assistant: string;
}

export interface StoredMessage {
  role: string;
  content: string;
}

export interface MissingMessage {
  conversationId: string;
  /** The turn's position among the conversation's acknowledged turns, from 0. */
  turn: number;
  role: 'user' | 'assistant';
  content: string;
  /** 'lost': not in the store at all; 'out-of-order': present, but before a message acknowledged earlier. */
  problem: 'lost' | 'out-of-order';
}

/** The acknowledged messages of one conversation that the stored conversation does not hold, in order. */
export function missingMessages(conversationId: string, acknowledged: readonly AcknowledgedTurn[], stored: readonly StoredMessage[]): MissingMessage[] {
  const missing: MissingMessage[] = [];
  let position = 0;
  acknowledged.forEach((turn, index) => {
    for (const role of ['user', 'assistant'] as const) {
      const content = role === 'user' ? turn.user : turn.assistant;
      const found = stored.findIndex((message, at) => at >= position && message.role === role && message.content === content);
      if (found >= 0) {
        position = found + 1;
        continue;
      }
      const anywhere = stored.some((message) => message.role === role && message.content === content);
      missing.push({ conversationId, turn: index, role, content, problem: anywhere ? 'out-of-order' : 'lost' });
    }
  });
  return missing;
}

export interface MissingPut {
  key: string;
  expected: string;
  /** What the read found: null when the key is absent. */
  found: string | null;
}

/** Acknowledged puts (each key written once, with a value of its own) whose value a read did not find. */
export function missingPuts(acknowledged: ReadonlyMap<string, string>, read: ReadonlyMap<string, string | null>): MissingPut[] {
  const missing: MissingPut[] = [];
  for (const [key, expected] of acknowledged) {
    const found = read.get(key) ?? null;
    if (found !== expected) missing.push({ key, expected, found });
  }
  return missing;
}

/** The messages of a stored conversation value (the JSON a gateway writes, src/service/swarm/conversations.ts). */
export function parseStoredConversation(value: string): StoredMessage[] {
  const parsed: unknown = JSON.parse(value);
  if (!Array.isArray(parsed)) throw new Error('the stored conversation is not a list of messages');
  return parsed.map((item: unknown) => {
    const message = item as { role?: unknown; content?: unknown };
    if (typeof message?.role !== 'string' || typeof message.content !== 'string') throw new Error('the stored conversation holds a message without role or content');
    return { role: message.role, content: message.content };
  });
}
