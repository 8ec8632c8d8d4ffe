#!/usr/bin/env bash
# Active forgetting as continued pretraining of a real pretrained encoder (all-MiniLM-L6-v2), three arms:
#   arm0  the encoder as imported, its new MLM head warmed up (body and token embeddings frozen)
#   arm1  arm0 + U updates of continued standard MLM
#   arm2  arm0 + U updates of continued MLM with the token embeddings redrawn every K updates
# then, for each arm: relearning of new token embeddings (body frozen) on cipher English at corpus caps and on
# real languages, task adaptation on English NLI (embeddings frozen), assembly, zero-shot XNLI / ciphered dev.
# Results: docs/benchmarks.md ("Continued pretraining of a pretrained encoder (all-MiniLM-L6-v2)").
#
#   benchmarks/continued-study.sh [all|arms|task|cipher|languages|report]
#
# Resumable: each output is written once and skipped when it exists; rerun the same command after a kill.
# Environment: DATA (default ../shared/data), RUNS (default /work/runs/continued), U (default 1000), K (200),
# RELEARN_STEPS (300), SEEDS ("1 2 3"), CAPS ("100000 1000000"), LANGS (default "sw th de zh ar hi ru es vi"),
# TASK_PAIRS (3200), EVAL_PAIRS (1000: the first N pairs of each dev set), THREADS (torch threads per process,
# default 1; two processes run side by side), SKIP_BUILD=1 (reuse RUNS/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
DATA=$(realpath "${DATA:-../shared/data}")
RUNS=${RUNS:-/work/runs/continued}
U=${U:-1000}
K=${K:-200}
RELEARN_STEPS=${RELEARN_STEPS:-300}
SEEDS=${SEEDS:-"1 2 3"}
CAPS=${CAPS:-"100000 1000000"}
LANGS=${LANGS:-"sw th de zh ar hi ru es vi"}
TASK_PAIRS=${TASK_PAIRS:-3200}
EVAL_PAIRS=${EVAL_PAIRS:-1000}
THREADS=${THREADS:-1}
source benchmarks/study-common.sh   # log, the CLI copied into $RUNS/bin, mlnf

# Runs the given job names (shell functions with arguments, one per line) two at a time.
parallel2() {
  local running=0
  while IFS= read -r job; do
    [[ -z "$job" ]] && continue
    if (( running >= 2 )); then wait -n || true; running=$((running - 1)); fi
    eval "$job" & running=$((running + 1))
  done
  wait
}

# ---- data (links and derived files in RUNS; nothing is copied into the repository) ----
prepare() {
  cd "$RUNS"
  mkdir -p text heldout cipher lang
  # Continued-pretraining text: English disjoint from the held-out text and from the cipher's source.
  for f in wikipedia_extract_02 mlqa_contexts xquad_contexts wikitext2_valid; do ln -sf "$DATA/raw/en/$f.txt" text/; done
  [[ -e heldout/en.txt ]] || head -n 300 "$DATA/raw/en/tydiqa_goldp_dev_contexts.txt" > heldout/en.txt
  if [[ ! -e cipher/train.txt ]]; then
    mlnf cipher --input "$DATA/raw/en/wikipedia_extract_01.txt" --output cipher/all.txt
    n=$(wc -l < cipher/all.txt)
    head -n $((n - 300)) cipher/all.txt > cipher/train.txt.tmp && mv cipher/train.txt.tmp cipher/train.txt
    tail -n 300 cipher/all.txt > cipher/heldout.txt && rm cipher/all.txt
  fi
  [[ -e cipher/dev.tsv ]] || { head -n $((EVAL_PAIRS + 1)) "$DATA/xnli/dev/dev.en.tsv" > cipher/dev-en.tsv; mlnf cipher --input cipher/dev-en.tsv --output cipher/dev.tsv; }
  [[ -e nli-train.tsv ]] || { cat "$DATA/glue_pools/MNLI/train.tsv"; tail -n +2 "$DATA/mnli_extra/train.tsv"; } > nli-train.tsv
  [[ -e nli-select.tsv ]] || head -n 501 "$DATA/glue_pools/MNLI/dev.tsv" > nli-select.tsv
  [[ -e minilm.zip ]] || mlnf import --backbone minilm --output minilm.zip --seq 128 > import.log 2>&1
  cd - >/dev/null
}

