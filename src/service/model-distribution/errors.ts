/** Errors of model distribution, each with a stable `code`. */

export abstract class ModelDistributionError extends Error {
  abstract readonly code: string;
}

/** A manifest (received from a peer, or read from disk) that is malformed; the message says which field and why. */
export class ManifestInvalidError extends ModelDistributionError {
  override name = 'ManifestInvalidError';
  readonly code = 'MODEL_MANIFEST_INVALID';
}

/** A model name that cannot be used as a name and a file name; the message says what is allowed. */
export class ModelNameInvalidError extends ModelDistributionError {
  override name = 'ModelNameInvalidError';
  readonly code = 'MODEL_NAME_INVALID';
}

/** No peer in the DHT provides the model (or none answered with a usable manifest) within the wait. */
export class ModelProvidersNotFoundError extends ModelDistributionError {
  override name = 'ModelProvidersNotFoundError';
  readonly code = 'MODEL_PROVIDERS_NOT_FOUND';
}

/** A download that cannot finish: every provider failed or sent bad chunks, or nothing arrived for too long. */
export class ModelFetchFailedError extends ModelDistributionError {
  override name = 'ModelFetchFailedError';
  readonly code = 'MODEL_FETCH_FAILED';
}

/** A model file to seed that cannot be read or is too large to describe in a manifest. */
export class ModelFileError extends ModelDistributionError {
  override name = 'ModelFileError';
  readonly code = 'MODEL_FILE_INVALID';
}
