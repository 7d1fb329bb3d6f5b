#!/usr/bin/env node
/**
 * `nines`: one command, one file per subcommand (src/cli/<name>.ts). This file only
 * wires them together and turns the errors a user can cause into a message and a
 * non-zero exit, never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { registerGenerate } from './generate.js';
import { registerTokenize } from './tokenize.js';
import { registerModel } from './model.js';
import { registerTrain } from './train.js';
import { registerCluster } from './cluster.js';
import { registerStart } from './start.js';
import { registerNode } from './node.js';
import { registerTracker } from './tracker.js';
import { registerPeers } from './peers.js';
import { registerChat } from './chat.js';
import { registerLog } from './log.js';
import { registerClusterStatus, registerKv } from './kv.js';
import { describeError } from './errors.js';

const program = new Command();
program
  .name('nines')
  .description('A peer-to-peer, highly available language-model service.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerStart(program);
registerChat(program);
registerGenerate(program);
registerTokenize(program);
registerModel(program);
registerTrain(program);
registerClusterStatus(registerCluster(program));
registerKv(program);
registerLog(program);
registerNode(program);
registerTracker(program);
registerPeers(program);

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
