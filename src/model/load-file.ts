/**
 * The file-loading shell of the model: a GGUF path in, a ready transformer and its
 * tokenizer out. Everything it calls is pure; this is the one place that reads the file
 * (and, through ./parallel/thread-pool-shell.ts, starts the kernel threads).
 *
 * On the WebAssembly kernels each tensor is read, checked, copied once into the kernel
 * memory and dropped, so a model never sits in memory twice (only one tensor at a time).
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
import { KernelMemory, hasWasmKernel, kernelMemoryBytesMax, wasmKernelsAvailable } from './kernels/wasm/index.js';
import type { KernelBackend } from './parallel/backend.js';
import { type ThreadOptions, checkThreadCount, createKernelBackend, defaultThreadCount } from './parallel/thread-pool-shell.js';
import { KernelChoiceError } from './errors.js';
import { ChatTemplate } from './chat-template.js';

/** Which kernels compute: 'auto' takes the WebAssembly ones where they can run this model, else the TypeScript ones. */
export const kernelChoices = ['auto', 'wasm', 'js'] as const;
export type KernelChoice = (typeof kernelChoices)[number];

export interface LoadOptions extends ThreadOptions {
  /** Default 'auto'. */
  kernels?: KernelChoice;
}

/** The model that ships with nines (trained by `nines train`; see models/README.md). */
export const defaultModelPath = fileURLToPath(new URL('../../models/nines-kjv.gguf', import.meta.url));

export interface LoadedModel {
  path: string;
  name: string;
  config: ModelConfig;
  tokenizer: BpeTokenizer;
  /** The file's `tokenizer.chat_template`, or the plain template when it has none. */
  chatTemplate: ChatTemplate;
  transformer: Transformer;
  tensors: GgufTensorInfo[];
  fileBytes: number;
  /** Stops the kernel threads (the model cannot compute afterwards). */
  close(): Promise<void>;
}

export function loadModel(path: string = defaultModelPath, options: LoadOptions = {}): LoadedModel {
  const threads = checkThreadCount(options.threads ?? defaultThreadCount());
  const file = openGguf(path);
  let backend: KernelBackend | undefined;
  try {
    const config = configFromGgufMetadata(file.metadata, path, file.tensors.map((tensor) => tensor.name));
    const tokenizer = tokenizerFromGgufMetadata(file.metadata, path);
    const chatTemplate = chatTemplateOf(file.metadata, tokenizer, path);
    const memory = kernelMemoryFor(file.tensors, options.kernels ?? 'auto', path);
    const weights = new Map<string, WeightTensor>();
    for (const info of file.tensors) {
      const data = file.readTensor(info.name);
      validateTensorData(info.type, data, path, info.name);
      weights.set(info.name, { type: info.type, dims: info.dims, data: memory === undefined ? data : memory.copyIn(data) });
    }
    backend = memory === undefined ? undefined : createKernelBackend(memory, { ...options, threads });
    const transformer = Transformer.fromTensors(config, weights, path, { backend });
    const name = metadataOptionalString(file.metadata, 'general.name', path) ?? path;
    return { path, name, config, tokenizer, chatTemplate, transformer, tensors: file.tensors, fileBytes: file.fileSize, close: () => transformer.close() };
  } catch (error) {
    void backend?.close();
    throw error;
  } finally {
    file.close();
  }
}

/** What turns requests into prompts — the name, hyper-parameters, tokenizer and chat template — without the weights. */
export interface ModelHeader {
  path: string;
  name: string;
  config: ModelConfig;
  tokenizer: BpeTokenizer;
  chatTemplate: ChatTemplate;
}

/** Reads a model's header only: what a gateway needs, at a fraction of the memory and time of loadModel. */
export function loadModelHeader(path: string = defaultModelPath): ModelHeader {
  const file = openGguf(path);
  try {
    const config = configFromGgufMetadata(file.metadata, path, file.tensors.map((tensor) => tensor.name));
    const tokenizer = tokenizerFromGgufMetadata(file.metadata, path);
    const chatTemplate = chatTemplateOf(file.metadata, tokenizer, path);
    const name = metadataOptionalString(file.metadata, 'general.name', path) ?? path;
    return { path, name, config, tokenizer, chatTemplate };
  } finally {
    file.close();
  }
}

function chatTemplateOf(metadata: Parameters<typeof metadataOptionalString>[0], tokenizer: BpeTokenizer, path: string): ChatTemplate {
  const source = metadataOptionalString(metadata, 'tokenizer.chat_template', path);
  const tokenString = (id: number | undefined): string | undefined => (id === undefined ? undefined : tokenizer.tokenText(id));
  return ChatTemplate.fromModel(source, { bosToken: tokenString(tokenizer.bosTokenId), eosToken: tokenString(tokenizer.eosTokenId) }, path);
}

/** Weights may fill at most this share of a kernel memory; the rest holds activations and KV caches. */
const weightShareOfKernelMemoryMax = 0.95;

/** The kernel memory the model's weights go into, or undefined to run on the TypeScript kernels. */
function kernelMemoryFor(tensors: readonly GgufTensorInfo[], choice: KernelChoice, path: string): KernelMemory | undefined {
  if (choice === 'js') return undefined;
  const unsupported = tensors.find((info) => !hasWasmKernel(info.type));
  const weightBytes = tensors.reduce((sum, info) => sum + info.byteLength + 64, 0);
  const problem = !wasmKernelsAvailable()
    ? 'this Node has no WebAssembly SIMD or shared memory'
    : unsupported !== undefined
      ? `tensor '${unsupported.name}' has type ${unsupported.type}, which has no WebAssembly kernel yet`
      : weightBytes > kernelMemoryBytesMax * weightShareOfKernelMemoryMax
        ? `its ${(weightBytes / 2 ** 30).toFixed(2)} GiB of weights do not fit a 4 GiB WebAssembly memory`
        : undefined;
  if (problem === undefined) return KernelMemory.create(weightBytes);
  if (choice === 'wasm') throw new KernelChoiceError(`${path}: cannot run on the WebAssembly kernels: ${problem}; use --kernels js`);
  return undefined;
}
