#!/usr/bin/env bash
# The hw2d reference comparison (docs/validation.md): HW at 512², k0 = 0.15, κ = 1, N = 3, ν = 5e-8,
# RK4, to t = 1000, for c1 = 1 (hw2d's README case) and the c1 sweep 0.1, 0.5, 2, 5. The pseudo-
# spectral scheme resolves up to |k| = 25.5 where hw2d's 2nd-order stencils see at most 1/dx = 12.2,
# so its advective limit needs dt ≈ 2.5x smaller than hw2d's (dt = 0.025 blows up at t ≈ 116).
# Also two NS sanity runs.
# Usage: bash bench/hw-reference.sh OUTDIR [device]   (writes one JSON summary per run + logs)
set -euo pipefail
out=${1:?usage: hw-reference.sh OUTDIR [device]}
device=${2:-webgpu}
mkdir -p "$out"
run() {
  local name=$1
  shift
  echo "== $name: driftflow $*" | tee -a "$out/commands.txt"
  npm run -s driftflow -- "$@" --device "$device" --json >"$out/$name.json" 2>"$out/$name.log" || echo "FAILED: $name (see $name.log)" | tee -a "$out/commands.txt"
}
run hw_c1_1 hw run --nx 512 --c1 1 --nu 5e-8 --dt 0.01 --t-end 1000 --stats-from 300 --save-every 250 --out "$out/hw_c1_1.h5"
for spec in 0.1:0.004:200 0.5:0.008:200 2:0.01:300 5:0.01:800; do
  IFS=: read -r c1 dt from <<<"$spec"
  run "hw_c1_$c1" hw run --nx 512 --c1 "$c1" --nu 5e-8 --dt "$dt" --t-end 1000 --stats-from "$from" --save-every 0 --out "/tmp/hw_c1_$c1.h5"
done
run ns_fno ns run --case fno --nx 256 --dt 0.001 --t-end 50 --save-every 10 --out /tmp/ns_fno.h5
run ns_kolmogorov ns run --case kolmogorov --re 1000 --drag 0.1 --nx 256 --dt 0.001 --t-end 100 --stats-from 50 --save-every 50 --out /tmp/ns_kolmogorov.h5
