#!/usr/bin/env bash
# Real-data plasticity study at CPU scale: standard against active-forgetting pretraining on English,
# then the paper's relearning regime on "cipher English" (the positive control) and on real languages,
# task adaptation on English NLI, assembly and zero-shot evaluation. Results: docs/benchmarks.md.
#
#   benchmarks/real-study.sh [all|pretrain|task|cipher|languages|report]
#
# Resumable: every stage writes its output once and is skipped when the output exists; a stage that was
# interrupted continues from its checkpoint (--resume). Rerun the same command after a kill or reboot.
#
# Environment: DATA (default ../shared/data), RUNS (work folder, default /work/runs/study), SEEDS (relearning
# seeds, default "1 2 3"), CAPS (cipher corpus caps in tokens, default "100000 1000000 5000000"),
# LANGS (default: every language with both raw text and an XNLI dev set), THREADS (torch threads per
# process, default 1: the two arms run side by side on the two cores), SKIP_BUILD=1 (reuse RUNS/bin).
#
# Plan (2 cores): pretraining both arms side by side, 14,000 updates of 16 sequences of at most 128 tokens
# (2.03 epochs of 8.13M tokens: ~16.5M tokens each), K = 700 (20 episodes). Relearning: RELEARN_STEPS updates of
# 32 sequences per cap, best checkpoint by held-out MLM loss (evaluated every 250 updates). Task adaptation:
# 2 epochs of the 18,884 English NLI pairs, warm-up 6 % and linear decay, best checkpoint by XNLI English dev.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
DATA=$(realpath "${DATA:-../shared/data}")
RUNS=${RUNS:-/work/runs/study}
SEEDS=${SEEDS:-"1 2 3"}
CAPS=${CAPS:-"100000 1000000 5000000"}
THREADS=${THREADS:-1}
RELEARN_STEPS=${RELEARN_STEPS:-1000}
source benchmarks/study-common.sh   # log, the CLI copied into $RUNS/bin, mlnf

# ---- data (links and derived files in RUNS; nothing is copied into the repository) ----
prepare() {
  cd "$RUNS"
  mkdir -p pretrain-text heldout cipher
  # English pretraining text (the files the recorded runs used: 110,099 lines, 8.13M tokens under their
  # 8,000-piece vocabulary at 128 tokens a sequence). Kept apart: tydiqa (held-out English for the MLM loss) and
  # wikipedia_extract_01 (the source of cipher English, which must be disjoint from the pretraining text).
  for f in gutenberg_books mlqa_contexts wikipedia_extract_00 xquad_contexts; do ln -sf "$DATA/raw/en/$f.txt" pretrain-text/; done
  rm -f pretrain-text/wikipedia_extract_02.txt pretrain-text/wikitext2_test.txt pretrain-text/wikitext2_valid.txt
  ln -sf "$DATA/raw/en/tydiqa_goldp_dev_contexts.txt" heldout/
  if [[ ! -e cipher/train.txt ]]; then
    mlnf cipher --input "$DATA/raw/en/wikipedia_extract_01.txt" --output cipher/all.txt
    n=$(wc -l < cipher/all.txt)
    head -n $((n - 300)) cipher/all.txt > cipher/train.txt.tmp && mv cipher/train.txt.tmp cipher/train.txt
    tail -n 300 cipher/all.txt > cipher/heldout.txt && rm cipher/all.txt
  fi
  [[ -e cipher/cipher_en_dev.tsv ]] || mlnf cipher --input "$DATA/xnli/dev/dev.en.tsv" --output cipher/cipher_en_dev.tsv
  if [[ ! -e nli-train.tsv ]]; then
    { cat "$DATA/glue_pools/MNLI/train.tsv"; tail -n +2 "$DATA/mnli_extra/train.tsv"; } > nli-train.tsv.tmp && mv nli-train.tsv.tmp nli-train.tsv
  fi
  cd - >/dev/null
}

# ---- stage 1: pretraining, both arms side by side ----
pretrain_arm() { # arm K
  local arm=$1 k=$2 args
  args=(pretrain --input "$RUNS/pretrain-text" --validation "$RUNS/heldout" --validate-every 1000 --output "$RUNS/$arm.zip"
    --preset Small --hidden 128 --layers 4 --heads 4 --ffn 512 --seq 128 --batch 16 --lr 1e-3 --vocab 8000
    --steps 14000 --k "$k" --seed 1 --checkpoint-dir "$RUNS/ckpt-$arm" --checkpoint-every 250)
  [[ -e "$RUNS/$arm.zip" ]] && return
  [[ -e "$RUNS/ckpt-$arm/checkpoint.safetensors" ]] && args+=(--resume)
  log "pretrain $arm (K = $k)"
  mlnf "${args[@]}" > "$RUNS/$arm.log" 2>&1
  log "pretrain $arm done"
}
pretrain() {
  pretrain_arm standard 0 & local p1=$!
  pretrain_arm forgetting 700 & local p2=$!
  wait $p1; wait $p2
}

# ---- stage 3: task adaptation on English NLI (E frozen), best by XNLI English dev accuracy ----
task_arm() {
  local arm=$1 args
  [[ -e "$RUNS/$arm-nli.zip" ]] && return
  args=(finetune --model "$RUNS/$arm.zip" --input "$RUNS/nli-train.tsv" --validation "$DATA/xnli/dev/dev.en.tsv" --output "$RUNS/$arm-nli.zip"
    --epochs 2 --batch 32 --seq 128 --lr 3e-4 --warmup 0.06 --linear-decay --validate-every 200 --keep-best --seed 1
    --checkpoint-dir "$RUNS/ckpt-$arm-nli" --checkpoint-every 200)
  [[ -e "$RUNS/ckpt-$arm-nli/checkpoint.safetensors" ]] && args+=(--resume)
  log "task adaptation $arm"
  mlnf "${args[@]}" > "$RUNS/$arm-nli.log" 2>&1
  log "task adaptation $arm done"
}
task() { task_arm standard & local p1=$!; task_arm forgetting & local p2=$!; wait $p1; wait $p2; }

