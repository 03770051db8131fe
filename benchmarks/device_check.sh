#!/usr/bin/env bash
# GPU check of the full-disc inference engine (issues 16 and 19) on one lent H200: ≤ 5 min wall.
#
# Prints and writes under $OUT (flat, 4 files): gpu_log.txt (everything printed), gpu.json (all
# numbers: paper/demo[/light] s per disc and per tile, the read/normalise/extract/forward/blend/
# write split, GFLOP/s against a large bf16 matmul measured in the same run, fused vs the former
# two-pass path and vs the former tile layout, torch.compile at demo size, ONNX Runtime vs torch
# on the CPU), cost_table_gpu.md (the README table's GPU columns) and nvidia_smi.txt.
#
# Run from the repository root:
#     OUT=/some/dir bash benchmarks/device_check.sh           # on the GPU machine
#     OUT=/tmp/out SMALL=1 bash benchmarks/device_check.sh    # CPU-only smoke run (a few minutes)
#
# Needs python3 with torch (CUDA), numpy, scipy, xarray, pandas, h5py, tqdm, pyyaml and PyWavelets
# (DAWE's Haar filters; without it the paper and demo PRE-Net fail and only PRE-Net-Light runs);
# zarr, dask and h5netcdf are not needed. Optional: the wheels netCDF4==1.7.2 and
# cftime==1.6.4.post1 in .whl/ (carry '.whl') make the write stage a real compressed NetCDF;
# without them the output stays in memory and the log says 'writer memory'. To fetch them, in the
# repository root of the machine that sends the tree (and add /.whl/ to .git/info/exclude):
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#         --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#         --platform manylinux2014_x86_64 -d .whl netCDF4==1.7.2 cftime==1.6.4.post1 PyWavelets==1.8.0
set -uo pipefail
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python3}

if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/prelib_site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/prelib_site"
fi
(nvidia-smi || echo "no nvidia-smi") >"$OUT/nvidia_smi.txt" 2>&1
PROFILES="paper demo"  # demo last: its torch.compile may take longest
if "$PY" -c "from prelib.models import get_model; get_model('prenet_light', 'demo')" 2>/dev/null; then
    PROFILES="paper light demo"
fi

if [ "${SMALL:-0}" = "1" ]; then
    # CPU smoke run: demo only, a 768² comparison region, no full disc.
    ARGS=(--device cpu --threads 2 --profiles demo --tiles 2 --repeats 1 --disc --compare demo
          --compare-size 768 --onnx demo --skip-old-settings)
else
    ARGS=(--device cuda --profiles $PROFILES --disc $PROFILES --compare paper demo
          --tiles 32 --repeats 5 --compare-repeats 2 --compile demo --onnx demo --write netcdf)
fi
start=$(date +%s)
timeout 290 "$PY" benchmarks/fulldisc_inference.py "${ARGS[@]}" --workdir /tmp/prelib_fulldisc \
    --json "$OUT/gpu.json" --cost-table "$OUT/cost_table_gpu.md" 2>&1 | tee "$OUT/gpu_log.txt"
status=${PIPESTATUS[0]}
echo "device_check: exit $status after $(( $(date +%s) - start )) s" | tee -a "$OUT/gpu_log.txt"
exit "$status"
