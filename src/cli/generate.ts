/**
 * `nines generate "prompt"`: the whole pipeline on one machine — the prompt is tokenized,
 * embedded, multiplied through the model's weights, and a prediction is sampled, token by
 * token, streamed as it comes. `--trace` shows every one of those steps.
 */
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { kernelChoices, loadModel, type KernelChoice, type LoadedModel, type LoadOptions } from '../model/load-file.js';
import { inferenceThreadsMax } from '../model/parallel/index.js';
import { generate, traceTopCandidatesMax, type GenerationStep } from '../model/generate.js';
import { defaultSamplerSettings, type SamplerSettings } from '../model/sampler.js';
import { collect, integerOption, numberOption } from './options.js';

/** Options shared by `generate` and its interactive prompt. */
export interface SamplingOptions {
  model?: string;
  seed?: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  repeatLastN: number;
  maxTokens: number;
  stop?: string[];
  threads: number;
  kernels: KernelChoice;
}

export const maxTokensDefault = 100;
export const maxTokensLimit = 1_000_000;

export function addSamplingOptions(command: Command): Command {
  return command
    .option('-m, --model <file.gguf>', 'GGUF model file (default: the built-in model, models/nines-kjv.gguf)')
    .option('-s, --seed <n>', 'seed of the sampler; the same seed gives the same text (default: random, printed)', integerOption('--seed', 0, Number.MAX_SAFE_INTEGER))
    .option('-t, --temperature <t>', 'randomness: 0 = always the most likely token', numberOption('--temperature', 0, 100), defaultSamplerSettings.temperature)
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = all)', integerOption('--top-k', 0, 10_000_000), defaultSamplerSettings.topK)
    .option('--top-p <p>', 'sample among the most likely tokens whose probabilities add up to p (1 = all)', numberOption('--top-p', Number.MIN_VALUE, 1), defaultSamplerSettings.topP)
    .option('--min-p <p>', 'drop tokens less likely than p times the most likely (0 = off)', numberOption('--min-p', 0, 1), defaultSamplerSettings.minP)
    .option('--repeat-penalty <x>', 'make recently seen tokens less likely (1 = off)', numberOption('--repeat-penalty', Number.MIN_VALUE, 100), 1.1)
    .option('--repeat-last-n <n>', 'how many recent tokens the repeat penalty looks at', integerOption('--repeat-last-n', 0, 65536), defaultSamplerSettings.repetitionWindow)
    .option('-n, --max-tokens <n>', 'stop after this many generated tokens', integerOption('--max-tokens', 1, maxTokensLimit), maxTokensDefault)
    .option('--stop <text>', 'stop when this text is generated (repeatable)', collect)
    .option('--threads <n>', `threads computing the model (1 to ${inferenceThreadsMax}; the same seed gives the same text on any number)`, integerOption('--threads', 1, inferenceThreadsMax), availableParallelism())
    .option('--kernels <kind>', 'matrix kernels: wasm (WebAssembly SIMD), js (plain TypeScript) or auto (wasm where it can run the model)', kernelOption, 'auto');
}

function kernelOption(value: string): KernelChoice {
  if (!(kernelChoices as readonly string[]).includes(value)) throw new InvalidArgumentError(`--kernels must be one of ${kernelChoices.join(', ')}, got '${value}'.`);
  return value as KernelChoice;
}

/** Loads the model the flags name, runs `work` with it, and always stops its kernel threads after. */
export async function withModel<T extends SamplingOptions>(options: T, work: (loaded: LoadedModel, options: T) => Promise<void>): Promise<void> {
  const loaded = loadModel(options.model, loadOptionsOf(options));
  try {
    await work(loaded, options);
  } finally {
    await loaded.close();
  }
}

export function loadOptionsOf(options: SamplingOptions): LoadOptions {
  return { threads: Math.min(options.threads, inferenceThreadsMax), kernels: options.kernels };
}

export function samplerSettingsOf(options: SamplingOptions): SamplerSettings {
  return {
    temperature: options.temperature,
    topK: options.topK,
    topP: options.topP,
    minP: options.minP,
    repetitionPenalty: options.repeatPenalty,
    repetitionWindow: options.repeatLastN,
  };
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description('generate text from a prompt, streaming tokens as they are sampled (no prompt: an interactive prompt, a line at a time)')
    .argument('[prompt]', 'the text to continue');
  addSamplingOptions(command)
    .option('--trace', 'show every step: prompt tokens, then each sampled token with its top candidates')
    .option('--trace-top <n>', 'candidates shown per step with --trace', integerOption('--trace-top', 1, traceTopCandidatesMax), 5)
    .action(async (prompt: string | undefined, options: SamplingOptions & { trace?: boolean; traceTop: number }) => {
      if (prompt === undefined) {
        const { runPrompt } = await import('./prompt-repl.js');
        await withModel(options, runPrompt);
        return;
      }
      const seed = options.seed ?? randomInt(0, 2 ** 31);
      if (options.seed === undefined) process.stderr.write(`seed ${seed} (repeat this run with --seed ${seed})\n`);
      await withModel(options, async (loaded) => {
        const steps = generate({
          model: loaded.transformer,
          tokenizer: loaded.tokenizer,
          prompt,
          sampler: { ...samplerSettingsOf(options), seed },
          maxTokens: options.maxTokens,
          stop: options.stop,
          trace: options.trace === true,
          traceTopCandidates: options.traceTop,
        });
        if (options.trace === true) await printTrace(steps, prompt, (id) => loaded.tokenizer.tokenText(id));
        else await printStream(steps, prompt);
      });
    });
}

/** Writes the prompt, then the generated text as it arrives. */
export async function printStream(steps: AsyncIterable<GenerationStep>, prompt: string): Promise<void> {
  process.stdout.write(prompt);
  for await (const step of steps) {
    if (step.kind === 'token' || step.kind === 'end') process.stdout.write(step.text);
    if (step.kind === 'end') process.stdout.write('\n');
  }
}

/** The pipeline, step by step: tokens in, then for each step the candidates and the draw. */
async function printTrace(steps: AsyncIterable<GenerationStep>, prompt: string, tokenText: (id: number) => string): Promise<void> {
  let text = prompt;
  let stepNumber = 0;
  for await (const step of steps) {
    if (step.kind === 'prompt') {
      process.stdout.write(`prompt: ${step.tokens.length} tokens\n`);
      process.stdout.write(`  ${step.tokens.map((t) => `${t.id}:${JSON.stringify(t.text)}`).join(' ')}\n`);
      process.stdout.write('step  position  chosen (probability)          top candidates\n');
    } else if (step.kind === 'token') {
      text += step.text;
      stepNumber++;
      const chosen = `${step.id}:${JSON.stringify(tokenText(step.id))}`;
      const candidates = (step.candidates ?? []).map((c) => `${JSON.stringify(c.text)} ${c.probability.toFixed(3)}`).join(', ');
      const probability = step.probability === undefined ? '' : ` (${step.probability.toFixed(3)})`;
      process.stdout.write(`${String(stepNumber).padStart(4)}  ${String(step.position).padStart(8)}  ${(chosen + probability).padEnd(28)}  ${candidates}\n`);
    } else {
      text += step.text;
      process.stdout.write(`end: ${step.reason} after ${step.generatedTokens.length} tokens\n\n${text}\n`);
    }
  }
}
