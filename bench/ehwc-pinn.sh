#!/usr/bin/env bash
# The physics-informed EHW-C closure on the H100 (docs/ehwc.md, "Physics-informed network"), in two
# device calls. Data: per-regime training files made by `closure fit --method pinn --steps 0` from
# bench/ehwc-pinn-data.sh's coarse files (DATA/r_<c1>.safetensors).
#   fit:  three fits side by side: `all` (the five regimes; residual + 10x rollout loss), `roll`
#         (the five regimes; rollout loss alone after the residual pre-training) and `loo` (`all`'s
#         settings without c1 = 1, to test the network between regimes).
#   eval: per c1, the sweep's DNS (same command and seed as bench/ehwc-sweep.sh), 64² runs to
#         t = 1000 with each fit's closure (loo only at c1 = 1, from its network), and
#         `closure report` against the filtered DNS.
# Usage: bash bench/ehwc-pinn.sh fit DATA OUTDIR [device]
#        bash bench/ehwc-pinn.sh eval FITS OUTDIR [device] [c1 ...]
set -uo pipefail
mode=${1:?usage: ehwc-pinn.sh fit|eval ...}
in=${2:?}
out=${3:?}
device=${4:-webgpu}
shift $(($# >= 4 ? 4 : 3))
regimes=("$@")
[ ${#regimes[@]} -eq 0 ] && regimes=(0.1 0.5 1 2 5)
steps=${STEPS:-120}
work=${TMPDIR:-/tmp}/ehwc-pinn
mkdir -p "$out" "$work"
commands=$out/commands.txt
source "$(dirname "$0")/ehwc-common.sh"

if [ "$mode" = fit ]; then
  common=(--pretrain-steps 1500 --steps "$steps" --batch 16 --horizon 2 --device "$device")
  d closure fit --method pinn --data "$in"/r_{0.1,0.5,1,2,5}.safetensors "${common[@]}" \
    --rollout-weight 10 --out "$out/all" >"$out/all.log" 2>&1 &
  d closure fit --method pinn --data "$in"/r_{0.1,0.5,1,2,5}.safetensors "${common[@]}" \
    --residual-weight 0 --out "$out/roll" >"$out/roll.log" 2>&1 &
  d closure fit --method pinn --data "$in"/r_{0.1,0.5,2,5}.safetensors "${common[@]}" \
    --rollout-weight 10 --out "$out/loo" >"$out/loo.log" 2>&1 &
  wait
  exit 0
fi

coarse_dt() { case $1 in 5) echo 0.01 ;; *) echo 0.025 ;; esac; }
for c1 in "${regimes[@]}"; do
  dir=$out/c1_$c1
  mkdir -p "$dir"
  from=$(stationary_from "$c1")
  d hw run --nx 512 --c1 "$c1" --nu 5e-8 --dt "$(dns_dt "$c1")" --t-end 1000 --stats-from "$from" \
    --save-every 10 --device "$device" --out "$work/dns_$c1.h5" --json >"$dir/dns.json" 2>"$dir/dns.log"
  runs=() labels=()
  for fit in all roll; do
    d closure run --closure "$in/$fit/c1_$c1" --dt "$(coarse_dt "$c1")" --t-end 1000 \
      --stats-from "$from" --save-every 10 --device "$device" --out "$work/${fit}_$c1.h5" \
      --json >"$dir/pinn_$fit.json" 2>"$dir/pinn_$fit.log" &&
      runs+=("$work/${fit}_$c1.h5") && labels+=("pinn_$fit")
  done
  if [ "$c1" = 1 ]; then
    d closure run --closure "$in/loo" --c1 1 --dt 0.025 --t-end 1000 --stats-from "$from" \
      --save-every 10 --device "$device" --out "$work/loo_$c1.h5" --json >"$dir/pinn_loo.json" \
      2>"$dir/pinn_loo.log" && runs+=("$work/loo_$c1.h5") && labels+=("pinn_loo")
  fi
  labelList=$(IFS=,; echo "${labels[*]}")
  d closure report --dns "$work/dns_$c1.h5" --runs "${runs[@]}" --labels "$labelList" \
    --from "$from" --out "$dir/report" --json >"$dir/report.json" 2>"$dir/report.log" &
done
wait
