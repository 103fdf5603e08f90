/**
 * One helper thread of `ThreadedBrackets` (bracketWorkers.ts): owns a PFFFT instance and runs its
 * share of each bracket pass on the shared arrays whenever the main thread bumps the generation
 * counter, then reports done. Phase 0 ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SpectralGrid } from '../spectral/grid.ts';
import type { BracketJob } from './bracketWorkers.ts';
import { PffftBrackets } from './pffftBrackets.ts';

const job = workerData as BracketJob;
const grid = new SpectralGrid(job.grid);
const engine = await PffftBrackets.create(grid, job.fields, job.scratch);
const control = new Int32Array(job.control);
const [c0, c1] = job.columns;
const [r0, r1] = job.rows;
parentPort!.postMessage('ready');
let generation = 0;
for (;;) {
  Atomics.wait(control, 0, generation);
  generation = Atomics.load(control, 0);
  const phase = Atomics.load(control, 1);
  if (phase === 0) break;
  if (phase === 1) engine.columnsInverse(job.sources, c0, c1);
  else if (phase === 2) engine.rowsBracket(r0, r1);
  else engine.columnsForward(job.outputs, c0, c1);
  if (Atomics.add(control, 2, 1) + 1 === job.helpers) Atomics.notify(control, 2);
}
