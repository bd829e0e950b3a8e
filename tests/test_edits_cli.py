"""Edit logs through ``python -m backgrone cut --edits`` and re-detect with the real 'fast' model."""

import json

import numpy as np
import pytest
from PIL import Image

from backgrone.catalogue import load_catalogue
from backgrone.edits import apply_edits
from backgrone.fetch import model_path
from backgrone.infer import OnnxSegmenter
from backgrone.pipeline import Options, compose, load
from backgrone.preprocess import to_tensor
from conftest import ROOT, decode_png, run_cli

pytestmark = pytest.mark.model

CAT = ROOT / "samples" / "chelsea.jpg"  # 451 x 300
# A remove lasso over the cat's face (the subject there before).
FACE = {"op": "remove", "polygon": [[150, 60], [260, 60], [260, 160], [150, 160]]}


run = run_cli


def alpha_of(path):
    return np.asarray(decode_png(path.read_bytes()))[..., 3]


def write_log(path, *edits):
    path.write_text(json.dumps({"version": 1, "edits": list(edits)}))
    return path


def test_a_single_log_and_a_folder_of_logs(tmp_path):
    log = write_log(tmp_path / "cat.json", FACE)
    proc = run("cut", str(CAT), "--out", str(tmp_path / "one"), "--engine", "fast", "--edits", str(log))
    assert proc.returncode == 0, proc.stderr
    edited = alpha_of(tmp_path / "one" / "chelsea-cutout.png")
    assert (edited[75:145, 165:245] == 0).all()

    logs = tmp_path / "logs"
    logs.mkdir()
    write_log(logs / "chelsea.json", FACE)
    write_log(logs / "nobody.json", FACE)  # names no input: reported
    src = tmp_path / "in"
    src.mkdir()
    (src / "chelsea.jpg").write_bytes(CAT.read_bytes())
    (src / "coffee.jpg").write_bytes((ROOT / "samples" / "coffee.jpg").read_bytes())  # no log: cut as usual
    proc = run("cut", str(src), "--out", str(tmp_path / "many"), "--engine", "fast", "--edits", str(logs))
    assert proc.returncode == 0, proc.stderr
    assert "nobody.json" in proc.stderr
    assert np.array_equal(alpha_of(tmp_path / "many" / "chelsea-cutout.png"), edited)
    plain = run("cut", str(src / "coffee.jpg"), "--out", str(tmp_path / "plain"), "--engine", "fast")
    assert plain.returncode == 0
    assert (tmp_path / "many" / "coffee-cutout.png").read_bytes() == (
        tmp_path / "plain" / "coffee-cutout.png"
    ).read_bytes()
    assert (alpha_of(tmp_path / "plain" / "coffee-cutout.png") > 0).any()


def test_bad_logs_are_refused_per_image(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    small = Image.open(CAT).resize((120, 80))
    for name in ("good", "radius", "outside", "broken", "nolog"):
        small.save(src / f"{name}.png")
    logs = tmp_path / "logs"
    logs.mkdir()
    write_log(logs / "good.json", {"op": "toggle", "point": [5, 5]})
    write_log(logs / "radius.json", {"op": "keep", "radius": -4, "points": [[10, 10]]})
    write_log(logs / "outside.json", {"op": "toggle", "point": [130, 5]})
    (logs / "broken.json").write_text('{"version": 1, "edits": [')
    out = tmp_path / "out"
    proc = run("cut", str(src), "--out", str(out), "--engine", "fast", "--edits", str(logs))
    assert proc.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == ["good-cutout.png", "nolog-cutout.png"]
    lines = proc.stderr.splitlines()
    for log, problem in (
        ("radius.json", "the radius must be more than 0"),
        ("outside.json", "[130, 5] is outside the 120x80 image"),
        ("broken.json", "not valid JSON"),
    ):
        assert any(str(logs / log) in line and problem in line for line in lines), (log, proc.stderr)
    assert "2 of 5 image(s)" in proc.stderr


def test_usage_errors_of_edits(tmp_path):
    log = write_log(tmp_path / "one.json", FACE)
    two = run("cut", str(CAT), str(ROOT / "samples" / "coffee.jpg"), "--out", str(tmp_path / "o"), "--edits", str(log))
    assert two.returncode == 2 and "log of one image, but 2 images were given" in two.stderr
    missing = run("cut", str(CAT), "--out", str(tmp_path / "o"), "--edits", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "neither an edit log nor a folder" in missing.stderr
    assert not (tmp_path / "o").exists()


def test_redetect_with_the_real_model_changes_only_the_box():
    spec = load_catalogue().get("fast")
    seg = OnnxSegmenter(model_path(spec), spec, threads=1)
    prepared = load(CAT.read_bytes())
    image, _ = compose(prepared, seg.run(to_tensor(prepared.rgba, spec)), Options(output="mask"))
    alpha = np.asarray(image)
    box = [140.5, 20, 300, 150.25]
    doc = {"version": 1, "edits": [{"op": "redetect", "box": box}]}
    first = apply_edits(prepared.rgba, alpha, doc, seg).alpha
    assert np.array_equal(first, apply_edits(prepared.rgba, alpha, doc, seg).alpha)  # deterministic
    outside = np.ones(alpha.shape, bool)
    outside[20:150, 140:300] = False
    assert np.array_equal(first[outside], alpha[outside])
    assert np.abs(first.astype(int) - alpha).sum() > 255 * 50  # the closer look changed the mask
