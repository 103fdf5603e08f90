/**
 * Opening a model for inference on a device: the WGSL engine on WebGPU, the plain-TS reference on
 * the CPU (`wasm`: tiny models only, since it holds every weight as f32), plus the tokenizer. Shared
 * by `moe generate`, `moe serve` and the benchmarks.
 */
import { type ComputeDevice, openDevice, type DevicePreference } from '../runtime/device.ts';
import { Checkpoint } from './checkpoint.ts';
import type { MoeEngine } from './engine.ts';
import type { Policy } from './expertCache.ts';
import { GpuMoeEngine } from './gpuEngine.ts';
import { ReferenceEngine } from './reference.ts';
import { ModelTokenizer } from './tokenizer.ts';
import { createAdvisor, predictorSource, type RouteAdvisor } from './expertflow/advisor.ts';
import { loadPredictor } from './predictor/predictorFile.ts';
import type { MoeSpec } from './config.ts';

/** The expertflow advice from a trained predictor, checked against the model's routing shape. */
export async function predictorAdvisor(path: string, spec: MoeSpec): Promise<RouteAdvisor> {
  const { predictor } = await loadPredictor(path);
  const moeLayers = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
  if (predictor.shape.moeLayers !== moeLayers.length || predictor.shape.experts !== spec.numExperts)
    throw new Error(
      `${path} predicts ${predictor.shape.moeLayers} MoE layers x ${predictor.shape.experts} experts, ` +
        `but the model has ${moeLayers.length} x ${spec.numExperts}: train a predictor on this model's traces`,
    );
  return createAdvisor(predictorSource(predictor), {
    moeLayers,
    experts: spec.numExperts,
    topK: spec.topK,
    prefetch: true,
  });
}

/** The CPU reference keeps f32 copies of all weights: refuse models past this many parameters. */
export const CPU_MAX_PARAMETERS = 200_000_000;

export interface OpenModelOptions {
  model: string;
  device: DevicePreference;
  policy: Policy;
  expertsPerLayer?: number | undefined;
  sharedSlots?: number | undefined;
  budgetBytes?: number | undefined;
  maxSequences: number;
  maxContext: number;
  /** expertflow: the routing-path predictor file (moe train-predictor). */
  predictor?: string | undefined;
  onLoad?: (done: number, total: number) => void;
}

export interface OpenModel {
  engine: MoeEngine;
  tokenizer: ModelTokenizer;
  checkpoint: Checkpoint;
  device: ComputeDevice;
  /** Releases the engine's GPU memory and the checkpoint's open shards. */
  close(): Promise<void>;
}

export function parameterCount(checkpoint: Checkpoint): number {
  const s = checkpoint.spec;
  const attention = s.hidden * (2 * s.heads + 2 * s.kvHeads) * s.headDim;
  const experts =
    s.layerKinds.filter((k) => k === 'moe').length *
    s.numExperts *
    3 *
    s.hidden *
    s.expertIntermediate;
  return s.layers * attention + experts + 2 * s.vocab * s.hidden;
}

export async function openModel(options: OpenModelOptions): Promise<OpenModel> {
  if (options.policy === 'expertflow' && !options.predictor)
    throw new Error('--policy expertflow needs --predictor <predictor.safetensors>');
  const checkpoint = await Checkpoint.open(options.model);
  try {
    const tokenizer = await ModelTokenizer.open(options.model);
    const device = await openDevice({ prefer: options.device });
    let engine: MoeEngine;
    if (device.kind === 'webgpu') {
      const advisor = options.predictor
        ? await predictorAdvisor(options.predictor, checkpoint.spec)
        : undefined;
      engine = await GpuMoeEngine.load(device.gpu, checkpoint, {
        policy: options.policy,
        ...(advisor ? { advisor } : {}),
        expertsPerLayer: options.expertsPerLayer,
        sharedSlots: options.sharedSlots,
        budgetBytes: options.budgetBytes,
        maxSequences: options.maxSequences,
        maxPositions: options.maxContext,
        ...(options.onLoad ? { onLoad: options.onLoad } : {}),
      });
    } else {
      const params = parameterCount(checkpoint);
      if (params > CPU_MAX_PARAMETERS) {
        throw new Error(
          `the CPU path runs tiny models only (${(params / 1e6).toFixed(0)}M parameters > ${CPU_MAX_PARAMETERS / 1e6}M): use --device webgpu on a GPU`,
        );
      }
      engine = await ReferenceEngine.load(checkpoint, {
        maxSequences: options.maxSequences,
        maxPositions: options.maxContext,
      });
    }
    return {
      engine,
      tokenizer,
      checkpoint,
      device,
      close: async () => {
        await engine.close();
        await checkpoint.close();
      },
    };
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
}
