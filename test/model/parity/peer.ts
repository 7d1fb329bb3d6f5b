/**
 * The llama.cpp peer as the parity tests see it: installed or not, and one model with a
 * context and a sequence, opened the way every parity test needs it.
 *
 * A fresh clone's `npm install && npm test` installs only the root package, so the peer
 * may be missing. Then the parity tests are skipped, loudly, with the command that
 * enables them, except in CI (CI=true), where .ci/run installs bench/ and a missing peer
 * is a failure: parity must never pass by not running.
 */
import { describe, it } from 'vitest';
import { type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, LlamaCppMissingError, llamaCppEntryPoint, llamaCppInstallCommand, loadLlamaCpp } from '../../../bench/llama-cpp.js';

export const llamaCppInstalled = llamaCppEntryPoint() !== undefined;

/** In CI the peer must be there; elsewhere its absence skips the parity tests. */
export const llamaCppRequired = process.env.CI === 'true';

export const skipNotice = `parity with llama.cpp is SKIPPED: node-llama-cpp is not installed in bench/; \`${llamaCppInstallCommand}\` enables these tests`;

/**
 * `describe` for parity tests: runs them when the peer is installed; otherwise either
 * skips them with a notice (and says so on the console) or, in CI, fails.
 */
export function describeParity(name: string, body: () => void): void {
  if (llamaCppInstalled) {
    describe(name, body);
    return;
  }
  if (llamaCppRequired) {
    describe(name, () => {
      it('has llama.cpp to compare with (CI runs `npm --prefix bench ci` first)', () => {
        throw new LlamaCppMissingError();
      });
    });
    return;
  }
  if (!skipNoticeShown) console.warn(`\n${skipNotice}\n`);
  skipNoticeShown = true;
  describe.skip(`${name} (${skipNotice})`, body);
}

let skipNoticeShown = false;
let llama: Promise<Llama> | undefined;

/** The process's one llama.cpp instance, on the CPU, one thread (the machine is shared). */
export function sharedLlama(): Promise<Llama> {
  llama ??= loadLlamaCpp({ maxThreads: 1 });
  return llama;
}

export interface PeerModel {
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  close(): Promise<void>;
}

/**
 * Opens `path` in llama.cpp with settings that match nines' arithmetic where llama.cpp lets
 * them: a float32 KV cache (its default is F16) and no flash attention (which would change
 * the order of the attention sums).
 */
export async function openPeerModel(path: string, contextSize: number): Promise<PeerModel> {
  const model = await (await sharedLlama()).loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  return {
    model,
    context,
    sequence: context.getSequence(),
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}
