/**
 * Programmer errors crash; operating errors are typed and handled (STYLE.md, TigerBeetle).
 * `assert` is for the first kind only: a relationship that must hold if the code is right.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}
