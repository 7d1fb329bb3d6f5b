/**
 * `nines start` (and `npm start`). Until the swarm exists, this is an interactive prompt
 * on the built-in model: type a line, watch the model continue it token by token.
 * Ctrl-C stops a generation; Ctrl-C or Ctrl-D at the prompt quits.
 */
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadModel, type LoadedModel } from '../model/load-file.js';
import { generate } from '../model/generate.js';
import { addSamplingOptions, loadOptionsOf, samplerSettingsOf, type SamplingOptions } from './generate.js';

const helpText = `Type some text and press Enter: the model continues it, token by token.
Commands:
  /seed N          set the seed (each line uses seed, seed+1, ... so every answer can be repeated)
  /temperature T   0 = always the most likely token; higher = more varied
  /max-tokens N    how many tokens to generate per line
  /help            this text
  /quit            leave (Ctrl-D works too; Ctrl-C stops a generation)
`;

export function registerStart(program: Command): void {
  const command = program
    .command('start')
    .description('interactive prompt on the built-in model (the swarm comes in a later release)');
  addSamplingOptions(command).action(async (options: SamplingOptions) => {
    const loaded = loadModel(options.model, loadOptionsOf(options));
    try {
      await runPrompt(loaded, options);
    } finally {
      await loaded.close();
    }
  });
}

async function runPrompt(loaded: LoadedModel, options: SamplingOptions): Promise<void> {
  const settings = { ...options, seed: options.seed ?? randomInt(0, 2 ** 31) };
  const { config } = loaded;
  process.stdout.write(`nines: ${loaded.name}, ${config.layerCount} layers, dim ${config.dim}, ${config.vocabSize} tokens, context ${config.contextLength}\n`);
  process.stdout.write(`seed ${settings.seed}, temperature ${settings.temperature}, max ${settings.maxTokens} tokens per line. /help for commands.\n`);
  const lines = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ', terminal: process.stdin.isTTY === true });
  let generating: { cancelled: boolean } | undefined;
  let turn = 0;
  // With piped input the interface closes at end of input while buffered lines are still
  // being answered; prompting after that is an error on newer Node versions.
  let closed = false;
  lines.on('close', () => {
    closed = true;
  });
  const prompt = () => {
    if (!closed) lines.prompt();
  };
  lines.on('SIGINT', () => {
    if (generating !== undefined) generating.cancelled = true;
    else lines.close();
  });
  prompt();
  for await (const line of lines) {
    const text = line.trimEnd();
    if (text.startsWith('/')) {
      if (!runCommand(text, settings)) break;
    } else if (text.length > 0) {
      generating = { cancelled: false };
      await complete(loaded, text, { ...settings, seed: settings.seed + turn }, generating);
      generating = undefined;
      turn++;
    }
    prompt();
  }
  lines.close();
  process.stdout.write('\n');
}

async function complete(loaded: LoadedModel, prompt: string, options: SamplingOptions & { seed: number }, control: { cancelled: boolean }): Promise<void> {
  try {
    process.stdout.write(prompt);
    const steps = generate({
      model: loaded.transformer,
      tokenizer: loaded.tokenizer,
      prompt,
      sampler: { ...samplerSettingsOf(options), seed: options.seed },
      maxTokens: options.maxTokens,
      stop: options.stop,
    });
    for await (const step of steps) {
      if (step.kind !== 'prompt') process.stdout.write(step.text);
      // Let the terminal's Ctrl-C reach us between tokens.
      await new Promise((resolve) => setImmediate(resolve));
      if (control.cancelled) {
        process.stdout.write(' [stopped]');
        break;
      }
    }
    process.stdout.write('\n');
  } catch (error) {
    // A bad prompt (too long for the context) must not end the session.
    process.stdout.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Applies a /command; returns false when the user asked to leave. */
function runCommand(text: string, settings: SamplingOptions & { seed: number }): boolean {
  const [name, value] = text.split(/\s+/, 2);
  const number = Number(value);
  switch (name) {
    case '/quit':
    case '/exit':
      return false;
    case '/help':
      process.stdout.write(helpText);
      return true;
    case '/seed':
      if (!Number.isSafeInteger(number) || number < 0) process.stdout.write('/seed takes a non-negative integer, e.g. /seed 42\n');
      else settings.seed = number;
      return true;
    case '/temperature':
      if (!Number.isFinite(number) || number < 0 || number > 100) process.stdout.write('/temperature takes a number from 0 to 100, e.g. /temperature 0.7\n');
      else settings.temperature = number;
      return true;
    case '/max-tokens':
      if (!Number.isSafeInteger(number) || number < 1 || number > 100_000) process.stdout.write('/max-tokens takes an integer from 1 to 100000, e.g. /max-tokens 50\n');
      else settings.maxTokens = number;
      return true;
    default:
      process.stdout.write(`unknown command ${name}; /help lists them\n`);
      return true;
  }
}
