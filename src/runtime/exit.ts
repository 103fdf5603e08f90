/**
 * Process lifetime. Dawn keeps Node alive while a GPU instance is reachable (crbug 387965810) and
 * `delete navigator.gpu` segfaults, so every entry point ends through `exitProcess`.
 */
export function exitProcess(code: number): never {
  // stdout/stderr to files, pipes and terminals are synchronous on Linux: nothing is lost here.
  process.exit(code);
}

/** Errors that are the user's to fix (bad input) or a reported outcome (a blow-up): message only. */
const EXPECTED_ERRORS: Record<string, number> = {
  UsageError: 2,
  DeviceUnavailableError: 2,
  InvalidConfigError: 2,
  CheckpointError: 2,
  ModelConfigError: 2,
  InvalidRequestError: 2,
  SequenceTooLongError: 2,
  BlowUpError: 3,
};

/** Runs `main`, prints a clean error for expected failures, and exits (see header). */
export async function runToExit(main: () => Promise<number | undefined>): Promise<never> {
  process.once('SIGINT', () => exitProcess(130));
  try {
    return exitProcess((await main()) ?? 0);
  } catch (error) {
    const err = error as Error;
    const code = EXPECTED_ERRORS[err.name];
    console.error(`driftflow: ${code ? err.message : (err.stack ?? String(err))}`);
    return exitProcess(code ?? 1);
  }
}
