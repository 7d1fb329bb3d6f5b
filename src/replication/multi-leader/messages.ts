/**
 * Validation of everything that arrives from the network: a peer is trusted to be who it is
 * (the transport authenticates it), not to send well-formed data. The core assumes messages
 * passed this check.
 */
import { keyBytesMax, valueBytesMax } from '../leader/index.js';
import { registerProblem, siblingsMax } from '../versions/index.js';
import { elementProblem, utf8Bytes } from './key-state.js';
import { changesPerMessageMax } from './settings.js';
import type { ChangeEntry } from './types.js';

export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'a key must be a non-empty string';
  if (utf8Bytes(key) > keyBytesMax) return `a key is at most ${keyBytesMax} bytes of UTF-8, this one ${utf8Bytes(key)}`;
  return undefined;
}

export function valueProblem(value: string): string | undefined {
  return utf8Bytes(value) > valueBytesMax ? `a value is at most ${valueBytesMax} bytes of UTF-8, this one ${utf8Bytes(value)}` : undefined;
}

/** Why `value` is not a change-log entry, or undefined. */
export function changeEntryProblem(value: unknown): string | undefined {
  const entry = value as Partial<ChangeEntry> | null;
  if (typeof entry !== 'object' || entry === null) return 'a change entry must be an object {origin, seq, key, change}';
  if (typeof entry.origin !== 'string' || entry.origin.length === 0 || entry.origin.length > 128) return 'a change entry needs origin, a string of 1 to 128 characters';
  if (!Number.isSafeInteger(entry.seq) || entry.seq! < 1) return 'a change entry needs seq, a positive integer';
  const where = `change ${entry.origin}:${entry.seq}`;
  const badKey = keyProblem(entry.key);
  if (badKey !== undefined) return `${where}: ${badKey}`;
  const change = entry.change as { kind?: unknown; delta?: unknown; element?: unknown } | undefined;
  if (typeof change !== 'object' || change === null) return `${where} needs change, an object`;
  if (change.kind === 'put') {
    const problem = registerProblem(change.delta);
    if (problem !== undefined) return `${where}: ${problem}`;
    const siblings = (change.delta as { siblings: { value: string | null }[] }).siblings;
    if (siblings.length === 0 || siblings.length > siblingsMax) return `${where}: a put's delta holds 1 to ${siblingsMax} siblings`;
    for (const sibling of siblings) {
      const badValue = sibling.value === null ? undefined : valueProblem(sibling.value);
      if (badValue !== undefined) return `${where}: ${badValue}`;
    }
    return undefined;
  }
  if (change.kind === 'append') {
    const problem = elementProblem(change.element);
    if (problem !== undefined) return `${where}: ${problem}`;
    const element = change.element as { id: string; value: string };
    if (element.id !== `${entry.origin}:${entry.seq}`) return `${where}: an appended element's id must be ${entry.origin}:${entry.seq}, not ${element.id}`;
    const badValue = valueProblem(element.value);
    return badValue === undefined ? undefined : `${where}: ${badValue}`;
  }
  return `${where}: a change's kind is put or append, not ${JSON.stringify(change.kind)}`;
}

/** Why `message` is not a multi-leader message, or undefined: checks every field of every entry. */
export function multiLeaderMessageProblem(message: unknown): string | undefined {
  const candidate = message as { type?: unknown; entries?: unknown; appliedSeq?: unknown } | null;
  if (typeof candidate !== 'object' || candidate === null) return 'a multi-leader message must be an object with a type';
  if (candidate.type === 'ack') {
    if (!Number.isSafeInteger(candidate.appliedSeq) || (candidate.appliedSeq as number) < 0) return 'an ack needs appliedSeq, a non-negative integer';
    return undefined;
  }
  if (candidate.type !== 'changes') return `a multi-leader message's type is changes or ack, not ${JSON.stringify(candidate.type)}`;
  if (!Array.isArray(candidate.entries) || candidate.entries.length === 0 || candidate.entries.length > changesPerMessageMax) return `a changes message needs entries, an array of 1 to ${changesPerMessageMax} change entries`;
  const entries = candidate.entries as unknown[];
  for (let index = 0; index < entries.length; index++) {
    const problem = changeEntryProblem(entries[index]);
    if (problem !== undefined) return problem;
    if (index === 0) continue;
    const previous = entries[index - 1] as ChangeEntry;
    const entry = entries[index] as ChangeEntry;
    if (entry.origin !== previous.origin || entry.seq !== previous.seq + 1) return `the entries of a changes message are consecutive changes of one origin; entry ${index} (${entry.origin}:${entry.seq}) does not follow ${previous.origin}:${previous.seq}`;
  }
  return undefined;
}
