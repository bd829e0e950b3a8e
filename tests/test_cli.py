"""``python -m backgrone`` as a user runs it (the real 'fast' model)."""

import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, decode_png, icc_profile

pytestmark = pytest.mark.model


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "backgrone", *args], capture_output=True, text=True, cwd=cwd)


def test_batch_with_a_bad_file(tmp_path):
    src = tmp_path / "in"
    (src / "nested").mkdir(parents=True)
    Image.open(ROOT / "samples" / "chelsea.jpg").save(src / "cat.png")
    (src / "nested" / "coffee.jpg").write_bytes((ROOT / "samples" / "coffee.jpg").read_bytes())
    (src / "broken.jpg").write_bytes(b"not really a jpeg")
    (src / "notes.txt").write_text("ignored: not an image suffix")
    out = tmp_path / "out"
    proc = run("cut", str(src), "--out", str(out), "--engine", "fast")
    assert proc.returncode == 1  # one failure makes the run fail...
    assert "skipped" in proc.stderr and "broken.jpg" in proc.stderr and "not an image" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cat.png", "coffee.png"]  # ...the rest still done
    assert "2 of 3 image(s)" in proc.stderr
    assert "img/s" in proc.stderr or "s/img" in proc.stderr  # the progress bar was drawn
    cat = decode_png((out / "cat.png").read_bytes())
    assert cat.mode == "RGBA" and cat.size == Image.open(src / "cat.png").size


def test_mask_only_background_crop_webp(tmp_path):
    sample = str(ROOT / "samples" / "chelsea.jpg")
    assert run("cut", sample, "--out", str(tmp_path / "m"), "--engine", "fast", "--mask-only").returncode == 0
    mask = decode_png((tmp_path / "m" / "chelsea.png").read_bytes())
    assert mask.mode == "L" and mask.size == (451, 300)
    a = np.asarray(mask)
    assert a.min() < 10 and a.max() > 245

    proc = run(
        "cut",
        sample,
        "--out",
        str(tmp_path / "c"),
        "--engine",
        "fast",
        "--background",
        "#00ff00",
        "--crop",
        "--margin",
        "4",
        "--format",
        "webp",
    )
    assert proc.returncode == 0, proc.stderr
    out = decode_png((tmp_path / "c" / "chelsea.webp").read_bytes())
    assert out.mode == "RGB" and out.size[0] < 451


def test_usage_errors_are_clear(tmp_path):
    proc = run(
        "cut",
        str(ROOT / "samples" / "chelsea.jpg"),
        "--out",
        str(tmp_path),
        "--engine",
        "fast",
        "--background",
        "blurple",
    )
    assert proc.returncode == 2 and "error: 'blurple' is not a colour" in proc.stderr
    proc = run("cut", str(tmp_path / "missing.png"), "--out", str(tmp_path / "o"), "--engine", "fast")
    assert proc.returncode == 1 and "cannot read it" in proc.stderr


def test_models_list():
    proc = run("models", "list")
    assert proc.returncode == 0
    assert "fast" in proc.stdout and "medium" in proc.stdout and "(default)" in proc.stdout


def test_folder_of_bad_files_reports_each(tmp_path):
    from test_decode import ftyp, png_chunk

    src = tmp_path / "in"
    src.mkdir()
    Image.open(ROOT / "samples" / "chelsea.jpg").save(src / "good.png", icc_profile=icc_profile())
    jpeg = (ROOT / "samples" / "coffee.jpg").read_bytes()
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + png_chunk(b"IEND", b"")
    )
    bad = {
        "empty.png": (b"", "the file is empty (0 bytes)"),
        "cut.jpg": (jpeg[: len(jpeg) // 3], "the image data is truncated or damaged"),
        "page.png": (b"<!DOCTYPE html><html><body>Not found</body></html>", "a web page (HTML), not an image"),
        "drawing.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "a vector SVG drawing, not a pixel image"),
        "photo.avif": (ftyp(b"avif", b"mif1", b"avif"), "an AVIF image, a format this decoder does not read"),
        "bomb.png": (bomb, "10000.0 MP, over the 50.0 MP limit"),
    }
    for name, (data, _) in bad.items():
        (src / name).write_bytes(data)
    out = tmp_path / "out"
    proc = run("cut", str(src), "--out", str(out), "--engine", "fast")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for name, (_, message) in bad.items():
        assert f"skipped {src / name}: " in proc.stderr and message in proc.stderr, (name, proc.stderr)
    assert [p.name for p in out.iterdir()] == ["good.png"]
    good = decode_png((out / "good.png").read_bytes())
    assert good.size == (451, 300) and good.info["icc_profile"] == icc_profile()  # colours kept
    assert "1 of 7 image(s)" in proc.stderr and "6 failed" in proc.stderr
