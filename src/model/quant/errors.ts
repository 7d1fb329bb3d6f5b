/** Errors of the tensor formats: each names what was asked for and what to do instead. */
import type { GgmlType } from '../gguf/types.js';

/** A tensor type nines can describe (its block layout is known) but cannot yet convert to or from numbers. */
export class UnsupportedTensorTypeError extends Error {
  override name = 'UnsupportedTensorTypeError';
  readonly code = 'GGML_TYPE_UNSUPPORTED';

  constructor(
    readonly type: GgmlType,
    readonly operation: string,
    supported: readonly GgmlType[],
  ) {
    super(`${operation}: tensor type ${type} is not supported yet; nines handles ${supported.join(', ')} (re-quantize the model to one of those)`);
  }
}

/** Values or bytes that cannot be converted as asked (wrong length, a value the format cannot hold). */
export class QuantizeInputError extends Error {
  override name = 'QuantizeInputError';
  readonly code = 'QUANTIZE_INPUT';
}

/** A quantization request that cannot be carried out: an unknown mix, a missing input, an output that would overwrite the input. */
export class QuantizeRequestError extends Error {
  override name = 'QuantizeRequestError';
  readonly code = 'QUANTIZE_REQUEST';
}
