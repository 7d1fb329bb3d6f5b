/**
 * `nines tracker`: run a node with the tracker role (hybrid P2P). It is `nines node --role
 * tracker` under a shorter name and takes the same options; peers name it with
 * `--tracker host:port#nodeid`.
 */
import type { Command } from 'commander';
import { addNodeOptions, runNode, settledFlags } from './node.js';

export function registerTracker(program: Command): Command {
  const command = program.command('tracker').description('run a tracker: peers announce themselves to it and ask it for peers (same options as nines node)');
  addNodeOptions(command).action((_flags: Parameters<typeof runNode>[0], self: Command) => runNode({ ...settledFlags<Parameters<typeof runNode>[0]>(self), role: 'tracker' }, self));
  return command;
}
