"""Which interpreter scripts/run, scripts/test and scripts/bench make their venv with
(scripts/_python.sh): the first Python 3.12+ found, or exactly the one SALESDESK_PYTHON names
(scripts/python-pgo builds production's), never another in its place."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def find_python(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", f'source "{ROOT}/scripts/_python.sh"; find_python'],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", **env},
        capture_output=True,
        text=True,
    )


def test_salesdesk_python_is_the_interpreter_taken():
    found = find_python(SALESDESK_PYTHON=sys.executable)

    assert found.returncode == 0
    assert found.stdout.strip() == sys.executable


def test_an_interpreter_too_old_is_refused_not_replaced_by_another(tmp_path):
    # An interpreter that answers the version check as Python 3.11 does (exit status 1).
    old = tmp_path / "python3.11"
    old.write_text("#!/bin/sh\nexit 1\n")
    old.chmod(0o755)

    # A Python 3.12+ is on PATH, and is not taken in its place.
    found = find_python(
        SALESDESK_PYTHON=str(old), PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin"
    )

    assert find_python(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin").returncode == 0
    assert found.returncode != 0
    assert found.stdout == ""


def test_a_name_that_is_no_interpreter_is_refused():
    found = find_python(SALESDESK_PYTHON="/nonexistent/python3.13")

    assert found.returncode != 0
    assert found.stdout == ""
