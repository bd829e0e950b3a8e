"""``python -m backgrone`` as a user runs it (the real 'fast' model)."""

import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, decode_png, icc_profile, run_cli

pytestmark = pytest.mark.model


run = run_cli


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
    assert sorted(p.name for p in out.iterdir()) == ["cat-cutout.png", "coffee-cutout.png"]  # ...the rest done
    assert "2 of 3 image(s)" in proc.stderr
    assert "img/s" in proc.stderr or "s/img" in proc.stderr  # the progress bar was drawn
    cat = decode_png((out / "cat-cutout.png").read_bytes())
    assert cat.mode == "RGBA" and cat.size == Image.open(src / "cat.png").size


def test_mask_only_background_crop_webp(tmp_path):
    sample = str(ROOT / "samples" / "chelsea.jpg")
    assert run("cut", sample, "--out", str(tmp_path / "m"), "--engine", "fast", "--mask-only").returncode == 0
    mask = decode_png((tmp_path / "m" / "chelsea-cutout.png").read_bytes())
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
    out = decode_png((tmp_path / "c" / "chelsea-cutout.webp").read_bytes())
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
    assert [p.name for p in out.iterdir()] == ["good-cutout.png"]
    good = decode_png((out / "good-cutout.png").read_bytes())
    assert good.size == (451, 300) and good.info["icc_profile"] == icc_profile()  # colours kept
    assert "1 of 7 image(s)" in proc.stderr and "6 failed" in proc.stderr


# Nothing a user had is lost: the inputs, files already in --out, whatever a link points to.


