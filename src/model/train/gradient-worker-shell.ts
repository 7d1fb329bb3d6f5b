/**
 * The body of a training worker thread (see worker-pool-shell.ts): it builds its shard
 * over the shared kernel memory once, then for each request computes its sequences'
 * loss and gradient into its own gradient buffer and replies with the summed nats.
 * The tokens arrive through a small shared buffer; the weights are read in place.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { ModelConfig } from '../config.js';
import { Shard, type ShardRegion } from './engine.js';
import { layoutOf } from './parameters.js';
import type { KernelMemory } from './simd-kernel.js';

export interface WorkerSetup {
  config: ModelConfig;
  memory: KernelMemory;
  region: ShardRegion;
  seqLen: number;
  /** [inputs (tokenCapacity) | targets (tokenCapacity)] on a SharedArrayBuffer. */
  tokens: Int32Array;
  tokenCapacity: number;
}

/** A batch of 0 sequences is the start-up handshake. */
export interface ShardRequest {
  batch: number;
  seqLen: number;
  lossScale: number;
}

export type ShardResponse = { nats: number; error?: undefined } | { nats?: undefined; error: string };

function serve(setup: WorkerSetup): void {
  const port = parentPort;
  if (port === null) return;
  let shard: Shard;
  try {
    shard = Shard.inKernelMemory(layoutOf(setup.config), setup.memory, setup.region, setup.seqLen);
  } catch (error) {
    port.on('message', () => port.postMessage({ error: (error as Error).message } satisfies ShardResponse));
    return;
  }
  const inputs = setup.tokens.subarray(0, setup.tokenCapacity);
  const targets = setup.tokens.subarray(setup.tokenCapacity);
  port.on('message', (request: ShardRequest) => {
    try {
      const nats = request.batch === 0 ? 0 : shard.compute(inputs, targets, request.batch, request.seqLen, request.lossScale);
      port.postMessage({ nats } satisfies ShardResponse);
    } catch (error) {
      port.postMessage({ error: (error as Error).stack ?? String(error) } satisfies ShardResponse);
    }
  });
}

if (!isMainThread && parentPort !== null && (workerData as WorkerSetup | undefined)?.region !== undefined) serve(workerData as WorkerSetup);
