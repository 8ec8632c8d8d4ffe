#!/usr/bin/env bash
# Reruns every benchmark of docs/benchmarks.md (issue 10) and appends to benchmarks/results/results.jsonl.
#
#   benchmarks/run-all.sh [--quick]
#
# --quick: every verb at small sizes, the real-data plasticity and few-shot harnesses in their quick
#          modes, and the long synthetic plasticity comparison; about 12 minutes on 2 idle cores.
#          It reproduces the direction of each claim (ours vs PyTorch, MKL shim vs default, Transform
#          vs raw, forgetting vs standard), not the exact figures.
# Full mode: the sizes recorded in docs/benchmarks.md (the plasticity study alone takes hours).
# Environment: DATA (default ../shared/data), RESULTS (default benchmarks/results/results.jsonl),
#              SKIP_BUILD=1 to reuse the current Release build, VS_PYTORCH_ARGS extra vs-pytorch options.
# Timing runs are not niced: each comparison alternates its configurations in one run, so the ratios
# hold on a shared machine; the absolute numbers move with the load.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""; [[ "${1:-}" == "--quick" ]] && quick=1
DATA=${DATA:-../shared/data}
RESULTS=${RESULTS:-benchmarks/results/results.jsonl}
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
  step build
  # The shared machines serialise builds through a lock file; elsewhere build directly.
  lock=(); [[ -e /tmp/mlnf-build.lock ]] && lock=(flock /tmp/mlnf-build.lock)
  "${lock[@]}" dotnet build -c Release benchmarks/MLNetForgetting.Benchmarks >/dev/null
  if [[ -d examples/FewShotList && ! -x benchmarks/fewshot.sh && ! -x benchmarks/list.sh ]]; then
    "${lock[@]}" dotnet build -c Release examples/FewShotList >/dev/null
  fi
fi
bench() { dotnet benchmarks/MLNetForgetting.Benchmarks/bin/Release/net10.0/MLNetForgetting.Benchmarks.dll "$@" --results "$RESULTS"; }
verbs=$( (dotnet benchmarks/MLNetForgetting.Benchmarks/bin/Release/net10.0/MLNetForgetting.Benchmarks.dll 2>&1 || true) | sed -n 's/.*verbs: //p' | tr -d ',') 
has() { [[ " $verbs " == *" $1 "* ]]; }

# The PyTorch peer wants python3-torch and Debian's OpenBLAS (python3-torch links the reference BLAS,
# ~10x slower); install them when we may (root), otherwise the peer runs on what is there.
if [[ $(id -u) == 0 ]] && ! { /usr/bin/python3 -c 'import torch' 2>/dev/null && [[ -d /usr/lib/x86_64-linux-gnu/openblas-pthread ]]; }; then
  step "install python3-torch and libopenblas0-pthread"
  # A fresh machine has no package lists yet ("Unable to locate package" without the update).
  apt-get update -qq && apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread >/dev/null
fi

step tokenizer
if [[ $quick ]]; then bench tokenizer --data "$DATA/raw/en" --max-mb 1 --vocab 8000 --runs 2
else bench tokenizer --data "$DATA/raw/en" --max-mb 5 --vocab 8000 --runs 5; fi

step "vs-pytorch (training and inference throughput, MKL shim, matmul peak)"
# Exit 2 = vs-pytorch refused an unfair peer (reference BLAS, old OpenBLAS kernels, a far slower matmul) and said
# why on one line; the other benchmarks still run. VS_PYTORCH_ARGS adds options (e.g. --configs ours,ours-mkl,peer-skx).
vs_status=0
if [[ $quick ]]; then bench vs-pytorch --data "$DATA/raw/en" --rounds 3 --train-steps 2 --infer-steps 1 --warmup 1 ${VS_PYTORCH_ARGS:-} || vs_status=$?
else bench vs-pytorch --data "$DATA/raw/en" --rounds 8 --train-steps 3 --infer-steps 2 --warmup 2 ${VS_PYTORCH_ARGS:-} || vs_status=$?; fi
if [[ $vs_status == 2 ]]; then echo "vs-pytorch: no comparison recorded (peer refused, see above)"; elif [[ $vs_status != 0 ]]; then exit "$vs_status"; fi

