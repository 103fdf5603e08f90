#!/usr/bin/env bash
# EHW-C regime sweep (docs/ehwc.md). Per c1 (κ = 1, k0 = 0.15): the HW DNS at 512² with snapshots
# every 10 time units; coarse-graining by 8 to 64² over the stationary window; the a-priori
# least-squares closure (the EHW-C six) and an a-priori fitted ∇⁶ hyper-viscosity (one coefficient
# per equation); the a-posteriori tune of the EHW-C six (`closure tune`, started from the
# least-squares fit, EVALS candidate runs over [from, from + 400]); then 64² runs to the DNS's end
# time: EHW-C (least squares), EHW-C tuned (also at dt 0.05), bare (the DNS's ν), hyper-viscosity
# ν·8⁶ and ν·8⁶/10, and the fitted ∇⁶ one; finally `closure report` against the filtered DNS.
# The DNS runs first, one after the other, while the CPU coarse-grains the previous one; the tunes
# of all regimes then share the GPU (their wall-clock is not a measurement); the coarse runs follow
# one at a time on an idle GPU so their wall-clock against the DNS's is clean. A closure the runner
# refuses (anti-damping at the grid scale, dt) is recorded as FAILED with its log.
# Usage: bash bench/ehwc-sweep.sh OUTDIR [device] [c1 ...]   (default c1: 0.1 0.5 1 2 5)
# Smoke test at toy size: DNS_NX=64 T_END=20 FROM=10 TUNE_SPAN=10 EVALS=3 bash bench/ehwc-sweep.sh /tmp/s wasm 1
set -uo pipefail
out=${1:?usage: ehwc-sweep.sh OUTDIR [device] [c1 ...]}
device=${2:-webgpu}
shift $(($# >= 2 ? 2 : 1))
regimes=("$@")
[ ${#regimes[@]} -eq 0 ] && regimes=(0.1 0.5 1 2 5)
nx=${DNS_NX:-512}
tEnd=${T_END:-1000}
evals=${EVALS:-40}
tuneSpan=${TUNE_SPAN:-400}
work=${TMPDIR:-/tmp}/ehwc-sweep
mkdir -p "$out" "$work"
commands=$out/commands.txt
source "$(dirname "$0")/ehwc-common.sh"
# Coarse dt of the tune: c1 = 5's coupling limits RK4 at 64² to dt < 0.0123.
tune_dt() { case $1 in 5) echo 0.01 ;; *) echo 0.025 ;; esac; }
stats_from() {
  [ -n "${FROM:-}" ] && echo "$FROM" && return
  stationary_from "$1"
}

coarse_grain() {
  local c1=$1 dir=$out/c1_$1 from
  from=$(stats_from "$c1")
  d closure prepare --dns "$work/dns_$c1.h5" --factor 8 --from "$from" --out "$work/coarse_$c1.h5" \
    --json >"$dir/prepare.json" 2>"$dir/prepare.log"
  d closure fit --data "$work/coarse_$c1.h5" --method lstsq --out "$dir/closure" --json >"$dir/fit.json"
  d closure fit --data "$work/coarse_$c1.h5" --method lstsq --terms n:n:3,omega:omega:3 \
    --out "$dir/hyperfit" --json >"$dir/fit_hyper.json"
}

pids=()
for c1 in "${regimes[@]}"; do
  dir=$out/c1_$c1
  mkdir -p "$dir"
  d hw run --nx "$nx" --c1 "$c1" --nu 5e-8 --dt "$(dns_dt "$c1")" --t-end "$tEnd" \
    --stats-from "$(stats_from "$c1")" --save-every 10 --device "$device" --out "$work/dns_$c1.h5" \
    --json >"$dir/dns.json" 2>"$dir/dns.log" || log "FAILED: DNS c1=$c1"
  coarse_grain "$c1" &
  pids+=($!)
done
wait "${pids[@]}"

for c1 in "${regimes[@]}"; do
  dir=$out/c1_$c1
  from=$(stats_from "$c1")
  d closure tune --closure "$dir/closure" --dns "$work/dns_$c1.h5" --from "$from" --dt "$(tune_dt "$c1")" \
    --t-end "$((from + tuneSpan))" --evaluations "$evals" --device "$device" \
    --out "$dir/tuned" --json >"$dir/tune.json" 2>"$dir/tune.log" || log "FAILED: tune c1=$c1" &
done
wait

# A coarse run to the DNS's end time at dt 0.025 (or $DTS), retried at dt 0.01 if it is refused or
# blows up (each attempt keeps its log). Succeeds (status 0) when the run file is complete.
run64() {
  local dir=$1 name=$2 from=$3
  shift 3
  for dt in ${DTS:-0.025 0.01}; do
    d "$@" --dt "$dt" --t-end "$tEnd" --stats-from "$from" --save-every 10 --device "$device" \
      --out "$work/$(basename "$dir")_$name.h5" --json >"$dir/$name.json" 2>"$dir/$name.dt$dt.log" && return 0
  done
  log "FAILED: $name in $dir (see $name.dt*.log)"
  return 1
}
for c1 in "${regimes[@]}"; do
  dir=$out/c1_$c1
  from=$(stats_from "$c1")
  runs=() labels=()
  add() {
    run64 "$dir" "$1" "$from" "${@:2}" && runs+=("$work/c1_${c1}_$1.h5") && labels+=("$1")
  }
  add ehwc closure run --closure "$dir/closure"
  add tuned closure run --closure "$dir/tuned"
  DTS=0.05 add tuned_dt0.05 closure run --closure "$dir/tuned"
  add bare hw run --nx $((nx / 8)) --c1 "$c1" --nu 5e-8
  add hyper hw run --nx $((nx / 8)) --c1 "$c1" --nu 0.0131072
  add hyper_0.1 hw run --nx $((nx / 8)) --c1 "$c1" --nu 0.00131072
  add hyperfit closure run --closure "$dir/hyperfit"
  labelList=$(IFS=,; echo "${labels[*]}")
  d closure report --dns "$work/dns_$c1.h5" --runs "${runs[@]}" --labels "$labelList" \
    --from "$from" --out "$dir/report" --json >"$dir/report.json" 2>"$dir/report.log" &
done
wait
