/**
 * Option validation for every subcommand: commander parses strings, a zod schema checks and
 * converts them, and any problem becomes a `UsageError` naming the flag, what was given and what
 * is accepted (exit code 2, no stack trace).
 */
import { z } from 'zod';
import { DEVICE_PREFERENCES } from '../runtime/device.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function flagName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Parses commander's option object with `schema`; throws UsageError listing every problem. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path[0];
    const given = key === undefined ? undefined : (raw as Record<PropertyKey, unknown>)[key];
    const where = key === undefined ? 'options' : flagName(key);
    const shown = given === undefined ? '' : ` (got ${JSON.stringify(given)})`;
    return `  ${where}: ${issue.message}${shown}`;
  });
  throw new UsageError(`invalid options:\n${lines.join('\n')}`);
}

/** Shared option schemas. */
export const deviceOption = z.enum(DEVICE_PREFERENCES as [string, ...string[]]).default('auto');
export const positiveInt = z.coerce.number().int().positive();
export const jsonFlag = z.boolean().default(false);
