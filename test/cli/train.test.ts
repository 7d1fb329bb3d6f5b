/**
 * `nines train` end to end on a small corpus: flags, tokenizer, training, evaluation,
 * and a GGUF that the inference engine loads, with the training recorded in its metadata.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerTrain } from '../../src/cli/train.js';
import { loadModel } from '../../src/model/load-file.js';
import { InferenceSession } from '../../src/model/transformer.js';

const directory = mkdtempSync(join(tmpdir(), 'nines-train-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const corpus = join(directory, 'corpus.txt');
const verses = ['In the beginning God created the heaven and the earth.', 'And the earth was without form, and void.', 'And God said, Let there be light: and there was light.'];
writeFileSync(corpus, Array.from({ length: 300 }, (_, i) => verses[i % 3]).join('\n'));

function program(): { command: Command; errors: string[] } {
  const errors: string[] = [];
  const command = new Command().exitOverride().configureOutput({ writeErr: (text) => void errors.push(text), writeOut: () => {} });
  registerTrain(command);
  return { command, errors };
}

const small = ['--vocab-size', '300', '--dim', '16', '--layers', '1', '--heads', '2', '--hidden', '32', '--context', '16', '--batch', '4', '--warmup', '5', '--threads', '1'];

describe('nines train', () => {
  it('trains, evaluates and writes a GGUF that nines can run', async () => {
    const out = join(directory, 'model.gguf');
    const { command } = program();
    await command.parseAsync(['node', 'nines', 'train', corpus, '--out', out, ...small, '--steps', '40', '--type', 'f16', '--seed', '3']);
    const model = loadModel(out);
    expect(model.config.dim).toBe(16);
    expect(model.config.tiedEmbeddings).toBe(true);
    expect(model.tokenizer.vocabSize).toBe(model.config.vocabSize);
    expect(model.tensors.find((tensor) => tensor.name === 'blk.0.ffn_up.weight')?.type).toBe('F16');
    const session = new InferenceSession(model.transformer);
    const logits = session.forward(model.tokenizer.encode('In')[0], 0);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('refuses bad flag values and combinations with a message naming the flag', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--dim', 'wide'], /--dim must be an integer/],
      [['--lr', '-1'], /--lr must be between/],
      [['--type', 'q4'], /--type must be f32 or f16/],
      [['--eval-fraction', '0.9'], /--eval-fraction must be between/],
    ];
    for (const [flags, message] of cases) {
      const { command, errors } = program();
      await expect(command.parseAsync(['node', 'nines', 'train', corpus, '--out', join(directory, 'x.gguf'), ...flags])).rejects.toBeInstanceOf(CommanderError);
      expect(errors.join('')).toMatch(message);
    }
    const usage: Array<[string[], RegExp]> = [
      [['--resume'], /--resume needs --checkpoint-dir/],
      [['--dim', '30', '--heads', '4'], /dim 30 is not divisible by headCount 4/],
      [['--tied', '--untied'], /contradict/],
      [['--warmup', '50', '--steps', '10'], /--warmup 50 is longer than the run's --steps 10/],
      [['--threads', '9', '--batch', '8'], /--threads 9 needs a --batch of at least 9/],
    ];
    for (const [flags, message] of usage) {
      const { command } = program();
      await expect(command.parseAsync(['node', 'nines', 'train', corpus, '--out', join(directory, 'x.gguf'), ...flags])).rejects.toThrow(message);
    }
    const { command } = program();
    await expect(command.parseAsync(['node', 'nines', 'train', join(directory, 'missing.txt'), '--out', join(directory, 'x.gguf')])).rejects.toThrow(/cannot read the corpus/);
  });
});
