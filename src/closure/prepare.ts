/**
 * `closure prepare`: reads the snapshots of an HW DNS run file, coarse-grains each (coarsen.ts) and
 * writes the coarse trajectory with its exact sub-grid terms and filtered time derivatives as real
 * fields on the coarse grid (h5py-readable):
 *   /time (T), /coarse/{n,omega,phi}, /subgrid/{n,omega}, /dt/{n,omega} (T, ny/factor, nx/factor)
 * plus the DNS config and the sign convention as root attributes.
 */
import { H5Writer, readH5 } from '../io/hdf5.ts';
import { InvalidConfigError, type SimulationConfig, gridOf } from '../solvers/config.ts';
import { potentialOf } from '../solvers/model.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import { Coarsener } from './coarsen.ts';

export const SIGN_CONVENTION =
  'tau_f = filter([phi, f]) - [phi_bar, f_bar]; d/dt f_bar = RHS_coarse(f_bar) - tau_f; a closure models -tau_f';

export interface PrepareSummary {
  snapshots: number;
  fine: [number, number];
  coarse: [number, number];
  out: string;
}

async function readDns(path: string) {
  const file = await readH5(path).catch((error: Error) => {
    throw new InvalidConfigError(`cannot read the DNS file ${path}: ${error.message}`);
  });
  try {
    const json = file.attrs.config_json;
    if (typeof json !== 'string')
      throw new InvalidConfigError(
        `${path} has no config_json attribute: pass a driftflow hw run file`,
      );
    const config = JSON.parse(json) as SimulationConfig;
    if (config.model.kind !== 'hw' || config.scheme !== 'spectral')
      throw new InvalidConfigError(
        `${path} is a ${config.model.kind} run with --scheme ${config.scheme}: closure prepare needs a spectral HW run`,
      );
    if (!file.paths.includes('/fields/n'))
      throw new InvalidConfigError(
        `${path} has no snapshots (/fields/n): rerun the DNS with --save-every > 0`,
      );
    const times = Array.from(file.get('/fields/time').data);
    const n = file.get('/fields/n').data;
    const omega = file.get('/fields/omega').data;
    return { config, times, n, omega };
  } finally {
    file.close();
  }
}

export async function prepareCoarseData(
  dnsPath: string,
  factor: number,
  outPath: string,
  from = 0,
  onProgress?: (done: number, total: number) => void,
): Promise<PrepareSummary> {
  const { config, times: all, n, omega } = await readDns(dnsPath);
  const first = all.findIndex((t) => t >= from);
  if (first < 0)
    throw new InvalidConfigError(
      `${dnsPath} has no snapshot at t >= ${from} (last at t = ${all.at(-1)}): lower --from`,
    );
  const times = all.slice(first);
  if (config.model.kind !== 'hw') throw new Error('unreachable: checked in readDns');
  const fine = gridOf(config);
  let coarsener: Coarsener;
  try {
    coarsener = new Coarsener(config.model, fine, factor);
  } catch (error) {
    throw new InvalidConfigError(`--factor ${factor}: ${(error as Error).message}`);
  }
  const coarse = coarsener.coarse;
  const toSpectral = new Transforms2d(fine);
  const toReal = new Transforms2d(coarse);
  const real = (spec: Float64Array) => {
    const out = new Float64Array(coarse.realSize);
    toReal.inverse(spec, out);
    return out;
  };
  const writer = await H5Writer.create(outPath, {
    dns_file: dnsPath,
    dns_config_json: JSON.stringify(config),
    factor,
    nx: coarse.nx,
    ny: coarse.ny,
    lx: coarse.lx,
    ly: coarse.ly,
    sign_convention: SIGN_CONVENTION,
  });
  const shape = [coarse.ny, coarse.nx];
  try {
    times.forEach((time, i) => {
      const s = first + i;
      const fields = [n, omega].map((frames) => {
        const spec = toSpectral.newSpectral();
        toSpectral.forward(
          Float64Array.from(frames.subarray(s * fine.realSize, (s + 1) * fine.realSize)),
          spec,
        );
        return spec;
      });
      const sample = coarsener.sample(fields);
      const phi = potentialOf(config.model, coarse, sample.fields);
      writer.appendFrame('/coarse/n', real(sample.fields[0]!), shape);
      writer.appendFrame('/coarse/omega', real(sample.fields[1]!), shape);
      writer.appendFrame('/coarse/phi', real(phi), shape);
      writer.appendFrame('/subgrid/n', real(sample.subgrid[0]!), shape);
      writer.appendFrame('/subgrid/omega', real(sample.subgrid[1]!), shape);
      writer.appendFrame('/dt/n', real(sample.dt[0]!), shape);
      writer.appendFrame('/dt/omega', real(sample.dt[1]!), shape);
      writer.appendValues('/time', Float64Array.of(time));
      onProgress?.(i + 1, times.length);
    });
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
  return {
    snapshots: times.length,
    fine: [fine.nx, fine.ny],
    coarse: [coarse.nx, coarse.ny],
    out: outPath,
  };
}
