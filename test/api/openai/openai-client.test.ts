/**
 * The official `openai` package, unchanged, against a real ApiServer serving the default
 * model in-process: what a user's existing OpenAI code sees when pointed at a nines peer.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import { LocalCompletionBackend } from '../../../src/service/local-backend.js';
import { keyedAuth, startServer, testKey, type TestServer } from './server-fixture.js';

let loaded: LoadedModel;
let served: TestServer;
let client: OpenAI;
beforeAll(async () => {
  loaded = loadModel(undefined, { threads: 1 });
  served = await startServer(new LocalCompletionBackend(loaded), keyedAuth);
  client = new OpenAI({ baseURL: `${served.base}/v1`, apiKey: testKey, maxRetries: 0 });
});
afterAll(async () => {
  await served.server.close();
  await loaded.close();
});

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You answer in the words of the King James Bible.' },
  { role: 'user', content: 'Who divided the light from the darkness?' },
];

async function streamedText(request: OpenAI.Chat.ChatCompletionCreateParamsStreaming): Promise<{ text: string; finishReason: string | null; chunks: number }> {
  const stream = await client.chat.completions.create(request);
  let text = '';
  let finishReason: string | null = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? '';
    finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
  }
  return { text, finishReason, chunks };
}

describe('the official openai package against nines', () => {
  it('lists and retrieves the model', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toEqual(['nines-kjv']);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'nines' });
    expect((await client.models.retrieve('nines-kjv')).id).toBe('nines-kjv');
  });

  it('completes a chat without streaming, with usage', async () => {
    const completion = await client.chat.completions.create({ model: 'nines-kjv', messages, max_tokens: 12, temperature: 0 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0].message.role).toBe('assistant');
    expect(completion.choices[0].message.content!.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(completion.choices[0].finish_reason);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(12);
  });

  it('streams the same text as the non-streaming answer, at temperature 0 and at a seeded temperature', async () => {
    for (const sampling of [{ temperature: 0 }, { temperature: 0.9, seed: 1234 }]) {
      const whole = await client.chat.completions.create({ model: 'nines-kjv', messages, max_completion_tokens: 16, ...sampling });
      const streamed = await streamedText({ model: 'nines-kjv', messages, max_completion_tokens: 16, stream: true, ...sampling });
      expect(streamed.chunks).toBeGreaterThan(2);
      expect(streamed.text.length).toBeGreaterThan(0);
      expect(streamed.text).toBe(whole.choices[0].message.content);
      expect(streamed.finishReason).toBe(whole.choices[0].finish_reason);
    }
  });

  it('gives identical text twice for one seed at temperature > 0', async () => {
    const request = { model: 'nines-kjv', messages, max_tokens: 24, temperature: 1.1, top_p: 0.95, seed: 99 } as const;
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create(request);
    expect(second.choices[0].message.content).toBe(first.choices[0].message.content);
  });

  it('streams usage when stream_options.include_usage is set', async () => {
    const stream = await client.chat.completions.create({ model: 'nines-kjv', messages, max_tokens: 5, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
  });

  it('continues a prompt with /v1/completions, streamed and not', async () => {
    const whole = await client.completions.create({ model: 'nines-kjv', prompt: 'In the beginning God created', max_tokens: 10, temperature: 0 });
    expect(whole.object).toBe('text_completion');
    expect(whole.choices[0].text.length).toBeGreaterThan(0);
    const stream = await client.completions.create({ model: 'nines-kjv', prompt: 'In the beginning God created', max_tokens: 10, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(whole.choices[0].text);
  });

  it("surfaces nines' refusals as the package's typed errors", async () => {
    const stranger = new OpenAI({ baseURL: `${served.base}/v1`, apiKey: 'sk-not-a-key', maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const missingModel = client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 2 });
    await expect(missingModel).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(missingModel).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    const badRequest = client.chat.completions.create({ model: 'nines-kjv', messages, max_tokens: 2, temperature: 5 });
    await expect(badRequest).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(badRequest).rejects.toMatchObject({ param: 'temperature' });
  });
});
