/**
 * GGUF: the single-file model format of llama.cpp, read and written by nines.
 *
 * This face is pure. The file shell (`openGguf`, `writeGgufFile`) lives in `gguf-file.ts`
 * and is imported from there by the shells that load and save models, so that pure code
 * importing this folder never pulls in the file system.
 *
 * The header reader accepts every tensor type in `ggmlBlockLayout`; which of them can be
 * converted or computed with is up to src/model/quant and src/model/kernels.
 */
export * from './types.js';
export * from './constants.js';
export { GgufFormatError, GgufEncodeError } from './errors.js';
export { byteSourceFromBytes, type ByteSource } from './byte-source.js';
export { parseGgufHeader, type GgufHeader } from './header-decode.js';
export {
  encodeGgufHeader,
  encodeGgufToBytes,
  type EncodedGgufHeader,
  type GgufContent,
  type GgufTensorDescription,
  type GgufTensorToWrite,
} from './header-encode.js';
export { alignUp, ggmlTypeFromCode, tensorByteLength, tensorElementCount, tensorShapeProblem } from './tensor-layout.js';
export {
  metadataBoolean,
  metadataNumber,
  metadataNumberArray,
  metadataOptionalBoolean,
  metadataOptionalNumber,
  metadataOptionalString,
  metadataString,
  metadataStringArray,
} from './metadata.js';
export type { GgufFile } from './gguf-file.js';
