/**
 * The two ways GGUF handling goes wrong: a file that is not a valid GGUF (reading), and
 * content that cannot be written as one (writing). Both say where, what field and what is
 * wrong, so that the message alone tells a user which file to fix and how.
 */

/** A file (or byte source) that is not a well-formed GGUF nines can read. */
export class GgufFormatError extends Error {
  override name = 'GgufFormatError';
  readonly code = 'GGUF_FORMAT';

  /**
   * @param file the file path or other name of the source, as the user knows it
   * @param field the part of the file that is wrong, e.g. `tensor 'blk.0.attn_q.weight' offset`
   * @param problem what is wrong with it, in a sentence fragment
   */
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

/** Content handed to the GGUF writer that it cannot encode (a caller's mistake, caught before any byte is written). */
export class GgufEncodeError extends Error {
  override name = 'GgufEncodeError';
  readonly code = 'GGUF_ENCODE';

  constructor(
    readonly destination: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${destination}: ${field}: ${problem}`);
  }
}
