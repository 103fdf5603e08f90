#!/usr/bin/env bash
# EHW-C speed-up with IF-RK4 (docs/ehwc.md). The coupling's adiabatic eigenvalue −c1(1 + k²)/k²
# limits classical RK4 at 64² to dt < 0.061 (c1 = 1) and 0.0123 (c1 = 5); IF-RK4 integrates every
# linear term exactly (src/solvers/propagator.ts), leaving the advective CFL limit. Per c1: the
# 512² DNS of the sweep (same settings), then, one at a time on an idle GPU, the sweep's tuned
# closure (bench/results/ehwc-sweep-h100/c1_*/tuned.json) at 64² with RK4 at its largest dt and
# with IF-RK4 at each of DTS (plus SEEDS at the first of them), and `closure report` against the
# filtered DNS. A run that blows up is recorded as FAILED with its log.
# Usage: bash bench/ehwc-ifrk4.sh OUTDIR [device] [c1 ...]   (default c1: 1 5)
# Smoke test: DNS_NX=64 T_END=20 FROM=10 DTS=0.1 SEEDS= bash bench/ehwc-ifrk4.sh /tmp/s wasm 1
set -uo pipefail
out=${1:?usage: ehwc-ifrk4.sh OUTDIR [device] [c1 ...]}
device=${2:-webgpu}
shift $(($# >= 2 ? 2 : 1))
regimes=("$@")
[ ${#regimes[@]} -eq 0 ] && regimes=(1 5)
nx=${DNS_NX:-512}
tEnd=${T_END:-1000}
dts=(${DTS:-0.1 0.15 0.2})
seeds=(${SEEDS:-1 2})
work=${TMPDIR:-/tmp}/ehwc-ifrk4
closures=$(dirname "$0")/results/ehwc-sweep-h100
mkdir -p "$out" "$work"
commands=$out/commands.txt
source "$(dirname "$0")/ehwc-common.sh"
from_of() { echo "${FROM:-$(stationary_from "$1")}"; }
# Classical RK4's largest stable dt at 64² (the coupling limit).
rk4_dt() { case $1 in 5) echo 0.01 ;; 2) echo 0.025 ;; *) echo 0.05 ;; esac; }

for c1 in "${regimes[@]}"; do
  mkdir -p "$out/c1_$c1"
  d hw run --nx "$nx" --c1 "$c1" --nu 5e-8 --dt "$(dns_dt "$c1")" --t-end "$tEnd" \
    --stats-from "$(from_of "$c1")" --save-every 10 --device "$device" --out "$work/dns_$c1.h5" \
    --json >"$out/c1_$c1/dns.json" 2>"$out/c1_$c1/dns.log" || log "FAILED: DNS c1=$c1"
done

for c1 in "${regimes[@]}"; do
  dir=$out/c1_$c1 from=$(from_of "$c1")
  runs=() labels=()
  coarse() {
    local name=$1
    shift
    if d closure run --closure "$closures/c1_$c1/tuned.json" "$@" --t-end "$tEnd" \
      --stats-from "$from" --save-every 10 --device "$device" --out "$work/c1_${c1}_$name.h5" \
      --json >"$dir/$name.json" 2>"$dir/$name.log"; then
      runs+=("$work/c1_${c1}_$name.h5") labels+=("$name")
    else
      log "FAILED: $name c1=$c1 (see $dir/$name.log)"
    fi
  }
  coarse "rk4_dt$(rk4_dt "$c1")" --integrator rk4 --dt "$(rk4_dt "$c1")"
  for dt in "${dts[@]}"; do coarse "ifrk4_dt$dt" --integrator ifrk4 --dt "$dt"; done
  for seed in "${seeds[@]}"; do
    coarse "ifrk4_dt${dts[0]}_seed$seed" --integrator ifrk4 --dt "${dts[0]}" --seed "$seed"
  done
  labelList=$(IFS=,; echo "${labels[*]}")
  d closure report --dns "$work/dns_$c1.h5" --runs "${runs[@]}" --labels "$labelList" \
    --from "$from" --out "$dir/report" --json >"$dir/report.json" 2>"$dir/report.log" || log "FAILED: report c1=$c1"
done
