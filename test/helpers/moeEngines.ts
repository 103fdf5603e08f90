/** Test doubles for MoE engines: an engine whose `step` is replaced, everything else delegated. */
import type { MoeEngine } from '../../src/moe/engine.ts';

export function withStep(inner: MoeEngine, step: MoeEngine['step']): MoeEngine {
  return {
    spec: inner.spec,
    maxSequences: inner.maxSequences,
    maxPositions: inner.maxPositions,
    length: (slot) => inner.length(slot),
    reset: (slot) => inner.reset(slot),
    counters: () => inner.counters(),
    close: () => inner.close(),
    step,
  };
}
