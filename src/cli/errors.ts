/**
 * How an error reaches a user of the CLI: the errors nines raises on purpose carry a
 * stable `code` and a message written for people, so they are printed as they are;
 * anything else is a bug, printed with its stack so it can be reported.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return error.message;
    if ((error as NodeJS.ErrnoException).syscall !== undefined) return error.message;
    return error.stack ?? error.message;
  }
  return String(error);
}
