/**
 * After a chaos run, every acknowledged write is read back with a linearizable read and
 * compared with what the clients were told (lost-messages.ts):
 *
 *   GET /v1/kv/conversation%2F<id>?consistency=linearizable   each conversation (conversations.ts's layout)
 *   GET /v1/kv/<key>?consistency=linearizable                 each acknowledged put
 *
 * These reads are the checker's, not the workload's: one that finds the swarm still settling
 * (503, a peer restarting) is tried again, on the next live gateway, until `readBackTimeoutMs`.
 * A write that cannot be read at all is reported as unverified, never as kept.
 */
import { readBackRetryMs, readBackTimeoutMs, kvRequestTimeoutMs } from './constants.js';
import { authorizationHeaders, send } from './http-client.js';
import { missingMessages, missingPuts, parseStoredConversation, type AcknowledgedTurn, type MissingMessage, type MissingPut } from './lost-messages.js';
import { problemOf, readValue } from './workload.js';

export interface ReadBackParts {
  /** The live gateways' API URLs. */
  gateways: () => string[];
  apiKey: string | undefined;
  turns: ReadonlyMap<string, AcknowledgedTurn[]>;
  puts: ReadonlyMap<string, string>;
}

export interface ReadBackResult {
  conversations: { checked: number; acknowledgedMessages: number; missing: MissingMessage[]; unverified: string[] };
  kv: { acknowledgedPuts: number; missing: MissingPut[]; unverified: string[] };
  notes: string[];
}

/** Reads running at once: enough to finish thousands of keys quickly, few enough for two shared cores. */
const readsInParallel = 8;

export async function readBack(parts: ReadBackParts): Promise<ReadBackResult> {
  const deadlineMs = Date.now() + readBackTimeoutMs;
  const conversations = [...parts.turns.entries()].filter(([, turns]) => turns.length > 0);
  const missing: MissingMessage[] = [];
  const unverified: string[] = [];
  await inParallel(conversations, async ([conversationId, turns]) => {
    const read = await readKey(parts, `conversation/${conversationId}`, deadlineMs);
    if ('error' in read) unverified.push(`${conversationId}: ${read.error}`);
    else {
      try {
        missing.push(...missingMessages(conversationId, turns, read.value === null ? [] : parseStoredConversation(read.value)));
      } catch (error) {
        unverified.push(`${conversationId}: ${(error as Error).message}`);
      }
    }
  });
  const found = new Map<string, string | null>();
  const kvUnverified: string[] = [];
  await inParallel([...parts.puts.keys()], async (key) => {
    const read = await readKey(parts, key, deadlineMs);
    if ('error' in read) kvUnverified.push(`${key}: ${read.error}`);
    else found.set(key, read.value);
  });
  const verifiedPuts = new Map([...parts.puts].filter(([key]) => found.has(key)));
  const notes = [
    ...(unverified.length > 0 ? [`${unverified.length} conversations could not be read back (first: ${unverified[0]})`] : []),
    ...(kvUnverified.length > 0 ? [`${kvUnverified.length} keys could not be read back (first: ${kvUnverified[0]})`] : []),
  ];
  return {
    conversations: { checked: conversations.length, acknowledgedMessages: conversations.reduce((sum, [, turns]) => sum + 2 * turns.length, 0), missing, unverified },
    kv: { acknowledgedPuts: parts.puts.size, missing: missingPuts(verifiedPuts, found), unverified: kvUnverified },
    notes,
  };
}

/** The key's value (null when absent) by a linearizable read, retried until the deadline. */
async function readKey(parts: ReadBackParts, key: string, deadlineMs: number): Promise<{ value: string | null } | { error: string }> {
  const headers = authorizationHeaders(parts.apiKey);
  let problem = 'no live gateway';
  for (let attempt = 0; ; attempt++) {
    const gateways = parts.gateways();
    if (gateways.length > 0) {
      const outcome = await send(`${gateways[attempt % gateways.length]}/v1/kv/${encodeURIComponent(key)}?consistency=linearizable`, { method: 'GET', headers, timeoutMs: kvRequestTimeoutMs });
      const read = readValue(outcome);
      if (read.value !== undefined) return { value: read.value };
      problem = read.error ?? problemOf(outcome);
    }
    if (Date.now() + readBackRetryMs > deadlineMs) return { error: problem };
    await new Promise((resolve) => setTimeout(resolve, readBackRetryMs));
  }
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(readsInParallel, items.length) }, worker));
}
