/**
 * Model files with random weights, for comparing nines with llama.cpp on shapes the
 * default model does not have (grouped-query attention, untied output, long contexts,
 * K-quant-sized rows) and for the ~100M-parameter benchmark model.
 *
 * Weights are Gaussian. A matrix that maps `cols` inputs gets std `gain / sqrt(cols)`, so
 * every activation stays near unit scale however wide the model; the embedding rows are at
 * unit scale too, like the blocks' contributions to the residual stream. The output
 * projection (or the tied embedding) gets a larger gain, so that the logits spread over a
 * few units. Norm weights sit near 1, as trained ones do.
 *
 * Purely random logits are flat at the top: among hundreds of Gaussian logits the best
 * two are often within a percent of the logit spread of each other, which is less than
 * the rounding llama.cpp applies to activations in quantized matrix products (see
 * test/model/parity/tolerances.ts). A greedy run over such a model is decided by
 * rounding noise, in nines as in llama.cpp. So an untied model can carry a *next-token
 * map*: output row j also holds the embedding of the token that j follows under a random
 * permutation, which gives each step a clear winner, as a trained model's usually has.
 */
import { Rng } from '../src/core/rng.js';
import { type ModelConfig, expectedShapes, tensorNames } from '../src/model/config.js';
import { configToGgufMetadata } from '../src/model/architecture.js';
import { writeGgufFile, type GgufTensorToWrite } from '../src/model/gguf/gguf-file.js';
import type { GgmlType } from '../src/model/gguf/types.js';
import { quantizeTensor } from '../src/model/quant/index.js';
import { type BpeTokenizer, tokenizerToGgufMetadata } from '../src/model/tokenizer/index.js';

/** Std of a weight matrix times sqrt(its input width); 1 keeps activations near unit scale. */
const hiddenGain = 1;
/** The same for the output projection (or the tied embedding): logits with a std of about 3. */
const outputGain = 3;
/** Std of the norm weights around 1. */
const normWeightSpread = 0.2;
/** With a next-token map, output row j is (mapGain * embedding of its predecessor + noiseGain * noise) / sqrt(dim). */
const nextTokenMapGain = 2;
const nextTokenNoiseGain = 3;

export interface RandomModelSpec {
  config: ModelConfig;
  tokenizer: BpeTokenizer;
  /** The type of every matrix; norm weights stay F32, as llama.cpp's quantizer leaves them. */
  matrixType: GgmlType;
  seed: number;
  name: string;
  /** Untied models only: give the output projection a random next-token map (see the top of this file). */
  nextTokenMap?: boolean;
}

/** The model's tensors in GGUF order (as expectedShapes lists them), quantized to `matrixType`. */
export function randomModelTensors(spec: RandomModelSpec): GgufTensorToWrite[] {
  const { config } = spec;
  if (spec.tokenizer.vocabulary().tokens.length !== config.vocabSize) {
    throw new RangeError(`the tokenizer has ${spec.tokenizer.vocabulary().tokens.length} tokens but the config says vocabSize ${config.vocabSize}`);
  }
  if (spec.nextTokenMap === true && config.tiedEmbeddings) throw new RangeError('a next-token map needs an untied output projection');
  const rng = new Rng(spec.seed);
  const predecessor = rng.shuffle(Array.from({ length: config.vocabSize }, (_, token) => token));
  let embedding: Float32Array | undefined; // (vocab, dim)
  const tensors: GgufTensorToWrite[] = [];
  for (const [name, { rows, cols }] of expectedShapes(config)) {
    const values = new Float32Array(rows * cols); // (rows, cols)
    if (rows === 1) {
      for (let i = 0; i < cols; i++) values[i] = 1 + normWeightSpread * rng.nextGaussian();
      tensors.push({ name, dims: [cols], type: 'F32', data: quantizeTensor('F32', values) });
      continue;
    }
    if (name === tensorNames.tokenEmbedding) {
      const std = config.tiedEmbeddings ? outputGain / Math.sqrt(cols) : 1;
      for (let i = 0; i < values.length; i++) values[i] = std * rng.nextGaussian();
      embedding = values;
    } else if (name === tensorNames.output && spec.nextTokenMap === true) {
      // expectedShapes lists token_embd before output.weight, so the embedding exists here.
      for (let row = 0; row < rows; row++) {
        const from = predecessor[row] * cols;
        for (let col = 0; col < cols; col++) values[row * cols + col] = (nextTokenMapGain * embedding![from + col] + nextTokenNoiseGain * rng.nextGaussian()) / Math.sqrt(cols);
      }
    } else {
      const std = (name === tensorNames.output ? outputGain : hiddenGain) / Math.sqrt(cols);
      for (let i = 0; i < values.length; i++) values[i] = std * rng.nextGaussian();
    }
    tensors.push({ name, dims: [cols, rows], type: spec.matrixType, data: quantizeTensor(spec.matrixType, values) });
  }
  return tensors;
}

/** Writes the random model, with its tokenizer, as a GGUF file llama.cpp and nines both load. */
export function writeRandomModel(path: string, spec: RandomModelSpec): void {
  writeGgufFile(path, {
    metadata: [...configToGgufMetadata(spec.config, spec.name), ...tokenizerToGgufMetadata(spec.tokenizer)],
    tensors: randomModelTensors(spec),
  });
}

/** Parameters of a model: every weight's element count. */
export function parameterCount(config: ModelConfig): number {
  let count = 0;
  for (const { rows, cols } of expectedShapes(config).values()) count += rows * cols;
  return count;
}
