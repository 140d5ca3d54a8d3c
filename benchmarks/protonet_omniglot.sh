#!/usr/bin/env bash
# Reproduces the ProtoNet rows of results/omniglot.md: the 1-shot and the 5-shot model
# (30-minute budgets, configs/protonet_omniglot_{1,5}shot.yaml), each evaluated on 600 fixed
# test episodes (seed 0, 15 queries per class) of the four standard settings.
#
# Usage: METALAB_DATA=../shared/data bash benchmarks/protonet_omniglot.sh [RUNS_DIR] [THREADS]
# The committed figures were made with THREADS=1 pinned to one core (taskset -c 0) while the
# other core ran other work; with 2 free cores the same budget buys more steps. For the exact
# committed models, replace --budget by the step counts results/omniglot.md gives (--steps N).
set -euo pipefail
runs=${1:-runs}
threads=${2:-1}
mkdir -p results/omniglot
for shots in 1 5; do
  run="$runs/protonet-${shots}shot"
  metalab train --config "configs/protonet_omniglot_${shots}shot.yaml" --threads "$threads" --out "$run" --no-progress
  for setting in "5 1" "5 5" "20 1" "20 5"; do
    set -- $setting
    metalab eval "$run" --ways "$1" --shots "$2" --queries 15 --episodes 600 --seed 0 --json \
      > "results/omniglot/protonet_${shots}shot_model_${1}w${2}s.json"
  done
  cp "$run/curve.png" "results/omniglot/protonet_${shots}shot_curve.png"
  cp "$run/metrics.jsonl" "results/omniglot/protonet_${shots}shot_metrics.jsonl"
  cp "$run/config.yaml" "results/omniglot/protonet_${shots}shot_config.yaml"
done
