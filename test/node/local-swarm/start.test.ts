/**
 * `nines start`: a local swarm of three peer processes, talked to with the official openai
 * package as a user would, through different peers: the same seed gives the same answer on
 * every gateway, a conversation continues on another peer with its session token, a request
 * without a key is refused, and Ctrl-C stops every peer and removes the temporary data. The
 * swarm underneath is src/node/local-swarm/, tested on its own in local-swarm.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
let swarm: ChildProcess;
let output = '';
let apis: string[] = [];
let key = '';
let root = '';

beforeAll(async () => {
  swarm = spawn(process.execPath, [cli, 'start', '--peers', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  swarm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  swarm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Ctrl-C stops every peer')) {
    if (Date.now() > deadline || swarm.exitCode !== null) throw new Error(`nines start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  apis = [...output.matchAll(/api (http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => match[1]);
  key = /key (nines-[A-Za-z0-9_-]+)/.exec(output)![1];
  root = /data in (\S+)/.exec(output)![1];
}, 90_000);

afterAll(() => {
  if (swarm.exitCode === null) swarm.kill('SIGKILL');
});

function client(peer: number): OpenAI {
  return new OpenAI({ baseURL: `${apis[peer]}/v1`, apiKey: key, maxRetries: 0 });
}

describe('nines start: a local swarm', () => {
  it('prints one line per peer, the API address, its key and a request to try', () => {
    expect(apis).toHaveLength(3);
    expect(output).toMatch(/a local swarm of 3 peers, single-leader replication, hot-hot compute/);
    expect(output).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions -H 'Authorization: Bearer nines-/);
    expect(output).toContain('"model":"nines-kjv"');
    expect(output).toContain(`dashboard: ${apis[0]}/#key=${key}`);
  });

  it('answers the openai client on every peer, streaming or not, with the same text for the same seed', async () => {
    const request = { model: 'nines-kjv', messages: [{ role: 'user' as const, content: 'Who made the light?' }], max_tokens: 24, temperature: 0.9, seed: 11 };
    const whole = await client(0).chat.completions.create(request);
    const text = whole.choices[0].message.content!;
    expect(text.length).toBeGreaterThan(0);
    const stream = await client(2).chat.completions.create({ ...request, stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(text);
    expect((await client(1).chat.completions.create(request)).choices[0].message.content).toBe(text);
  });

  it('continues a conversation on another peer: the second turn sees the first through its session token', async () => {
    const turn = async (peer: number, content: string, session?: string) => {
      const response = await fetch(`${apis[peer]}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(session !== undefined && { 'x-nines-session': session }) },
        body: JSON.stringify({ model: 'nines-kjv', messages: [{ role: 'user', content }], max_tokens: 8, seed: 1, conversation_id: 'psalms' }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { usage: { prompt_tokens: number } };
      return { session: response.headers.get('x-nines-session')!, promptTokens: body.usage.prompt_tokens };
    };
    const first = await turn(0, 'The LORD is my shepherd');
    const second = await turn(1, 'I shall not want', first.session);
    const third = await turn(2, 'He maketh me to lie down', second.session);
    expect(Number(second.session)).toBeGreaterThan(Number(first.session));
    // Each turn's prompt holds the ones before it.
    expect(second.promptTokens).toBeGreaterThan(first.promptTokens + 8);
    expect(third.promptTokens).toBeGreaterThan(second.promptTokens + 8);
  });

  it('refuses a request without a valid key', async () => {
    const anonymous = new OpenAI({ baseURL: `${apis[1]}/v1`, apiKey: 'nines-not-a-key-of-this-cluster', maxRetries: 0 });
    await expect(anonymous.chat.completions.create({ model: 'nines-kjv', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('stops every peer on Ctrl-C and removes its temporary data', async () => {
    expect(existsSync(root)).toBe(true);
    const exited = new Promise<number | null>((resolve) => swarm.once('exit', (code) => resolve(code)));
    swarm.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(root)).toBe(false);
  }, 30_000);
});
