# Shared by the long studies (real-study.sh, continued-study.sh); sourced after RUNS and THREADS are set.
export MLNF_TORCH_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
mkdir -p "$RUNS"
log() { echo "[$(date -u +%FT%TZ)] $*" | tee -a "$RUNS/study.log"; }

# The CLI is copied out of the build folder so that rebuilding the repository cannot change a running study.
if [[ -z "${SKIP_BUILD:-}" || ! -e "$RUNS/bin/mlnf.dll" ]]; then
  dotnet build -c Release src/MLNetForgetting.Cli >/dev/null
  # A fresh folder swapped in by rename: a running stage keeps its (unlinked) files, never half-copied ones.
  rm -rf "$RUNS/bin.new" && cp -r src/MLNetForgetting.Cli/bin/Release/net10.0 "$RUNS/bin.new"
  rm -rf "$RUNS/bin.old" && { [[ -e "$RUNS/bin" ]] && mv "$RUNS/bin" "$RUNS/bin.old" || true; } && mv "$RUNS/bin.new" "$RUNS/bin"
fi
mlnf() { nice -n 10 dotnet "$RUNS/bin/mlnf.dll" "$@"; }
