/**
 * `--config <file.json>`: a peer's settings in a file instead of (or besides) flags. The file
 * is one JSON object whose keys are the command's long flags without their dashes, with the
 * values a user would type: `{ "data-dir": "a", "storage": true, "voters": ["127.0.0.1:4000#…"],
 * "compute": true, "gateway": true, "api": "127.0.0.1:8080" }`. A repeatable flag takes a list.
 * Flags given on the command line win over the file; every value goes through the same parsing
 * and checks as the flag itself, and an unknown key is refused with the list of known ones.
 * Roles follow the flags' rule: a file that names none ("storage", "compute", "gateway",
 * "role": "tracker") runs them all, and `"dht-only": true` runs a bare DHT peer.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command, type Option } from 'commander';

/** A config file larger than this is not a peer's settings. */
export const configFileBytesMax = 64 * 1024;

export function applyConfigFile(command: Command, path: string): void {
  const settings = readSettings(path);
  for (const [name, value] of Object.entries(settings)) {
    const option = command.options.find((candidate) => candidate.long === `--${name}`);
    if (option === undefined || name === 'config') {
      const known = command.options.map((candidate) => candidate.long?.slice(2)).filter((long) => long !== undefined && long !== 'config' && long !== 'help');
      throw new InvalidArgumentError(`${path}: unknown setting "${name}"; the settings are nines ${command.name()}'s long flags without dashes: ${known.join(', ')}`);
    }
    const key = option.attributeName();
    // The command line wins over the file.
    if (command.getOptionValueSource(key) === 'cli') continue;
    command.setOptionValueWithSource(key, parsedValue(option, value, path, name), 'config');
  }
}

function readSettings(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`--config ${path} cannot be read: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(text) > configFileBytesMax) throw new InvalidArgumentError(`--config ${path} is over ${configFileBytesMax} bytes; a peer's settings are far smaller`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`--config ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`--config ${path} must hold one JSON object of settings, e.g. { "data-dir": "a", "storage": true }`);
  return parsed as Record<string, unknown>;
}

function parsedValue(option: Option, value: unknown, path: string, name: string): unknown {
  const takesValue = option.required || option.optional;
  if (!takesValue) {
    if (typeof value !== 'boolean') throw new InvalidArgumentError(`${path}: "${name}" is a switch: true or false, not ${JSON.stringify(value)}`);
    return value;
  }
  if (value === true && option.optional) return true;
  const values = Array.isArray(value) ? value : [value];
  let parsed: unknown = option.defaultValue;
  let first = true;
  for (const item of values) {
    if (typeof item !== 'string' && typeof item !== 'number') throw new InvalidArgumentError(`${path}: "${name}" takes text or a number${Array.isArray(value) ? ' in each list item' : ''}, not ${JSON.stringify(item)}`);
    const text = String(item);
    if (option.argChoices !== undefined && !option.argChoices.includes(text)) throw new InvalidArgumentError(`${path}: "${name}" must be one of ${option.argChoices.join(', ')}, not "${text}"`);
    try {
      // A repeatable flag's parser collects into its previous value; the first item starts afresh.
      parsed = option.parseArg === undefined ? text : option.parseArg(text, first ? undefined : parsed);
    } catch (error) {
      throw new InvalidArgumentError(`${path}: "${name}": ${(error as Error).message}`);
    }
    first = false;
  }
  return parsed;
}
