/**
 * llama.cpp as a peer, through node-llama-cpp 3.21 installed in bench/node_modules (a
 * dev-only package with its own lock file, so that the product's install stays lean).
 *
 * The parity tests and the benchmarks load it by path from bench/, not by package name,
 * and only ever touch the small part of its API declared below. Declaring that part here,
 * instead of importing node-llama-cpp's own types, keeps `tsc` working on a fresh clone
 * where bench/ has not been installed.
 *
 * Everything runs on the CPU with the prebuilt llama.cpp binary that node-llama-cpp ships
 * in its registry packages: `build: 'never'` means it never downloads or compiles
 * llama.cpp, and bench/package.json's `config.nodeLlamaCppPostinstall = 'skip'` stops its
 * postinstall from trying to either.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The node-llama-cpp release these declarations were written against (bench/package.json pins it). */
export const llamaCppPackageVersion = '3.21.1';

/** The command that installs the peer. */
export const llamaCppInstallCommand = 'npm --prefix bench ci';

const benchPackageJson = fileURLToPath(new URL('./package.json', import.meta.url));

export type Token = number;

export interface ControlledEvaluateOutput {
  next: { token?: Token | null; probabilities?: Map<Token, number> };
}

export type ControlledEvaluateInput = Token | [Token, { generateNext?: { token?: boolean; probabilities?: boolean; options?: { temperature?: number } } }];

export interface LlamaContextSequence {
  /** Evaluates tokens at the end of the sequence; entries that asked for `generateNext` get an output at the same index. */
  controlledEvaluate(input: ControlledEvaluateInput[]): Promise<Array<ControlledEvaluateOutput | undefined>>;
  /**
   * Evaluates `tokens`, then yields one generated token per iteration, evaluating each in
   * turn (its normal generation loop, one sampler for the whole run). Temperature 0 is
   * greedy; no repetition penalty unless asked for.
   */
  evaluate(tokens: Token[], options?: { temperature?: number; yieldEogToken?: boolean }): AsyncGenerator<Token, void, void | Token | Token[]>;
  /** Evaluates tokens without sampling anything (the fast path for prompt processing). */
  evaluateWithoutGeneratingNewTokens(tokens: Token[]): Promise<void>;
  clearHistory(): Promise<void>;
  readonly nextTokenIndex: number;
}

export interface LlamaContextOptions {
  contextSize: number;
  batchSize?: number;
  threads?: number;
  flashAttention?: boolean;
  /** 'F32' keeps the KV cache in float32 as nines does (llama.cpp's default is F16). */
  experimentalKvCacheKeyType?: 'F32' | 'F16';
  experimentalKvCacheValueType?: 'F32' | 'F16';
}

export interface LlamaContext {
  getSequence(): LlamaContextSequence;
  readonly currentThreads: number;
  dispose(): Promise<void>;
}

export interface LlamaModel {
  tokenize(text: string, specialTokens?: boolean): Token[];
  createContext(options: LlamaContextOptions): Promise<LlamaContext>;
  readonly trainContextSize: number;
  dispose(): Promise<void>;
}

export interface Llama {
  loadModel(options: { modelPath: string; gpuLayers?: number; useMmap?: boolean }): Promise<LlamaModel>;
  readonly buildType: 'localBuild' | 'prebuilt';
  readonly systemInfo: string;
  dispose(): Promise<void>;
}

interface NodeLlamaCppModule {
  getLlama(options: { gpu: false; build: 'never'; logLevel?: 'error' | 'warn'; maxThreads?: number; progressLogs?: boolean }): Promise<Llama>;
}

/** Where node-llama-cpp is installed, or undefined when bench/ has not been installed. */
export function llamaCppEntryPoint(): string | undefined {
  try {
    return createRequire(benchPackageJson).resolve('node-llama-cpp');
  } catch {
    return undefined;
  }
}

export class LlamaCppMissingError extends Error {
  readonly code = 'LLAMA_CPP_MISSING';

  constructor() {
    super(`node-llama-cpp (llama.cpp's Node binding, the peer nines is compared with) is not installed in bench/; \`${llamaCppInstallCommand}\` installs it`);
    this.name = 'LlamaCppMissingError';
  }
}

/**
 * Loads llama.cpp on the CPU. `maxThreads` bounds every context made from it (each
 * context then asks for its own count). Throws LlamaCppMissingError when bench/ is not installed.
 */
export async function loadLlamaCpp(options: { maxThreads?: number } = {}): Promise<Llama> {
  const entryPoint = llamaCppEntryPoint();
  if (entryPoint === undefined) throw new LlamaCppMissingError();
  const module = (await import(pathToFileURL(entryPoint).href)) as NodeLlamaCppModule;
  return module.getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false, ...(options.maxThreads !== undefined && { maxThreads: options.maxThreads }) });
}
