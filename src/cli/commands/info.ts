/**
 * `driftflow info`: which device driftflow would use here, and why; the adapter, its features
 * (shader-f16, subgroups, subgroup-matrix) and limits. The first thing to run on a new machine.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { type ComputeDevice, deviceLabel, openDevice } from '../../runtime/device.ts';
import { deviceOption, jsonFlag, parseOptions } from '../options.ts';
import { printJson } from '../output.ts';

const InfoOptions = z.object({
  device: deviceOption,
  json: jsonFlag,
  unsafeApis: z.boolean().default(false),
});

/** Plain-data description of a device (shared by info, start and benchmark JSON). */
export function deviceSummary(device: ComputeDevice): Record<string, unknown> {
  const base = { label: deviceLabel(device), kind: device.kind, trail: device.trail };
  if (device.kind === 'wasm') return { ...base, threads: device.threads };
  return { ...base, adapter: device.adapter, features: device.features, limits: device.limits };
}

const KEY_FEATURES = [
  'shader-f16',
  'subgroups',
  'chromium-experimental-subgroup-matrix',
  'timestamp-query',
];

export function formatDevice(device: ComputeDevice): string {
  const lines = [`device: ${deviceLabel(device)}`];
  if (device.kind === 'webgpu') {
    const a = device.adapter;
    lines.push(`adapter: vendor=${a.vendor} architecture=${a.architecture} device=${a.device}`);
    lines.push(
      `  description: ${a.description}; backend ${a.backend}, feature level ${a.featureLevel}`,
    );
    lines.push(
      `key features: ${KEY_FEATURES.map((f) => `${f}=${device.features.includes(f) ? 'yes' : 'no'}`).join(' ')}`,
    );
    lines.push(`all features: ${device.features.join(', ')}`);
    lines.push('limits:');
    for (const [name, value] of Object.entries(device.limits)) lines.push(`  ${name}: ${value}`);
  } else {
    lines.push(`threads: ${device.threads}`);
  }
  if (device.trail.length > 0) lines.push('not chosen:', ...device.trail.map((t) => `  - ${t}`));
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('info')
    .description('show the compute device driftflow picks here, its features and limits')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--unsafe-apis', "enable Dawn's allow_unsafe_apis (shows subgroup-matrix support)")
    .option('--json', 'print JSON')
    .action(async (raw) => {
      const options = parseOptions(InfoOptions, raw);
      const device = await openDevice({
        prefer: options.device as never,
        unsafeApis: options.unsafeApis,
      });
      if (options.json) printJson(deviceSummary(device));
      else console.log(formatDevice(device));
    });
}
