/**
 * `nines generate` without a prompt: an interactive prompt on the model — type a line, watch
 * the model continue it token by token. Ctrl-C stops a generation; Ctrl-C or Ctrl-D at the
 * prompt quits.
 */
import { randomInt } from 'node:crypto';
import type { LoadedModel } from '../model/load-file.js';
import { generate } from '../model/generate.js';
import { samplerSettingsOf, type SamplingOptions } from './generate.js';
import { type Interruption, type ReplSettings, runRepl, sharedCommandsHelp, stoppedByUser } from './repl.js';

const helpText = `Type some text and press Enter: the model continues it, token by token.
Commands:
${sharedCommandsHelp}`;

export async function runPrompt(loaded: LoadedModel, options: SamplingOptions): Promise<void> {
  const settings: ReplSettings = { ...options, seed: options.seed ?? randomInt(0, 2 ** 31) };
  const { config } = loaded;
  process.stdout.write(`nines: ${loaded.name}, ${config.layerCount} layers, dim ${config.dim}, ${config.vocabSize} tokens, context ${config.contextLength}\n`);
  process.stdout.write(`seed ${settings.seed}, temperature ${settings.temperature}, max ${settings.maxTokens} tokens per line. /help for commands.\n`);
  let turn = 0;
  await runRepl(settings, {
    helpText,
    answer: async (text, interruption) => {
      await complete(loaded, text, { ...settings, seed: settings.seed + turn }, interruption);
      turn++;
    },
  });
}

async function complete(loaded: LoadedModel, prompt: string, options: ReplSettings, interruption: Interruption): Promise<void> {
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
    if (await stoppedByUser(interruption)) {
      process.stdout.write(' [stopped]');
      break;
    }
  }
  process.stdout.write('\n');
}
