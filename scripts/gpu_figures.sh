#!/usr/bin/env bash
# The GPU figures of the "running at scale" page: `emolab bench` at the papers'
# sizes (reference configuration vs. the fast path) and the fast path's
# soundness tests on the GPU. Run from the repository root on a CUDA machine:
#     bash scripts/gpu_figures.sh [OUT_DIR]        (default runs/gpu)
# Each step has its own time limit so that one slow step leaves the others' figures.
set -uo pipefail
out=${1:-${OUT:-runs/gpu}}
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 EMOLAB_NO_PROGRESS=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$out/gpu.txt"
step() {  # step SECONDS NAME COMMAND...
    local limit=$1 name=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    echo "[$name] exit ${PIPESTATUS[0]}, $((SECONDS - t0)) s" | tee -a "$out/times.txt"
}
step 200 bench_cyclegan256 python3 -m emolab bench --model cyclegan --size 256 --batch 1 \
    --steps 40 --warmup 10 --device cuda --out "$out/bench_cyclegan256_b1.json"
step 170 bench_stargan128 python3 -m emolab bench --model stargan --size 128 --batch 16 \
    --steps 30 --warmup 8 --device cuda --out "$out/bench_stargan128_b16.json"
step 200 gpu_tests python3 -m pytest -q -p no:cacheprovider tests/test_accel.py -k gpu
