#!/usr/bin/env bash
# GPU readiness check (under 8 minutes on one GPU): bash tools/analysis_tools/gpu_check.sh [--dry-run]
# Training of the R50 HFL-Net at batch 64 in fp32 / AMP bf16 / AMP fp16, contiguous and
# channels-last, torch.compile when offered; inference at batch 1/8/64; a 2-process nccl DDP step
# with two GPUs; the ONNX model on onnxruntime's CUDA execution provider when installed. Exits
# non-zero on a device mismatch, and with status 2 when there is no CUDA device.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" timeout 480 python "$ROOT/tools/analysis_tools/gpu_check.py" "$@"
