#!/usr/bin/env bash
# The test suite in one command on a machine with only Python 3: creates .venv on first use
# (tools/setup_venv.sh), then runs the linter and pytest. Extra arguments go to pytest and
# replace its default path (`tests`, setup.cfg's testpaths), e.g.
# `bash tools/run_tests.sh tests/test_models -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/setup_venv.sh
ruff check .
exec python -m pytest -q "$@"
