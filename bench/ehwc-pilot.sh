#!/usr/bin/env bash
# EHW-C pilot (docs/ehwc.md): HW c1 = 1 DNS at 512² with snapshots over t ∈ [300, 1000], coarse-
# grained by 8 to 64², the a-priori least-squares closure fitted to it, and three 64² runs to the
# same physical time: with the closure, bare (the DNS's ν = 5e-8) and with hyper-viscosity scaled to
# the coarse grid (ν·8⁶). Each run's JSON summary (time averages over t >= 300) lands in OUTDIR.
# Usage: bash bench/ehwc-pilot.sh OUTDIR [device]
set -euo pipefail
out=${1:?usage: ehwc-pilot.sh OUTDIR [device]}
device=${2:-webgpu}
work=${TMPDIR:-/tmp}/ehwc-pilot
mkdir -p "$out" "$work"
d() { echo "== driftflow $*" | tee -a "$out/commands.txt"; npm run -s driftflow -- "$@"; }
d hw run --nx 512 --c1 1 --nu 5e-8 --dt 0.01 --t-end 1000 --stats-from 300 --save-every 25 \
  --device "$device" --out "$work/dns.h5" --json >"$out/dns.json" 2>"$out/dns.log"
d closure prepare --dns "$work/dns.h5" --factor 8 --from 300 --out "$work/coarse.h5" --json >"$out/prepare.json"
d closure fit --data "$work/coarse.h5" --method lstsq --out "$out/closure" --json >"$out/fit.json"
run64() {
  local name=$1
  shift
  d "$@" --dt 0.025 --t-end 1000 --stats-from 300 --save-every 0 --device "$device" --json \
    >"$out/$name.json" 2>"$out/$name.log" || echo "FAILED: $name (see $name.log)" | tee -a "$out/commands.txt"
}
run64 ehwc closure run --closure "$out/closure"
run64 bare hw run --nx 64 --c1 1 --nu 5e-8
run64 hyper hw run --nx 64 --c1 1 --nu 0.0131072
