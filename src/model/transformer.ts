/**
 * A Llama-style transformer (llama and qwen2 flavours) as a set of checked weights.
 * The forward pass lives in ./inference-session.ts; this file turns GGUF tensors into
 * the weights it reads, refusing anything that does not fit the config, and chooses
 * the kernels its products run on: the TypeScript ones, or (given a KernelBackend) the
 * WebAssembly ones on one or more threads, with the weights copied into kernel memory.
 */
import { type ModelConfig, configProblems, expectedShapes, headDimOf, tensorNames } from './config.js';
import type { GgmlType } from './gguf/types.js';
import { ModelFormatError } from './errors.js';
import { type KernelMatrix, matrixProblem, prepareMatrix, rowToFloat32 } from './kernels/index.js';
import { hasWasmKernel } from './kernels/wasm/index.js';
import { ForwardWorkspace, prefillTokensMax } from './forward-workspace.js';
import type { KernelBackend } from './parallel/backend.js';
import { type Products, TypeScriptProducts, WasmProducts } from './parallel/products.js';

export { InferenceSession, type InferenceSessionOptions, kvCacheBytesMax } from './inference-session.js';

/** A tensor as it comes out of a GGUF file: its type, its dims (innermost first) and its raw bytes. */
export interface WeightTensor {
  type: GgmlType;
  dims: number[];
  data: Uint8Array;
}

/** The weights of one block. Shapes are (rows, cols); a matrix maps cols inputs to rows outputs. */
export interface LayerWeights {
  attentionNorm: Float32Array; // (dim)
  query: KernelMatrix; // (headCount * headDim, dim)
  key: KernelMatrix; // (kvHeadCount * headDim, dim)
  value: KernelMatrix; // (kvHeadCount * headDim, dim)
  queryBias: Float32Array | undefined; // (headCount * headDim), qwen2 only
  keyBias: Float32Array | undefined; // (kvHeadCount * headDim), qwen2 only
  valueBias: Float32Array | undefined; // (kvHeadCount * headDim), qwen2 only
  attentionOutput: KernelMatrix; // (dim, headCount * headDim)
  feedForwardNorm: Float32Array; // (dim)
  gate: KernelMatrix; // (hiddenDim, dim)
  up: KernelMatrix; // (hiddenDim, dim)
  down: KernelMatrix; // (dim, hiddenDim)
}

export interface ModelWeights {
  tokenEmbedding: KernelMatrix; // (vocab, dim)
  layers: LayerWeights[]; // (layer)
  outputNorm: Float32Array; // (dim)
  output: KernelMatrix; // (vocab, dim); the token embedding itself when tied
}

export interface TransformerOptions {
  /**
   * Run the products on the WebAssembly kernels of this backend (which the model then
   * owns: close() stops its threads). Tensors not already in its memory are copied in.
   * Without one, the model runs on the TypeScript kernels.
   */
  backend?: KernelBackend;
}

export class Transformer {
  /** Runs the forward pass's matrix products. */
  readonly products: Products;
  /** The activations every session shares on the WebAssembly kernels (see forward-workspace.ts); undefined on the TypeScript kernels. */
  readonly sharedWorkspace: ForwardWorkspace | undefined;

  private constructor(
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    /** Where the weights came from, for messages. */
    readonly source: string,
    readonly backend: KernelBackend | undefined,
  ) {
    this.products = backend === undefined ? new TypeScriptProducts() : new WasmProducts(backend);
    this.sharedWorkspace = backend === undefined ? undefined : new ForwardWorkspace(config, prefillTokensMax, (count) => backend.memory.floats(count));
  }

