/**
 * `driftflow moe cache-sim`: runs the trace-driven cache simulation for every policy over a range
 * of GPU budgets (expert slots per layer, or in one pool shared by all layers) and batch sizes, with the predictor's routes computed by
 * the plain-TS predictor exactly as the online cache would (one token at a time), and plots hit
 * ratio and copies per decode step against the budget.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { writePlot } from '../../plots/render.ts';
import { linePlotSvg, type Series } from '../../plots/svg.ts';
import type { RoutePredictor } from '../predictor/predictorInfer.ts';
import type { RouteExamples } from '../predictor/routeMetrics.ts';
import { type SimOptions, type SimResult, simulateCache } from './cacheSim.ts';

export type SweepVariant = { label: string } & Pick<
  SimOptions,
  'policy' | 'horizon' | 'schedule' | 'prefetchThreshold' | 'hitsFirst'
>;

export const SWEEP_VARIANTS: SweepVariant[] = [
  { label: 'lru', policy: 'lru' },
  { label: 'lru, hits first', policy: 'lru', hitsFirst: true },
  { label: 'oracle (Belady, no prefetch)', policy: 'oracle' },
  { label: 'expertflow online', policy: 'expertflow', horizon: 'online' },
  {
    label: 'expertflow online, no prefetch',
    policy: 'expertflow',
    horizon: 'online',
    prefetchThreshold: Infinity,
  },
  {
    label: 'expertflow online, no prefetch + scheduling',
    policy: 'expertflow',
    horizon: 'online',
    prefetchThreshold: Infinity,
    schedule: true,
  },
  {
    label: 'expertflow online + scheduling',
    policy: 'expertflow',
    horizon: 'online',
    schedule: true,
  },
  { label: 'expertflow offline', policy: 'expertflow', horizon: 'offline' },
];

export interface SweepReport {
  trace: string;
  sequences: number;
  predictorMsPerToken: number;
  results: (SimResult & { label: string })[];
}

export function predictRoutes(
  predictor: RoutePredictor,
  data: RouteExamples,
): { predicted: Float32Array[][]; msPerToken: number } {
  const started = performance.now();
  const predicted = data.sequences.map((s) => predictor.predict(s.tokens));
  const tokens = data.sequences.reduce((a, s) => a + s.tokens.length, 0);
  return { predicted, msPerToken: (performance.now() - started) / tokens };
}

export function sweepCache(
  data: RouteExamples,
  predicted: Float32Array[][],
  batches: number[],
  slots: number[],
  shared: boolean,
  onResult?: (r: SimResult & { label: string }) => void,
): (SimResult & { label: string })[] {
  const results: (SimResult & { label: string })[] = [];
  for (const batch of batches)
    for (const n of slots)
      for (const v of SWEEP_VARIANTS) {
        const { label, ...variant } = v;
        const layout = shared ? { slotsPerLayer: 1, sharedSlots: n } : { slotsPerLayer: n };
        const r = { label, ...simulateCache({ data, batch, ...layout, predicted, ...variant }) };
        results.push(r);
        onResult?.(r);
      }
  return results;
}

/** One PNG/SVG pair per batch size and metric (hit ratio, copies per decode step). */
export async function plotSweep(dir: string, report: SweepReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const batches = [...new Set(report.results.map((r) => r.batch))];
  for (const batch of batches) {
    const rows = report.results.filter((r) => r.batch === batch);
    const pooled = rows.some((r) => r.sharedSlots !== null);
    for (const [metric, pick, yLabel] of [
      ['hit-ratio', (r: SimResult) => r.hitRatio, 'hit ratio'],
      ['copies', (r: SimResult) => r.loads / r.decodeSteps, 'expert copies per decode step'],
    ] as const) {
      const series: Series[] = SWEEP_VARIANTS.map((v) => {
        const points = rows.filter((r) => r.label === v.label);
        return {
          label: v.label,
          x: points.map((r) => r.sharedSlots ?? r.slotsPerLayer),
          y: points.map(pick),
          dashed: v.policy === 'oracle',
        };
      });
      const svg = linePlotSvg(series, {
        title: `cache simulation, batch ${batch} (${report.trace})`,
        xLabel: pooled
          ? 'GPU expert slots shared by all MoE layers'
          : 'GPU expert slots per MoE layer',
        yLabel,
      });
      files.push(...(await writePlot(join(dir, `cache-${metric}-batch${batch}`), svg)));
    }
  }
  await writeFileAtomic(join(dir, 'cache-sim.json'), JSON.stringify(report, null, 2));
  return [join(dir, 'cache-sim.json'), ...files];
}
