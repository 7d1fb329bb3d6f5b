import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { applyConfigFile, configFileBytesMax } from '../../src/cli/config-file.js';
import { addNodeOptions, addStorageOptions, settleRoles } from '../../src/cli/node.js';

const directory = mkdtempSync(join(tmpdir(), 'nines-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const voter = `127.0.0.1:4000#${'a'.repeat(40)}`;
const other = `127.0.0.1:4001#${'b'.repeat(40)}`;

function configured(settings: unknown, argv: string[] = []): Record<string, unknown> {
  const path = join(directory, `config-${Math.random()}.json`);
  writeFileSync(path, typeof settings === 'string' ? settings : JSON.stringify(settings));
  const command = addStorageOptions(addNodeOptions(new Command('node'))).exitOverride();
  command.parse(['--config', path, ...argv], { from: 'user' });
  applyConfigFile(command, path);
  return command.opts();
}

describe('--config', () => {
  it('reads flags from the file through their own parsers, with the command line winning', () => {
    const flags = configured({ 'data-dir': 'a', storage: true, voters: [voter, other], compute: true, api: '127.0.0.1:8080', 'election-ticks': 8 }, ['--api', '127.0.0.1:9090']);
    expect(flags).toMatchObject({ dataDir: 'a', storage: true, compute: true, electionTicks: 8, api: { host: '127.0.0.1', port: 9090 } });
    expect((flags.voters as { nodeId: string }[]).map((contact) => contact.nodeId)).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
  });

  it('refuses unknown settings, wrong types, bad values and files that are not settings', () => {
    expect(() => configured({ 'data-dri': 'a' })).toThrow(/unknown setting "data-dri".*data-dir/);
    expect(() => configured({ storage: 'yes' })).toThrow(/switch: true or false/);
    expect(() => configured({ 'election-ticks': 1 })).toThrow(/election-ticks/);
    expect(() => configured({ voters: ['not a contact'] })).toThrow(/voters/);
    expect(() => configured({ 'log-level': 'loud' })).toThrow(/one of debug/);
    expect(() => configured('[1, 2]')).toThrow(/one JSON object/);
    expect(() => configured('{ "data-dir": ')).toThrow(/not JSON/);
    expect(() => configured({ 'data-dir': 'x'.repeat(configFileBytesMax) })).toThrow(/over 65536 bytes/);
  });

  it('follows the flags\' rule for roles: none named runs them all, some named runs exactly those, "dht-only" none', () => {
    const rolesOf = (settings: Record<string, unknown>) => settleRoles({ ...configured(settings), role: 'peer' }, false);
    expect(rolesOf({ 'data-dir': 'a' })).toEqual({ storage: true, compute: true, gateway: true, role: 'tracker', allRolesByDefault: true });
    expect(rolesOf({ 'data-dir': 'a', gateway: true })).toEqual({ storage: false, compute: false, gateway: true, role: 'peer', allRolesByDefault: false });
    expect(rolesOf({ 'data-dir': 'a', 'dht-only': true })).toEqual({ storage: false, compute: false, gateway: false, role: 'peer', allRolesByDefault: false });
    expect(() => rolesOf({ 'data-dir': 'a', 'dht-only': true, storage: true })).toThrow(/--dht-only runs a bare DHT peer.*--storage asks for one/);
  });
});
