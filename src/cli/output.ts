/**
 * Output conventions shared by all subcommands: `--json` prints exactly one JSON document on stdout
 * (for scripts); human text and progress go to stderr in that mode so stdout stays parseable.
 * Progress is a bar on a terminal and a plain line every few seconds otherwise (CI logs, files).
 */
import cliProgress from 'cli-progress';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Progress {
  update(done: number, info?: string): void;
  stop(): void;
}

/** A progress display for `total` units of work labelled `label`. */
export function createProgress(label: string, total: number, intervalMs = 3000): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    return { update: (done, info = '') => bar.update(done, { info }), stop: () => bar.stop() };
  }
  const started = Date.now();
  let last = 0;
  return {
    update(done, info = '') {
      const now = Date.now();
      if (now - last < intervalMs && done < total) return;
      last = now;
      const pct = ((100 * done) / total).toFixed(1);
      const elapsed = ((now - started) / 1000).toFixed(1);
      process.stderr.write(`${label}: ${done}/${total} (${pct}%) after ${elapsed}s ${info}\n`);
    },
    stop() {},
  };
}
