"""The side-by-side benchmark's smoke run (bench/side_by_side.py --smoke): Backgrone (right-click
and popup), @imgly/background-removal and native onnxruntime each cut one small image, and the
run writes its JSON, Markdown and plots. It asserts that they ran, never how fast."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from conftest import ROOT

pytestmark = pytest.mark.browser


def test_side_by_side_smoke(ext_dir, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "side_by_side.py"),
            "--smoke",
            "--ext",
            str(ext_dir),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    [json_path] = tmp_path.glob("side_by_side-*-smoke.json")
    assert proc.stdout.strip() == str(json_path)
    report = json.loads(json_path.read_text())

    impls = {row["impl"] for row in report["warm"]}
    assert impls == {"ours-menu", "ours-popup", "imgly", "native"}
    for row in report["warm"]:
        assert row["wall"] > 0 and row["stages"]["inference"] > 0, row
    ours = [row for row in report["warm"] if row["impl"].startswith("ours")]
    assert all({"decode", "preprocess", "postprocess", "encode"} <= set(row["stages"]) for row in ours)
    # standard ships in the package: it has no uncached state; imgly is measured both ways
    assert {(c["impl"], c["cached"]) for c in report["cold"]} == {
        ("ours-menu", True),
        ("imgly", False),
        ("imgly", True),
    }
    # ours starts twice: a new profile (Python's snapshot made then), then a used one (every later start)
    assert [c["profile"] for c in report["cold"] if c["impl"] == "ours-menu"] == ["new", "used"]
    assert report["cold"][0]["stages"]["model_wait"] > 0
    # imgly twice: its bare page, and its page showing the photo then the cut-out (the right-click's like for like)
    assert {m["impl"] for m in report["memory"]} == {"ours-menu", "ours-popup", "imgly", "imgly-shown", "native-cli"}
    assert all(m["peak_mb"] > 50 for m in report["memory"])
    quality = {q["impl"]: q for q in report["quality"]}
    assert set(quality) == {"ours", "imgly", "native"}
    # the same weights, the same mask: the extension and the CLI agree (parity), imgly is close
    assert quality["ours"]["iou"] == pytest.approx(quality["native"]["iou"], abs=0.01)
    assert {r["impl"] for r in report["ratios"]} == {"ours-menu", "ours-popup"}
    assert all(r["ours_over_imgly"] > 0 and r["ours_over_native"] > 0 for r in report["ratios"])

    stem = json_path.with_suffix("")
    markdown = (tmp_path / f"{stem.name}.md").read_text()
    assert "| standard | 0.08MP |" in markdown and "@imgly/background-removal" in markdown
    for suffix in ("-latency.png", "-memory.png"):
        with Image.open(tmp_path / f"{stem.name}{suffix}") as plot:
            assert plot.format == "PNG" and plot.width > 300
