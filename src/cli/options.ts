/**
 * Parsers for command-line option values. Each one refuses a bad value with a message
 * that says what was expected, so `nines` exits non-zero before doing any work.
 */
import { InvalidArgumentError } from 'commander';

export function integerOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const trimmed = value.trim();
    if (!/^-?\d+$/.test(trimmed)) throw new InvalidArgumentError(`${name} must be an integer, got '${value}'.`);
    const parsed = Number(trimmed);
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${value}.`);
    }
    return parsed;
  };
}

export function numberOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const trimmed = value.trim();
    const parsed = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`${name} must be a number, got '${value}'.`);
    if (parsed < min || parsed > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${value}.`);
    return parsed;
  };
}

/** Collects a repeatable option (`--stop a --stop b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
