"""Static checks on the Python code: ruff (lint and format) and mypy, as configured in pyproject.toml."""

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize(
    "args",
    [
        ["ruff", "check", "py", "tests", "bench", "scripts"],
        ["ruff", "format", "--check", "py", "tests", "bench", "scripts"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_static_check_passes(args):
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