  /**
   * Checks that `tensors` holds exactly the weights `config` needs, each with the right
   * dims and a supported type, and wraps them without copying (unless misaligned, or
   * they must move into the backend's memory).
   */
  static fromTensors(config: ModelConfig, tensors: ReadonlyMap<string, WeightTensor>, source: string, options: TransformerOptions = {}): Transformer {
    const problems = configProblems(config);
    if (problems.length > 0) throw new ModelFormatError(source, 'config', `invalid model config: ${problems.join('; ')}`);
    const shapes = expectedShapes(config);
    checkTensorSet(config, shapes, tensors, source);
    const backend = options.backend;
    if (backend !== undefined) {
      const unsupported = [...tensors].find(([, tensor]) => !hasWasmKernel(tensor.type));
      if (unsupported !== undefined) throw new ModelFormatError(source, unsupported[0], `type ${unsupported[1].type} has no WebAssembly kernel yet; run this model on the TypeScript kernels (--kernels js)`);
    }
    const matrix = (name: string): KernelMatrix => {
      const { rows, cols } = shapes.get(name)!;
      const tensor = tensors.get(name)!;
      const data = backend === undefined || backend.memory.owns(tensor.data) ? tensor.data : backend.memory.copyIn(tensor.data);
      return prepareMatrix(tensor.type, rows, cols, data);
    };
    const vector = (name: string) => toFloat32(matrix(name));
    const optionalVector = (name: string) => (tensors.has(name) ? vector(name) : undefined);
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.layerCount; l++) {
      layers.push({
        attentionNorm: vector(tensorNames.attentionNorm(l)),
        query: matrix(tensorNames.query(l)),
        key: matrix(tensorNames.key(l)),
        value: matrix(tensorNames.value(l)),
        queryBias: optionalVector(tensorNames.queryBias(l)),
        keyBias: optionalVector(tensorNames.keyBias(l)),
        valueBias: optionalVector(tensorNames.valueBias(l)),
        attentionOutput: matrix(tensorNames.attentionOutput(l)),
        feedForwardNorm: vector(tensorNames.feedForwardNorm(l)),
        gate: matrix(tensorNames.gate(l)),
        up: matrix(tensorNames.up(l)),
        down: matrix(tensorNames.down(l)),
      });
    }
    const tokenEmbedding = matrix(tensorNames.tokenEmbedding);
    return new Transformer({ ...config }, {
      tokenEmbedding,
      layers,
      outputNorm: vector(tensorNames.outputNorm),
      output: config.tiedEmbeddings ? tokenEmbedding : matrix(tensorNames.output),
    }, source, backend);
  }

  /** Head width: dim / headCount. */
  get headDim(): number {
    return headDimOf(this.config);
  }

  /** Which kernels run the products, and on how many threads. */
  get kernels(): { kind: 'wasm' | 'typescript'; threads: number } {
    return this.backend === undefined ? { kind: 'typescript', threads: 1 } : { kind: 'wasm', threads: this.backend.threadCount };
  }

  /** Stops the kernel threads, if any. The model cannot compute afterwards. */
  async close(): Promise<void> {
    await this.backend?.close();
  }
}

/** Every expected tensor present with the right dims and a usable type; nothing unexpected. */
function checkTensorSet(config: ModelConfig, shapes: ReadonlyMap<string, { rows: number; cols: number }>, tensors: ReadonlyMap<string, WeightTensor>, source: string): void {
  const missing = [...shapes.keys()].filter((name) => !tensors.has(name));
  if (missing.length > 0) {
    const others = missing.length > 1 ? ` (and ${missing.length - 1} more: ${missing.slice(1, 6).join(', ')}${missing.length > 6 ? ', ...' : ''})` : '';
    throw new ModelFormatError(source, missing[0], `tensor missing${others}; a ${config.architecture} model with ${config.layerCount} layers needs ${shapes.size} tensors`);
  }
  for (const name of tensors.keys()) {
    if (shapes.has(name)) continue;
    if (name === tensorNames.output) throw new ModelFormatError(source, name, 'present, but the config says the embeddings are tied (set tiedEmbeddings from the tensor names)');
    throw new ModelFormatError(source, name, `unexpected tensor: a ${config.architecture} model does not use it, so this file needs a feature nines does not implement`);
  }
  for (const [name, { rows, cols }] of shapes) {
    const tensor = tensors.get(name)!;
    const expectedDims = rows === 1 ? [cols] : [cols, rows];
    if (!sameDims(tensor.dims, expectedDims)) {
      throw new ModelFormatError(source, name, `dims are [${tensor.dims.join(', ')}] but the config needs [${expectedDims.join(', ')}] (GGUF lists columns first)`);
    }
    const problem = matrixProblem(tensor.type, rows, cols, tensor.data);
    if (problem !== undefined) throw new ModelFormatError(source, name, problem);
  }
}

/** Dims are equal once trailing 1s (which GGUF writers sometimes keep) are ignored. */
function sameDims(actual: readonly number[], expected: readonly number[]): boolean {
  const trim = (dims: readonly number[]) => {
    let end = dims.length;
    while (end > 1 && dims[end - 1] === 1) end--;
    return dims.slice(0, end);
  };
  const a = trim(actual);
  const b = trim(expected);
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Norm weights and biases are small and read element by element: decode them to float32 once. */
function toFloat32(matrix: KernelMatrix): Float32Array {
  const out = new Float32Array(matrix.cols); // (cols)
  rowToFloat32(matrix, 0, out);
  return out;
}
