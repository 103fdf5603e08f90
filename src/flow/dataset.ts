/**
 * `driftflow flow dataset`: FOT-CFM training data from solver runs (`hw run`, `ns run`). It takes
 * the snapshots of one or more run files after `from` (the statistically stationary part), every
 * `every`-th one (spacing them out so they are nearly independent), and writes each at several
 * resolutions by a sharp spectral cut-off (the same fields, band-limited to each grid), channels
 * last, with the last `heldOut` fraction of every run's selected snapshots kept apart for testing
 * (a block at the end, not a random subset, so test fields are not near-copies of training ones).
 *   /train/<n>  float32 [count, n, n, C]     /test/<n>  float32 [count, n, n, C]
 *   /train_time, /test_time  float64 [count]  root attributes: fields, runs, from, every, sizes.
 */
import { H5Writer, readH5 } from '../io/hdf5.ts';
import { unitSquareTransforms } from './unitSquare.ts';

export interface DatasetOptions {
  runs: string[];
  fields: string[];
  sizes: number[];
  from: number;
  every: number;
  heldOut: number;
  out: string;
}

export interface DatasetSummary {
  train: number;
  test: number;
  sizes: number[];
  source: number;
}

/** A real n x n field restricted to the modes of an m x m grid (|k| < m/2), sampled on it. */
export function truncateField(field: Float64Array, n: number, m: number): Float64Array {
  if (m > n)
    throw new Error(`cannot refine a ${n}² field to ${m}²: sizes must not exceed the run's grid`);
  const fine = unitSquareTransforms(n);
  const coarse = unitSquareTransforms(m);
  const spec = fine.newSpectral();
  fine.forward(field, spec);
  const out = coarse.newSpectral();
  const half = m / 2;
  for (let row = 0; row < m; row++) {
    // Signed ky of this coarse row; the Nyquist row (|ky| = m/2) is dropped.
    const ky = row < half ? row : row - m;
    if (Math.abs(ky) >= half) continue;
    const fineRow = ky >= 0 ? ky : n + ky;
    for (let kx = 0; kx < half; kx++) {
      const from = fineRow * fine.grid.ncols + kx;
      const to = row * coarse.grid.ncols + kx;
      out[2 * to] = spec[2 * from]!;
      out[2 * to + 1] = spec[2 * from + 1]!;
    }
  }
  const real = coarse.newReal();
  coarse.inverse(out, real);
  return real;
}

export async function buildDataset(o: DatasetOptions): Promise<DatasetSummary> {
  if (o.runs.length === 0) throw new Error('give at least one run file (--runs a.h5 ...)');
  if (!(o.heldOut >= 0 && o.heldOut < 1))
    throw new Error(`--held-out ${o.heldOut} must be in [0, 1)`);
  if (!Number.isInteger(o.every) || o.every < 1)
    throw new Error(`--every ${o.every} must be a positive integer`);
  const train = new Map<number, number[][]>(o.sizes.map((s) => [s, []]));
  const test = new Map<number, number[][]>(o.sizes.map((s) => [s, []]));
  const times = { train: [] as number[], test: [] as number[] };
  let source = 0;
  for (const run of o.runs) {
    const file = await readH5(run);
    try {
      for (const name of o.fields)
        if (!file.paths.includes(`/fields/${name}`))
          throw new Error(
            `${run} has no field '${name}' (it has ${file.paths
              .filter((p) => p.startsWith('/fields/') && p !== '/fields/time')
              .map((p) => p.slice(8))
              .join(', ')})`,
          );
      const time = file.get('/fields/time').data;
      const frames = file.get(`/fields/${o.fields[0]}`);
      const [, ny, nx] = frames.shape as [number, number, number];
      if (ny !== nx)
        throw new Error(`${run}: ${nx}x${ny} fields; FOT-CFM datasets need square grids`);
      source = nx;
      const data = o.fields.map((name) => file.get(`/fields/${name}`).data);
      const picked: number[] = [];
      for (let f = 0; f < time.length; f++) if (time[f]! >= o.from) picked.push(f);
      const chosen = picked.filter((_, i) => i % o.every === 0);
      if (chosen.length === 0)
        throw new Error(
          `${run}: no snapshot at t >= ${o.from} (last at t = ${time[time.length - 1]})`,
        );
      const testCount = Math.floor(chosen.length * o.heldOut);
      chosen.forEach((f, i) => {
        const split = i >= chosen.length - testCount ? 'test' : 'train';
        times[split].push(time[f]!);
        const target = split === 'test' ? test : train;
        for (const size of o.sizes) {
          const channels = data.map((d) =>
            truncateField(Float64Array.from(d.subarray(f * nx * nx, (f + 1) * nx * nx)), nx, size),
          );
          const sample: number[] = new Array<number>(size * size * o.fields.length);
          for (let p = 0; p < size * size; p++)
            channels.forEach((c, ch) => (sample[p * o.fields.length + ch] = c[p]!));
          target.get(size)!.push(sample);
        }
      });
    } finally {
      file.close();
    }
  }
  const writer = await H5Writer.create(o.out, {
    fields: o.fields.join(','),
    runs: o.runs.join(','),
    from: o.from,
    every: o.every,
    sizes: o.sizes,
  });
  try {
    for (const [split, store] of [
      ['train', train],
      ['test', test],
    ] as const)
      for (const size of o.sizes) {
        const rows = store.get(size)!;
        if (rows.length === 0) continue;
        writer.writeDataset(`/${split}/${size}`, {
          data: Float32Array.from(rows.flat()),
          shape: [rows.length, size, size, o.fields.length],
        });
      }
    writer.writeDataset('/train_time', {
      data: Float64Array.from(times.train),
      shape: [times.train.length],
    });
    if (times.test.length > 0)
      writer.writeDataset('/test_time', {
        data: Float64Array.from(times.test),
        shape: [times.test.length],
      });
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { train: times.train.length, test: times.test.length, sizes: o.sizes, source };
}
