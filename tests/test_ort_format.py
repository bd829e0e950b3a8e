"""The int8 engines' browser form (.ort): pinned in the catalogue, built reproducibly, verified like
any model file, and computing the very same bytes as the .onnx it is made from."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from backgrone import load_catalogue
from backgrone.errors import CatalogueError, ModelFetchError
from backgrone.fetch import fetch_browser_file, fetch_engine, sha256_file
from backgrone_build import ort_format

ROOT = Path(__file__).resolve().parents[1]


def raw_catalogue() -> dict:
    return json.loads((ROOT / "models" / "catalogue.json").read_text())


def test_the_int8_engines_share_one_pinned_browser_form():
    catalogue = load_catalogue()
    standard, detailed = catalogue.get("standard"), catalogue.get("detailed")
    assert standard.browser == detailed.browser  # one file, two input sizes
    assert standard.browser["file"] == "isnet_int8.ort" and standard.browser["recipe"] == "ort-format"
    assert len(standard.browser["sha256"]) == 64 and standard.browser["bytes"] > 0
    # The others load their .onnx everywhere.
    assert catalogue.get("fast").browser is None and catalogue.get("medium").browser is None


@pytest.mark.parametrize(
    "field, value, says",
    [("recipe", "zip", "recipe must be ort-format"), ("level", "layout", "level must be"), ("sha256", "ab", "sha256")],
)
def test_a_bad_browser_form_is_named(field, value, says):
    raw = raw_catalogue()
    raw["engines"]["standard"]["browser"][field] = value
    with pytest.raises(CatalogueError, match=says):
        load_catalogue(raw)


def test_canonical_refuses_what_is_not_an_ort_file():
    with pytest.raises(ValueError, match="ORTM"):
        ort_format.canonical(b"\0" * 64)


@pytest.fixture
def models(tmp_path):
    """A models folder holding only the verified int8 .onnx (linked)."""
    spec = load_catalogue().get("standard")
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / spec.file).symlink_to(fetch_engine(spec, catalogue=load_catalogue()))
    yield folder
    shutil.rmtree(folder)


@pytest.mark.model
def test_the_build_reproduces_its_pin_and_a_corrupt_file_is_refused(models):
    spec = load_catalogue().get("standard")
    said = []
    built = fetch_browser_file(spec, models, log=said.append)
    assert built == models / "isnet_int8.ort"
    assert sha256_file(built) == spec.browser["sha256"] and built.stat().st_size == spec.browser["bytes"]

    # A damaged file (one byte of a weight) is not used: it is built again, and verified.
    data = bytearray(built.read_bytes())
    data[len(data) // 2] ^= 0xFF
    built.write_bytes(bytes(data))
    said.clear()
    again = fetch_browser_file(spec, models, log=said.append)
    assert sha256_file(again) == spec.browser["sha256"]
    assert any("corrupt" in line for line in said), said

    # A build that comes out other than the pin is refused, and leaves nothing behind.
    raw = raw_catalogue()
    raw["engines"]["standard"]["browser"]["sha256"] = "0" * 64
    other = load_catalogue(raw).get("standard")
    again.unlink()
    with pytest.raises(ModelFetchError, match="did not reproduce"):
        fetch_browser_file(other, models)
    assert not list(models.glob("*.ort")) and not list(models.glob("*.part"))


@pytest.mark.model
def test_a_package_ships_the_onnx_when_the_ort_does_not_reproduce(models, tmp_path, monkeypatch):
    """Another onnxruntime or CPU may build other bytes than the pin: build_ext says so and ships
    the .onnx (same output, a slower session), and the package's catalogue names no .ort."""
    import build_ext

    raw = raw_catalogue()
    raw["engines"]["standard"]["browser"]["sha256"] = "0" * 64
    other = load_catalogue(raw)
    said = []
    monkeypatch.setattr(build_ext, "log", said.append)
    files, plain = build_ext.browser_files(other, {"standard": models / other.get("standard").file})
    assert files == {"standard": models / "isnet_int8.onnx"} and plain == {"standard"}
    assert any("warning" in line and "ships isnet_int8.onnx" in line for line in said), said
    build_ext.write_catalogue(tmp_path / "catalogue.json", plain)
    packaged = json.loads((tmp_path / "catalogue.json").read_text())
    assert "browser" not in packaged["engines"]["standard"] and "browser" in packaged["engines"]["detailed"]
    build_ext.write_catalogue(tmp_path / "same.json", set())
    assert (tmp_path / "same.json").read_bytes() == (ROOT / "models" / "catalogue.json").read_bytes()


@pytest.mark.model
def test_canonical_bytes_do_not_depend_on_ort_s_hash_order(models, tmp_path):
    """ORT lists its kernel-type table in a hash order seeded per process: conversions in processes
    of their own come out in other orders, and canonical() makes them one file."""
    spec = load_catalogue().get("standard")
    convert = """
import sys, onnxruntime as ort
so = ort.SessionOptions()
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
so.optimized_model_filepath = sys.argv[2]
so.add_session_config_entry("session.save_model_format", "ORT")
so.add_session_config_entry("session.qdqisint8allowed", "0")
ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"], disabled_optimizers=["NchwcTransformer"])
"""
    raws = []
    for i in range(4):
        out = tmp_path / f"raw{i}.ort"
        subprocess.run([sys.executable, "-c", convert, str(models / spec.file), str(out)], check=True)
        raws.append(out.read_bytes())
    assert len(set(raws)) > 1  # the orders differ between processes (what canonical() is for)
    canon = {ort_format.canonical(r) for r in raws}
    assert len(canon) == 1
    (made,) = canon
    assert ort_format.canonical(made) == made  # a fixed point


@pytest.mark.model
def test_the_ort_file_computes_the_same_bytes_as_the_onnx(models):
    spec = load_catalogue().get("standard")
    built = fetch_browser_file(spec, models)
    x = np.random.default_rng(3).uniform(-0.5, 0.5, size=(1, 3, 320, 320)).astype(np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    outs = [
        ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"]).run(["output"], {"input": x})[0]
        for path in (models / spec.file, built)
    ]
    assert outs[0].tobytes() == outs[1].tobytes()
