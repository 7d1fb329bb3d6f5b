/**
 * GPT-2's pre-tokenizer: the regular expression that cuts text into words before BPE, so
 * that merges never cross a word, number or punctuation boundary. In order of preference:
 * the English contractions 's 't 're 've 'm 'll 'd; letters with an optional leading space;
 * digits with an optional leading space; other symbols with an optional leading space;
 * whitespace not followed by a non-space (so that "a   b" leaves the last space to join "b");
 * and any other whitespace. This is tiktoken's gpt2 pattern and llama.cpp's "gpt-2" one.
 */
export const gpt2PreTokenizerSource = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * A fresh global, Unicode-aware instance. Every alternative together matches any code point
 * (a lone surrogate falls under "other symbols"), so the matches tile the text without gaps.
 */
export function gpt2PreTokenizerPattern(): RegExp {
  return new RegExp(gpt2PreTokenizerSource, 'gu');
}

const sharedPattern = gpt2PreTokenizerPattern();

/** The pre-tokens of `text`, in order; their concatenation is `text`. */
export function preTokenize(text: string): string[] {
  return text.match(sharedPattern) ?? [];
}

/** Escapes text for use as a literal inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
