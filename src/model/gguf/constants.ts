/**
 * Fixed facts of the GGUF format and the limits nines puts on what it will read.
 *
 * Every count, length and size read from a file is checked against one of these limits
 * before anything is allocated for it, so a corrupt or hostile file gets a clear error
 * instead of an out-of-memory crash or a hang. The limits sit far above what real models
 * need (a 150k-token vocabulary, a few thousand tensors, a chat template of some kilobytes).
 */

/** The first four bytes of every GGUF file: 'GGUF' in ASCII. */
export const ggufMagicBytes: readonly number[] = [0x47, 0x47, 0x55, 0x46];

/** The version nines writes. */
export const ggufVersionWritten = 3;

/**
 * The versions nines reads. Version 2 differs from version 3 only in that version 3 allowed
 * big-endian files (which nines refuses); version 1 used 32-bit counts and lengths and is refused.
 */
export const ggufVersionsRead: readonly number[] = [2, 3];

/** Alignment of the data section and of every tensor in it when `general.alignment` is absent. */
export const alignmentBytesDefault = 32;

/**
 * The largest alignment accepted. The format allows any power of two that fits a uint32, but an
 * alignment of gigabytes would only pad files with zeros; a megabyte covers every page size.
 */
export const alignmentBytesMax = 1 << 20;

/** The metadata key that sets the alignment (a uint32). */
export const alignmentKey = 'general.alignment';

/** Bytes in any one string (key, value or array item). Chat templates run to tens of kilobytes. */
export const stringBytesMax = 16 * 1024 * 1024;

/** Bytes in a metadata key; the GGUF spec caps keys at 2^16 - 1 bytes. */
export const keyBytesMax = 65_535;

/**
 * Bytes in a tensor name. ggml keeps names in a 64-byte buffer with a terminating NUL
 * (GGML_MAX_NAME), so llama.cpp refuses longer names; nines refuses them too, when reading
 * and when writing, so that every file nines writes also loads in llama.cpp.
 */
export const tensorNameBytesMax = 63;

/** Items in one metadata array (a vocabulary, its merges, its scores). */
export const arrayItemsMax = 16 * 1024 * 1024;

/** Depth of arrays nested in arrays. The format allows nesting; nothing real goes deeper than 2. */
export const arrayNestingDepthMax = 8;

/** Tensors in one file. Large models hold a few thousand. */
export const tensorCountMax = 65_536;

/** Metadata key-value pairs in one file. */
export const metadataCountMax = 65_536;

/** Dimensions of a tensor (GGML_MAX_DIMS). */
export const tensorDimsMax = 4;

/**
 * Bytes of header (everything before the data section). Large vocabularies make headers of
 * some tens of megabytes; the cap bounds the time and memory a hostile header can cost.
 */
export const headerBytesMax = 256 * 1024 * 1024;

/** Bytes read from the source at a time while parsing the header. */
export const headerReadChunkBytes = 256 * 1024;
