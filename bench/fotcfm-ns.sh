#!/usr/bin/env bash
# FOT-CFM on 2-D Navier-Stokes with the FNO forcing (nu 1e-4), end to end on one GPU:
#   bash bench/fotcfm-ns.sh WORK OUT STAGE
# STAGE "data-train": DNS at 256², dataset at 64/128/256, training (stops after MAX_STEPS this run)
# STAGE "finish": resume training to the end, sample at 64/128/256 (RK4, 8 NFE), evaluate.
# WORK keeps the run between calls (an ignored folder); OUT receives the reports.
# Env: STEPS (training steps, 3000), MAX_STEPS (steps in the first call), NOISE_TAU / NOISE_ALPHA
# (noise measure, 3 / 2).
set -euo pipefail
work=$1; out=$2; stage=$3
df() { npx tsx src/cli/main.ts "$@"; }
mkdir -p "$work" "$out"
steps=${STEPS:-3000}
train() {
  df flow train --data "$work/ns-data.h5" --size 64 --out "$work/fot-ns" --coupling ot \
    --width 64 --modes 16 --layers 4 --batch 32 --steps "$steps" --lr 1e-3 --ema 0.999 \
    --noise-tau "${NOISE_TAU:-3}" --noise-alpha "${NOISE_ALPHA:-2}" \
    --checkpoint-every 250 --device webgpu --json "$@"
}
if [ "$stage" = data-train ]; then
  df ns run --case fno --nx 256 --nu 1e-4 --dt 0.001 --t-end 120 --save-every 0.5 --device webgpu --out "$work/ns.h5" --json > "$out/ns-run.json"
  df flow dataset --runs "$work/ns.h5" --fields omega --sizes 64,128,256 --from 20 --held-out 0.2 --out "$work/ns-data.h5" --json > "$out/ns-dataset.json"
  train --max-steps-this-run "${MAX_STEPS:-1500}" --resume > "$out/train-1.json"
else
  train --resume > "$out/train.json"
  cp "$work/fot-ns/training/loss.png" "$out/loss.png"
  for n in 64 128 256; do
    df flow sample --model "$work/fot-ns/fno.safetensors" --nx $n --n 64 --method rk4 --nfe 8 --device webgpu --out "$work/samples-$n.h5" --json > "$work/sample-$n.json"
    df flow eval --samples "$work/samples-$n.h5" --data "$work/ns-data.h5" --max-shell $((64 / 4)) --out "$work/eval-$n" --json > "$work/eval-$n.json"
  done
  python3 - "$work" > "$out/summary.json" <<'PY'
import json, sys
w = sys.argv[1]
summary = {}
for n in (64, 128, 256):
    report = json.load(open(f"{w}/eval-{n}.json"))
    channel = report["runs"][0]["channels"][0]
    summary[n] = {
        "sample": json.load(open(f"{w}/sample-{n}.json")),
        "eval": {k: report[k] for k in ("split", "size", "refCount", "maxShell")}
        | {"errors": {k: v for k, v in channel["errors"].items() if k != "spectrum"},
           "stats": channel["stats"], "reference_stats": report["reference"][0]["stats"],
           "spectrum": channel["spectrum"]},
    }
print(json.dumps(summary, indent=1))
PY
  cp "$work/eval-64/spectrum-0.png" "$out/spectrum-64.png"
  cp "$work/eval-256/spectrum-0.png" "$out/spectrum-256.png"
fi
