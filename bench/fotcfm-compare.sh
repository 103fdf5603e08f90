#!/usr/bin/env bash
# FOT-CFM against its two baselines on three systems, on one GPU (issue 6):
#   bash bench/fotcfm-compare.sh WORK OUT STAGE [SYSTEM...]
# SYSTEMS: ns (FNO forcing, nu 1e-4, drag 0.01: at drag 0.1 the flow settles to a steady state),
# kolmogorov (n = 4, Re 1000, drag 0.1), hw (c1 = 1,
# n and omega), each a 256² DNS giving stationary snapshots at 64/128/256 (last 20% held out).
# STAGE data:  DNS and dataset of each SYSTEM.
# STAGE train: the three models of every SYSTEM, all at once on the GPU (64², width 64, 16 modes,
#              4 layers, batch BATCH (default 32), STEPS steps): ot (FOT-CFM), independent (functional flow
#              matching with random pairs), ddpm (grid diffusion, same FNO); each call trains at
#              most CHUNK more steps per model and resumes, so repeat it until all are finished
#              (a call killed by a time limit loses at most the 100 steps since the last save).
# STAGE eval:  samples (flow models: RK4 and Euler at 8 NFE, OT also at 128² and 256²; DDPM: DDIM
#              at 8, 32 and 128 NFE) and `flow eval` side by side, into OUT/SYSTEM/.
# STAGE samplers: the flow models (not ddpm) sampled at 8 NFE with every fixed-step method on the
#              uniform, cosine and late time grids, and with RK4 at 32 and 128 NFE (the converged ODE solution, which
#              separates the model's error from the sampler's), evaluated side by side into
#              OUT/SYSTEM/samplers-MODEL/.
# MODELS (default "ot independent ddpm") limits the train and eval stages to some of the models;
# A -fit suffix trains with the noise measure fitted to the data (--noise-fit), a -film suffix with
# the per-layer FiLM time modulation (--time-features 8); both may be combined (ot-fit-film).
# Every model whose name starts with ot is also sampled at 128² and 256² by the eval stage.
# WORK keeps runs and models between calls (an ignored folder); commands go to OUT/commands.txt.
set -euo pipefail
work=$1; out=$2; stage=$3; shift 3
read -r -a systems <<<"${*:-ns kolmogorov hw}"
mkdir -p "$work" "$out"
commands=$out/commands.txt
d() { echo "driftflow $*" >>"$commands"; npx tsx src/cli/main.ts "$@"; }
steps=${STEPS:-3000}
chunk=${CHUNK:-1000}
read -r -a models <<<"${MODELS:-ot independent ddpm}"
has() { [[ " ${models[*]} " == *" $1 "* ]]; }
fields() { [ "$1" = hw ] && echo n,omega || echo omega; }
sample() { # system model nx method nfe count name json [time-grid]: samples into WORK/system-name.h5
  d flow sample --model "$work/$1-$2/fno.safetensors" --nx "$3" --method "$4" --nfe "$5" \
    ${9:+--time-grid "$9"} --n "$6" --batch 32 --device webgpu --out "$work/$1-$7.h5" --json >"$8"
}

dns() {
  case $1 in
    ns) d ns run --case fno --nx 256 --nu 1e-4 --drag 0.01 --dt 0.001 --t-end 600 --save-every 1 \
          --stats-from 200 --device webgpu --out "$work/ns.h5" --json ;;
    kolmogorov) d ns run --case kolmogorov --nx 256 --re 1000 --drag 0.1 --dt 0.002 --t-end 450 \
          --save-every 1 --stats-from 50 --device webgpu --out "$work/kolmogorov.h5" --json ;;
    hw) d hw run --nx 256 --c1 1 --kappa 1 --k0 0.15 --nu 3.2e-6 --dt 0.02 --t-end 1300 \
          --save-every 2.5 --stats-from 300 --device webgpu --out "$work/hw.h5" --json ;;
  esac
}
from() { case $1 in ns) echo 200 ;; hw) echo 300 ;; *) echo 50 ;; esac; }

if [ "$stage" = data ]; then
  for s in "${systems[@]}"; do
    dns "$s" >"$out/$s-run.json"
    d flow dataset --runs "$work/$s.h5" --fields "$(fields "$s")" --sizes 64,128,256 \
      --from "$(from "$s")" --held-out 0.2 --out "$work/$s-data.h5" --json >"$out/$s-dataset.json"
  done