def photos(folder, names=("a.png", "b.jpg")):
    """A folder of small photos as a user has them: name -> bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [ROOT / "samples" / "chelsea.jpg", ROOT / "samples" / "coffee.jpg"]
    for name, source in zip(names, sources * len(names), strict=False):
        im = Image.open(source).reduce(4)
        im.save(folder / name)
    return {name: (folder / name).read_bytes() for name in names}


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def is_cutout(path):
    im = decode_png(path.read_bytes())
    return im.mode == "RGBA" and np.asarray(im)[..., 3].min() == 0


def test_out_is_the_input_folder(tmp_path):
    folder = tmp_path / "photos"
    had = photos(folder)
    for _ in range(2):
        proc = run("cut", str(folder), "--out", str(folder), "--engine", "fast")
        assert proc.returncode == 0, proc.stderr
        assert {name: (folder / name).read_bytes() for name in had} == had  # every input byte-identical
    # the second run passed over the first run's results (said so) and named its own anew
    assert "passed over 2 earlier result(s)" in proc.stderr and "2 of 2 image(s)" in proc.stderr
    assert listing(folder) == sorted([*had, "a-cutout.png", "a-cutout-2.png", "b-cutout.png", "b-cutout-2.png"])
    assert all(is_cutout(folder / f"{stem}-cutout{n}.png") for stem in "ab" for n in ("", "-2"))


def test_two_runs_into_a_subfolder_do_not_cut_out_the_cut_outs(tmp_path):
    folder = tmp_path / "photos"
    had = photos(folder)
    for _ in range(2):
        proc = run("cut", str(folder), "--out", str(folder / "cutouts"), "--engine", "fast")
        assert proc.returncode == 0, proc.stderr
        assert "2 of 2 image(s)" in proc.stderr  # the results are never inputs
    assert {name: (folder / name).read_bytes() for name in had} == had
    assert listing(folder / "cutouts") == ["a-cutout-2.png", "a-cutout.png", "b-cutout-2.png", "b-cutout.png"]


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    photos(tmp_path / "in", ["a.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-cutout.png").write_bytes(b"mine")
    proc = run("cut", str(tmp_path / "in" / "a.png"), "--out", str(out), "--engine", "fast")
    assert proc.returncode == 0, proc.stderr
    assert (out / "a-cutout.png").read_bytes() == b"mine" and is_cutout(out / "a-cutout-2.png")
    assert "--overwrite" in proc.stderr  # says why the name has a number
    proc = run("cut", str(tmp_path / "in" / "a.png"), "--out", str(out), "--engine", "fast", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert is_cutout(out / "a-cutout.png") and listing(out) == ["a-cutout-2.png", "a-cutout.png"]


def test_overwrite_never_replaces_an_input(tmp_path):
    folder = tmp_path / "photos"
    had = photos(folder, ["a.png", "a-cutout.png"])  # a photo of the user's named like a result
    inputs = [str(folder / "a.png"), str(folder / "a-cutout.png")]  # named, so both are inputs
    proc = run("cut", *inputs, "--out", str(folder), "--engine", "fast", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert {name: (folder / name).read_bytes() for name in had} == had
    assert listing(folder) == ["a-cutout-2.png", "a-cutout-cutout.png", "a-cutout.png", "a.png"]


def test_same_names_from_different_folders_both_kept(tmp_path):
    photos(tmp_path / "in", ["a.png"])
    photos(tmp_path / "in" / "more", ["a.jpg"])
    out = tmp_path / "out"
    proc = run("cut", str(tmp_path / "in"), "--out", str(out), "--engine", "fast")
    assert proc.returncode == 0, proc.stderr
    assert listing(out) == ["a-cutout-2.png", "a-cutout.png"]
    assert (out / "a-cutout.png").read_bytes() != (out / "a-cutout-2.png").read_bytes()


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_link_at_the_target_is_not_followed(tmp_path, overwrite):
    photos(tmp_path / "in", ["a.png"])
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-cutout.png").symlink_to(elsewhere)
    args = ["--overwrite"] if overwrite else []
    proc = run("cut", str(tmp_path / "in" / "a.png"), "--out", str(out), "--engine", "fast", *args)
    assert proc.returncode == 0, proc.stderr
    assert elsewhere.read_bytes() == b"precious"
    if overwrite:  # the link itself is replaced by the result
        assert not (out / "a-cutout.png").is_symlink() and is_cutout(out / "a-cutout.png")
    else:
        assert (out / "a-cutout.png").is_symlink() and is_cutout(out / "a-cutout-2.png")


def test_out_naming_a_file_is_a_usage_error(tmp_path):
    photos(tmp_path, ["a.png"])
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    for out in (target, target / "sub"):
        proc = run("cut", str(tmp_path / "a.png"), "--out", str(out), "--engine", "fast")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and str(target) in proc.stderr
    assert target.read_text() == "keep me"


def _small_file_limit():
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))


@pytest.mark.skipif(sys.platform != "linux", reason="file size limit as on Linux")
def test_a_write_that_fails_midway_leaves_no_half_file(tmp_path):
    (tmp_path / "in").mkdir()
    Image.open(ROOT / "samples" / "chelsea.jpg").save(tmp_path / "in" / "a.png")  # its cut-out is over 50 kB
    out = tmp_path / "out"
    out.mkdir()
    (out / "a-cutout.png").write_bytes(b"mine")
    for args in ([], ["--overwrite"]):
        proc = subprocess.run(
            [sys.executable, "-m", "backgrone", "cut", str(tmp_path / "in" / "a.png"), "--out", str(out), *args],
            capture_output=True,
            text=True,
            preexec_fn=_small_file_limit,
        )
        assert proc.returncode == 1 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr
        assert listing(out) == ["a-cutout.png"] and (out / "a-cutout.png").read_bytes() == b"mine"


def test_help_says_how_results_are_named():
    text = " ".join(run("cut", "--help").stdout.split())
    assert "<name>-cutout.png" in text and "<name>-cutout-2.png" in text and "--overwrite" in text
    assert "PNG, JPEG, WebP, GIF, BMP, TIFF" in text


def test_a_long_name_whose_result_fits_is_written(tmp_path):
    """The temporary file beside the target has a short name of its own: a result name that fits
    the file system (255 bytes) is written even when a name 15 bytes longer would not."""
    stem = "p" * (255 - len("-cutout.png"))
    folder = tmp_path / "photos"
    photos(folder, names=(f"{stem}.png",))
    proc = run("cut", str(folder / f"{stem}.png"), "--out", str(tmp_path / "out"), "--engine", "fast")
    assert proc.returncode == 0, proc.stderr
    assert is_cutout(tmp_path / "out" / f"{stem}-cutout.png")
    assert listing(tmp_path / "out") == [f"{stem}-cutout.png"]  # no temporary file left
