/**
 * `nines chaos` from the TypeScript sources, for the end-to-end test: the same registerChaos
 * that src/cli/main.ts wires in, on a program of its own, so the test does not depend on the
 * build of the CLI's entry point (the peers themselves still run dist/, so build first).
 */
import { Command, CommanderError } from 'commander';
import { registerChaos } from '../../src/cli/chaos.js';

const program = new Command().name('nines').exitOverride();
registerChaos(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode;
}
