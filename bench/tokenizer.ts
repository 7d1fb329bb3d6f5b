/**
 * `npm run bench:tokenizer`: encodes the same large text with GPT-2's vocabulary in nines,
 * in js-tiktoken (pure JavaScript) and in tiktoken (Rust compiled to WebAssembly), checks
 * that all three give the same ids, and prints the speed of each with the ratios.
 * Results go to bench/results/tokenizer.json. Goal: nines at least as fast as js-tiktoken.
 *
 * Options: --megabytes <n> (text size, default 5), --runs <n> (timed runs after one
 * warm-up, default 5), --out <path>.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { loadGpt2Tokenizer } from '../src/model/tokenizer/gpt2-file.js';
import { argumentValue, contentionWarning, describeMachine, formatTable, integerArgument, loadAverageNow, median, resultsDirectory, secondsOf, writeResults } from './measure.js';
import { llamaCppInstallCommand } from './llama-cpp.js';

/** The part of the tiktoken package (bench/node_modules) this benchmark uses. */
interface TiktokenModule {
  get_encoding(name: 'gpt2'): { encode(text: string): Uint32Array; free(): void };
}

interface Encoder {
  name: string;
  encode(text: string): ArrayLike<number>;
}

function loadTiktoken(): TiktokenModule {
  try {
    return createRequire(fileURLToPath(new URL('./package.json', import.meta.url)))('tiktoken') as TiktokenModule;
  } catch (cause) {
    throw new Error(`tiktoken is not installed in bench/; \`${llamaCppInstallCommand}\` installs it`, { cause });
  }
}

function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

async function main(): Promise<void> {
  const machine = describeMachine();
  const megabytes = integerArgument('megabytes', 5);
  const runs = integerArgument('runs', 5);
  const out = argumentValue('out') ?? `${resultsDirectory}tokenizer.json`;
  const sample = readFileSync(new URL('../test/fixtures/tokenizer/gpt2-parity.txt', import.meta.url), 'utf8');
  const text = sample.repeat(Math.ceil((megabytes * 1e6) / Buffer.byteLength(sample)));
  const textBytes = Buffer.byteLength(text);

  const ours = loadGpt2Tokenizer();
  const jsTiktoken = getEncoding('gpt2');
  const tiktoken = loadTiktoken().get_encoding('gpt2');
  const encoders: Encoder[] = [
    { name: 'nines', encode: (input) => ours.encode(input) },
    { name: 'js-tiktoken', encode: (input) => jsTiktoken.encode(input) },
    { name: 'tiktoken (WASM)', encode: (input) => tiktoken.encode(input) },
  ];

  try {
    const reference = encoders[0].encode(text);
    for (const encoder of encoders.slice(1)) {
      const at = sameIds(reference, encoder.encode(text));
      if (at >= 0) throw new Error(`${encoder.name} and nines disagree at token ${at}: the benchmark would compare different work`);
    }
    const measured = [];
    for (const encoder of encoders) {
      const seconds: number[] = [];
      for (let run = 0; run <= runs; run++) {
        const time = await secondsOf(() => encoder.encode(text));
        if (run > 0) seconds.push(time); // run 0 warms the JIT and the caches up
      }
      const medianSeconds = median(seconds);
      measured.push({ name: encoder.name, medianSeconds, megabytesPerSecond: textBytes / 1e6 / medianSeconds, tokensPerSecond: reference.length / medianSeconds, seconds });
    }
    const nines = measured[0];
    const loadAverageAtEnd = loadAverageNow();
    const warning = contentionWarning(machine, loadAverageAtEnd);
    const results = {
      benchmark: 'tokenizer',
      ...(warning !== undefined && { warning }),
      machine: { ...machine, loadAverageAtEnd },
      text: { source: 'test/fixtures/tokenizer/gpt2-parity.txt, repeated', bytes: textBytes, tokens: reference.length },
      runs,
      encoders: measured.map((entry) => ({ ...entry, ninesSpeedRatio: entry.medianSeconds / nines.medianSeconds })),
      goal: 'nines at least as fast as js-tiktoken',
      goalMet: nines.medianSeconds <= measured[1].medianSeconds,
    };
    console.log(`Encoding ${(textBytes / 1e6).toFixed(1)} MB (${reference.length} GPT-2 tokens), median of ${runs} runs:\n`);
    console.log(formatTable(
      ['encoder', 'seconds', 'MB/s', 'tokens/s', 'nines / this (speed)'],
      results.encoders.map((entry) => [entry.name, entry.medianSeconds.toFixed(3), entry.megabytesPerSecond.toFixed(2), Math.round(entry.tokensPerSecond).toString(), entry.ninesSpeedRatio.toFixed(2)]),
    ));
    if (warning !== undefined) console.log(`\nWARNING: ${warning}`);
    console.log(`\nGoal (${results.goal}): ${results.goalMet ? 'met' : 'NOT met'}. Written to ${out}`);
    writeResults(out, results);
  } finally {
    tiktoken.free();
  }
}

await main();
