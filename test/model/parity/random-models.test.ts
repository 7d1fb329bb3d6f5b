/**
 * Parity with llama.cpp on models this test writes itself: random weights in shapes the
 * default model does not have. For each file, the logits at every position of a fixed
 * prompt must match llama.cpp's within the type's bound (see parity.ts for the measure),
 * and 64 tokens of greedy decoding must be identical, token for token (tolerances.ts says
 * when a near-tie is forgiven; none is needed on these models).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ModelConfig } from '../../../src/model/config.js';
import type { GgmlType } from '../../../src/model/gguf/types.js';
import { trainBpe, type BpeTokenizer } from '../../../src/model/tokenizer/index.js';
import { writeRandomModel } from '../../../bench/random-model.js';
import { ourRunOnFile, theirRun } from './parity.js';
import { emulationIsExact } from './emulated-forward.js';
import { type ParityCase, defineParityChecks } from './parity-checks.js';
import { describeParity, openPeerModel, type PeerModel } from './peer.js';
import { gapErrorBounds, greedyTieLeads, greedyTokenCount } from './tolerances.js';

interface Shape {
  label: string;
  config: ModelConfig;
  types: GgmlType[];
  /** Prompt tokens whose logits are compared; the greedy run continues from the same prompt. */
  promptTokens: number;
}

const vocabSize = 512;

const base = { architecture: 'llama', vocabSize, ropeFreqBase: 10000, normEpsilon: 1e-5 } as const;

const shapes: Shape[] = [
  {
    label: 'multi-head attention, tied embeddings',
    config: { ...base, dim: 64, hiddenDim: 192, layerCount: 3, headCount: 4, kvHeadCount: 4, contextLength: 256, tiedEmbeddings: true },
    types: ['F32', 'F16', 'Q8_0'],
    promptTokens: 128,
  },
  {
    // Rows of 256 and 512 values: whole K-quant super-blocks, so Q4_K and Q6_K apply to every matrix.
    label: 'grouped-query attention (8 heads, 2 kv heads), untied output, 1024 positions',
    config: { ...base, dim: 256, hiddenDim: 512, layerCount: 2, headCount: 8, kvHeadCount: 2, contextLength: 1024, tiedEmbeddings: false },
    types: ['F32', 'F16', 'Q8_0', 'Q4_K', 'Q6_K'],
    // Beyond position 512, and leaving room for the greedy tokens.
    promptTokens: 1024 - greedyTokenCount - 16,
  },
];

const text = readFileSync(new URL('../../fixtures/tokenizer/gpt2-parity.txt', import.meta.url), 'utf8');
let tokenizer: BpeTokenizer;
let directory: string;

beforeAll(() => {
  tokenizer = trainBpe(text.slice(0, 40_000), { vocabSize });
  directory = mkdtempSync(join(tmpdir(), 'nines-parity-'));
});

afterAll(() => {
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
});

shapes.forEach((shape, shapeIndex) => {
  for (const type of shape.types) {
    describeParity(`llama.cpp parity: ${shape.label}, ${type}`, () => {
      let parityCase: ParityCase;
      let peer: PeerModel | undefined;

      beforeAll(async () => {
        const path = join(directory, `random-${shapeIndex}-${type}.gguf`);
        writeRandomModel(path, { config: shape.config, tokenizer, matrixType: type, seed: 1000 + shapeIndex, name: `parity-${shapeIndex}-${type}`, nextTokenMap: !shape.config.tiedEmbeddings });
        const prompt = tokenizer.encode(text.slice(50_000)).slice(0, shape.promptTokens);
        expect(prompt).toHaveLength(shape.promptTokens);
        peer = await openPeerModel(path, shape.config.contextLength);
        const theirs = await theirRun(peer.sequence, prompt, greedyTokenCount, shape.config.vocabSize);
        parityCase = { path, prompt, theirs, ours: await ourRunOnFile(path, prompt, theirs.greedyTokens) };
      }, 120_000);

      afterAll(async () => {
        await peer?.close();
      });

      defineParityChecks({ label: `${shape.label}, ${type}`, bound: gapErrorBounds[type]!, tieLead: greedyTieLeads[type]!, emulate: emulationIsExact(type), current: () => parityCase });
    });
  }
});
