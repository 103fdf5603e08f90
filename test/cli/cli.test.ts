// The driftflow CLI as a user runs it: JSON output, clear errors and exit codes for bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kySpectrum } from '../../src/closure/reportStats.ts';
import { readH5 } from '../../src/io/hdf5.ts';
import { SpectralGrid } from '../../src/spectral/grid.ts';
import { Transforms2d } from '../../src/spectral/transforms2d.ts';
import { driftflow } from '../helpers/cli.ts';

describe('driftflow CLI', () => {
  it('info --json describes the chosen device', () => {
    const { code, stdout } = driftflow('info', '--device', 'wasm', '--json');
    assert.equal(code, 0);
    const info = JSON.parse(stdout);
    assert.equal(info.kind, 'wasm');
    assert.match(info.label, /^wasm/);
  });

  it('an invalid option value is a usage error naming the flag and the choices', () => {
    const { code, stderr } = driftflow('info', '--device', 'gpu');
    assert.equal(code, 2);
    assert.match(stderr, /--device: .*"auto"\|"webgpu"\|"wasm".*\(got "gpu"\)/);
  });

  it('an unknown command is a usage error', () => {
    const { code, stderr } = driftflow('frobnicate');
    assert.equal(code, 2);
    assert.match(stderr, /unknown command 'frobnicate'/);
  });

  it('start runs a short HW simulation and writes the HDF5 file and plots', () => {
    const out = mkdtempSync(join(tmpdir(), 'driftflow-start-'));
    const { code, stdout } = driftflow(
      'start',
      '--device',
      'wasm',
      '--nx',
      '32',
      '--t-end',
      '2',
      '--out',
      out,
    );
    assert.equal(code, 0);
    for (const file of [
      'run.h5',
      'n.png',
      'phi.png',
      'omega.png',
      'spectrum_k.svg',
      'spectrum_k.png',
      'index.html',
    ])
      assert.ok(existsSync(join(out, file)), `${file} missing; stdout: ${stdout}`);
  });

  it('hw linear --json reports measured and analytic growth rates that agree', () => {
    const { code, stdout } = driftflow(
      'hw',
      'linear',
      '--nx',
      '32',
      '--t-end',
      '10',
      '--device',
      'wasm',
      '--json',
    );
    assert.equal(code, 0);
    const result = JSON.parse(stdout);
    assert.ok(result.relativeError.growthRate < 0.01);
    assert.ok(Math.abs(result.analytic.growthRate - 0.106) < 5e-4);
  });

  it('hw run refuses an unsupported grid with a clear message and exit code 2', () => {
    const { code, stderr } = driftflow(
      'hw',
      'run',
      '--nx',
      '100',
      '--t-end',
      '1',
      '--device',
      'wasm',
    );
    assert.equal(code, 2);
    assert.match(stderr, /nx = 100 is not supported: use a power of two/);
  });

  it('closure prepare, fit, run, tune and report chain on a small DNS; bad factor and regime are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftflow-closure-'));
    const dns = join(dir, 'dns.h5');
    const run = driftflow(
      ...['hw', 'run', '--nx', '32', '--nu', '1e-3', '--dt', '0.02', '--t-end', '2'],
      ...['--save-every', '1', '--device', 'wasm', '--out', dns],
    );
    assert.equal(run.code, 0, run.stderr);
    const out = join(dir, 'coarse.h5');
    const { code, stdout } = driftflow(
      ...['closure', 'prepare', '--dns', dns, '--factor', '2', '--out', out, '--json'],
    );
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout).coarse, [16, 16]);
    const file = await readH5(out);
    assert.deepEqual(file.get('/subgrid/omega').shape, [JSON.parse(stdout).snapshots, 16, 16]);
    assert.match(String(file.attrs.sign_convention), /tau_f = filter/);
    file.close();
    const fit = driftflow('closure', 'fit', '--data', out, '--out', join(dir, 'fit'), '--json');
    assert.equal(fit.code, 0, fit.stderr);
    const fitted = JSON.parse(fit.stdout);
    assert.equal(fitted.terms.length, 6);
    assert.ok(fitted.terms.every((t: { coefficient: number }) => Number.isFinite(t.coefficient)));
    assert.ok(existsSync(join(dir, 'fit', 'closure.json')));
    // A fit on this toy run may well be anti-damping at the grid scale: then the runner refuses it.
    const closureArgs = ['closure', 'run', '--closure', join(dir, 'fit'), '--device', 'wasm'];
    const fittedRun = driftflow(...closureArgs, '--t-end', '1', '--dt', '0.05');
    if (fittedRun.code !== 0) assert.match(fittedRun.stderr, /not damping at the grid scale/);
    // The same closure file with damping coefficients runs.
    fitted.terms.forEach((t: { coefficient: number }) => (t.coefficient = 0.01));
    writeFileSync(join(dir, 'fit', 'closure.json'), JSON.stringify(fitted));
    const ehwcFile = join(dir, 'ehwc.h5');
    const ehwc = driftflow(
      ...closureArgs,
      ...['--t-end', '2', '--dt', '0.05', '--stats-from', '0', '--save-every', '1'],
      ...['--out', ehwcFile, '--json'],
    );
    assert.equal(ehwc.code, 0, ehwc.stderr);
    const ehwcSummary = JSON.parse(ehwc.stdout);
    assert.equal(ehwcSummary.steps, 40);
    // The report: its averages are the run's own, and its filtered-DNS spectrum is the one of the
    // coarse fields that closure prepare wrote (an independent path through the cut-off filter).
    const reportDir = join(dir, 'report');
    const report = driftflow(
      ...['closure', 'report', '--dns', dns, '--runs', ehwcFile, '--labels', 'ehwc'],
      ...['--from', '0', '--out', reportDir, '--json'],
    );
    assert.equal(report.code, 0, report.stderr);
    const summary = JSON.parse(report.stdout);
    const reported = summary.runs[0];
    assert.equal(reported.label, 'ehwc');
    assert.ok(Math.abs(reported.averages.gamma_n / ehwcSummary.averages.gamma_n - 1) < 1e-12);
    assert.ok(Math.abs(reported.averages.energy / ehwcSummary.averages.energy - 1) < 1e-12);
    assert.equal(typeof reported.vsDns.speedup, 'number');
    // Its resolved-mode averages, from the snapshots on the report grid (its own 2/3 modes), are its
    // diagnostics at the snapshot times: the same Parseval sums by another path (the fields file).
    // (From t = 1: the first diagnostics sample is at t = 0.5, the first snapshot at t = 0.)
    const fromOne = driftflow(
      ...['closure', 'report', '--dns', dns, '--runs', ehwcFile, '--from', '1'],
      ...['--out', join(dir, 'report1'), '--json'],
    );
    assert.equal(fromOne.code, 0, fromOne.stderr);
    const ehwcH5 = await readH5(ehwcFile);
    const seriesTime = Array.from(ehwcH5.get('/timeseries/time').data as Float64Array);
    const snapTimes = Array.from(ehwcH5.get('/fields/time').data as Float64Array).filter(
      (t) => t >= 1,
    );
    const atSnapshots = (name: string) =>
      snapTimes.reduce((sum, t) => {
        const i = seriesTime.findIndex((u) => Math.abs(u - t) < 1e-9);
        assert.ok(i >= 0, `no diagnostics at t = ${t}`);
        return sum + Number(ehwcH5.get(`/timeseries/${name}`).data[i]);
      }, 0) / snapTimes.length;
    const resolved = JSON.parse(fromOne.stdout).runs[0].resolvedAverages;
    const close = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a / b - 1) < 1e-5, `${what}: ${a} vs ${b}`);
    close(resolved.gamma_n, atSnapshots('gamma_n'), 'gamma_n');
    close(resolved.gamma_c, atSnapshots('gamma_c'), 'gamma_c');
    close(resolved.energy, atSnapshots('energy_n') + atSnapshots('energy_v'), 'energy');
    close(resolved.enstrophy, atSnapshots('enstrophy'), 'enstrophy');
    ehwcH5.close();
    const coarseFile = await readH5(out);
    const grid = new SpectralGrid({
      nx: 16,
      ny: 16,
      lx: (2 * Math.PI) / 0.15,
      ly: (2 * Math.PI) / 0.15,
      dealias: '2/3',
    });
    const transforms = new Transforms2d(grid);
    const frames = coarseFile.get('/coarse/n').data;
    const count = coarseFile.get('/time').data.length;
    const expected = new Float64Array(grid.kmaxY + 1);
    for (let s = 0; s < count; s++) {
      const spec = transforms.newSpectral();
      transforms.forward(Float64Array.from(frames.subarray(s * 256, (s + 1) * 256)), spec);
      kySpectrum(spec, grid, () => 1).forEach((v, k) => (expected[k] = expected[k]! + v / count));
    }
    coarseFile.close();
    const dnsSpectrum: number[] = summary.dns.spectra.n;
    assert.equal(dnsSpectrum.length, expected.length);
    dnsSpectrum.forEach((v, k) =>
      assert.ok(Math.abs(v - expected[k]!) <= 1e-9 * expected[1]!, `ky ${k}`),
    );
    for (const name of ['index.html', 'spectrum_ky_n.png', 'pdf_gamma_c.svg', 'n_ehwc.png'])
      assert.ok(existsSync(join(reportDir, name)), `${name} missing`);
    // closure tune writes a closure that closure run takes, with its history and starting point.
    const tunedDir = join(dir, 'tuned');
    const tune = driftflow(
      ...['closure', 'tune', '--closure', join(dir, 'fit'), '--dns', dns, '--from', '1'],
      ...['--dt', '0.05', '--save-every', '1', '--evaluations', '3', '--device', 'wasm'],
      ...['--integrator', 'ifrk4', '--out', tunedDir, '--json'],
    );
    assert.equal(tune.code, 0, tune.stderr);
    const tuned = JSON.parse(readFileSync(join(tunedDir, 'closure.json'), 'utf8'));
    assert.equal(tuned.method, 'tune');
    assert.equal(tuned.tune.evaluations.length, 3);
    assert.equal(tuned.tune.config.integrator, 'ifrk4');
    assert.deepEqual(tuned.started_from.coefficients, new Array(6).fill(0.01));
    const bestLoss = Math.min(...tuned.tune.evaluations.map((e: { loss: number }) => e.loss));
    assert.equal(tuned.tune.best.loss, bestLoss);
    const tunedRun = driftflow(
      'closure',
      'run',
      '--closure',
      tunedDir,
      '--t-end',
      '0.5',
      '--device',
      'wasm',
    );
    assert.equal(tunedRun.code, 0, tunedRun.stderr);
    const wrongRegime = driftflow(...closureArgs, '--c1', '3', '--t-end', '1');
    assert.equal(wrongRegime.code, 2);
    assert.match(wrongRegime.stderr, /differs from the regime the closure was fitted in/);
    const bad = driftflow('closure', 'prepare', '--dns', dns, '--factor', '8', '--out', out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--factor 8: .*at least 8 per direction/);
  });
});
