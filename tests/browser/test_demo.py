"""The README's main job, run exactly as the README writes it (from the repository root,
relative --out included), delivers a cut-out per sample photo where it says it does."""

import re
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT

pytestmark = pytest.mark.browser


def readme_main_job() -> str:
    """The indented command after the README's "Main job:" paragraph."""
    text = (ROOT / "README.md").read_text()
    after = text.split("Main job:", 1)[1]
    command = re.search(r"^    (\S.*)$", after, re.M)
    assert command, "the README has no main-job command"
    return command.group(1)


def test_readme_main_job_delivers_its_files():
    command = readme_main_job()
    assert "scripts/demo.py" in command and "--out out/extension" in command
    out = ROOT / "out" / "extension"
    started = time.time()
    proc = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    samples = sorted((ROOT / "samples").glob("*.jpg"))
    expected = [f"{i:02d}-{p.stem}-cutout.png" for i, p in enumerate(samples)]
    assert f"{len(samples)} cut-out(s) and page.png in {out}" in proc.stdout, proc.stdout
    for name, sample in zip(expected, samples, strict=True):
        path = out / name
        assert path.is_file() and path.stat().st_mtime >= started, f"{path} was not delivered"
        im = Image.open(path)
        assert im.mode == "RGBA" and im.size == Image.open(sample).size
        alpha = np.asarray(im)[..., 3]
        assert 0.05 < (alpha > 127).mean() < 0.95, f"{name}: not a cut-out"
    assert (out / "page.png").stat().st_mtime >= started
    assert not list(out.glob("*-cutout (*).png"))  # nothing beside an older run's files


def test_demo_fails_loudly_when_nothing_arrives(tmp_path):
    """A demo whose downloads don't land where it says must not report success."""
    bad = tmp_path / "not-an-image.jpg"
    bad.write_bytes(b"plain text")
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "scripts/demo.py", "--out", str(tmp_path / "out"), str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1
    assert "error: 1 image(s) failed; expected 1 cut-outs" in proc.stderr