step mlnet-overhead
if [[ $quick ]]; then bench mlnet-overhead --data "$DATA/raw/en" --preset small --sentences 192 --rounds 3
else bench mlnet-overhead --data "$DATA/raw/en" --preset small --sentences 1000 --rounds 5; fi

step forgetting-overhead
if [[ $quick ]]; then bench forgetting-overhead --data "$DATA/raw/en" --preset small --steps 10 --k 5 --rounds 2 --batch 8 --seq 64
else bench forgetting-overhead --data "$DATA/raw/en" --preset small --steps 40 --k 10 --rounds 5 --batch 16 --seq 128; fi

step list-meta-step
if [[ $quick ]]; then bench list-meta-step --data "$DATA" --runs 3
else bench list-meta-step --data "$DATA" --runs 10; fi

if has long-run-memory; then
  step long-run-memory
  # 300 updates, so both compared updates (100 and 300) come right after a heap trim, as 100 and 1000 do.
  if [[ $quick ]]; then bench long-run-memory --data "$DATA/raw/en" --steps 300 --batch 8 --max-length 64
  else bench long-run-memory --data "$DATA/raw/en" --steps 1000; fi
fi

if has step-profile; then
  step "step-profile (where a training step goes)"
  if [[ $quick ]]; then bench step-profile --reps 2
  else bench step-profile --reps 5; fi
fi

if has concurrency; then
  step "concurrency (8 threads through pooled engines and a shared Transform)"
  if [[ $quick ]]; then bench concurrency --data "$DATA/raw/en" --threads 8 --predictions 2000 --warmup 300
  else bench concurrency --data "$DATA/raw/en" --threads 8 --predictions 10000; fi
fi

if has tokenizer-fuzz; then
  step tokenizer-fuzz
  if [[ $quick ]]; then bench tokenizer-fuzz --data "$DATA/raw/en" --strings 20000
  else bench tokenizer-fuzz --data "$DATA/raw/en" --strings 1000000; fi
fi

# Research harnesses of other issues, when this checkout has them.
if [[ -x benchmarks/plasticity.sh ]]; then
  if [[ $quick ]]; then
    # The real-data pipeline at toy sizes (a pipeline check: at these sizes every model is at chance,
    # as at full size), then the long synthetic comparison itself (3 seeds × 3000 updates, ~6 min),
    # because it is the cheapest run whose direction means something; the toy synthetic run is not.
    # Fresh model cache, and plots outside docs/ so a rerun does not replace the documented figures.
    plots=${PLOTS:-out/plasticity/img}
    step "plasticity (real data, quick)"
    PLOTS="$plots" benchmarks/plasticity.sh real --quick
    step "plasticity (synthetic-long, 3 seeds)"
    cache=$(mktemp -d)
    RUNS="$cache/runs" PLOTS="$plots" benchmarks/plasticity.sh synthetic-long
    rm -rf "$cache"
  else
    step plasticity
    benchmarks/plasticity.sh all
    step "plasticity (synthetic-long)"
    benchmarks/plasticity.sh synthetic-long
  fi
fi
for script in benchmarks/fewshot.sh benchmarks/list.sh; do
  if [[ -x $script ]]; then step "$script"; "$script" ${quick:+--quick}; fi
done
if [[ ! -x benchmarks/fewshot.sh && ! -x benchmarks/list.sh && -f examples/FewShotList/bin/Release/net10.0/FewShotList.dll ]]; then
  step "few-shot (examples/FewShotList)"
  if [[ $quick ]]; then dotnet run --no-build -c Release --project examples/FewShotList -- --data "$DATA" --quick --tasks SST-2 --seeds 1
  else dotnet run --no-build -c Release --project examples/FewShotList -- --data "$DATA"; fi
fi

step "done in $(( $(date +%s) - start )) s"