# ---- arm 0: the imported encoder with its MLM head warmed up (two threads: it runs alone) ----
warmup() {
  [[ -e "$RUNS/arm0.zip" ]] && return
  log "arm0: MLM head warm-up"
  MLNF_TORCH_THREADS=2 OMP_NUM_THREADS=2 mlnf pretrain --from "$RUNS/minilm.zip" --head-only --standard --input "$RUNS/text" \
    --validation "$RUNS/heldout/en.txt" --validate-every 100 --output "$RUNS/arm0.zip" --steps 400 --batch 16 --seq 64 --lr 1e-3 --seed 1 -v \
    > "$RUNS/arm0.log" 2>&1
  log "arm0 done"
}

# ---- arms 1 and 2: continued MLM, same text, seed and budget; K = 0 against K ----
arm() { # name K
  local name=$1 k=$2 args
  [[ -e "$RUNS/$name.zip" ]] && return
  args=(pretrain --from "$RUNS/arm0.zip" --k "$k" --input "$RUNS/text" --validation "$RUNS/heldout/en.txt" --validate-every 200
    --output "$RUNS/$name.zip" --steps "$U" --batch 16 --seq 64 --lr 1e-4 --emb-lr 1e-3 --seed 1
    --checkpoint-dir "$RUNS/ckpt-$name" --checkpoint-every 100 -v)
  [[ -e "$RUNS/ckpt-$name/checkpoint.safetensors" ]] && args+=(--resume)
  log "$name: continued MLM, K = $k, $U updates"
  mlnf "${args[@]}" > "$RUNS/$name.log" 2>&1
  log "$name done"
}
arms() { warmup; printf '%s\n' "arm arm1 0" "arm arm2 $K" | parallel2; }

# ---- task adaptation on English NLI (E frozen), best by accuracy on 500 MNLI dev pairs ----
task_arm() {
  local a=$1 args
  [[ -e "$RUNS/$a-nli.zip" ]] && return
  args=(finetune --model "$RUNS/$a.zip" --input "$RUNS/nli-train.tsv" --max-examples "$TASK_PAIRS" --validation "$RUNS/nli-select.tsv"
    --output "$RUNS/$a-nli.zip" --epochs 1 --batch 16 --seq 128 --lr 5e-5 --warmup 0.06 --linear-decay --validate-every 50 --keep-best --seed 1
    --checkpoint-dir "$RUNS/ckpt-$a-nli" --checkpoint-every 50)
  [[ -e "$RUNS/ckpt-$a-nli/checkpoint.safetensors" ]] && args+=(--resume)
  log "task adaptation $a"
  mlnf "${args[@]}" > "$RUNS/$a-nli.log" 2>&1
  log "task adaptation $a done"
}

