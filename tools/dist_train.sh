#!/usr/bin/env bash
# Multi-process training with torchrun (DDP): bash tools/dist_train.sh CONFIG NUM_PROCS [ARGS...]
# Works on GPUs (nccl) and on CPU-only machines (gloo). NNODES, NODE_RANK, MASTER_ADDR and PORT
# select a multi-node run (the same command on every node, NODE_RANK 0..NNODES-1). DIST_TIMEOUT
# (seconds, default 1800) bounds both the wait for all nodes to join and every collective: a rank
# that dies or stalls makes the others fail with an error after at most that long.
set -euo pipefail
CONFIG=$1
NPROCS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
export DIST_TIMEOUT=${DIST_TIMEOUT:-1800}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
python -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$NPROCS" --master_port="$PORT" \
    --rdzv-conf timeout="$DIST_TIMEOUT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
