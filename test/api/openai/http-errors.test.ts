import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import { LocalCompletionBackend } from '../../../src/service/local-backend.js';
import { ApiServer } from '../../../src/api/server.js';
import { ApiKeyRing } from '../../../src/api/openai/index.js';
import { expectError, keyedAuth, memoryKv, post, startServer, testKey, type TestServer } from './server-fixture.js';

const limits = { requestBytesMax: 4000, promptTokensMax: 60, completionTokensMax: 100, streamsPerKeyMax: 2 };

let loaded: LoadedModel;
let served: TestServer;
let base: string;
beforeAll(async () => {
  loaded = loadModel(undefined, { threads: 1 });
  served = await startServer(new LocalCompletionBackend(loaded), keyedAuth, limits);
  base = served.base;
});
afterAll(async () => {
  await served.server.close();
  await loaded.close();
});

const chat = (fields: Record<string, unknown>) => ({ model: 'nines-kjv', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4, ...fields });

describe('OpenAI API validation, by plain fetch', () => {
  it('refuses a body that is not JSON, is empty, or is not an object', async () => {
    await expectError(await post(base, '/v1/chat/completions', '{"model": '), 400, 'invalid_json');
    await expectError(await post(base, '/v1/chat/completions', ''), 400, 'invalid_json');
    await expectError(await post(base, '/v1/chat/completions', '[1, 2]'), 400, 'invalid_request_error');
  });

  it('names the missing or bad field in param, as OpenAI does', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ model: undefined }, 'model', /Missing required parameter: 'model'/],
      [{ messages: undefined }, 'messages', /Missing required parameter: 'messages'/],
      [{ messages: [] }, 'messages', /at least one message/],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role', /system, developer, user or assistant/],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content', /images, audio and files are not supported/],
      [{ messages: [{ role: 'user', content: 7 }] }, 'messages[0].content', /content must be a string/],
      [{ temperature: 2.5 }, 'temperature', /from 0 to 2/],
      [{ temperature: -0.1 }, 'temperature', /from 0 to 2/],
      [{ top_p: 1.5 }, 'top_p', /from 0 to 1/],
      [{ max_tokens: 0 }, 'max_tokens', /at least 1/],
      [{ max_tokens: 2.5 }, 'max_tokens', /integer/],
      [{ max_completion_tokens: -1 }, 'max_completion_tokens', /at least 1/],
      [{ max_tokens: 4, max_completion_tokens: 5 }, 'max_tokens', /disagree/],
      [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4/],
      [{ stop: 5 }, 'stop', /string or an array/],
      [{ n: 2 }, 'n', /n must be 1/],
      [{ stream: 'yes' }, 'stream', /true or false/],
      [{ stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', /true or false/],
      [{ seed: 1.5 }, 'seed', /integer/],
      [{ user: 12 }, 'user', /string/],
      [{ conversation_id: 'has spaces' }, 'conversation_id', /A-Z, a-z, 0-9/],
      [{ trace_top_k: 1000 }, 'trace_top_k', /from 1 to 100/],
    ];
    for (const [fields, param, message] of cases) {
      const error = await expectError(await post(base, '/v1/chat/completions', chat(fields)), 400, 'invalid_request_error', param);
      expect(error.message).toMatch(message);
      expect(error.type).toBe('invalid_request_error');
    }
  });

  it('validates completions too: one string prompt', async () => {
    const error = await expectError(await post(base, '/v1/completions', { model: 'nines-kjv', prompt: ['a', 'b'] }), 400, 'invalid_request_error', 'prompt');
    expect(error.message).toMatch(/one prompt per request/);
    await expectError(await post(base, '/v1/completions', { model: 'nines-kjv', prompt: [1, 2, 3] }), 400, 'invalid_request_error', 'prompt');
    const ok = await post(base, '/v1/completions', { model: 'nines-kjv', prompt: ['In the beginning'], max_tokens: 2, temperature: 0 });
    expect(ok.status).toBe(200);
  });

  it('ignores fields it does not know, as OpenAI does, and accepts null for optional ones', async () => {
    const response = await post(base, '/v1/chat/completions', chat({ frequency_penalty: 0, logit_bias: {}, something_new: [1], stop: null, seed: null, temperature: 0 }));
    expect(response.status).toBe(200);
  });

  it('answers an unknown model with 404 model_not_found, on completions and on GET /v1/models/<id>', async () => {
    const error = await expectError(await post(base, '/v1/chat/completions', chat({ model: 'gpt-4o' })), 404, 'model_not_found', 'model');
    expect(error.message).toMatch(/'gpt-4o' does not exist.*'nines-kjv'/);
    await expectError(await fetch(`${base}/v1/models/gpt-4o`, { headers: { authorization: `Bearer ${testKey}` } }), 404, 'model_not_found');
  });

  it('refuses a conversation_id on the in-process backend with a clear 400', async () => {
    const error = await expectError(await post(base, '/v1/chat/completions', chat({ conversation_id: 'talk-1' })), 400, 'unsupported_feature', 'conversation_id');
    expect(error.message).toMatch(/conversations need the swarm's replicated store/);
  });

  it('refuses a malformed session header', async () => {
    await expectError(await post(base, '/v1/chat/completions', chat({}), { 'x-nines-session': 'x'.repeat(300) }), 400, 'invalid_request_error', 'x-nines-session');
  });

  it('refuses wrong methods and unknown paths under the API', async () => {
    await expectError(await fetch(`${base}/v1/chat/completions`, { headers: { authorization: `Bearer ${testKey}` } }), 405, 'method_not_allowed');
    await expectError(await fetch(`${base}/v1/models`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${testKey}` } }), 405, 'method_not_allowed');
  });
});

describe('API keys', () => {
  it('refuses a missing, malformed or unknown key with 401 invalid_api_key', async () => {
    const missing = await fetch(`${base}/v1/models`);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await expectError(missing, 401, 'invalid_api_key')).message).toMatch(/Authorization: Bearer/);
    await expectError(await fetch(`${base}/v1/models`, { headers: { authorization: testKey } }), 401, 'invalid_api_key');
    const wrong = await expectError(await post(base, '/v1/chat/completions', chat({}), { authorization: 'Bearer sk-test-0123456780' }), 401, 'invalid_api_key');
    expect(wrong.message).not.toContain('sk-test-0123456780');
  });

  it('serves a known key', async () => {
    const response = await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${testKey}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ object: 'list', data: [{ id: 'nines-kjv', object: 'model', owned_by: 'nines' }] });
  });

  it('serves anyone when the cluster is explicitly open', async () => {
    const open = await startServer(new LocalCompletionBackend(loaded), { open: true });
    try {
      const response = await fetch(`${open.base}/v1/models`);
      expect(response.status).toBe(200);
    } finally {
      await open.server.close();
    }
  });
});

describe('limits', () => {
  it('requestBytesMax: an oversized body gets 413 request_too_large in OpenAI shape', async () => {
    const body = JSON.stringify(chat({ messages: [{ role: 'user', content: 'x'.repeat(limits.requestBytesMax) }] }));
    const error = await expectError(await post(base, '/v1/chat/completions', body), 413, 'request_too_large');
    expect(error.message).toContain(`${limits.requestBytesMax} bytes`);
  });

  it('promptTokensMax: a long prompt gets 400 prompt_too_long', async () => {
    const error = await expectError(await post(base, '/v1/completions', { model: 'nines-kjv', prompt: 'and the earth was '.repeat(20), max_tokens: 4 }), 400, 'prompt_too_long', 'prompt');
    expect(error.message).toMatch(/limit of 60 prompt tokens/);
  });

  it("the context window: prompt + max_tokens over the model's context gets 400 context_length_exceeded", async () => {
    const unlimited = await startServer(new LocalCompletionBackend(loaded), keyedAuth);
    try {
      const error = await expectError(await post(unlimited.base, '/v1/completions', { model: 'nines-kjv', prompt: 'And God said', max_tokens: 255 }), 400, 'context_length_exceeded');
      expect(error.message).toMatch(/maximum context length is 256 tokens/);
      const whole = await expectError(await post(unlimited.base, '/v1/completions', { model: 'nines-kjv', prompt: 'and the earth was '.repeat(80) }), 400, 'context_length_exceeded');
      expect(whole.message).toMatch(/in the prompt/);
    } finally {
      await unlimited.server.close();
    }
  });

  it('completionTokensMax: max_tokens over the limit gets 400 max_tokens_too_large', async () => {
    const error = await expectError(await post(base, '/v1/chat/completions', chat({ max_tokens: 101 })), 400, 'max_tokens_too_large', 'max_tokens');
    expect(error.message).toMatch(/limit of 100 tokens/);
    await expectError(await post(base, '/v1/chat/completions', chat({ max_tokens: undefined, max_completion_tokens: 101 })), 400, 'max_tokens_too_large');
  });
});

describe('mounting', () => {
  it('keeps the key-value routes working beside the OpenAI routes', async () => {
    const put = await fetch(`${base}/v1/kv/verse`, { method: 'PUT', body: 'In the beginning' });
    expect(put.status).toBe(200);
    expect(await (await fetch(`${base}/v1/kv/verse`)).json()).toMatchObject({ value: 'In the beginning' });
  });

  it('answers 404 on the OpenAI paths when the server has no completions', async () => {
    const plain = await ApiServer.start({ host: '127.0.0.1', port: 0, kv: memoryKv(), kvAuth: new ApiKeyRing({ open: true }) });
    try {
      const response = await fetch(`http://127.0.0.1:${plain.address.port}/v1/chat/completions`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
