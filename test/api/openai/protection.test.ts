/**
 * The gateway's protection in front of a real ApiServer: per-key rate limits (429 with
 * Retry-After), the bounded admission queue under ten times its capacity (the accepted
 * requests meet their deadlines, the rest are refused within 50 ms, the queue never grows
 * past its bound), and the degradation policy shedding traces under sustained pressure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../src/api/server.js';
import { ApiKeyRing, Protection, type ProtectionOptions } from '../../../src/api/openai/index.js';
import type { CompletionBackend, CompletionEvent, CompletionJob } from '../../../src/service/completion-backend.js';
import { keyedAuth, memoryKv, post, testKey } from './server-fixture.js';

/** A backend whose every answer takes `serviceMs`: one token per 10 ms. */
function slowBackend(serviceMs: number): CompletionBackend & { traced: boolean[] } {
  const traced: boolean[] = [];
  return {
    traced,
    models: () => [{ id: 'slow', created: 0, ownedBy: 'test', contextTokens: 4096 }],
    promptTokens: () => 3,
    async *run(job: CompletionJob): AsyncGenerator<CompletionEvent> {
      traced.push(job.trace);
      yield { type: 'start', promptTokens: 3 };
      const tokens = Math.max(1, Math.round(serviceMs / 10));
      for (let i = 0; i < tokens; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        yield { type: 'token', tokenId: 1, text: 'a', tokenText: 'a' };
      }
      yield { type: 'end', reason: 'length', text: '', promptTokens: 3, completionTokens: tokens };
    },
  };
}

const servers: Array<{ server: ApiServer; protection: Protection }> = [];
afterEach(async () => {
  for (const { server, protection } of servers.splice(0)) {
    await server.close();
    protection.close();
  }
});

async function serve(backend: CompletionBackend, options: ProtectionOptions): Promise<{ base: string; protection: Protection }> {
  const protection = new Protection(options);
  const server = await ApiServer.start({ host: '127.0.0.1', port: 0, kv: memoryKv(), kvAuth: new ApiKeyRing({ open: true }), completions: { backend, auth: keyedAuth, protection } });
  servers.push({ server, protection });
  return { base: `http://127.0.0.1:${server.address.port}`, protection };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, ...extra });

describe('the gateway\'s protection', () => {
  it('limits each key\'s requests per minute with 429 and Retry-After, and not other keys', async () => {
    const { base } = await serve(slowBackend(10), { rateLimits: { limits: { tester: { requestsPerMinute: 2 } } } });
    expect((await post(base, '/v1/chat/completions', chat())).status).toBe(200);
    expect((await post(base, '/v1/chat/completions', chat())).status).toBe(200);
    const limited = await post(base, '/v1/chat/completions', chat());
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(20);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    // Another key has its own buckets.
    const other = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-other-9876543210', 'content-type': 'application/json' }, body: JSON.stringify(chat()) });
    expect(other.status).toBe(200);
    void testKey;
  });

  it('under ten times its capacity: accepted requests meet their deadlines, the rest are refused within 50 ms, the queue stays bounded', async () => {
    const serviceMs = 100;
    const queueWaitMsMax = 400;
    const { base, protection } = await serve(slowBackend(serviceMs), { admission: { concurrencyMax: 2, queueDepthMax: 4 }, queueWaitMsMax, rateLimits: { defaults: { requestsPerMinute: 100_000 } } });
    let depthMax = 0;
    const watcher = setInterval(() => (depthMax = Math.max(depthMax, protection.admission.stats().depth)), 2);
    // Capacity is 2 running + 4 queued; offer 60 at once.
    const results = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const sent = performance.now();
        const response = await post(base, '/v1/chat/completions', chat({ max_tokens: serviceMs / 10 }));
        await response.arrayBuffer();
        return { status: response.status, ms: performance.now() - sent, retryAfter: response.headers.get('retry-after') };
      }),
    );
    clearInterval(watcher);
    const accepted = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status === 503);
    expect(accepted.length + refused.length).toBe(60);
    expect(accepted.length).toBeGreaterThanOrEqual(6);
    expect(refused.length).toBeGreaterThanOrEqual(40);
    // A request that got in started within its queue deadline and then took its service time.
    for (const result of accepted) expect(result.ms).toBeLessThan(queueWaitMsMax + serviceMs * 3);
    for (const result of refused) expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(depthMax).toBeLessThanOrEqual(4);
    // While it is saturated, a refusal comes at once: requests sent one after another (so that the
    // client's own connection set-up for sixty parallel requests is not what is timed) are each refused within 50 ms.
    const saturating = Array.from({ length: 6 }, () => post(base, '/v1/chat/completions', chat({ max_tokens: 100 })).then((response) => response.arrayBuffer()));
    // Wait until those fill every slot and the queue, however slowly a loaded machine delivers them.
    while (protection.admission.stats().depth < 4 || protection.admission.stats().inService < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const refusalMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = performance.now();
      const response = await post(base, '/v1/chat/completions', chat());
      await response.arrayBuffer();
      expect(response.status).toBe(503);
      refusalMs.push(performance.now() - sent);
    }
    await Promise.all(saturating);
    refusalMs.sort((a, b) => a - b);
    expect(refusalMs[Math.floor(refusalMs.length * 0.9)]).toBeLessThan(50);
  }, 30_000);

  it('sheds traces under sustained pressure and says so in x-nines-degraded', async () => {
    const backend = slowBackend(50);
    const { base, protection } = await serve(backend, {
      admission: { concurrencyMax: 1, queueDepthMax: 2 },
      degradation: { sustainMs: 20, recoverMs: 10_000 },
      rateLimits: { defaults: { requestsPerMinute: 100_000 } },
    });
    // Keep the queue full for a while: pressure 1.
    const load = Array.from({ length: 40 }, (_, index) => new Promise((resolve) => setTimeout(resolve, index * 10)).then(() => post(base, '/v1/chat/completions', chat()).then((response) => response.arrayBuffer())));
    await Promise.all(load);
    expect(protection.degradation.level).not.toBe('normal');
    const traced = await post(base, '/v1/chat/completions', chat({ trace: true }));
    if (traced.status === 200) {
      expect(traced.headers.get('x-nines-degraded')).toMatch(/level=/);
      expect(backend.traced.at(-1)).toBe(false);
    } else {
      expect(traced.status).toBe(503);
    }
  }, 30_000);
});
