/**
 * The model that ships in models/: it loads, it is the size the project promises, and it
 * has really learned its corpus — measured here on held-out text it never trained on
 * (the end of the Revelation of St. John, inside the trainer's held-out 1%), against the
 * unigram baseline the trainer recorded.
 */
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultModelPath, loadModel } from '../../src/model/load-file.js';
import { openGguf } from '../../src/model/gguf/gguf-file.js';
import { metadataNumber, metadataString } from '../../src/model/gguf/index.js';
import { InferenceSession } from '../../src/model/transformer.js';
import { generate } from '../../src/model/generate.js';

const heldOutText = readFileSync(new URL('../fixtures/default-model/held-out.txt', import.meta.url), 'utf8');
const model = loadModel(defaultModelPath);

function trainingMetadata() {
  const file = openGguf(defaultModelPath);
  try {
    return {
      heldOutBitsPerByte: metadataNumber(file.metadata, 'nines.training.held_out_bits_per_byte', defaultModelPath),
      unigramBitsPerByte: metadataNumber(file.metadata, 'nines.training.unigram_bits_per_byte', defaultModelPath),
      corpusSha256: metadataString(file.metadata, 'nines.training.corpus_sha256', defaultModelPath),
    };
  } finally {
    file.close();
  }
}

/** Mean bits per byte of the text under the model, in windows of the context length. */
function bitsPerByte(text: string, byteLimit: number): number {
  const ids = model.tokenizer.encode(text.slice(0, byteLimit));
  const window = model.config.contextLength;
  const session = new InferenceSession(model.transformer);
  let nats = 0;
  let bytes = 0;
  for (let start = 0; start + 1 < ids.length; start += window - 1) {
    const end = Math.min(ids.length, start + window);
    for (let position = 0; position < end - start - 1; position++) {
      const logits = session.forward(ids[start + position], position);
      const target = ids[start + position + 1];
      let max = -Infinity;
      for (const logit of logits) max = Math.max(max, logit);
      let sum = 0;
      for (const logit of logits) sum += Math.exp(logit - max);
      nats += Math.log(sum) + max - logits[target];
      bytes += model.tokenizer.tokenBytes(target).length;
    }
  }
  return nats / Math.LN2 / bytes;
}

describe('the default model', () => {
  it('is a llama model of more than a million parameters in a file under 25 MB', () => {
    const parameters = model.tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((a, b) => a * b, 1), 0);
    expect(model.config.architecture).toBe('llama');
    expect(parameters).toBeGreaterThan(1_000_000);
    expect(statSync(defaultModelPath).size).toBeLessThan(25 * 1000 * 1000);
  });

  it('was trained on the corpus that scripts/fetch-corpus.sh fetches', () => {
    const expected = readFileSync(new URL('../../corpus/kjv.sha256', import.meta.url), 'utf8').split(' ')[0];
    expect(trainingMetadata().corpusSha256).toBe(expected);
  });

  it('predicts held-out text clearly better than the unigram baseline', () => {
    const recorded = trainingMetadata();
    const measured = bitsPerByte(heldOutText, 4000);
    // The trainer's own figure and ours come from different slices of the held-out text.
    expect(Math.abs(measured - recorded.heldOutBitsPerByte)).toBeLessThan(0.35);
    expect(measured).toBeLessThan(recorded.unigramBitsPerByte - 0.4);
  }, 60_000);

  it('generates the same text from the same seed, and different text from another', async () => {
    const run = async (seed: number) => {
      let text = '';
      for await (const step of generate({
        model: model.transformer,
        tokenizer: model.tokenizer,
        prompt: 'And God said',
        sampler: { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, repetitionWindow: 64, seed },
        maxTokens: 40,
      })) {
        if (step.kind !== 'prompt') text += step.text;
      }
      return text;
    };
    const first = await run(1);
    expect(first.length).toBeGreaterThan(40);
    expect(await run(1)).toBe(first);
    expect(await run(2)).not.toBe(first);
  });
});
