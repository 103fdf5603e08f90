#!/usr/bin/env bash
# Shared by the EHW-C bench scripts (ehwc-sweep.sh, ehwc-pinn-data.sh, ehwc-pinn.sh), sourced:
# the command log (every driftflow command appended to $commands, set by the caller) and the
# per-regime DNS settings of the c1 sweep (κ = 1, k0 = 0.15, ν = 5e-8, 512²).
log() {
  echo "$*" >>"$commands"
  echo "$*" >&2
}
d() { log "== driftflow $*"; npm run -s driftflow -- "$@"; }
# DNS dt per c1 (advective limit of the spectral scheme at 512²).
dns_dt() { case $1 in 0.1) echo 0.004 ;; 0.5) echo 0.008 ;; *) echo 0.01 ;; esac; }
# Start of the statistically stationary window per c1.
stationary_from() { case $1 in 0.1 | 0.5) echo 200 ;; 5) echo 800 ;; *) echo 300 ;; esac; }
