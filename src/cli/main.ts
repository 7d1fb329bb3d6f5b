#!/usr/bin/env node
/**
 * `nines`: one command, one file per subcommand (src/cli/<name>.ts). This file only
 * wires them together and turns the errors a user can cause into a message and a
 * non-zero exit, never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from './errors.js';

const program = new Command();
program
  .name('nines')
  .description('A peer-to-peer, highly available language-model service.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/**
 * Each command's module, loaded only when that command runs: the modules pull in the model,
 * TLS certificates, SQLite and the HTTP server, and a peer process should not pay to load
 * what it never uses. `nines --help` (or an unknown command) loads them all, in this order.
 */
const commands: Record<string, () => Promise<void>> = {
  start: async () => (await import('./start.js')).registerStart(program),
  chat: async () => (await import('./chat.js')).registerChat(program),
  generate: async () => (await import('./generate.js')).registerGenerate(program),
  tokenize: async () => (await import('./tokenize.js')).registerTokenize(program),
  model: async () => (await import('./model.js')).registerModel(program),
  train: async () => (await import('./train.js')).registerTrain(program),
  cluster: async () => void (await import('./kv.js')).registerClusterStatus((await import('./cluster.js')).registerCluster(program)),
  kv: async () => (await import('./kv.js')).registerKv(program),
  log: async () => (await import('./log.js')).registerLog(program),
  node: async () => void (await import('./node.js')).registerNode(program),
  tracker: async () => void (await import('./tracker.js')).registerTracker(program),
  peers: async () => void (await import('./peers.js')).registerPeers(program),
  chaos: async () => void (await import('./chaos.js')).registerChaos(program),
  report: async () => void (await import('./report.js')).registerReport(program),
};

const requested = process.argv[2];
if (requested !== undefined && Object.hasOwn(commands, requested)) await commands[requested]();
else for (const register of Object.values(commands)) await register();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (bad flag, missing argument, --help).
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`nines: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
