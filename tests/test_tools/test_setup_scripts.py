"""tools/setup_venv.sh (sourced by tools/quickstart.sh and tools/run_tests.sh).

Runs the real script in a copy of the requirement files with a fake ``python3`` whose ``-m venv``
makes an environment whose ``python`` only records its arguments: nothing is installed.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ['tools/setup_venv.sh', 'requirements.txt', 'requirements/runtime.txt',
         'requirements/tests.txt', 'setup.py']

FAKE_PYTHON3 = f'''#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\necho "$*" >> "$FAKE_LOG"\\nexit "${{FAKE_PIP_RC:-0}}"\\n' > "$3/bin/python"
    chmod +x "$3/bin/python"
    echo 'VENV_ACTIVATED=1' > "$3/bin/activate"
    echo "venv $3" >> "$FAKE_LOG"
    exit 0
fi
exec {sys.executable} "$@"
'''


@pytest.fixture
def repo(tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / 'fake_python3'
    fake.write_text(FAKE_PYTHON3)
    fake.chmod(0o755)
    return tmp_path


def source(repo, pip_rc=0, ci=False):
    """Source the script as the two commands do; returns (exit code, log lines)."""
    log = repo / 'calls.log'
    log.unlink(missing_ok=True)
    env = dict(os.environ, PYTHON3=str(repo / 'fake_python3'), FAKE_LOG=str(log),
               FAKE_PIP_RC=str(pip_rc))
    env.pop('MMHANDOBJ_VENV', None)
    env.pop('CI', None)  # CI=true (set where the suite itself runs in CI) changes pip's flags
    if ci:
        env['CI'] = 'true'
    done = subprocess.run(['bash', '-c', 'set -euo pipefail; . tools/setup_venv.sh; '
                           'test "$VENV_ACTIVATED" = 1'], cwd=repo, env=env,
                          capture_output=True, text=True)
    return done.returncode, log.read_text().splitlines() if log.exists() else []


def test_first_use_creates_and_installs_then_nothing_until_requirements_change(repo):
    rc, calls = source(repo)
    assert rc == 0
    assert calls == ['venv .venv', '-m pip install -q -r requirements.txt',
                     '-m pip install -q --no-build-isolation --no-deps -e .']
    rc, calls = source(repo)
    assert (rc, calls) == (0, [])  # complete environment: no install
    with open(repo / 'requirements' / 'tests.txt', 'a') as file:
        file.write('pytest-timeout\n')
    rc, calls = source(repo)
    assert rc == 0 and [c.split()[-1] for c in calls] == ['requirements.txt', '.']


def test_interrupted_install_is_retried(repo):
    rc, calls = source(repo, pip_rc=1)
    assert rc != 0 and calls[0] == 'venv .venv'
    assert not (repo / '.venv' / '.mmhandobj-install.sha256').exists()
    rc, calls = source(repo)
    assert rc == 0 and len(calls) == 2  # the venv exists; the install runs again


def test_ci_turns_progress_bars_off(repo):
    rc, calls = source(repo, ci=True)
    assert rc == 0 and all('--progress-bar off' in c for c in calls[1:])


def test_both_commands_and_ci_use_it():
    quick = (ROOT / 'tools' / 'quickstart.sh').read_text()
    tests = (ROOT / 'tools' / 'run_tests.sh').read_text()
    assert '. tools/setup_venv.sh' in quick and '. tools/setup_venv.sh' in tests
    assert 'tools/train.py configs/hfl/hfl_r18_synthetic.py "$@"' in quick
    assert 'ruff check .' in tests and 'python -m pytest -q "$@"' in tests
    ci = (ROOT / '.ci' / 'run').read_text()
    readme = (ROOT / 'README.md').read_text()
    assert 'bash tools/run_tests.sh' in ci and 'bash tools/run_tests.sh' in readme
    assert 'bash tools/quickstart.sh' in readme
