#!/bin/bash
# Within-alphabet 20-way 1-shot evaluation of one trained run (Lake et al. 2015's task):
#   bash benchmarks/within_alphabet_eval.sh RUN NAME PART [EXTRA eval flags...]
# writes results/omniglot/within_alphabet/NAME_PART[_TAG].json, where TAG names the extra flags
# (tta4, ft10...). PART is val (the held-out background alphabets: choices are made there) or
# test (the evaluation alphabets: once per reported model).
set -euo pipefail
run=$1; name=$2; part=$3; shift 3
tag=$(echo "$*" | sed -e 's/--tta /tta/; s/--finetune /ft/; s/--finetune-lr /lr/; s/--finetune-copies /c/; s/--affine /a/; s/--episodes [0-9]*//; s/ \+/_/g; s/_$//; s/^_//')
out=results/omniglot/within_alphabet/${name}_${part}${tag:+_$tag}.json
start=$(date +%s)
metalab eval "$run" --split "$part" --within-alphabet --ways 20 --shots 1 --queries 1 --episodes 600 \
  --threads 1 --json "$@" > "$out.tmp"
python - "$out.tmp" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
path, seconds = sys.argv[1], int(sys.argv[2])
row = json.loads(open(path).read()); row["eval_seconds"] = seconds
open(path, "w").write(json.dumps(row) + "\n")
PY
mv "$out.tmp" "$out"
cat "$out"
