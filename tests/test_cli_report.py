"""``--report FILE``: never onto an input or a file the user had, unless asked; never through a link."""

import json
import os

import pytest
from PIL import Image

from conftest import ROOT, run_cli


def run(*args):
    return run_cli("cut", *args)


@pytest.fixture
def photos(tmp_path):
    """Two small photos of the user's: a.png, b.png."""
    for name, sample in (("a.png", "chelsea.jpg"), ("b.png", "coffee.jpg")):
        Image.open(ROOT / "samples" / sample).reduce(4).save(tmp_path / name)
    return {name: (tmp_path / name).read_bytes() for name in ("a.png", "b.png")}


def refused(proc, *words):
    """A usage error: exit 2, one line naming the problem."""
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: --report "), proc.stderr
    assert all(w in proc.stderr for w in words), proc.stderr


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_an_input_is_never_the_report(tmp_path, photos, overwrite):
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    out = tmp_path / "out"
    refused(run(a, b, "--out", str(out), "--report", b, *overwrite), "is one of the input images")
    # the same file by another path: a hard link to it
    os.link(b, tmp_path / "same.json")
    refused(run(a, b, "--out", str(out), "--report", str(tmp_path / "same.json"), *overwrite), "input")
    assert {name: (tmp_path / name).read_bytes() for name in photos} == photos
    assert not out.exists()  # refused before any work


def test_an_existing_file_is_kept_without_overwrite(tmp_path, photos):
    mine = tmp_path / "notes.json"
    mine.write_text("mine")
    (tmp_path / "dangling.json").symlink_to(tmp_path / "nowhere")
    for target in (mine, tmp_path / "dangling.json"):
        proc = run(str(tmp_path / "a.png"), "--out", str(tmp_path / "out"), "--report", str(target))
        refused(proc, "exists already", "--overwrite")
    assert mine.read_text() == "mine" and (tmp_path / "dangling.json").is_symlink()
    refused(run(str(tmp_path / "a.png"), "--out", str(tmp_path / "out"), "--report", str(tmp_path)), "existing folder")


@pytest.mark.model
def test_overwrite_replaces_a_file_and_a_link_but_never_follows_it(tmp_path, photos):
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    (tmp_path / "old.json").write_text("old")
    (tmp_path / "link.json").symlink_to(precious)
    for name in ("old.json", "link.json"):
        report = tmp_path / name
        proc = run(
            str(tmp_path / "a.png"),
            "--out",
            str(tmp_path / "out"),
            "--engine",
            "fast",
            "--overwrite",
            "--report",
            str(report),
        )
        assert proc.returncode == 0, proc.stderr
        assert not report.is_symlink() and [r["input"] for r in json.loads(report.read_text())["cutouts"]] == [
            str(tmp_path / "a.png")
        ]
    assert precious.read_text() == "precious"
    assert not list(tmp_path.glob(".backgrone-*"))  # no temporary file left


@pytest.mark.model
def test_a_new_report_is_written_and_no_result_takes_its_name(tmp_path, photos):
    out = tmp_path / "out"
    out.mkdir()
    report = out / "a-cutout.png"  # an odd name for a report, but the user's choice
    proc = run(str(tmp_path / "a.png"), "--out", str(out), "--engine", "fast", "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(report.read_text())["cutouts"]
    assert rows[0]["output"] == str(out / "a-cutout-2.png") and (out / "a-cutout-2.png").stat().st_size > 1000
