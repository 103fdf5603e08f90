/**
 * The DDPM baseline's schedule and samplers against closed forms. For data x ~ N(μ, s²) per
 * coordinate the optimal noise prediction is known, E[ε | x_t] = √(1−ᾱ)(x_t − √ᾱ μ)/(ᾱ s² + 1 − ᾱ);
 * driven by it, ancestral DDPM (all T steps) and DDIM (100) must return samples of that mean and
 * spread. The training coefficients give the forward process (unit variance for unit data) and
 * flow matching's straight path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alphaBar,
  DIFFUSION_STEPS,
  pathCoefficients,
  respacedSteps,
  sampleDiffusion,
} from '../../src/flow/diffusion.ts';
import { whiteNoise } from '../../src/spectral/random.ts';

const moments = (x: Float32Array) => {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return { mean, std: Math.sqrt(variance) };
};

describe('DDPM baseline', () => {
  it('has the linear-β schedule and respaced steps', () => {
    assert.equal(alphaBar(0), 1);
    assert.ok(Math.abs(alphaBar(1) - (1 - 1e-4)) < 1e-12);
    assert.ok(alphaBar(DIFFUSION_STEPS) < 1e-4 && alphaBar(DIFFUSION_STEPS) > 1e-5);
    assert.deepEqual(respacedSteps(1), [1000]);
    const steps = respacedSteps(8);
    assert.equal(steps.length, 8);
    assert.equal(steps[0], 1000);
    assert.equal(steps.at(-1), 1);
    assert.throws(() => respacedSteps(0), /use 1..1000/);
  });

  it('gives flow-matching and DDPM regression coefficients', () => {
    const { mix, time } = pathCoefficients('flow', Float32Array.from([0.25]));
    assert.deepEqual([...mix], [0.75, 0.25, -1, 1]);
    assert.equal(time[0], 0.25);
    const d = pathCoefficients('ddpm', Float32Array.from([0, 0.5, 0.9999]));
    for (let i = 0; i < 3; i++) {
      const [a0, a1, c0, c1] = d.mix.subarray(4 * i, 4 * i + 4);
      assert.ok(Math.abs(a0! ** 2 + a1! ** 2 - 1) < 1e-6, 'unit variance for unit data');
      assert.deepEqual([c0, c1], [1, 0]);
    }
    assert.deepEqual(
      [...d.time].map((t) => Math.round(t * DIFFUSION_STEPS)),
      [1, 501, 1000],
    );
  });

  it('samples a Gaussian target from its exact noise prediction', async () => {
    const [mu, s] = [0.7, 0.5];
    const predict = async (x: Float32Array, time: number) => {
      const ab = alphaBar(Math.round(time * DIFFUSION_STEPS));
      const k = Math.sqrt(1 - ab) / (ab * s * s + 1 - ab);
      return x.map((v) => k * (v - Math.sqrt(ab) * mu));
    };
    const start = Float32Array.from(whiteNoise(20000, 5));
    // Ancestral sampling with the posterior variance β̃ is exact only as the step count grows.
    for (const [sampler, nfe] of [
      ['ddim', 100],
      ['ddpm', 1000],
    ] as const) {
      const m = moments(await sampleDiffusion(predict, start, sampler, nfe, 9));
      assert.ok(Math.abs(m.mean - mu) < 0.02, `${sampler} mean ${m.mean}`);
      assert.ok(Math.abs(m.std / s - 1) < 0.03, `${sampler} std ${m.std}`);
    }
  });

  it('clips the predicted x0 to the data range when the noise prediction misses', async () => {
    // A predictor that misses half the noise (an FNO cannot reach the white noise above its
    // modes): x0 = (x − b ε̂)/a divides the rest by a ≈ 0.006 at the noisiest step.
    const s = 0.5;
    const predict = async (x: Float32Array, time: number) => {
      const ab = alphaBar(Math.round(time * DIFFUSION_STEPS));
      const k = (0.5 * Math.sqrt(1 - ab)) / (ab * s * s + 1 - ab);
      return x.map((v) => k * v);
    };
    const start = Float32Array.from(whiteNoise(4000, 6));
    const free = moments(await sampleDiffusion(predict, start, 'ddim', 8, 1));
    const clipped = await sampleDiffusion(predict, start, 'ddim', 8, 1, [[-1.5, 1.5]]);
    assert.ok(free.std > 2 * s, `unclipped std ${free.std}`);
    assert.ok(clipped.every((v) => v >= -1.5 && v <= 1.5));
    assert.ok(moments(clipped).std < free.std / 5, `clipped std ${moments(clipped).std}`);
  });
});
