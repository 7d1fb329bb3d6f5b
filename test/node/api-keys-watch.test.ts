import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { ApiKeyRing } from '../../src/api/openai/auth.js';
import { addApiKey, apiKeysPath, readApiKeys, revokeApiKey, settlePeerApiKeys, writeApiKeys, type KeyLimitsByName } from '../../src/node/api-keys-file.js';
import { ApiKeysWatch } from '../../src/node/api-keys-watch.js';
import { memoryLogger, removeTemporaryDirectories, temporaryDirectory } from '../net/helpers.js';

afterAll(removeTemporaryDirectories);

/** Polls fast, so each change lands within a few tens of milliseconds. */
const intervalMs = 20;
const watches: ApiKeysWatch[] = [];
afterEach(() => {
  for (const watch of watches.splice(0)) watch.stop();
});

async function eventually(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function accepts(ring: ApiKeyRing, key: string): boolean {
  try {
    ring.authenticate(`Bearer ${key}`);
    return true;
  } catch {
    return false;
  }
}

function watched(options: { keys?: 'one' | 'none'; beforeStart?: (clusterDir: string) => void } = {}) {
  const clusterDir = temporaryDirectory();
  const dataDir = temporaryDirectory();
  const first = options.keys === 'none' ? undefined : addApiKey(clusterDir, 'first', 'normal', { requestsPerMinute: 5 });
  if (first === undefined) writeApiKeys(clusterDir, { open: false, keys: [] });
  const settled = settlePeerApiKeys(dataDir, clusterDir, { required: false });
  const ring = new ApiKeyRing(settled.auth);
  const logger = memoryLogger();
  const limits: KeyLimitsByName[] = [];
  const watch = new ApiKeysWatch({ dataDir, clusterDir, ring, applied: settled.config, logger, intervalMs, onLimits: (next) => limits.push(next) });
  watches.push(watch);
  options.beforeStart?.(clusterDir);
  watch.start();
  return { clusterDir, dataDir, first, ring, logger, limits, watch };
}

describe('a running peer follows its cluster\'s api-keys.json', () => {
  it('accepts an added key and refuses a revoked one without a restart, with their rate limits and the data directory\'s copy', async () => {
    const { clusterDir, dataDir, first, ring, limits } = watched();
    expect(accepts(ring, first!)).toBe(true);
    const second = addApiKey(clusterDir, 'second', 'low', { tokensPerMinute: 900 });
    await eventually(() => accepts(ring, second), 'the added key being accepted');
    expect(limits.at(-1)).toEqual({ first: { requestsPerMinute: 5 }, second: { tokensPerMinute: 900 } });
    expect(readApiKeys(dataDir)?.keys.map((entry) => entry.name)).toEqual(['first', 'second']);
    revokeApiKey(clusterDir, 'first');
    await eventually(() => !accepts(ring, first!), 'the revoked key being refused');
    expect(accepts(ring, second)).toBe(true);
    expect(readApiKeys(dataDir)?.keys.map((entry) => entry.name)).toEqual(['second']);
  });

  it('keeps the keys it has when the file is broken or gone, says so once, and takes the file again once it is fixed', async () => {
    const { clusterDir, first, ring, logger, watch } = watched();
    writeFileSync(apiKeysPath(clusterDir), '{"open": false, "keys": [');
    await eventually(() => logger.records.some((record) => record.level === 'error'), 'the broken file being reported');
    // Several more polls of the same broken file: still one report, and the key still works.
    writeFileSync(apiKeysPath(clusterDir), '{"open": false, "keys": [ ');
    await new Promise((resolve) => setTimeout(resolve, intervalMs * 8));
    expect(logger.records.filter((record) => record.level === 'error')).toHaveLength(1);
    expect(String(logger.records.find((record) => record.level === 'error')?.fields.problem)).toMatch(/is not JSON/);
    expect(accepts(ring, first!)).toBe(true);
    // A well-formed file that is not a key file is refused the same way: it never opens the cluster.
    writeFileSync(apiKeysPath(clusterDir), '{"open": "yes", "keys": []}');
    expect(watch.reload()).toBe('kept');
    expect(ring.state).toBe('keyed');
    rmSync(apiKeysPath(clusterDir));
    await eventually(() => logger.records.some((record) => String(record.fields.problem).endsWith('is gone')), 'the missing file being reported');
    expect(accepts(ring, first!)).toBe(true);
    const fixed = addApiKey(clusterDir, 'fixed', 'normal');
    await eventually(() => accepts(ring, fixed), 'the fixed file being taken');
    expect(accepts(ring, first!)).toBe(false);
  });

  it('closes the peer when the last key is revoked, opens it only when the file says open, and stops following once stopped', async () => {
    const { clusterDir, first, ring, logger, watch } = watched();
    revokeApiKey(clusterDir, 'first');
    await eventually(() => ring.state === 'closed', 'the peer closing');
    expect(accepts(ring, first!)).toBe(false);
    expect(logger.records.some((record) => record.level === 'warn' && /no API keys: .*nines cluster key add <name> --dir/.test(record.message))).toBe(true);
    writeApiKeys(clusterDir, { open: true, keys: [] });
    await eventually(() => ring.state === 'open', 'the peer opening');
    watch.stop();
    const late = addApiKey(clusterDir, 'late', 'normal');
    writeApiKeys(clusterDir, { open: false, keys: readApiKeys(clusterDir)!.keys });
    await new Promise((resolve) => setTimeout(resolve, intervalMs * 8));
    expect(ring.state).toBe('open');
    expect(late.startsWith('nines-')).toBe(true);
  });

  it('catches a change made between the peer reading the keys and the watch starting, and stays quiet about a file that did not change', async () => {
    let late = '';
    const { ring, logger } = watched({ beforeStart: (clusterDir) => (late = addApiKey(clusterDir, 'late', 'normal')) });
    await eventually(() => accepts(ring, late), 'the key added before the watch started being accepted');
    const quiet = watched();
    await new Promise((resolve) => setTimeout(resolve, intervalMs * 5));
    expect(quiet.logger.records).toEqual([]);
    expect(logger.records.filter((record) => record.message === 'API keys reloaded')).toHaveLength(1);
  });

  it('starts a peer without keys closed, saying how to add one, unless it was asked for a gateway', () => {
    const { dataDir, clusterDir, ring } = watched({ keys: 'none' });
    expect(ring.state).toBe('closed');
    expect(() => ring.authenticate('Bearer anything-at-all-1234')).toThrow(/no API keys yet.*nines cluster key add <name> --dir/);
    expect(() => settlePeerApiKeys(dataDir, clusterDir, { required: true })).toThrow(/the gateway has no API keys to accept/);
  });
});
