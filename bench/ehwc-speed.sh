#!/usr/bin/env bash
# EHW-C wall-clock speed-up on one device (docs/ehwc.md, targets table): the 512² DNS (RK4 dt
# 0.01) and the ∇⁶n closure at 64² (IF-RK4 dt 0.1, seeds 2-4) to t = 1000, snapshots every 10
# time units, one run at a time, then `closure report` (speed-up = DNS wall / coarse wall).
# Usage: bash bench/ehwc-speed.sh OUTDIR [device]   (results in bench/results/ehwc-speed-h100/)
set -uo pipefail
out=${1:?usage: ehwc-speed.sh OUTDIR [device]}
device=${2:-webgpu}
mkdir -p "$out"
work=$(mktemp -d)
commands=$out/commands.txt
: >"$commands"
source "$(dirname "$0")/ehwc-common.sh"
closure=bench/results/ehwc-hyper6-h100/retuned.json
d hw run --nx 512 --c1 1 --nu 5e-8 --dt 0.01 --t-end 1000 --stats-from 300 --save-every 10 \
  --device "$device" --out "$work/dns.h5" --json >"$out/dns.json"
runs=()
labels=()
for seed in 2 3 4; do
  d closure run --closure $closure --integrator ifrk4 --dt 0.1 --t-end 1000 --seed $seed \
    --stats-from 300 --save-every 10 --device "$device" --out "$work/hyper6_seed$seed.h5" \
    --json >"$out/hyper6_seed$seed.json"
  runs+=("$work/hyper6_seed$seed.h5")
  labels+=("hyper6_seed$seed")
done
d closure report --dns "$work/dns.h5" --runs "${runs[@]}" --labels "$(IFS=,; echo "${labels[*]}")" \
  --from 300 --out "$work/report" --json >"$out/report.json"
rm -rf "$work"
