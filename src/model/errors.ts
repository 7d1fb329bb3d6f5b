/**
 * The errors that inference raises on purpose. Each carries a stable `code` (the API
 * layer maps codes to HTTP statuses in one place) and a message written for the person
 * who has to fix the cause: what is wrong, where, and what to do.
 */

/** A model file or tensor set that nines cannot run: bad metadata, missing or mis-shaped tensors. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
  readonly code = 'MODEL_FORMAT';

  /**
   * @param source where the model came from (a file path, or a description for in-memory models)
   * @param key the metadata key or tensor name at fault
   * @param problem what is wrong with it, and what to do
   */
  constructor(
    readonly source: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${source}: ${key}: ${problem}`);
  }
}

/** A prompt (or a position) that does not fit the context window. */
export class ContextLengthError extends Error {
  override name = 'ContextLengthError';
  readonly code = 'CONTEXT_LENGTH';

  constructor(
    readonly tokenCount: number,
    readonly contextLength: number,
    message: string,
  ) {
    super(message);
  }
}

/** A token id outside the vocabulary. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
  readonly code = 'INVALID_TOKEN';

  constructor(
    readonly token: number,
    readonly vocabSize: number,
    where: string,
  ) {
    super(`${where}: token ${token} is not in the vocabulary (valid ids are integers 0 to ${vocabSize - 1})`);
  }
}

/** A forward pass asked for a position whose predecessors are not in the KV cache. */
export class PositionError extends Error {
  override name = 'PositionError';
  readonly code = 'INVALID_POSITION';
}

/** Sampler settings out of range. */
export class SamplerSettingsError extends Error {
  override name = 'SamplerSettingsError';
  readonly code = 'SAMPLER_SETTINGS';

  constructor(
    readonly setting: string,
    readonly problem: string,
  ) {
    super(`sampler setting ${setting}: ${problem}`);
  }
}

/** A generation request that cannot be carried out as asked (bad limits, inconsistent resume data). */
export class GenerationRequestError extends Error {
  override name = 'GenerationRequestError';
  readonly code = 'GENERATION_REQUEST';

  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`generation request ${field}: ${problem}`);
  }
}

/** A call on an inference session (or model) after close() released its buffers and threads. */
export class SessionClosedError extends Error {
  override name = 'SessionClosedError';
  readonly code = 'SESSION_CLOSED';

  constructor(readonly caller: string) {
    super(`${caller}: the session was closed; start a new one`);
  }
}

/** A kernel worker thread died or failed; the model cannot compute on that pool any more. */
export class ComputeWorkerError extends Error {
  override name = 'ComputeWorkerError';
  readonly code = 'COMPUTE_WORKER';
}

/** The kernels asked for (`--kernels wasm`) cannot run this model or on this runtime. */
export class KernelChoiceError extends Error {
  override name = 'KernelChoiceError';
  readonly code = 'KERNEL_CHOICE';
}

/** A chat template that cannot be used, or a conversation it cannot render. */
export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
  readonly code = 'CHAT_TEMPLATE';

  constructor(
    readonly subject: string,
    readonly problem: string,
  ) {
    super(`${subject}: ${problem}`);
  }
}
