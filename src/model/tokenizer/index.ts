/**
 * The byte-level BPE tokenizer of the GPT-2 family: text to token ids and back, training a
 * vocabulary from a corpus, and the tokenizer's GGUF metadata. The GPT-2 file loader is
 * separate (gpt2-file.ts) because it reads files.
 */
export { BpeTokenizer, type EncodeOptions } from './bpe-tokenizer.js';
export { StreamingDecoder } from './streaming-decoder.js';
export { trainBpe, specialTokenCountMax, type TrainBpeOptions } from './train.js';
export { tokenizerToGgufMetadata, tokenizerFromGgufMetadata, tokenizerGgufKeys } from './gguf-metadata.js';
export { TokenizerFormatError, TokenizerOptionsError, TokenIdError } from './errors.js';
export { endOfTextToken, tokenTypeCodes, tokenCountMax } from './constants.js';
export { byteToCharacter, bytesToTokenString, tokenStringToBytes } from './byte-unicode.js';
export type { TokenizerVocabulary, VocabularyKeys, VocabularyOrigin } from './vocabulary.js';
