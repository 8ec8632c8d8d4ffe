#!/usr/bin/env bash
# Plasticity study (issues 5, 10): standard (K = 0) vs active-forgetting pretraining, four-stage
# zero-shot transfer. Reproduces the runs recorded in docs/benchmarks.md with one command:
#
#   benchmarks/plasticity.sh [real|synthetic|synthetic-long|all] [--quick]
#
# real:      ../shared/data (raw/en, glue_pools/MNLI, raw/<lang> + xnli/dev for ar de es hi ru sw th vi zh),
#            standard and forgetting trained in two parallel single-thread processes sharing a model
#            cache, then a third process that only loads the cache, tabulates and plots.
# synthetic: the built-in testbed, seeds 1 2 3 (mean ± std).
# synthetic-long: the same with 5x the pretraining (3000 updates) and K = 100 (30 episodes, K = 3.3 % of
#            the run): does forgetting help once the body has converged and K is a small fraction of T?
# --quick:   the same pipeline at toy sizes (a few minutes; direction of results not meaningful).
#
# Environment: DATA (default ../shared/data), RUNS (model cache, default /work/runs/xnli; a rerun with
# the same options reuses every cached model), OUT (tables/CSVs, default out/plasticity),
# PLOTS (PNGs, default docs/img). Single-thread torch per process (MLNF_TORCH_THREADS=1) because the
# 2-core machine is shared; nice 10 so builds and tests stay responsive.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}; quick=${2:-}
DATA=${DATA:-../shared/data}
RUNS=${RUNS:-/work/runs/xnli}
OUT=${OUT:-out/plasticity}
PLOTS=${PLOTS:-docs/img}
export MLNF_TORCH_THREADS=1 OMP_NUM_THREADS=1

# The shared machines serialise builds through a lock file; SKIP_BUILD=1 reuses the current build.
if [[ -z "${SKIP_BUILD:-}" ]]; then
  if [[ -e /tmp/mlnf-build.lock ]]; then flock /tmp/mlnf-build.lock dotnet build -c Release examples/ZeroShotXnli >/dev/null
  else dotnet build -c Release examples/ZeroShotXnli >/dev/null; fi
fi
exe="nice -n 10 dotnet examples/ZeroShotXnli/bin/Release/net10.0/ZeroShotXnli.dll"

if [[ "$quick" == "--quick" ]]; then
  real=(--data "$DATA" --preset Small --hidden 64 --layers 2 --max-length 64 --vocab 1000 --target-vocab 1000
        --steps 60 --k 20 --lines 2000 --train-examples 1000 --task-epochs 1 --dev-examples 200 --corpus-lines 2000
        --budgets 5000,20000 --curve-examples 100 --curve-points 3)
  synth=(--seeds 1,2,3 --languages xa,xb --steps 200 --k 50 --task-epochs 1 --train-examples 1000 --relearn-steps 100
         --dev-examples 200 --curve-points 4)
  suffix=-quick
else
  # 500 pretraining updates, K = 100: five episodes (the paper's K = 1000 of 125k updates gives 125;
  # a K in proportion to our 500 updates would be 4, too short for the fresh embeddings to be relearned
  # before the next reset, and the English embeddings the task stage freezes are the last episode's).
  # Relearning budgets 20k and 100k tokens (not 100k and 1M), a 2-layer width-128 body, corpora capped
  # at 2000 lines and one MNLI epoch: the compute plan for ~1 hour on a shared 2-core machine where each
  # process got 15-50% of a core (docs/benchmarks.md).
  real=(--data "$DATA" --preset Small --hidden 128 --layers 2 --max-length 64 --vocab 4000 --target-vocab 4000
        --steps 500 --k 100 --lines 16000 --train-examples 9000 --task-epochs 1 --dev-examples 1000 --corpus-lines 2000
        --budgets 20000,100000 --curve-examples 150 --curve-points 5)
  # Two of the four derived languages, 600 pretraining updates (K = 50: twelve episodes), 250 relearning
  # updates: the testbed defaults (1000/1000 updates, eight task epochs, four languages) take ~35 min per
  # model and seed on a shared core.
  synth=(--seeds 1,2,3 --languages xa,xb --steps 600 --k 50 --task-epochs 2 --train-examples 3000 --relearn-steps 250
         --dev-examples 500 --curve-points 5)
  suffix=
fi
long=(--seeds 1,2,3 --languages xa,xb --steps 3000 --k 100 --task-epochs 2 --train-examples 3000 --relearn-steps 250
      --dev-examples 500 --curve-points 5)

if [[ "$what" == real || "$what" == all ]]; then
  mkdir -p "$OUT/real$suffix"
  $exe "${real[@]}" --runs "$RUNS$suffix" --models standard --output "$OUT/real$suffix/standard" --plots "$OUT/real$suffix/standard" > "$OUT/real$suffix/standard.log" 2>&1 &
  p1=$!
  $exe "${real[@]}" --runs "$RUNS$suffix" --models forgetting --output "$OUT/real$suffix/forgetting" --plots "$OUT/real$suffix/forgetting" > "$OUT/real$suffix/forgetting.log" 2>&1 &
  p2=$!
  wait $p1; wait $p2
  $exe "${real[@]}" --runs "$RUNS$suffix" --models both --output "$OUT/real$suffix" --plots "$PLOTS" --plot-prefix "plasticity-real$suffix" | tee "$OUT/real$suffix/both.log"
fi
if [[ "$what" == synthetic-long ]]; then
  mkdir -p "$OUT/synthetic-long"
  $exe "${long[@]}" --runs "$RUNS-synthetic-long" --output "$OUT/synthetic-long" --plots "$PLOTS" --plot-prefix "plasticity-synthetic-long" | tee "$OUT/synthetic-long/run.log"
fi
if [[ "$what" == synthetic || "$what" == all ]]; then
  mkdir -p "$OUT/synthetic$suffix"
  $exe "${synth[@]}" --runs "$RUNS-synthetic$suffix" --output "$OUT/synthetic$suffix" --plots "$PLOTS" --plot-prefix "plasticity-synthetic$suffix" | tee "$OUT/synthetic$suffix/run.log"
fi