# ---- stage 2 + 4: relearning (paper's regime) and assembly ----
relearn_one() { # arm name input heldout seed [cap]
  local arm=$1 name=$2 input=$3 held=$4 seed=$5 cap=${6:-} out args
  out="$RUNS/relearn/$arm-$name-s$seed"
  [[ -e "$out.zip" ]] && return
  mkdir -p "$RUNS/relearn"
  args=(relearn --model "$RUNS/$arm.zip" --input "$input" --validation "$held" --validate-every 250 --keep-best --output "$out.zip"
    --steps "$RELEARN_STEPS" --vocab 8000 --batch 32 --seq 128 --lr 7e-4 --seed "$seed" --checkpoint-dir "$out.ckpt" --checkpoint-every 250)
  [[ -n "$cap" ]] && args+=(--corpus-tokens "$cap")
  [[ -e "$out.ckpt/checkpoint.safetensors" ]] && args+=(--resume)
  log "relearn $arm $name seed $seed"
  mlnf "${args[@]}" > "$out.log" 2>&1
  mlnf assemble --classifier "$RUNS/$arm-nli.zip" --relearned "$out.zip" --output "$out-nli.zip" >> "$out.log" 2>&1
}
cipher() {
  for seed in $SEEDS; do for cap in $CAPS; do
    relearn_one standard "cipher-$cap" "$RUNS/cipher/train.txt" "$RUNS/cipher/heldout.txt" "$seed" "$cap" & local p1=$!
    relearn_one forgetting "cipher-$cap" "$RUNS/cipher/train.txt" "$RUNS/cipher/heldout.txt" "$seed" "$cap" & local p2=$!
    wait $p1; wait $p2
  done; done
}
languages() {
  local langs=${LANGS:-$(for d in "$DATA"/xnli/dev/dev.*.tsv; do l=$(basename "$d" .tsv); l=${l#dev.}; [[ $l != en && -d "$DATA/raw/$l" ]] && echo "$l"; done)}
  for l in $langs; do
    # All the text there is: raw/<lang> plus the unlabelled XNLI test premises and hypotheses; 300 lines held out.
    local dir="$RUNS/lang/$l"
    if [[ ! -e "$dir/train.txt" ]]; then
      mkdir -p "$dir"
      { cat "$DATA"/raw/"$l"/*.txt; [[ -e "$DATA/xnli/test/test.$l.tsv" ]] && tail -n +2 "$DATA/xnli/test/test.$l.tsv" | tr '\t' '\n'; } | grep -v '^\s*$' > "$dir/all.txt"
      n=$(wc -l < "$dir/all.txt")
      head -n $((n - 300)) "$dir/all.txt" > "$dir/train.txt"; tail -n 300 "$dir/all.txt" > "$dir/heldout.txt"; rm "$dir/all.txt"
    fi
    relearn_one standard "$l" "$dir/train.txt" "$dir/heldout.txt" 1 & local p1=$!
    relearn_one forgetting "$l" "$dir/train.txt" "$dir/heldout.txt" 1 & local p2=$!
    wait $p1; wait $p2
  done
}

# ---- tables and plots ----
report() {
  local out="$RUNS/report" tests=() models=()
  mkdir -p "$out"
  for arm in standard forgetting; do
    [[ -e "$RUNS/$arm-nli.zip" ]] && mlnf evaluate --model "$RUNS/$arm-nli.zip" --test "en=$DATA/xnli/dev/dev.en.tsv" --test "$DATA/glue_pools/MNLI/dev.tsv" --output "$out/$arm-en" >/dev/null
    for z in "$RUNS"/relearn/$arm-cipher-*-nli.zip; do
      [[ -e "$z" ]] && mlnf evaluate --model "$z" --test "$RUNS/cipher/cipher_en_dev.tsv" --output "$out/$(basename "$z" .zip)" >/dev/null
    done
    for z in "$RUNS"/relearn/$arm-??-s*-nli.zip; do
      [[ -e "$z" ]] || continue
      l=$(basename "$z"); l=${l#$arm-}; l=${l%%-*}
      mlnf evaluate --model "$z" --test "$l=$DATA/xnli/dev/dev.$l.tsv" --output "$out/$(basename "$z" .zip)" >/dev/null
    done
  done
  for cap in $CAPS; do
    hs=(); for h in "$RUNS"/relearn/*-cipher-$cap-s*.history.csv; do [[ -e "$h" ]] && hs+=(--history "$h"); done
    [[ ${#hs[@]} -gt 0 ]] && mlnf plot "${hs[@]}" --kind validation --metric loss --output "$out/relearn-cipher-$cap.png" --title "Held-out cipher-English MLM loss, cap $cap tokens" >/dev/null
  done
  [[ -e "$RUNS/standard.history.csv" && -e "$RUNS/forgetting.history.csv" ]] && \
    mlnf plot --history "$RUNS/standard.history.csv" --history "$RUNS/forgetting.history.csv" --smooth 100 --output "$out/pretrain-loss.png" >/dev/null
  cat "$out"/*.md 2>/dev/null | grep -E '^\|' || true
  log "report in $out"
}

prepare
case $what in
  pretrain) pretrain ;;
  task) task ;;
  cipher) cipher ;;
  languages) languages ;;
  report) report ;;
  all) pretrain; task; cipher; languages; report ;;
  *) echo "usage: $0 [all|pretrain|task|cipher|languages|report]" >&2; exit 2 ;;
esac
