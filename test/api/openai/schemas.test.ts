import { describe, expect, it } from 'vitest';
import { OpenAiError, parseChatRequest, parseCompletionRequest } from '../../../src/api/openai/index.js';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('request parsing', () => {
  it("applies OpenAI's defaults", () => {
    expect(parseChatRequest(base)).toEqual({
      model: 'm',
      input: { kind: 'chat', messages: [{ role: 'user', content: 'hi' }] },
      maxTokens: undefined,
      temperature: 1,
      topP: 1,
      topK: 0,
      stop: [],
      stream: false,
      includeUsage: false,
      seed: undefined,
      conversationId: undefined,
      trace: false,
      traceTopK: undefined,
    });
  });

  it('joins text parts, maps the developer role to system, and takes a single stop string', () => {
    const parsed = parseChatRequest({
      ...base,
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hello, ' }, { type: 'text', text: 'world' }], name: 'ignored' },
      ],
      stop: '\n',
      max_completion_tokens: 9,
      top_p: 0,
      top_k: 5,
      seed: -3,
      stream: true,
      stream_options: { include_usage: true },
      conversation_id: 'talk:1',
      trace: true,
      trace_top_k: 3,
    });
    expect(parsed.input).toEqual({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello, world' },
      ],
    });
    expect(parsed).toMatchObject({ stop: ['\n'], maxTokens: 9, topK: 5, seed: -3, stream: true, includeUsage: true, conversationId: 'talk:1', trace: true, traceTopK: 3 });
    // top_p 0 keeps only the most likely token: the smallest positive nucleus.
    expect(parsed.topP).toBe(Number.MIN_VALUE);
  });

  it('takes a prompt as a string or a one-element array', () => {
    expect(parseCompletionRequest({ model: 'm', prompt: 'abc' }).input).toEqual({ kind: 'prompt', prompt: 'abc' });
    expect(parseCompletionRequest({ model: 'm', prompt: ['abc'] }).input).toEqual({ kind: 'prompt', prompt: 'abc' });
  });

  it('refuses with the field named in param', () => {
    const cases: [unknown, string | null][] = [
      [null, null],
      [{ ...base, messages: [{ role: 'user' }] }, 'messages[0].content'],
      [{ ...base, stop: ['ok', ''] }, 'stop[1]'],
      [{ ...base, stop: 'x'.repeat(257) }, 'stop'],
      [{ ...base, seed: 2 ** 60 }, 'seed'],
      [{ ...base, top_k: -1 }, 'top_k'],
      [{ ...base, n: 3 }, 'n'],
    ];
    for (const [body, param] of cases) {
      let caught: unknown;
      try {
        parseChatRequest(body);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(OpenAiError);
      expect((caught as OpenAiError).param).toBe(param);
      expect((caught as OpenAiError).status).toBe(400);
    }
  });
});