elif [ "$stage" = train ]; then
  pids=()
  for s in "${systems[@]}"; do
    for m in "${models[@]}"; do
      [ -f "$work/$s-$m/fno.safetensors" ] && continue
      case $m in
        ddpm) pairing=(--objective ddpm) ;;
        *) pairing=(--coupling "${m%%-*}") ;;
      esac
      [[ $m == *-fit* ]] && pairing+=(--noise-fit)
      [[ $m == *-film* ]] && pairing+=(--time-features 8)
      resume=(); [ -d "$work/$s-$m/training" ] && resume=(--resume)
      d flow train --data "$work/$s-data.h5" --size 64 --out "$work/$s-$m" "${pairing[@]}" \
        --width 64 --modes 16 --layers 4 --batch "${BATCH:-32}" --steps "$steps" --lr 1e-3 --ema 0.999 \
        --checkpoint-every 100 --max-steps-this-run "$chunk" "${resume[@]}" --device webgpu --json \
        >"$out/train-$s-$m.json" 2>"$work/train-$s-$m.log" &
      pids+=($!)
    done
  done
  status=0
  for p in "${pids[@]}"; do wait "$p" || status=1; done
  cat "$out"/train-*.json
  exit $status
elif [ "$stage" = samplers ]; then
  for s in "${systems[@]}"; do
    for m in "${models[@]}"; do
      [ "$m" = ddpm ] && continue
      mkdir -p "$out/$s/samplers-$m"
      labels=(); files=()
      run() { # label count method nfe grid
        sample "$s" "$m" 64 "$3" "$4" "$2" "$m-$1" "$out/$s/samplers-$m/sample-$1.json" "$5"
        labels+=("$1"); files+=("$work/$s-$m-$1.h5")
      }
      for grid in uniform cosine late; do
        for method in euler midpoint rk4; do run "$method-8-$grid" 128 "$method" 8 "$grid"; done
      done
      run rk4-32-uniform 64 rk4 32 uniform
      run rk4-128-uniform 64 rk4 128 uniform
      d flow eval --samples "${files[@]}" --labels "${labels[@]}" --data "$work/$s-data.h5" \
        --max-shell 16 --out "$out/$s/samplers-$m/eval" --json >"$out/$s/samplers-$m.json"
    done
  done
else
  for s in "${systems[@]}"; do
    mkdir -p "$out/$s"
    labels=(); files=()
    for m in "${models[@]}"; do
      [ "$m" = ddpm ] && continue
      for method in rk4 euler; do
        sample "$s" "$m" 64 "$method" 8 128 "$m-$method-8" "$out/$s/sample-$m-$method-8.json"
        labels+=("$m-$method-8"); files+=("$work/$s-$m-$method-8.h5")
      done
    done
    for nfe in 8 32 128; do
      has ddpm || break
      sample "$s" ddpm 64 ddim "$nfe" 128 "ddpm-ddim-$nfe" "$out/$s/sample-ddpm-ddim-$nfe.json"
      labels+=("ddpm-ddim-$nfe"); files+=("$work/$s-ddpm-ddim-$nfe.h5")
    done
    d flow eval --samples "${files[@]}" --labels "${labels[@]}" --data "$work/$s-data.h5" \
      --max-shell 16 --out "$out/$s/eval-64" --json >"$out/$s/eval-64.json"
    for nx in 128 256; do
      for m in "${models[@]}"; do
        [[ $m == ot* ]] || continue
        sample "$s" "$m" "$nx" rk4 8 64 "$m-rk4-8-$nx" "$out/$s/sample-$m-rk4-8-$nx.json"
        d flow eval --samples "$work/$s-$m-rk4-8-$nx.h5" --labels "$m-rk4-8" \
          --data "$work/$s-data.h5" --max-shell 16 --out "$out/$s/eval-$m-$nx" \
          --json >"$out/$s/eval-$m-$nx.json"
      done
    done
    for m in "${models[@]}"; do cp "$work/$s-$m/training/loss.png" "$out/$s/loss-$m.png"; done
  done
fi
