/**
 * The file-loading shell of the model: a GGUF path in, a ready transformer and its
 * tokenizer out. Everything it calls is pure; this is the one place that reads the file.
 */
import { fileURLToPath } from 'node:url';
import { openGguf } from './gguf/gguf-file.js';
import { metadataOptionalString } from './gguf/index.js';
import { configFromGgufMetadata } from './architecture.js';
import { tokenizerFromGgufMetadata, type BpeTokenizer } from './tokenizer/index.js';
import { Transformer, type WeightTensor } from './transformer.js';
import { validateTensorData } from './quant/index.js';
import type { ModelConfig } from './config.js';
import type { GgufTensorInfo } from './gguf/types.js';

/** The model that ships with nines (trained by `nines train`; see models/README.md). */
export const defaultModelPath = fileURLToPath(new URL('../../models/nines-kjv.gguf', import.meta.url));

export interface LoadedModel {
  path: string;
  name: string;
  config: ModelConfig;
  tokenizer: BpeTokenizer;
  transformer: Transformer;
  tensors: GgufTensorInfo[];
  fileBytes: number;
}

export function loadModel(path: string = defaultModelPath): LoadedModel {
  const file = openGguf(path);
  try {
    const config = configFromGgufMetadata(file.metadata, path, file.tensors.map((tensor) => tensor.name));
    const tokenizer = tokenizerFromGgufMetadata(file.metadata, path);
    const weights = new Map<string, WeightTensor>();
    for (const info of file.tensors) {
      const data = file.readTensor(info.name);
      validateTensorData(info.type, data, path, info.name);
      weights.set(info.name, { type: info.type, dims: info.dims, data });
    }
    const transformer = Transformer.fromTensors(config, weights, path);
    const name = metadataOptionalString(file.metadata, 'general.name', path) ?? path;
    return { path, name, config, tokenizer, transformer, tensors: file.tensors, fileBytes: file.fileSize };
  } finally {
    file.close();
  }
}
