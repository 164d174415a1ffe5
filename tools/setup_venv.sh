# Sourced by tools/quickstart.sh and tools/run_tests.sh (from the repository root): makes the
# virtual environment complete and activates it.
#
# First use: creates it with `python3 -m venv` (only Python 3 is needed), installs
# requirements.txt and mmhandobj itself (editable). Later uses: if the stamp file in the
# environment holds the hash of the requirement files and setup.py, nothing is installed (a
# fraction of a second); if any of them changed, or an earlier install was interrupted, the
# install runs again.
#
# Environment: MMHANDOBJ_VENV (default .venv) is the environment's folder; PYTHON3 (default
# python3) the interpreter that creates it; CI=true turns pip's progress bars off.

MMHANDOBJ_VENV=${MMHANDOBJ_VENV:-.venv}
# Files whose content decides what is installed; the stamp holds the hash of all of them.
MMHANDOBJ_REQUIREMENT_FILES="requirements.txt requirements/runtime.txt requirements/tests.txt setup.py"
_mmhandobj_stamp="$MMHANDOBJ_VENV/.mmhandobj-install.sha256"

if ! command -v "${PYTHON3:-python3}" >/dev/null 2>&1; then
    echo "error: ${PYTHON3:-python3} not found; install Python 3.9 or newer" >&2
    exit 1
fi
# shellcheck disable=SC2086  # the file list is split on purpose
_mmhandobj_hash=$("${PYTHON3:-python3}" -c '
import hashlib, sys
digest = hashlib.sha256()
for name in sys.argv[1:]:
    with open(name, "rb") as file:
        digest.update(name.encode() + b"\0" + file.read())
print(digest.hexdigest())' $MMHANDOBJ_REQUIREMENT_FILES)

if [ ! -x "$MMHANDOBJ_VENV/bin/python" ]; then
    echo "creating the virtual environment $MMHANDOBJ_VENV (first use)" >&2
    "${PYTHON3:-python3}" -m venv "$MMHANDOBJ_VENV"
fi
if [ "$(cat "$_mmhandobj_stamp" 2>/dev/null)" != "$_mmhandobj_hash" ]; then
    echo "installing requirements.txt and mmhandobj into $MMHANDOBJ_VENV (a few minutes)" >&2
    rm -f "$_mmhandobj_stamp"
    _mmhandobj_pip_flags="-q"
    if [ "${CI:-}" = "true" ]; then
        _mmhandobj_pip_flags="-q --progress-bar off"
    fi
    # shellcheck disable=SC2086
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$MMHANDOBJ_VENV/bin/python" -m pip install \
        $_mmhandobj_pip_flags -r requirements.txt
    # shellcheck disable=SC2086
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$MMHANDOBJ_VENV/bin/python" -m pip install \
        $_mmhandobj_pip_flags --no-build-isolation --no-deps -e .
    echo "$_mmhandobj_hash" > "$_mmhandobj_stamp"
fi
# shellcheck disable=SC1091
. "$MMHANDOBJ_VENV/bin/activate"
