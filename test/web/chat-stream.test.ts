/**
 * web/src/chat-stream.ts: chunks of a traced chat stream, in the gateway's own format
 * (src/api/openai/completion-output.ts builds them), become text pieces with their
 * sampling steps, then the end with the session token.
 */
import { describe, expect, it } from 'vitest';
import { chatChunk, type CompletionIdentity, type TraceEntry } from '../../src/api/openai/responses.js';
import { ChatStreamReader } from '../../web/src/chat-stream.js';

const identity: CompletionIdentity = { id: 'chatcmpl-test', created: 1, model: 'nines-kjv', seed: 7 };

function step(token: string, id: number, probability: number): TraceEntry {
  return { token, id, probability, candidates: [{ token, id, probability }, { token: ' other', id: 999, probability: 1 - probability }], peer: 'a'.repeat(40) };
}

describe('ChatStreamReader', () => {
  it('turns each traced token chunk into a piece with its step, and the last chunk into the end with the session token', () => {
    const reader = new ChatStreamReader();
    const frames = [
      chatChunk(identity, { role: 'assistant', content: '' }, null),
      chatChunk(identity, { content: ' unto' }, null, { trace: [step(' unto', 320, 0.864)] }),
      chatChunk(identity, { content: ' his' }, null, { trace: [step(' his', 323, 0.043)] }),
      chatChunk(identity, {}, 'length', { session: '42' }),
    ];
    const events = [...frames.map((frame) => JSON.stringify(frame)), '[DONE]'].flatMap((data) => reader.read(data));
    expect(events).toEqual([
      { type: 'piece', text: ' unto', steps: [step(' unto', 320, 0.864)] },
      { type: 'piece', text: ' his', steps: [step(' his', 323, 0.043)] },
      { type: 'end', finishReason: 'length', session: '42' },
    ]);
    expect(reader.close()).toEqual([]);
  });

  it('holds the step of a token without text (half a character) until the next piece with text', () => {
    const reader = new ChatStreamReader();
    const first = step('\ufffd', 160, 0.5);
    const second = step('\ufffd', 169, 0.9);
    expect(reader.read(JSON.stringify(chatChunk(identity, { content: '' }, null, { trace: [first] })))).toEqual([]);
    expect(reader.read(JSON.stringify(chatChunk(identity, { content: 'é' }, null, { trace: [second] })))).toEqual([{ type: 'piece', text: 'é', steps: [first, second] }]);
  });

  it('reports an error frame, a frame that is not JSON, and a stream cut before its end', () => {
    const reader = new ChatStreamReader();
    expect(reader.read(JSON.stringify({ error: { message: 'the compute peers are all down', type: 'server_error' } }))).toEqual([{ type: 'error', message: 'the compute peers are all down' }]);
    expect(reader.read('{not json')[0]).toMatchObject({ type: 'error', message: expect.stringMatching(/not JSON/) });
    expect(reader.close()).toEqual([{ type: 'error', message: expect.stringMatching(/stopped before its end/) }]);
  });
});
