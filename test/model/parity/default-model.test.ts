/**
 * Parity with llama.cpp on the model nines ships, in each type `nines model quantize`
 * writes: llama.cpp reads our tokenizer from the file and splits text into the same ids,
 * the logits of every position of a held-out prompt match within the type's bound, and 64
 * tokens of greedy decoding are identical, token for token, with no near-tie forgiven
 * (tolerances.ts).
 *
 * The default model's rows are 128 and 384 values long, not whole K-quant super-blocks of
 * 256, so its q4_k_m and q6_k files hold the types llama.cpp's quantizer falls back to
 * (Q5_0 and Q8_0; see src/model/quantize.ts). Q4_K and Q6_K themselves are compared on the
 * random models of random-models.test.ts, whose rows are 256 and 512 long.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultModelPath, loadModel, type LoadedModel } from '../../../src/model/load-file.js';
import { quantizeModelFile } from '../../../src/model/quantize-file.js';
import type { QuantizeMix } from '../../../src/model/quantize.js';
import { ourRunOnFile, theirRun } from './parity.js';
import { type ParityCase, defineParityChecks } from './parity-checks.js';
import { describeParity, openPeerModel, sharedLlama, type PeerModel } from './peer.js';
import { defaultModelGapErrorBounds, defaultModelGreedyTieLeads, greedyTokenCount } from './tolerances.js';

const heldOutText = readFileSync(new URL('../../fixtures/default-model/held-out.txt', import.meta.url), 'utf8');
const tokenizerText = readFileSync(new URL('../../fixtures/tokenizer/gpt2-parity.txt', import.meta.url), 'utf8');

const mixes: QuantizeMix[] = ['f32', 'f16', 'q8_0', 'q4_k_m', 'q6_k'];

let directory: string;
let ourModel: LoadedModel;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'nines-parity-default-'));
  ourModel = loadModel(defaultModelPath, { threads: 1 });
});

afterAll(async () => {
  await ourModel?.close();
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
});

describeParity('llama.cpp parity: the default model reads the same tokens', () => {
  it('splits text into the same token ids as nines, from the tokenizer in the GGUF', async () => {
    const peer = await (await sharedLlama()).loadModel({ modelPath: defaultModelPath, gpuLayers: 0 });
    try {
      // Held-out prose, then the GPT-2 parity text's mix of numbers, punctuation, contractions, whitespace runs and non-ASCII.
      for (const sample of [heldOutText.slice(0, 6000), tokenizerText.slice(0, 20_000)]) {
        const ours = ourModel.tokenizer.encode(sample);
        const theirs = peer.tokenize(sample, false);
        expect(theirs.length, 'token count').toBe(ours.length);
        expect(theirs).toEqual(ours);
      }
    } finally {
      await peer.dispose();
    }
  });
});

for (const mix of mixes) {
  describeParity(`llama.cpp parity: the default model, ${mix}`, () => {
    let parityCase: ParityCase;
    let peer: PeerModel | undefined;

    beforeAll(async () => {
      const path = join(directory, `default-${mix}.gguf`);
      quantizeModelFile(defaultModelPath, path, mix);
      const contextLength = ourModel.config.contextLength;
      const prompt = ourModel.tokenizer.encode(heldOutText).slice(0, contextLength - greedyTokenCount);
      peer = await openPeerModel(path, contextLength);
      const theirs = await theirRun(peer.sequence, prompt, greedyTokenCount, ourModel.config.vocabSize);
      parityCase = { path, prompt, theirs, ours: await ourRunOnFile(path, prompt, theirs.greedyTokens) };
    }, 120_000);

    afterAll(async () => {
      await peer?.close();
    });

    // Only the f32 file is all of one type the emulation models exactly (the others hold F16, Q8_0 or Q5_0).
    defineParityChecks({ label: `default model, ${mix}`, bound: defaultModelGapErrorBounds[mix], tieLead: defaultModelGreedyTieLeads[mix], emulate: mix === 'f32', current: () => parityCase });
  });
}
