#!/usr/bin/env bash
# Multi-process training with torchrun (DDP): bash tools/dist_train.sh CONFIG NUM_PROCS [ARGS...]
# Works on GPUs (nccl) and on CPU-only machines (gloo). NNODES, NODE_RANK, MASTER_ADDR and PORT
# select a multi-node run.
set -euo pipefail
CONFIG=$1
NPROCS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
python -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$NPROCS" --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
