#!/usr/bin/env bash
# Reproduces the ProtoNet rows of results/omniglot/README.md: the 1-shot and the 5-shot model
# (30-minute budgets, configs/protonet_omniglot_{1,5}shot.yaml), each evaluated on 600 fixed
# test episodes (seed 0, 15 queries per class) of the four standard settings.
#
# Usage: METALAB_DATA=../shared/data bash benchmarks/protonet_omniglot.sh [RUNS_DIR] [THREADS]
# The committed figures were made with THREADS=1 pinned to one core (taskset -c 0) while the
# other core ran other work; with 2 free cores the same budget buys more steps. For the exact
# committed models, replace --budget by the step counts results/omniglot/README.md gives (--steps N).
set -euo pipefail
here=$(dirname "$0")
for shots in 1 5; do
  bash "$here/omniglot_model.sh" "configs/protonet_omniglot_${shots}shot.yaml" "protonet_${shots}shot" "${1:-runs}" "${2:-1}"
done
