/**
 * The interactive loop that `nines start` and `nines chat` share: read a line, answer it
 * while the user may press Ctrl-C to stop the answer, handle `/commands`, and leave on
 * `/quit`, Ctrl-D, or Ctrl-C at the prompt. Standard input may be a pipe.
 */
import { createInterface } from 'node:readline';
import type { SamplingOptions } from './generate.js';

/** Set when the user pressed Ctrl-C during an answer; the answerer checks it between tokens. */
export interface Interruption {
  cancelled: boolean;
}

export interface ReplHandlers {
  /** Answers one line of input. Errors it throws are printed and the session goes on. */
  answer(text: string, interruption: Interruption): Promise<void>;
  /** Handles a command this REPL adds (e.g. /reset); returns false when it does not know it. */
  command?(name: string, value: string | undefined): boolean;
  helpText: string;
}

export type ReplSettings = SamplingOptions & { seed: number };

export async function runRepl(settings: ReplSettings, handlers: ReplHandlers): Promise<void> {
  const lines = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ', terminal: process.stdin.isTTY === true });
  let answering: Interruption | undefined;
  // With piped input the interface closes at end of input while buffered lines are still
  // being answered; prompting after that is an error on newer Node versions.
  let closed = false;
  lines.on('close', () => {
    closed = true;
  });
  const prompt = () => {
    if (!closed) lines.prompt();
  };
  lines.on('SIGINT', () => {
    if (answering !== undefined) answering.cancelled = true;
    else lines.close();
  });
  prompt();
  for await (const line of lines) {
    const text = line.trimEnd();
    if (text.startsWith('/')) {
      if (!runCommand(text, settings, handlers)) break;
    } else if (text.length > 0) {
      answering = { cancelled: false };
      try {
        await handlers.answer(text, answering);
      } catch (error) {
        // A bad line (say, too long for the context) must not end the session.
        process.stdout.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
      }
      answering = undefined;
    }
    prompt();
  }
  lines.close();
  process.stdout.write('\n');
}

/** Lets the terminal's Ctrl-C reach the loop between tokens; true when the user stopped the answer. */
export async function stoppedByUser(interruption: Interruption): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  return interruption.cancelled;
}

export const sharedCommandsHelp = `  /seed N          set the seed (each answer uses seed, seed+1, ... so every answer can be repeated)
  /temperature T   0 = always the most likely token; higher = more varied
  /max-tokens N    how many tokens to generate per answer
  /help            this text
  /quit            leave (Ctrl-D works too; Ctrl-C stops an answer)
`;

/** Applies a /command; returns false when the user asked to leave. */
function runCommand(text: string, settings: ReplSettings, handlers: ReplHandlers): boolean {
  const [name, value] = text.split(/\s+/, 2);
  const number = Number(value);
  switch (name) {
    case '/quit':
    case '/exit':
      return false;
    case '/help':
      process.stdout.write(handlers.helpText);
      return true;
    case '/seed':
      if (!Number.isSafeInteger(number) || number < 0) process.stdout.write('/seed takes a non-negative integer, e.g. /seed 42\n');
      else settings.seed = number;
      return true;
    case '/temperature':
      if (!Number.isFinite(number) || number < 0 || number > 100) process.stdout.write('/temperature takes a number from 0 to 100, e.g. /temperature 0.7\n');
      else settings.temperature = number;
      return true;
    case '/max-tokens':
      if (!Number.isSafeInteger(number) || number < 1 || number > 100_000) process.stdout.write('/max-tokens takes an integer from 1 to 100000, e.g. /max-tokens 50\n');
      else settings.maxTokens = number;
      return true;
    default:
      if (handlers.command?.(name, value) !== true) process.stdout.write(`unknown command ${name}; /help lists them\n`);
      return true;
  }
}
