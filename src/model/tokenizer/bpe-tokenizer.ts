/**
 * The byte-level BPE tokenizer of the GPT-2 family.
 *
 * Encoding: split text at allowed special tokens; cut each stretch into pre-tokens with
 * GPT-2's regular expression; turn each pre-token into its UTF-8 bytes, one byte token
 * each; apply the ranked merges (merge.ts). A cache from pre-token to ids makes repeated
 * words cost one Map lookup, which is most of the text in any language.
 * Decoding: concatenate the tokens' bytes and read them as UTF-8.
 */
import { cachedPieceCharactersMax, pieceCacheEntriesMax, scanMergeBytesMax } from './constants.js';
import { TokenIdError, TokenizerOptionsError } from './errors.js';
import { MergeWorkspace, mergeByHeap, mergeByScan, type MergeRules } from './merge.js';
import { escapeRegExp, gpt2PreTokenizerPattern } from './pre-tokenizer.js';
import { splitUtf8Runs, writeUtf8 } from './utf8.js';
import { compileVocabulary, type CompiledVocabulary, type TokenizerVocabulary, type VocabularyOrigin } from './vocabulary.js';

export interface EncodeOptions {
  /**
   * Which special tokens to recognise in the text: 'all', or a set of their strings.
   * Special tokens that are not allowed are encoded as the plain text they spell, so
   * that user text cannot smuggle in an end-of-text marker (tiktoken's rule).
   */
  allowedSpecial?: 'all' | ReadonlySet<string>;
}

/** Reads UTF-8 as the Encoding Standard does (U+FFFD per bad sequence), keeping a leading BOM as text. */
function utf8Decoder(): InstanceType<typeof TextDecoder> {
  return new TextDecoder('utf-8', { ignoreBOM: true });
}

