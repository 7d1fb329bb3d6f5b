/**
 * The compute role of a node: it loads the model, serves chunks of generation to gateways
 * over the TLS transport (RPC `compute.generate`), and announces itself in the DHT with a
 * provider record for the model, so that gateways find it without any central registry.
 * The record is republished before it expires, and not at all once the role stops.
 */
import { createHash } from 'node:crypto';
import type { LoadedModel } from '../../model/load-file.js';
import { RpcHandlerError, type Logger, type Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import { ComputeEngine, type ComputeEngineOptions } from './compute-engine.js';
import { chunkRequestProblem, computeGenerateMethod, type ChunkRequest, type ChunkResponse } from './protocol.js';

/** How often the provider record is published again (records live for an hour; this keeps them fresh through churn). */
export const providerRepublishMsDefault = 60_000;

/** The DHT key under which the peers serving `modelName` are recorded: 160 bits of SHA-256. */
export function modelProviderKey(modelName: string): string {
  return createHash('sha256').update(`nines-model:${modelName}`).digest('hex').slice(0, 40);
}

export interface ComputeRoleParts {
  model: LoadedModel;
  transport: Transport;
  dht: DhtShell;
  logger: Logger;
  engine?: ComputeEngineOptions;
  republishMs?: number;
}

export class ComputeRole {
  readonly engine: ComputeEngine;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly parts: ComputeRoleParts) {
    this.engine = new ComputeEngine(parts.model, parts.engine);
    parts.transport.handle(computeGenerateMethod, (body) => this.serve(body));
    this.timer = setInterval(() => void this.announce(), parts.republishMs ?? providerRepublishMsDefault);
    this.timer.unref();
  }

  get modelName(): string {
    return this.parts.model.name;
  }

  /** Publishes the provider record now (also done periodically); resolves with whether any peer stored it. */
  async announce(): Promise<boolean> {
    try {
      const result = await this.parts.dht.provide(modelProviderKey(this.modelName));
      return result.ok;
    } catch (error) {
      this.parts.logger.warn({ error: (error as Error).message }, 'could not publish the model provider record');
      return false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.engine.close();
  }

  private async serve(body: unknown): Promise<ChunkResponse> {
    const problem = chunkRequestProblem(body);
    if (problem !== undefined) throw new RpcHandlerError('COMPUTE_REQUEST_INVALID', problem);
    try {
      return await this.engine.chunk(body as ChunkRequest);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new RpcHandlerError(typeof code === 'string' ? code : 'COMPUTE_FAILED', error instanceof Error ? error.message : String(error));
    }
  }
}
