"""The pure JavaScript modules' unit tests (tests/js/*.test.mjs), run by Node's own test runner:
the logic that needs no browser is checked without one."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

JS_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))


@pytest.mark.parametrize("path", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_node_unit_tests(path):
    node = shutil.which("node")
    assert node, "Node 20 is needed (see the README)"
    run = subprocess.run([node, "--test", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
