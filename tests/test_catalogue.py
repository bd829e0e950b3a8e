import itertools
import json
import re

import pytest

from backgrone.catalogue import load_catalogue
from backgrone.errors import CatalogueError
from conftest import ROOT


def test_engines_with_sources(catalogue):
    assert list(catalogue.engines) == ["fast", "standard", "detailed", "medium"]
    assert catalogue.default_engine == "standard"
    fast = catalogue.get("fast")
    assert fast.source["registry"] == "build" and fast.input_size == (320, 320)
    assert catalogue.base_of(fast).source["registry"] == "pypi"  # made from an upstream file of its own
    medium = catalogue.get("medium")
    assert medium.source["package"] == "@imgly/background-removal-data"
    chunks = medium.source["chunks"]
    # chunks tile the file exactly, in order
    assert chunks[0]["start"] == 0 and chunks[-1]["end"] == medium.bytes
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(chunks))
    assert medium.input_size == (1024, 1024) and medium.output_name == "output"
    # our int8 build: one file, run at two input sizes
    standard, detailed = catalogue.get("standard"), catalogue.get("detailed")
    assert standard.source["registry"] == detailed.source["registry"] == "build"
    assert catalogue.base_of(standard) is medium and catalogue.base_of(medium) is None
    assert standard.file == detailed.file and standard.sha256 == detailed.sha256
    assert standard.input_size == (768, 768) and detailed.input_size == (1024, 1024)


def test_the_extension_knows_the_same_engines_and_default(catalogue):
    """Settings validate synchronously against extension/lib/catalogue.js's copy of the names."""
    js = (ROOT / "extension" / "lib" / "catalogue.js").read_text()
    names = re.search(r"export const ENGINES = \[([^\]]*)\]", js)
    default = re.search(r"export const DEFAULT_ENGINE = '([^']*)'", js)
    assert names and default
    assert re.findall(r"'([^']*)'", names.group(1)) == list(catalogue.engines)
    assert default.group(1) == catalogue.default_engine


def test_a_built_engine_must_come_from_a_downloaded_one():
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    raw["engines"]["standard"]["source"]["from"] = "detailed"
    with pytest.raises(CatalogueError, match="built from 'detailed', which is not a downloaded engine"):
        load_catalogue(raw)
    raw["engines"]["standard"]["source"] = {"registry": "build", "from": "medium", "recipe": "isnet-int8"}
    with pytest.raises(CatalogueError, match="source lacks 'ranges'"):
        load_catalogue(raw)


def test_get_default_and_unknown(catalogue):
    assert catalogue.get(None).name == "standard"
    with pytest.raises(CatalogueError, match="unknown engine 'huge': choose one of fast, standard, detailed, medium"):
        catalogue.get("huge")


def test_validation_names_the_field():
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    raw["engines"]["fast"]["input"]["resize"] = "nearest-ish"
    with pytest.raises(CatalogueError, match=r"engine 'fast'.input.resize"):
        load_catalogue(raw)
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    del raw["engines"]["medium"]["sha256"]
    with pytest.raises(CatalogueError, match="engine 'medium' lacks 'sha256'"):
        load_catalogue(raw)
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    raw["engines"]["medium"]["webgpu_features"] = "shader-f16"
    with pytest.raises(CatalogueError, match=r"engine 'medium'.webgpu_features"):
        load_catalogue(raw)


def test_the_fp16_graph_says_it_needs_shader_f16_on_webgpu():
    # ORT's fp16 kernels cannot be made without it (measured: "Program Transpose requires f16 but the
    # device does not support it" on an H200 through Dawn, and on SwiftShader); gpu_route.js reads this.
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    needs = {name: spec.get("webgpu_features", []) for name, spec in raw["engines"].items()}
    assert needs == {"fast": [], "standard": [], "detailed": [], "medium": ["shader-f16"]}


def test_load_from_text_and_missing_path(tmp_path):
    text = (ROOT / "models" / "catalogue.json").read_text()
    assert load_catalogue(text).get("medium").bytes == 88188479
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.json")
