/**
 * Every subcommand module, in help order. Each capability folder adds its own module here
 * (e.g. solvers' `hw` and `ns`, closure's `closure`, flow's `flow`, moe's `moe`).
 */
import type { Command } from 'commander';
import { register as registerClosure } from './closure.ts';
import { register as registerFlow } from './flow.ts';
import { register as registerHw } from './hw.ts';
import { register as registerInfo } from './info.ts';
import { register as registerMoe } from './moe.ts';
import { register as registerNs } from './ns.ts';
import { register as registerPlot } from './plot.ts';
import { register as registerStart } from './start.ts';

export const COMMAND_MODULES: ((program: Command) => void)[] = [
  registerInfo,
  registerStart,
  registerHw,
  registerNs,
  registerPlot,
  registerClosure,
  registerFlow,
  registerMoe,
];
