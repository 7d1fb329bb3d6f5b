/**
 * The flags every simulator command shares: which seeds to run, and how much to print.
 *
 *   --seeds N (how many)  --start-seed S (the first)  --verbose
 *
 * A command adds its own string flags through `extra`; they come back as given.
 */
import { parseArgs } from 'node:util';

export interface SeedRange {
  seeds: number;
  startSeed: number;
  verbose: boolean;
  extra: Record<string, string | undefined>;
}

export function parseSeedRange(argv: readonly string[], extra: Record<string, string> = {}): SeedRange {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seeds: { type: 'string', default: '1000' },
      'start-seed': { type: 'string', default: '1' },
      verbose: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.entries(extra).map(([name, fallback]) => [name, { type: 'string' as const, default: fallback }])),
    },
    strict: true,
  });
  const integer = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
    return value;
  };
  const given = values as Record<string, string | boolean | undefined>;
  return {
    seeds: integer('seeds', given.seeds as string, 1),
    startSeed: integer('start-seed', given['start-seed'] as string, 0),
    verbose: given.verbose === true,
    extra: Object.fromEntries(Object.keys(extra).map((name) => [name, given[name] as string | undefined])),
  };
}