export class BpeTokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;

  private readonly compiled: CompiledVocabulary;
  private readonly tokenByteList: Uint8Array[];
  private readonly byteTokenIds: Int32Array;
  private readonly rules: MergeRules;
  private readonly specialTokenIds: Map<string, number>;
  private readonly allSpecialPattern: RegExp | undefined;
  private readonly preTokenPattern = gpt2PreTokenizerPattern();
  private readonly decoder = utf8Decoder();
  /** Pre-token text to its ids (a single id stored bare, to save an array per common word). */
  private readonly pieceCache = new Map<string, number | number[]>();
  private readonly workspace = new MergeWorkspace();
  private pieceBytes = new Uint8Array(256);
  private pieceIds = new Int32Array(256);

  private constructor(compiled: CompiledVocabulary) {
    this.compiled = compiled;
    this.tokenByteList = compiled.tokenBytes;
    this.byteTokenIds = compiled.byteTokenIds;
    this.rules = compiled.rules;
    this.specialTokenIds = compiled.specialTokenIds;
    this.vocabSize = compiled.tokenBytes.length;
    this.bosTokenId = compiled.vocabulary.bosTokenId;
    this.eosTokenId = compiled.vocabulary.eosTokenId;
    this.allSpecialPattern = BpeTokenizer.specialPattern([...compiled.specialTokenIds.keys()]);
  }

  /**
   * Checks and compiles a vocabulary. `origin` names the source and its keys for error
   * messages (tokenizerFromGgufMetadata passes the file and the GGUF keys).
   */
  static fromVocabulary(vocabulary: TokenizerVocabulary, origin?: VocabularyOrigin): BpeTokenizer {
    return new BpeTokenizer(compileVocabulary(vocabulary, origin));
  }

  /** A regular expression matching any of `tokens`, longest first so that a longer special wins over its prefix. */
  private static specialPattern(tokens: string[]): RegExp | undefined {
    if (tokens.length === 0) return undefined;
    const sorted = tokens.slice().sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }

  private allowedSpecialPattern(allowed: EncodeOptions['allowedSpecial']): RegExp | undefined {
    if (allowed === undefined) return undefined;
    if (allowed === 'all') return this.allSpecialPattern;
    for (const token of allowed) {
      if (!this.specialTokenIds.has(token)) {
        throw new TokenizerOptionsError('allowedSpecial', `${JSON.stringify(token)} is not a special token of this tokenizer (its special tokens are ${JSON.stringify([...this.specialTokenIds.keys()])})`);
      }
    }
    return BpeTokenizer.specialPattern([...allowed]);
  }

  /** The token ids of `text`. Lone surrogates, which UTF-8 cannot carry, are encoded as U+FFFD (as TextEncoder does). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const output: number[] = [];
    const special = this.allowedSpecialPattern(options.allowedSpecial);
    if (special === undefined) {
      this.encodeOrdinary(text, output);
      return output;
    }
    let start = 0;
    special.lastIndex = 0;
    for (let match = special.exec(text); match !== null; match = special.exec(text)) {
      this.encodeOrdinary(text.slice(start, match.index), output);
      output.push(this.specialTokenIds.get(match[0])!);
      start = match.index + match[0].length;
    }
    this.encodeOrdinary(text.slice(start), output);
    return output;
  }

  /**
   * The token ids of any bytes. Well-formed UTF-8 runs are encoded like text (so valid
   * UTF-8 gives exactly encode's ids); each byte that begins no well-formed sequence is
   * its own piece, the token of that single byte. Special tokens are never recognised.
   */
  encodeBytes(bytes: Uint8Array): number[] {
    const output: number[] = [];
    for (const run of splitUtf8Runs(bytes)) {
      if (run.valid) this.encodeOrdinary(this.decoder.decode(bytes.subarray(run.start, run.end)), output);
      else output.push(this.byteTokenIds[bytes[run.start]]);
    }
    return output;
  }

  private encodeOrdinary(text: string, output: number[]): void {
    if (text.length === 0) return;
    const pieces = text.match(this.preTokenPattern);
    if (pieces === null) return;
    const cache = this.pieceCache;
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index];
      let ids = cache.get(piece);
      if (ids === undefined) {
        ids = this.mergePiece(piece);
        if (piece.length <= cachedPieceCharactersMax) {
          if (cache.size >= pieceCacheEntriesMax) cache.clear();
          cache.set(piece, ids);
        }
      }
      if (typeof ids === 'number') output.push(ids);
      else for (let at = 0; at < ids.length; at++) output.push(ids[at]);
    }
  }

  /** BPE on one pre-token: its bytes become byte tokens, then the merges apply. */
  private mergePiece(piece: string): number | number[] {
    if (this.pieceBytes.length < piece.length * 3) {
      this.pieceBytes = new Uint8Array(piece.length * 3);
      this.pieceIds = new Int32Array(piece.length * 3);
    }
    const bytes = this.pieceBytes;
    const ids = this.pieceIds;
    const byteCount = writeUtf8(piece, bytes);
    for (let index = 0; index < byteCount; index++) ids[index] = this.byteTokenIds[bytes[index]];
    const merge = byteCount <= scanMergeBytesMax ? mergeByScan : mergeByHeap;
    const length = merge(ids, byteCount, this.rules, this.workspace);
    return length === 1 ? ids[0] : Array.from(ids.subarray(0, length));
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new TokenIdError(id, this.vocabSize);
  }

  /** The bytes the tokens stand for, concatenated. */
  decodeBytes(ids: readonly number[]): Uint8Array {
    let length = 0;
    for (const id of ids) {
      this.checkId(id);
      length += this.tokenByteList[id].length;
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const id of ids) {
      const tokenBytes = this.tokenByteList[id];
      bytes.set(tokenBytes, offset);
      offset += tokenBytes.length;
    }
    return bytes;
  }

  /** The text of the tokens: their bytes read as UTF-8, with U+FFFD for each invalid sequence. */
  decode(ids: readonly number[]): string {
    return this.decoder.decode(this.decodeBytes(ids));
  }

  /** A copy of the bytes one token stands for. */
  tokenBytes(id: number): Uint8Array {
    this.checkId(id);
    return this.tokenByteList[id].slice();
  }

  /** One token as text, for display: a token that holds part of a character shows U+FFFD. */
  tokenText(id: number): string {
    this.checkId(id);
    return this.decoder.decode(this.tokenByteList[id]);
  }

  /** The portable description (a copy), as GGUF stores it. */
  vocabulary(): TokenizerVocabulary {
    const source = this.compiled.vocabulary;
    const copy: TokenizerVocabulary = { pre: source.pre, tokens: source.tokens.slice(), tokenTypes: source.tokenTypes.slice(), merges: source.merges.slice() };
    if (source.bosTokenId !== undefined) copy.bosTokenId = source.bosTokenId;
    if (source.eosTokenId !== undefined) copy.eosTokenId = source.eosTokenId;
    return copy;
  }
}
