#!/usr/bin/env bash
# Train one config with several seeds, one run after another, then aggregate them.
#   bash tools/analysis_tools/launch_seeds.sh CONFIG WORK_DIR_PREFIX "SEEDS" [--cfg-options ...]
# e.g.
#   bash tools/analysis_tools/launch_seeds.sh configs/hfl/hfl_r18_synthetic.py \
#       work_dirs/hfl_r18_synthetic "0 1 2"
# writes work_dirs/hfl_r18_synthetic_seed{0,1,2} and work_dirs/hfl_r18_synthetic_seeds.{json,md}
# (mean, sample std, min, max of every validation key at each run's last epoch).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG WORK_DIR_PREFIX \"SEEDS\" [--cfg-options KEY=VALUE ...]" >&2
    exit 2
fi
CONFIG=$1
PREFIX=$2
SEEDS=$3
shift 3
EXTRA=()
if [ $# -gt 0 ] && [ "$1" = "--cfg-options" ]; then
    shift
    EXTRA=("$@")
fi
DIRS=()
for SEED in $SEEDS; do
    python tools/train.py "$CONFIG" --work-dir "${PREFIX}_seed${SEED}" \
        --cfg-options randomness.seed="$SEED" "${EXTRA[@]}"
    DIRS+=("${PREFIX}_seed${SEED}")
done
python tools/analysis_tools/aggregate_runs.py "${DIRS[@]}" --out "${PREFIX}_seeds"