# ---- relearning (body frozen): new vocabulary and embeddings; best by held-out MLM loss ----
relearn_one() { # arm name input heldout seed [cap]
  local a=$1 name=$2 input=$3 held=$4 seed=$5 cap=${6:-} out args
  out="$RUNS/relearn/$a-$name-s$seed"
  [[ -e "$out.zip" ]] && return
  mkdir -p "$RUNS/relearn"
  args=(relearn --model "$RUNS/$a.zip" --input "$input" --validation "$held" --validate-every 50 --keep-best --output "$out.zip"
    --steps "$RELEARN_STEPS" --vocab 8000 --batch 16 --seq 64 --lr 1e-3 --seed "$seed" --checkpoint-dir "$out.ckpt" --checkpoint-every 100)
  [[ -n "$cap" ]] && args+=(--corpus-tokens "$cap")
  [[ -e "$out.ckpt/checkpoint.safetensors" ]] && args+=(--resume)
  log "relearn $a $name seed $seed"
  mlnf "${args[@]}" > "$out.log" 2>&1 || log "relearn $a $name seed $seed FAILED (see $out.log)"
}
lang_data() { # lang: all the text there is (raw/<lang> + unlabelled XNLI test pairs), 300 lines held out
  local l=$1 dir="$RUNS/lang/$1"
  [[ -e "$dir/train.txt" ]] && return
  mkdir -p "$dir"
  { cat "$DATA"/raw/"$l"/*.txt; [[ -e "$DATA/xnli/test/test.$l.tsv" ]] && tail -n +2 "$DATA/xnli/test/test.$l.tsv" | cut -f1,2 | tr '\t' '\n'; } | grep -v '^\s*$' > "$dir/all.txt"
  local n; n=$(wc -l < "$dir/all.txt")
  head -n $((n - 300)) "$dir/all.txt" > "$dir/train.txt"; tail -n 300 "$dir/all.txt" > "$dir/heldout.txt"; rm "$dir/all.txt"
  head -n $((EVAL_PAIRS + 1)) "$DATA/xnli/dev/dev.$l.tsv" > "$dir/dev.tsv"
}
jobs_first() { # the first seed at the low cap for every arm, and task adaptation: the earliest complete comparison
  local cap=${CAPS%% *}
  for a in arm0 arm1 arm2; do echo "relearn_one $a cipher-$cap $RUNS/cipher/train.txt $RUNS/cipher/heldout.txt 1 $cap"; done
  for a in arm0 arm1 arm2; do echo "task_arm $a"; done
}
jobs_cipher() { # every seed at the lowest cap, then the first seed at the other caps, then the rest
  local low=${CAPS%% *} first=${SEEDS%% *} seed cap a
  for seed in $SEEDS; do for a in arm0 arm1 arm2; do echo "relearn_one $a cipher-$low $RUNS/cipher/train.txt $RUNS/cipher/heldout.txt $seed $low"; done; done
  for cap in ${CAPS#$low}; do for a in arm0 arm1 arm2; do echo "relearn_one $a cipher-$cap $RUNS/cipher/train.txt $RUNS/cipher/heldout.txt $first $cap"; done; done
}
jobs_cipher_rest() {
  local low=${CAPS%% *} first=${SEEDS%% *} seed cap a
  for seed in ${SEEDS#$first}; do for cap in ${CAPS#$low}; do for a in arm0 arm1 arm2; do
    echo "relearn_one $a cipher-$cap $RUNS/cipher/train.txt $RUNS/cipher/heldout.txt $seed $cap"
  done; done; done
}
jobs_languages() {
  for l in $LANGS; do lang_data "$l"; for a in arm0 arm1 arm2; do
    echo "relearn_one $a $l $RUNS/lang/$l/train.txt $RUNS/lang/$l/heldout.txt 1"
  done; done
}

# ---- zero-shot: assemble every relearned model with its arm's task model and evaluate ----
zeroshot() {
  local out="$RUNS/report"; mkdir -p "$out"
  for a in arm0 arm1 arm2; do
    [[ -e "$RUNS/$a-nli.zip" ]] || continue
    [[ -e "$out/$a-en.md" ]] || mlnf evaluate --model "$RUNS/$a-nli.zip" --test "en=$DATA/xnli/dev/dev.en.tsv" --output "$out/$a-en" >/dev/null 2>&1 || true
    for z in "$RUNS"/relearn/$a-*-s*.zip; do
      [[ -e "$z" && "$z" != *-nli.zip ]] || continue
      local b; b=$(basename "$z" .zip); local name=${b#$a-}; name=${name%-s*}
      local test
      if [[ $name == cipher-* ]]; then test="en=$RUNS/cipher/dev.tsv"; else test="$name=$RUNS/lang/$name/dev.tsv"; fi
      [[ -e "$out/$b.md" ]] && continue
      mlnf assemble --classifier "$RUNS/$a-nli.zip" --relearned "$z" --output "$RUNS/relearn/$b-nli.zip" >/dev/null 2>&1 \
        && mlnf evaluate --model "$RUNS/relearn/$b-nli.zip" --test "$test" --output "$out/$b" >/dev/null 2>&1 || log "zero-shot $b FAILED"
    done
  done
}

report() {
  local out="$RUNS/report"; mkdir -p "$out"
  for cap in $CAPS; do
    hs=(); for h in "$RUNS"/relearn/arm?-cipher-$cap-s*.history.csv; do [[ -e "$h" ]] && hs+=(--history "$h"); done
    [[ ${#hs[@]} -gt 0 ]] && mlnf plot "${hs[@]}" --kind validation --metric loss --output "$out/relearn-cipher-$cap.png" \
      --title "MiniLM arms: held-out cipher-English MLM loss, cap $cap tokens" >/dev/null 2>&1 || true
  done
  [[ -e "$RUNS/arm1.history.csv" && -e "$RUNS/arm2.history.csv" ]] && \
    mlnf plot --history "$RUNS/arm1.history.csv" --history "$RUNS/arm2.history.csv" --smooth 50 --output "$out/continued-loss.png" >/dev/null 2>&1 || true
  log "report in $out"
}

prepare
case $what in
  arms) arms ;;
  task) printf '%s\n' "task_arm arm0" "task_arm arm1" "task_arm arm2" | parallel2 ;;
  cipher) { jobs_cipher; jobs_cipher_rest; } | parallel2 ;;
  languages) jobs_languages | parallel2 ;;
  zeroshot) zeroshot ;;
  report) zeroshot; report ;;
  all) arms; jobs_first | parallel2; zeroshot; jobs_cipher | parallel2; zeroshot; report; jobs_languages | parallel2; zeroshot; report
       jobs_cipher_rest | parallel2; zeroshot; report ;;
  *) echo "usage: $0 [all|arms|task|cipher|languages|zeroshot|report]" >&2; exit 2 ;;
esac
