"""Static checks on the extension's JavaScript: ESLint (eslint.config.js) and the TypeScript
checker over the JSDoc-typed sources (tsconfig.json). Both come pinned in package-lock.json;
scripts/setup.sh (through build_ext.py's npm ci) installs them, so a missing one fails."""

import subprocess

import pytest

from conftest import ROOT

BIN = ROOT / "node_modules" / ".bin"


@pytest.mark.parametrize(
    "args",
    [
        ["eslint", "extension", "tests/js"],
        ["tsc", "-p", "tsconfig.json", "--noEmit"],
    ],
    ids=["eslint", "tsc"],
)
def test_js_static_check_passes(args):
    tool = BIN / args[0]
    assert tool.exists(), f"{tool} is missing: run scripts/setup.sh (npm ci) first"
    proc = subprocess.run([str(tool), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
