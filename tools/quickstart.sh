#!/usr/bin/env bash
# The quick start in one command on a machine with only Python 3: creates .venv on first use
# (tools/setup_venv.sh), then trains and validates the small HFL-Net on the built-in synthetic
# world. Extra arguments go to tools/train.py, e.g. `bash tools/quickstart.sh --work-dir DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/setup_venv.sh
exec python tools/train.py configs/hfl/hfl_r18_synthetic.py "$@"
