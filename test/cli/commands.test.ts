/**
 * The built `nines` command, run as a user runs it: a real process, its output and its
 * exit code. `npm test` builds dist/ first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const goldenPath = fileURLToPath(new URL('../fixtures/default-model/generate-and-god-said-seed-1.txt', import.meta.url));

function nines(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does it first)`);
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('nines generate', () => {
  it('gives the same text for --seed 1 on every run, the text recorded in the golden file', () => {
    const first = nines(['generate', '--seed', '1', 'And God said']);
    expect(first.status).toBe(0);
    expect(first.stdout.startsWith('And God said')).toBe(true);
    // To re-record after retraining the default model: NINES_UPDATE_GOLDEN=1 npx vitest run test/cli/commands.test.ts
    if (process.env.NINES_UPDATE_GOLDEN === '1') writeFileSync(goldenPath, first.stdout);
    expect(first.stdout).toBe(readFileSync(goldenPath, 'utf8'));
    expect(nines(['generate', '--seed', '1', 'And God said']).stdout).toBe(first.stdout);
  });

  it('shows the pipeline with --trace: prompt tokens, then each step with its candidates', () => {
    const { status, stdout } = nines(['generate', '--seed', '1', '--max-tokens', '3', '--trace', 'And God said']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^prompt: \d+ tokens\n/);
    const steps = stdout.split('\n').filter((line) => /^\s+\d+\s+\d+\s+\d+:/.test(line));
    expect(steps).toHaveLength(3);
    for (const line of steps) expect(line).toMatch(/\(\d\.\d{3}\)\s+".*" \d\.\d{3}/);
    expect(stdout).toMatch(/end: length after 3 tokens/);
  });

  it('prints the random seed it chose when none is given, so the run can be repeated', () => {
    const { status, stderr, stdout } = nines(['generate', '--max-tokens', '5', 'And']);
    expect(status).toBe(0);
    const seed = /repeat this run with --seed (\d+)/.exec(stderr)?.[1];
    expect(seed).toBeDefined();
    expect(nines(['generate', '--max-tokens', '5', '--seed', seed!, 'And']).stdout).toBe(stdout);
  });

  it('refuses bad flag values with a clear message and a non-zero exit', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--seed', 'abc'], /--seed must be an integer/],
      [['--temperature', '-1'], /--temperature must be between 0 and 100/],
      [['--top-k', '1.5'], /--top-k must be an integer/],
      [['--top-p', '2'], /--top-p must be between/],
      [['--max-tokens', '0'], /--max-tokens must be between 1 and/],
      [['--model', '/nonexistent/model.gguf'], /no such file/],
    ];
    for (const [flags, message] of cases) {
      const result = nines(['generate', ...flags, 'hello']);
      expect(result.status, flags.join(' ')).not.toBe(0);
      expect(result.stderr).toMatch(message);
    }
  });

  it('refuses a prompt longer than the context window, giving the limit', () => {
    const result = nines(['generate', 'And God said '.repeat(200)]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/context window holds 256/);
  });
});

describe('nines tokenize, model info and the interactive prompt', () => {
  it('tokenize shows each token with its id, sub-words and all', () => {
    const { status, stdout } = nines(['tokenize', 'In the beginning God created']);
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^\d+ tokens, 28 bytes/);
    expect(lines.slice(0, -1).map((line) => JSON.parse(line.trim().split(/\s+/, 2)[1] === undefined ? '""' : line.slice(line.indexOf('"')))).join('')).toBe('In the beginning God created');
  });

  it('model info describes the built-in model', () => {
    const { status, stdout } = nines(['model', 'info']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/architecture\s+llama \(supported: llama, qwen2\)/);
    expect(stdout).toMatch(/token_embd\.weight\s+F32/);
    expect(stdout).toMatch(/chat template none in the file: nines chat uses the plain template/);
  });

  it('model info refuses a file that is not GGUF, naming the file and the field', () => {
    const { status, stderr } = nines(['model', 'info', fileURLToPath(import.meta.url)]);
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/commands\.test\.ts: header\.magic: .*not a GGUF file/);
  });

  it('chat keeps the conversation, renders it with the plain template, and forgets it on /reset', () => {
    const { status, stdout } = nines(['chat', '--seed', '1', '--max-tokens', '6', '--system', 'Speak as a prophet.'], 'Who made the heaven?\n/history\n/reset\n/history\n/quit\n');
    expect(status).toBe(0);
    expect(stdout).toMatch(/nines chat: nines-kjv, the plain chat template \(the file has none\)/);
    // The history shows the system message, the question and the model's answer, in the plain template's turns.
    expect(stdout).toMatch(/System: Speak as a prophet\.\n\nUser: Who made the heaven\?\n\nAssistant: \S+/);
    expect(stdout).toMatch(/conversation forgotten\n(> )*System: Speak as a prophet\.\n/);
  });

  it('generate without a prompt reads prompts from standard input and continues each one', () => {
    const { status, stdout } = nines(['generate', '--seed', '1', '--max-tokens', '8'], 'And God said\n/temperature 0\nIn the beginning\n/quit\n');
    expect(status).toBe(0);
    expect(stdout).toMatch(/seed 1, temperature 0\.8/);
    expect(stdout).toMatch(/And God said\S*\s\S+/);
    expect(stdout).toMatch(/In the beginning\S*\s\S+/);
  });
});
