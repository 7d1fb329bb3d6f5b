/**
 * The tokenizer's error classes, each with a stable `code` that callers (the CLI, the HTTP
 * API) can map to a message or a status without parsing text.
 */

/**
 * A tokenizer description (a GGUF file's metadata, a vocabulary object, the GPT-2 files)
 * that cannot be used. It names where the description came from and which key is wrong,
 * so that a user can find the fault in their file.
 */
export class TokenizerFormatError extends Error {
  override name = 'TokenizerFormatError';
  readonly code = 'TOKENIZER_FORMAT';
  readonly source: string;
  readonly key: string;
  readonly problem: string;

  constructor(source: string, key: string, problem: string) {
    super(`${source}: ${key}: ${problem}`);
    this.source = source;
    this.key = key;
    this.problem = problem;
  }
}

/** Options that cannot be honoured (trainBpe's vocabSize, encode's allowedSpecial). */
export class TokenizerOptionsError extends Error {
  override name = 'TokenizerOptionsError';
  readonly code = 'TOKENIZER_OPTIONS';
  readonly option: string;

  constructor(option: string, problem: string) {
    super(`${option}: ${problem}`);
    this.option = option;
  }
}

/** A token id that is not in the vocabulary (for example a model whose output is wider than its tokenizer). */
export class TokenIdError extends Error {
  override name = 'TokenIdError';
  readonly code = 'TOKENIZER_TOKEN_ID';
  readonly tokenId: number;

  constructor(tokenId: number, vocabSize: number) {
    super(`token id ${String(tokenId)} is not in the vocabulary (ids run from 0 to ${vocabSize - 1})`);
    this.tokenId = tokenId;
  }
}
