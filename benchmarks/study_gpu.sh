#!/usr/bin/env bash
# A slice of the settling study (prelib study) on one GPU + 16 CPU cores, in phases of parallel
# processes that share one memory-mapped copy of the data. Partial results survive a timeout:
# every scored row is cached under OUT and the last phase writes the report from the cache.
#
#   benchmarks/study_gpu.sh OUT [BUDGET_S] [PROFILE] [SEEDS...]
#
#   OUT       output folder (study.md, study_*.csv/md, convergence.csv, logs/)
#   BUDGET_S  wall-clock budget in seconds (default 300); phases get fixed shares of it
#   PROFILE   size profile (default study; "tiny" for a local smoke test on CPU)
#   SEEDS     training seeds (default 0 1 2)
#
# Phases: 0 generate the splits once (.npy, 16 processes); 1 per seed: UNet and the teacher +
# CoMWE (paper weighting, clip 1); 2 per seed and setting: CoMWE under code / gradnorm
# weighting and clip off, and the per-pixel GBM; 3 pick the default on validation; 4 per seed:
# Stage II with frozen BatchNorm (no adaptation, Non-, Self-MaskTune; mask on AE vs AE + conv;
# AdaBN; all from the chosen Stage-I setting); 5 the report. Networks are kept in run folders
# named by their configuration hash (OUT/runs/seed-S/models/<network>/<task>-<hash>), so
# parallel settings never share a folder while the teacher of a seed is trained once (phase 1).
# Needs torch, numpy, scipy, xarray, pandas, scikit-learn, pyyaml, tqdm and, for the
# on-the-fly synthetic world, global-land-mask and PyWavelets.
set -uo pipefail
OUT=${1:?usage: benchmarks/study_gpu.sh OUT [BUDGET_S] [PROFILE] [SEEDS...]}
BUDGET=${2:-300}
PROFILE=${3:-study}
shift $(( $# < 3 ? $# : 3 ))
SEEDS=("$@")
[ ${#SEEDS[@]} -eq 0 ] && SEEDS=(0 1 2)
PY=${PYTHON:-python}
DEVICE=${DEVICE:-auto}
EXTRA=${STUDY_EXTRA:-}   # e.g. "--epochs 1 --max-steps-per-epoch 2" for smoke tests
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
export PYTHONPATH="${PWD}${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT/logs"
DATA=${STUDY_DATA:-"$OUT/data"}   # where the generated splits go (several GB at study size)
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
share() { local s=$(( BUDGET * $1 / 100 )); local l; l=$(left); echo $(( s < l ? s : l )); }
study() { $PY -m prelib study --profile "$PROFILE" --out "$OUT" --device "$DEVICE" \
  --materialise 16 --data-cache "$DATA" $EXTRA "$@"; }
run_parallel() {  # $1 = seconds, then "seed|args" jobs
  local limit=$1; shift
  local pids=()
  for job in "$@"; do
    local seed=${job%%|*} args=${job#*|}
    local name; name=$(echo "$seed-$args" | tr -c 'A-Za-z0-9.+-' '_' | cut -c1-80)
    timeout "$limit" bash -c "$(declare -f study); PY='$PY' PROFILE='$PROFILE' OUT='$OUT' \
      DEVICE='$DEVICE' DATA='$DATA' EXTRA='$EXTRA' study --seeds $seed $args" \
      > "$OUT/logs/$name.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
}
echo "phase 0: data ($(left) s left)"
timeout "$(share 15)" bash -c "$(declare -f study); PY='$PY' PROFILE='$PROFILE' OUT='$OUT' \
  DEVICE='$DEVICE' DATA='$DATA' EXTRA='$EXTRA' study --seeds ${SEEDS[0]} \
  --groups balance table4 --prepare-only" > "$OUT/logs/data.log" 2>&1
tail -6 "$OUT/logs/data.log"
echo "phase 1: teachers, UNet, CoMWE paper/clip 1 ($(left) s left)"
jobs=()
for s in "${SEEDS[@]}"; do
  jobs+=("$s|--groups balance --rows unet" "$s|--groups balance --rows comwe-paper-clip1")
done
run_parallel "$(share 35)" "${jobs[@]}"
echo "phase 2: the other loss balances and the GBM ($(left) s left)"
jobs=()
for s in "${SEEDS[@]}"; do
  for r in comwe-paper-clip0 comwe-code-clip1 comwe-code-clip0 comwe-gradnorm-clip1 \
           comwe-gradnorm-clip0 gbm; do
    jobs+=("$s|--groups balance --rows $r")
  done
done
run_parallel "$(share 30)" "${jobs[@]}"
echo "phase 3: default on validation ($(left) s left)"
$PY -m prelib study --out "$OUT" --report-only > "$OUT/logs/report1.log" 2>&1
DEFAULT=$($PY -c "import json,sys; d=json.load(open(sys.argv[1])); \
print(f\"{d['weighting']}:{d['grad_clip']:g}\")" "$OUT/default_setting.json" 2>/dev/null \
  || echo paper:1)
echo "default: $DEFAULT"
echo "phase 4: Stage II ($(left) s left)"
jobs=()
for s in "${SEEDS[@]}"; do
  for r in comwe_noadapt nonmask selfmask selfmask-aeconv selfmask-adabn gbm; do
    jobs+=("$s|--groups table4 --rows $r --default $DEFAULT")
  done
done
run_parallel "$(( $(left) - 15 > 10 ? $(left) - 15 : 10 ))" "${jobs[@]}"
echo "phase 5: report ($(left) s left)"
$PY -m prelib study --out "$OUT" --report-only --default "$DEFAULT" > "$OUT/logs/report.log" 2>&1
cat "$OUT/logs/report.log"
rm -rf "$DATA"   # regenerated on demand; keeps what comes back small
echo "total $(( $(date +%s) - START )) s"
