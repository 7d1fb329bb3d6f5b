/**
 * The replicated key-value state machine: put, delete and compare-and-set on string keys and
 * values, applied from committed entries in log order. Pure and deterministic: every replica
 * that applies the same entries holds the same map. Commands are encoded as JSON with a fixed
 * field order, so the same command always gives the same bytes (and the same entry hash).
 */
import { assert } from '../../core/assert.js';
import { RaftError } from './errors.js';
import type { Entry } from './types.js';

/** Longest key, in UTF-8 bytes. */
export const keyBytesMax = 1024;
/** Longest value, in UTF-8 bytes. */
export const valueBytesMax = 256 * 1024;

/**
 * Every command names its client session and a sequence number that grows with each new
 * command of that client (dissertation §6.3): a command delivered twice (a retried or duplicated
 * request) is applied once, and the duplicate gets the first one's result.
 */
interface Session {
  readonly client: string;
  readonly sequence: number;
}

export type KvCommand =
  | ({ readonly op: 'put'; readonly key: string; readonly value: string } & Session)
  | ({ readonly op: 'delete'; readonly key: string } & Session)
  /** Sets `value` (null deletes) only if the current value equals `expected` (null = absent). */
  | ({ readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null } & Session);

export type KvResult =
  | { readonly op: 'put'; readonly previous: string | null }
  | { readonly op: 'delete'; readonly previous: string | null }
  | { readonly op: 'cas'; readonly succeeded: boolean; readonly current: string | null };

export class KvCommandError extends RaftError {
  override name = 'KvCommandError';
  readonly code = 'KV_COMMAND_INVALID';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a command; throws KvCommandError for a key or value over its limit. */
export function encodeKvCommand(command: KvCommand): Uint8Array {
  const check = (what: string, text: string | null, max: number) => {
    if (text !== null && encoder.encode(text).length > max) throw new KvCommandError(`${what} is longer than ${max} bytes; shorten it`);
  };
  check('key', command.key, keyBytesMax);
  if (!Number.isSafeInteger(command.sequence) || command.sequence < 1) throw new KvCommandError(`sequence must be a positive integer, got ${command.sequence}`);
  const id = [command.client, command.sequence] as const;
  if (command.key.length === 0) throw new KvCommandError('key must not be empty');
  switch (command.op) {
    case 'put':
      check('value', command.value, valueBytesMax);
      return encoder.encode(JSON.stringify(['put', ...id, command.key, command.value]));
    case 'delete':
      return encoder.encode(JSON.stringify(['delete', ...id, command.key]));
    case 'cas':
      check('value', command.value, valueBytesMax);
      check('expected value', command.expected, valueBytesMax);
      return encoder.encode(JSON.stringify(['cas', ...id, command.key, command.expected, command.value]));
  }
}

export function decodeKvCommand(data: Uint8Array): KvCommand {
  const text = decoder.decode(data);
  const value = JSON.parse(text) as unknown[];
  assert(Array.isArray(value) && typeof value[1] === 'string' && typeof value[2] === 'number' && typeof value[3] === 'string', `malformed key-value command: ${text}`);
  const [op, client, sequence, key] = value as [string, string, number, string];
  const optionalString = (item: unknown) => { assert(item === null || typeof item === 'string', `malformed key-value command: ${text}`); return item; };
  if (op === 'put') return { op, client, sequence, key, value: optionalString(value[4]) ?? '' };
  if (op === 'delete') return { op, client, sequence, key };
  assert(op === 'cas', `unknown key-value operation in ${text}`);
  return { op, client, sequence, key, expected: optionalString(value[4]), value: optionalString(value[5]) };
}

export interface AppliedCommand {
  readonly index: number;
  readonly command: KvCommand;
  /** Undefined for a duplicate older than its client's latest command, whose result is no longer kept. */
  readonly result: KvResult | undefined;
  /** The command was applied before (same client and sequence): nothing changed, and `result` is the first application's. */
  readonly duplicate: boolean;
}

export class KvStateMachine {
  private readonly values = new Map<string, string>();
  /** Per client: the last sequence applied and its result. One record per client that ever wrote. */
  private readonly sessions = new Map<string, { sequence: number; result: KvResult }>();
  private appliedIndexValue = 0;

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  get size(): number {
    return this.values.size;
  }

  /** Applies the next committed entry; returns the command's result for normal entries, undefined for the others. */
  apply(entry: Entry): AppliedCommand | undefined {
    assert(entry.index === this.appliedIndexValue + 1, `entries must be applied in order: expected ${this.appliedIndexValue + 1}, got ${entry.index}`);
    this.appliedIndexValue = entry.index;
    if (entry.type !== 'normal') return undefined;
    const command = decodeKvCommand(entry.data);
    const session = this.sessions.get(command.client);
    if (session !== undefined && command.sequence <= session.sequence) {
      // An older duplicate than the last one has no stored result; its client has long moved on.
      return { index: entry.index, command, result: command.sequence === session.sequence ? session.result : undefined, duplicate: true };
    }
    const current = this.get(command.key);
    let result: KvResult;
    if (command.op === 'put') {
      this.values.set(command.key, command.value);
      result = { op: 'put', previous: current };
    } else if (command.op === 'delete') {
      this.values.delete(command.key);
      result = { op: 'delete', previous: current };
    } else {
      const succeeded = current === command.expected;
      if (succeeded) {
        if (command.value === null) this.values.delete(command.key);
        else this.values.set(command.key, command.value);
      }
      result = { op: 'cas', succeeded, current: succeeded ? command.value : current };
    }
    this.sessions.set(command.client, { sequence: command.sequence, result });
    return { index: entry.index, command, result, duplicate: false };
  }

  /** The whole state as bytes: keys sorted, so equal states give equal bytes. */
  snapshot(): Uint8Array {
    const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
    const pairs = [...this.values].sort(byKey);
    const sessions = [...this.sessions].sort(byKey);
    return encoder.encode(JSON.stringify({ applied: this.appliedIndexValue, pairs, sessions }));
  }

  restore(data: Uint8Array): void {
    this.values.clear();
    this.sessions.clear();
    this.appliedIndexValue = 0;
    if (data.length === 0) return;
    const state = JSON.parse(decoder.decode(data)) as { applied: number; pairs: [string, string][]; sessions: [string, { sequence: number; result: KvResult }][] };
    assert(Number.isSafeInteger(state.applied) && Array.isArray(state.pairs) && Array.isArray(state.sessions), 'malformed key-value snapshot');
    for (const [key, value] of state.pairs) this.values.set(key, value);
    for (const [client, session] of state.sessions) this.sessions.set(client, session);
    this.appliedIndexValue = state.applied;
  }
}
