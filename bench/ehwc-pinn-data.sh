#!/usr/bin/env bash
# Training data of the physics-informed EHW-C fit (docs/ehwc.md, "Physics-informed network"). Per
# c1 (κ = 1, k0 = 0.15): the regime sweep's DNS at 512² to t = 1000 (same command and seed as
# bench/ehwc-sweep.sh, so its summary must equal the sweep's dns.json), continued from its last
# checkpoint with dense snapshots every H time units for 60 intervals (H = the rollout horizon of
# that regime: 10 coarse steps at the largest stable coarse dt), then coarse-grained by 8 to 64².
# Usage: bash bench/ehwc-pinn-data.sh OUTDIR [device] [c1 ...]   (default c1: 0.1 0.5 1 2 5)
# Writes OUTDIR/coarse_dense_<c1>.h5 and OUTDIR/logs/ (summaries, logs, commands.txt).
set -uo pipefail
out=${1:?usage: ehwc-pinn-data.sh OUTDIR [device] [c1 ...]}
device=${2:-webgpu}
shift $(($# >= 2 ? 2 : 1))
regimes=("$@")
[ ${#regimes[@]} -eq 0 ] && regimes=(0.1 0.5 1 2 5)
nx=${DNS_NX:-512}
tEnd=${T_END:-1000}
intervals=${INTERVALS:-60}
work=${TMPDIR:-/tmp}/ehwc-pinn-data
mkdir -p "$out/logs" "$work"
commands=$out/logs/commands.txt
source "$(dirname "$0")/ehwc-common.sh"
# Dense snapshot spacing = rollout horizon (10 coarse RK4 steps at 64²: dt 0.05, 0.025 at c1 = 2,
# 0.01 at c1 = 5, where the coupling limits RK4).
horizon() { case $1 in 2) echo 0.25 ;; 5) echo 0.1 ;; *) echo 0.5 ;; esac; }

pids=()
for c1 in "${regimes[@]}"; do
  h=$(horizon "$c1")
  d hw run --nx "$nx" --c1 "$c1" --nu 5e-8 --dt "$(dns_dt "$c1")" --t-end "$tEnd" \
    --stats-from "$(stationary_from "$c1")" --save-every 10 --device "$device" --out "$work/dns_$c1.h5" \
    --json >"$out/logs/dns_$c1.json" 2>"$out/logs/dns_$c1.log" || log "FAILED: DNS c1=$c1"
  cp "$work/dns_$c1.h5" "$work/dense_$c1.h5"
  d hw run --resume "$work/dense_$c1.h5" --t-end "$(awk "BEGIN { print $tEnd + $intervals * $h }")" \
    --save-every "$h" --device "$device" --json >"$out/logs/dense_$c1.json" \
    2>"$out/logs/dense_$c1.log" || log "FAILED: dense continuation c1=$c1"
  d closure prepare --dns "$work/dense_$c1.h5" --factor 8 --from "$tEnd" \
    --out "$out/coarse_dense_$c1.h5" --json >"$out/logs/prepare_$c1.json" \
    2>"$out/logs/prepare_$c1.log" &
  pids+=($!)
done
wait "${pids[@]}"
