#!/bin/bash
# Each learner trained with its defaults alone for 3 minutes (Omniglot 5-way 1-shot, vinyals
# split, one thread), then evaluated on 600 fixed test episodes:
#   bash benchmarks/defaults_3min.sh [ALGORITHM...]     (default: all ten)
# writes runs/defaults_3min/ALGORITHM (the run) and results/omniglot/defaults_3min/eval_ALGORITHM.json
# (with the run's steps and training seconds). Pin it to one core: taskset -c 1 bash benchmarks/...
# A probe of other settings: LABEL:ALGORITHM:KEY=VALUE,--FLAG=VALUE (learner options passed as
# --set KEY=VALUE, training flags as they are, e.g. maml_lslr:maml:learned_lrs=true,--meta-batch=2)
# writes runs/defaults_3min/LABEL and eval_LABEL.json. SPLIT=val scores on 600 validation episodes
# instead (eval_LABEL_val.json), to choose settings without looking at the test characters.
set -euo pipefail
export OMP_NUM_THREADS=1
algorithms=("$@")
[ ${#algorithms[@]} -eq 0 ] && algorithms=(reptile fomaml matching taml maml metasgd relation anil protonet siamese)
out=results/omniglot/defaults_3min
split=${SPLIT:-test}
suffix=""
[ "$split" = test ] || suffix="_$split"
mkdir -p "$out" runs/defaults_3min
for spec in "${algorithms[@]}"; do
  IFS=: read -r a algorithm settings <<< "$spec"
  algorithm=${algorithm:-$a}
  sets=()
  if [ -n "${settings:-}" ]; then
    IFS=, read -ra pairs <<< "$settings"
    for pair in "${pairs[@]}"; do
      if [[ $pair == --* ]]; then sets+=("$pair"); else sets+=(--set "$pair"); fi
    done
  fi
  run=runs/defaults_3min/$a
  rm -rf "$run"
  metalab train --algorithm "$algorithm" --dataset omniglot --ways 5 --shots 1 --budget 3m --threads 1 --out "$run" --no-progress ${sets[@]+"${sets[@]}"}
  metalab eval "$run" --split "$split" --ways 5 --shots 1 --episodes 600 --threads 1 --json > "$out/eval_$a$suffix.json.tmp"
  python - "$out/eval_$a$suffix.json.tmp" "$run" <<'PY'
import json, sys, yaml
path, run = sys.argv[1:]
row = json.loads(open(path).read())
log = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
config = yaml.safe_load(open(f"{run}/config.yaml"))["config"]
row["training"] = {"steps": max(r["step"] for r in log), "seconds": max(r.get("time", 0) for r in log),
                   **{k: config[k] for k in ("queries", "meta_batch", "lr", "learner")}}
open(path, "w").write(json.dumps(row) + "\n")
PY
  mv "$out/eval_$a$suffix.json.tmp" "$out/eval_$a$suffix.json"
  cat "$out/eval_$a$suffix.json"
done
