/**
 * `/metrics` for `moe serve` in the Prometheus text format (what a scraper or `curl` reads):
 * request outcomes, tokens, throughput, queue depth, expert-cache hits and bytes moved, GPU memory.
 */
import type { ContinuousBatcher } from '../batcher.ts';

export interface ServerCounters {
  /** Requests refused before they ran, by reason (invalid, queue_full, too_large, ...). */
  rejected: Map<string, number>;
}

interface Sample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: [labels: string, value: number][];
}

function render(samples: Sample[]): string {
  return samples
    .map(({ name, help, type, values }) =>
      [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} ${type}`,
        ...values.map(([labels, v]) => `${name}${labels} ${Number.isFinite(v) ? v : 0}`),
      ].join('\n'),
    )
    .join('\n')
    .concat('\n');
}

export function metricsText(batcher: ContinuousBatcher, server: ServerCounters): string {
  const { stats } = batcher;
  const c = batcher.engine.counters();
  const accesses = c.expertHits + c.expertMisses;
  const one = (value: number): [string, number][] => [['', value]];
  const p = 'driftflow_moe_';
  return render([
    {
      name: `${p}requests_finished_total`,
      help: 'Requests that ran, by how they ended.',
      type: 'counter',
      values: Object.entries(stats.finished).map(([reason, n]) => [`{reason="${reason}"}`, n]),
    },
    {
      name: `${p}requests_rejected_total`,
      help: 'Requests refused before running, by reason.',
      type: 'counter',
      values: [...server.rejected].map(([reason, n]) => [`{reason="${reason}"}`, n]),
    },
    {
      name: `${p}requests_running`,
      help: 'Sequences in KV-cache slots now.',
      type: 'gauge',
      values: one(batcher.running),
    },
    {
      name: `${p}requests_queued`,
      help: 'Requests waiting for a slot.',
      type: 'gauge',
      values: one(batcher.queued),
    },
    {
      name: `${p}prompt_tokens_total`,
      help: 'Prompt tokens prefilled.',
      type: 'counter',
      values: one(stats.promptTokens),
    },
    {
      name: `${p}generated_tokens_total`,
      help: 'Tokens sampled.',
      type: 'counter',
      values: one(stats.generatedTokens),
    },
    {
      name: `${p}engine_seconds_total`,
      help: 'Seconds spent in engine steps.',
      type: 'counter',
      values: one(stats.stepSeconds),
    },
    {
      name: `${p}generation_tokens_per_second`,
      help: 'Sampled tokens per second of engine time over the last 10 s of steps.',
      type: 'gauge',
      values: one(batcher.recentTokensPerSecond()),
    },
    {
      name: `${p}expert_cache_hits_total`,
      help: 'Routed experts found in a GPU slot.',
      type: 'counter',
      values: one(c.expertHits),
    },
    {
      name: `${p}expert_cache_misses_total`,
      help: 'Routed experts copied in on demand.',
      type: 'counter',
      values: one(c.expertMisses),
    },
    {
      name: `${p}expert_cache_hit_ratio`,
      help: 'hits / (hits + misses) since start (1 when nothing was looked up).',
      type: 'gauge',
      values: one(accesses > 0 ? c.expertHits / accesses : 1),
    },
    {
      name: `${p}expert_bytes_moved_total`,
      help: 'Bytes copied from the host tier into GPU expert slots.',
      type: 'counter',
      values: one(c.bytesMoved),
    },
    {
      name: `${p}gpu_bytes`,
      help: 'GPU memory held by the engine (0 on the CPU path).',
      type: 'gauge',
      values: one(c.gpuBytes),
    },
    {
      name: `${p}expert_gpu_bytes`,
      help: 'GPU memory held by routed-expert slots.',
      type: 'gauge',
      values: one(c.expertGpuBytes),
    },
  ]);
}
