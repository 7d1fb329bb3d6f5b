import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/model/load-file.js';
import type { CompletionJob } from '../../src/service/completion-backend.js';
import { prepareJob } from '../../src/service/prepared-job.js';

let model: LoadedModel;
beforeAll(() => {
  model = loadModel(undefined, { threads: 1 });
});
afterAll(async () => {
  await model.close();
});

function job(input: CompletionJob['input']): CompletionJob {
  return { model: model.name, input, maxTokens: 4, sampler: { temperature: 0, topP: 1, topK: 0, seed: 1 }, stop: [], trace: false, traceTopK: 0, apiKeyName: 'test', apiKeyPriority: 'normal' };
}

describe('prepareJob', () => {
  it('tokenizes a request once, however often it is prepared, and hands out copies', () => {
    const encode = vi.spyOn(model.tokenizer, 'encode');
    const draft = job({ kind: 'chat', messages: [{ role: 'user', content: 'And God said' }] });
    const first = prepareJob(model, draft);
    first.prompt.push(0);
    // The admitted job is a copy of the draft with the same input, as the OpenAI routes make it.
    const second = prepareJob(model, { ...draft, maxTokens: 2 });
    expect(encode).toHaveBeenCalledTimes(1);
    expect(second.prompt).toEqual(first.prompt.slice(0, -1));
    // Another request with the same text is another input: tokenized on its own.
    const other = prepareJob(model, job({ kind: 'chat', messages: [{ role: 'user', content: 'And God said' }] }));
    expect(encode).toHaveBeenCalledTimes(2);
    expect(other.prompt).toEqual(second.prompt);
    encode.mockRestore();
  });
});
