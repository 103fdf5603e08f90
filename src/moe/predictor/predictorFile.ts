/**
 * The routing-path predictor on disk: `predictor.safetensors` (F32 tensors; the shape and the top-k
 * of the traces it learned in the metadata), loaded for plain-TS inference by the expertflow
 * policy and `moe cache-sim`.
 */
import { SafetensorsFile, writeSafetensors } from '../../io/safetensors.ts';
import { RoutePredictor } from './predictorInfer.ts';
import { type PredictorShape, predictorParameterShapes } from './predictorModel.ts';

export async function savePredictor(
  path: string,
  shape: PredictorShape,
  values: Map<string, Float32Array>,
  topK: number,
): Promise<void> {
  const tensors = Object.fromEntries(
    predictorParameterShapes(shape).map(([name, dims]) => [
      name,
      { dtype: 'F32' as const, shape: dims, data: values.get(name)! },
    ]),
  );
  await writeSafetensors(path, tensors, { shape: JSON.stringify(shape), top_k: String(topK) });
}

export async function loadPredictor(
  path: string,
): Promise<{ predictor: RoutePredictor; topK: number }> {
  const file = await SafetensorsFile.open(path);
  try {
    const shapeText = file.metadata?.shape;
    if (!shapeText)
      throw new Error(`${path} is not a driftflow routing predictor (no shape metadata)`);
    const shape = JSON.parse(shapeText) as PredictorShape;
    const values = new Map<string, Float32Array>();
    for (const [name] of predictorParameterShapes(shape))
      values.set(name, await file.readFloat32(name));
    return { predictor: new RoutePredictor(shape, values), topK: Number(file.metadata?.top_k) };
  } finally {
    await file.close();
  }
}
