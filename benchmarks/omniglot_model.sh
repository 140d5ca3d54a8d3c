#!/usr/bin/env bash
# Trains one Omniglot model from a config and evaluates it on 600 fixed test episodes (seed 0,
# 15 queries per class) of the four standard settings, writing the raw `metalab eval --json`
# outputs, the learning curve, the metrics log and the resolved configuration to
# results/omniglot/NAME/ (eval_WAYSwSHOTSs.json, curve.png, metrics.jsonl, config.yaml; meta.json
# and README.md are written by hand). The tables of results/omniglot/README.md come from these files.
#
# Usage: METALAB_DATA=../shared/data bash benchmarks/omniglot_model.sh CONFIG NAME [RUNS_DIR] [THREADS] [SETTINGS]
#   SETTINGS: "WAYSxSHOTS ..." to evaluate (default "5x1 5x5 20x1 20x5"); a model with a
#   fixed head (MAML and relatives) is evaluated in its own training ways only.
# The committed figures were made with THREADS=1 pinned to one core (taskset -c 0 or 1) while
# the other core trained another model; a budget in the config becomes a step count after the
# first steps are timed, so another machine trains a different number of steps. Give
# --steps N (results/omniglot/README.md lists each model's N) to train the committed length anywhere.
set -euo pipefail
config=${1:?usage: omniglot_model.sh CONFIG NAME [RUNS_DIR] [THREADS] [SETTINGS]}
name=${2:?usage: omniglot_model.sh CONFIG NAME [RUNS_DIR] [THREADS] [SETTINGS]}
runs=${3:-runs}
threads=${4:-1}
settings=${5:-"5x1 5x5 20x1 20x5"}
run="$runs/$name"
out="results/omniglot/$name"
mkdir -p "$out"
if [ -f "$run/last.pt" ]; then   # an existing run is evaluated as it is (a killed one: metalab train --out RUN --resume)
  echo "omniglot_model.sh: $run exists; evaluating it without training" >&2
else
  metalab train --config "$config" --threads "$threads" --out "$run" --no-progress
fi
for setting in $settings; do
  ways=${setting%x*}; shots=${setting#*x}
  metalab eval "$run" --ways "$ways" --shots "$shots" --queries 15 --episodes 600 --seed 0 \
    --threads "$threads" --json > "$out/eval_${ways}w${shots}s.json"
done
cp "$run/curve.png" "$out/curve.png"
cp "$run/metrics.jsonl" "$out/metrics.jsonl"
cp "$run/config.yaml" "$out/config.yaml"
