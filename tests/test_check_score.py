"""The "check these first" score of a cut-out from the model's own mask."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backgrone import check_score
from backgrone.pipeline import Options, compose
from conftest import ROOT
from test_backgrounds import scene


def blob(h=384, w=512, soft=2.0):
    """A disc as a model mask at its own resolution: a rim of about ``soft`` cells."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.clip((120 - np.hypot(yy - h / 2, xx - w / 2)) / soft + 0.5, 0, 1).astype(np.float32)


def test_a_clean_subject_scores_low_and_is_not_flagged():
    mask = blob()
    assert check_score.score(mask) < 0.2
    assert check_score.report(mask) == {"check": check_score.score(mask), "flag": False}


def test_an_undecided_mask_scores_high():
    mask = blob()
    mask[mask < 0.5] = np.where(mask[mask < 0.5] > 0, 0.45, 0.3)  # half believes the background
    assert check_score.uncertainty(mask) > check_score.UNCERTAIN_FULL
    assert check_score.report(mask)["flag"]


def test_a_subject_standing_on_the_frame_is_not_flagged_for_it():
    """A head-and-shoulders portrait runs off the bottom edge by design: touching the frame is
    measured, not scored (docs/quality.md, "Check these first")."""
    mask = blob()
    yy, xx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    shoulders = np.clip(np.minimum(xx - 100, 412 - xx) / 2.0 + 0.5, 0, 1) * (yy >= 250)
    mask = np.maximum(mask, shoulders.astype(np.float32))
    assert check_score.touching(mask) > 0.1
    assert not check_score.report(mask)["flag"]


def test_the_score_is_exact_whatever_the_order():
    mask = blob(soft=9.0)
    assert check_score.score(mask) == check_score.score(mask[::-1, ::-1].copy()) == check_score.score(mask.T.copy())


def test_the_baseline_soft_share():
    alpha = np.zeros((10, 10), np.uint8)
    alpha[2:8, 2:8] = 255
    assert check_score.soft_share(alpha) == 0
    alpha[2:8, 2] = 128  # one column of six soft pixels in a subject of 36
    assert check_score.soft_share(alpha) == 6 / 36


def test_compose_reports_the_score():
    prepared, mask = scene()
    report: dict = {}
    compose(prepared, mask, Options(), report=report)
    assert report == check_score.report(mask)


@pytest.mark.model
def test_the_cli_reports_scores_and_applies_a_preset(tmp_path):
    """The CLI with the real 'fast' model: a preset for the batch and every score in --report."""
    out = tmp_path / "out"
    args = ["samples/chelsea.jpg", "samples/coffee.jpg", "--out", str(out), "--engine", "fast"]
    args += ["--preset", "marketplace-white-square-1600", "--report", str(tmp_path / "r.json")]
    proc = subprocess.run(
        [sys.executable, "-m", "backgrone", "cut", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "r.json").read_text())["cutouts"]
    assert [Path(r["input"]).name for r in rows] == ["chelsea.jpg", "coffee.jpg"]
    for row in rows:
        assert 0 <= row["check"] <= 1 and row["flag"] == (row["check"] >= check_score.FLAG_AT)
        assert Image.open(row["output"]).size == (1600, 1600)
    flagged = [Path(r["input"]).name for r in rows if r["flag"]]
    assert ("check these first" in proc.stderr) == bool(flagged)
