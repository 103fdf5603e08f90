/**
 * The `driftflow` command line. Subcommands register themselves from their modules (see
 * commands/index.ts); this file only builds the program and owns process exit (Dawn keeps Node
 * alive, see runtime/exit.ts).
 */
import { Command, CommanderError } from 'commander';
import { runToExit } from '../runtime/exit.ts';
import { COMMAND_MODULES } from './commands/index.ts';
import { UsageError } from './options.ts';

export function buildProgram(): Command {
  const program = new Command('driftflow')
    .description(
      'GPU turbulence solvers, learned closures, flow matching and MoE offloading on WebGPU',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMAND_MODULES) register(program);
  return program;
}

await runToExit(async () => {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      throw new UsageError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  return 0;
});
