/**
 * The compute role of a node: it serves chunks of generation to gateways over the TLS
 * transport (RPC `compute.generate`) and announces itself in the DHT with a provider record
 * for the model, so that gateways find it without any central registry. The record is
 * republished before it expires, and not at all once the role stops.
 *
 * Redundancy (DESIGN.md section 1, "hot-cold, hot-warm, hot-hot"): a compute peer is either a
 * primary, which gateways use whenever one is healthy, or a standby, announced under its own
 * key, which gateways turn to only when no primary answers. A warm standby has the model
 * loaded and takes over at once; a cold standby loads it on the first chunk it is asked for,
 * so its takeover costs the load. hot-hot is every compute peer a primary; hot-warm one
 * primary and warm standbys; hot-cold one primary and cold standbys.
 */
import { createHash } from 'node:crypto';
import type { LoadedModel } from '../../model/load-file.js';
import { RpcHandlerError, type Logger, type Transport } from '../../net/index.js';
import type { DhtShell } from '../../p2p/dht/index.js';
import { ComputeEngine, type ComputeEngineOptions } from './compute-engine.js';
import { chunkRequestProblem, computeGenerateMethod, type ChunkRequest, type ChunkResponse } from './protocol.js';

/** How often the provider record is published again (records live for an hour; this keeps them fresh through churn). */
export const providerRepublishMsDefault = 60_000;

/** While draining, a job counts as still being pulled if its gateway asked for a chunk this recently. */
const drainActiveWithinMs = 2_000;
const drainPollMs = 25;

export class ComputeDrainingError extends Error {
  override name = 'ComputeDrainingError';
  readonly code = 'COMPUTE_DRAINING';
}

/** The warm-up: this many generations of this many tokens. */
const warmUpRounds = 3;
const warmUpTokens = 16;

export const redundancyModes = ['hot-hot', 'hot-warm', 'hot-cold'] as const;
export type RedundancyMode = (typeof redundancyModes)[number];
export type Standby = 'warm' | 'cold';

/** The DHT key under which the primaries serving `modelName` are recorded: 160 bits of SHA-256. */
export function modelProviderKey(modelName: string): string {
  return createHash('sha256').update(`nines-model:${modelName}`).digest('hex').slice(0, 40);
}

/** The DHT key of the model's standbys. */
export function modelStandbyKey(modelName: string): string {
  return createHash('sha256').update(`nines-model-standby:${modelName}`).digest('hex').slice(0, 40);
}

/** What a gateway on the same node needs of its own compute role: chunks without the network. */
export interface LocalCompute {
  readonly modelName: string;
  readonly standby: Standby | undefined;
  chunk(request: ChunkRequest): Promise<ChunkResponse>;
}

export interface ComputeRoleParts {
  modelName: string;
  /** The model, loaded; or, for a cold standby, how to load it when it is first needed. The role owns it from here on. */
  model: LoadedModel | (() => LoadedModel);
  standby?: Standby;
  transport: Transport;
  dht: DhtShell;
  logger: Logger;
  engine?: ComputeEngineOptions;
  republishMs?: number;
}

export class ComputeRole implements LocalCompute {
  private loadedEngine: ComputeEngine | undefined;
  /** The model, once loaded: the role owns it and closes it when it stops. */
  private ownModel: LoadedModel | undefined;
  /** Shutting down: no new jobs (see drain). */
  private draining = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly parts: ComputeRoleParts) {
    if (typeof parts.model !== 'function') {
      this.ownModel = parts.model;
      this.loadedEngine = new ComputeEngine(parts.model, parts.engine);
    }
    parts.transport.handle(computeGenerateMethod, (body) => this.serve(body));
    this.timer = setInterval(() => void this.announce(), parts.republishMs ?? providerRepublishMsDefault);
    this.timer.unref();
  }

  get modelName(): string {
    return this.parts.modelName;
  }

  get standby(): Standby | undefined {
    return this.parts.standby;
  }

  /** The engine, once the model is loaded (a cold standby has none until its first chunk). */
  get engine(): ComputeEngine | undefined {
    return this.loadedEngine;
  }

  /** Publishes the provider record now (also done periodically); resolves with whether any peer stored it. */
  async announce(): Promise<boolean> {
    const key = this.parts.standby === undefined ? modelProviderKey(this.modelName) : modelStandbyKey(this.modelName);
    try {
      return (await this.parts.dht.provide(key)).ok;
    } catch (error) {
      this.parts.logger.warn({ error: (error as Error).message }, 'could not publish the model provider record');
      return false;
    }
  }

  /**
   * Runs one short generation, so that the kernels are compiled and optimised before the first
   * real answer: a peer that takes over mid-answer then continues at full speed (in the swarm
   * benchmark an unwarmed peer added about half a second to the failover stall). A cold
   * standby has nothing to warm until it loads the model.
   */
  async warmUp(): Promise<void> {
    const engine = this.loadedEngine;
    if (engine === undefined) return;
    const started = performance.now();
    const request: ChunkRequest = {
      jobId: `warm-up-${Math.round(started)}`, model: this.modelName, prompt: [0, 1, 2, 3], maxTokens: warmUpTokens,
      sampler: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, repetitionWindow: 0, seed: 0 }, stop: [], traceTopK: 0, chunkTokens: warmUpTokens,
    };
    for (let round = 0; round < warmUpRounds; round++) await engine.chunk({ ...request, jobId: `${request.jobId}-${round}` });
    this.parts.logger.info({ model: this.modelName, warmUpMs: Math.round(performance.now() - started) }, 'compute kernels warmed up');
  }

  async chunk(request: ChunkRequest): Promise<ChunkResponse> {
    if (this.draining && this.loadedEngine?.hasJob(request.jobId) !== true) {
      // The gateway moves the job to another compute peer, with its resume data: the hand-off.
      throw new ComputeDrainingError(`this compute peer is shutting down and takes no new jobs; continue job ${request.jobId} on another peer`);
    }
    return this.ensureEngine().chunk(request);
  }

  /**
   * A clean shutdown (SIGTERM): new jobs are refused at once, so gateways take them elsewhere,
   * while the jobs being pulled here are served until they end or `deadlineMs` passes; any job
   * still unfinished then is handed off by its gateway (the connection closes, and the gateway
   * resumes the job on another peer from the tokens it has).
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    clearInterval(this.timer);
    const engine = this.loadedEngine;
    while (engine !== undefined && engine.activeJobs(drainActiveWithinMs) > 0 && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, drainPollMs));
    }
  }

  async stop(): Promise<void> {
    this.draining = true;
    clearInterval(this.timer);
    await this.loadedEngine?.close();
    await this.ownModel?.close();
  }

  /** A cold standby loads the model now: the takeover's extra cost, logged with its duration. */
  private ensureEngine(): ComputeEngine {
    if (this.loadedEngine !== undefined) return this.loadedEngine;
    const started = performance.now();
    this.ownModel = (this.parts.model as () => LoadedModel)();
    this.loadedEngine = new ComputeEngine(this.ownModel, this.parts.engine);
    this.parts.logger.info({ model: this.modelName, loadMs: Math.round(performance.now() - started) }, 'cold standby loaded the model to take over');
    return this.loadedEngine;
  }

  private async serve(body: unknown): Promise<ChunkResponse> {
    const problem = chunkRequestProblem(body);
    if (problem !== undefined) throw new RpcHandlerError('COMPUTE_REQUEST_INVALID', problem);
    try {
      return await this.chunk(body as ChunkRequest);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new RpcHandlerError(typeof code === 'string' ? code : 'COMPUTE_FAILED', error instanceof Error ? error.message : String(error));
    }
  }
}
