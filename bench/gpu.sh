#!/usr/bin/env bash
# The benches on an NVIDIA GPU, in one go (issue 22, item 8):
#
#   bash bench/gpu.sh            # from the repository root, on a machine with a GPU
#
# Makes a venv (.venv-gpu, or $GEOVEC_GPU_VENV) with geovec, its bench extra (torch) and
# jax's CUDA build at the version geovec pins (the `cuda` extra: jax[cuda12]), then runs
# bench/extract.py (forward pass, geovec on the GPU against torch on the GPU when its
# build has CUDA), bench/ingest.py and bench/pairs.py at GPU batch sizes, and prints
# images/s with the share of the GPU's FP32 peak (CaffeNet: 1.45 GFLOP per image). The
# peak comes from the GPU's name (the table below); set GEOVEC_GPU_PEAK_TFLOPS for another
# GPU. Needs only pip's registry; about 3 GB of wheels.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v nvidia-smi >/dev/null || { echo "bench/gpu.sh: no nvidia-smi, so no NVIDIA GPU here" >&2; exit 1; }
name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)

# Dense FP32 and BF16 peaks in TFLOP/s from the vendor's data sheets (SXM where both exist).
peaks() {
  case "$1" in
    *B200*) echo "80 2250" ;;
    *H200*|*H100*SXM*|*H100\ 80GB\ HBM3*) echo "67 989" ;;
    *H100*NVL*) echo "60 835" ;;
    *H100*) echo "51 756" ;;
    *A100*) echo "19.5 312" ;;
    *L40S*) echo "91.6 362" ;;
    *L40*) echo "90.5 181" ;;
    *L4*) echo "30.3 121" ;;
    *A10*) echo "31.2 125" ;;
    *4090*) echo "82.6 165" ;;
    *V100*) echo "15.7 0" ;;
    *T4*) echo "8.1 0" ;;
    *) echo "" ;;
  esac
}
read -r fp32 bf16 <<<"$(peaks "$name") "
fp32=${GEOVEC_GPU_PEAK_TFLOPS:-$fp32}
if [[ -z "$fp32" ]]; then
  echo "bench/gpu.sh: no peak known for '$name'; set GEOVEC_GPU_PEAK_TFLOPS (FP32 TFLOP/s)" >&2
  exit 1
fi
echo "GPU: $name, FP32 peak $fp32 TFLOP/s, BF16 peak ${bf16:-?} TFLOP/s (dense)"

venv=${GEOVEC_GPU_VENV:-.venv-gpu}
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[bench,cuda]"
py="$venv/bin/python"
"$py" -c 'import jax; d = jax.devices()[0]; print("jax", jax.__version__, d.platform, d.device_kind)'
"$py" -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' \
  || { echo "bench/gpu.sh: jax did not find the GPU (driver too old for CUDA 12?)" >&2; exit 1; }

export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.5}  # torch shares it
share() {  # append the share of the FP32 peak to every "N images/s" line
  awk -v peak="$fp32" '{ print }
    / images\/s/ { for (i = 2; i <= NF; i++) if ($i ~ /^images\/s/ && $(i-1) + 0 > 0) {
      printf "    -> %.1f images/s = %.2f%% of the %s TFLOP/s FP32 peak\n",
        $(i-1), 100 * $(i-1) * 1.45 / (peak * 1000), peak; break } }'
}

for batch in 64 256 1024; do
  echo "== bench/extract.py --device gpu --batch $batch"
  "$py" bench/extract.py --device gpu --batch "$batch" --rounds 9 --peak-tflops "$fp32"
done
echo "== bench/ingest.py --batch 256 (geovec on the GPU; its torch peer on the CPU)"
"$py" bench/ingest.py --batch 256 --images 2048 | share
echo "== bench/pairs.py (geovec's ranking on the GPU; the numpy peer on the CPU)"
"$py" bench/pairs.py
