/**
 * `driftflow start` (what `npm start` runs): a first look at this machine. It opens the default
 * device, prints what was chosen and why, and measures its streaming memory bandwidth (and, on a
 * GPU, host<->GPU copy rates): the roofline every solver step is later judged against. The solver
 * pipeline replaces this once the HW solver lands.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { measureCopies, measureStream } from '../../runtime/bandwidth.ts';
import { openDevice } from '../../runtime/device.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt } from '../options.ts';
import { printJson } from '../output.ts';
import { deviceSummary, formatDevice } from './info.ts';

const StartOptions = z.object({
  device: deviceOption,
  json: jsonFlag,
  sizeMib: positiveInt.default(16),
});

export function register(program: Command): void {
  program
    .command('start')
    .description('show the device and measure its memory bandwidth (the `npm start` job)')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--size-mib <n>', 'buffer size for the bandwidth test', '16')
    .option('--json', 'print JSON')
    .action(async (raw) => {
      const options = parseOptions(StartOptions, raw);
      const device = await openDevice({ prefer: options.device as never });
      const log = options.json ? console.error : console.log;
      if (!options.json) log(formatDevice(device));
      log(`\nmeasuring streaming bandwidth with ${options.sizeMib} MiB buffers ...`);
      const stream = await measureStream(device, options.sizeMib << 20, 10);
      log(
        `stream: ${stream.gbps.toFixed(1)} GB/s (median of ${stream.repeats}, ${stream.timing}, result ${stream.verified ? 'verified' : 'WRONG'})`,
      );
      const copies =
        device.kind === 'webgpu' ? await measureCopies(device.gpu, options.sizeMib << 20, 5) : null;
      if (copies) {
        log(
          `host->GPU: writeBuffer ${copies.writeBufferGbps.toFixed(2)} GB/s, mapped buffer + copy ${copies.mappedCopyGbps.toFixed(2)} GB/s; GPU->host ${copies.readbackGbps.toFixed(2)} GB/s`,
        );
      }
      if (options.json) printJson({ device: deviceSummary(device), stream, copies });
      if (!stream.verified || (copies && !copies.verified))
        throw new Error('bandwidth kernels produced wrong results');
    });
}
