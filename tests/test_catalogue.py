import itertools
import json

import pytest

from backgrone.catalogue import load_catalogue
from backgrone.errors import CatalogueError
from conftest import ROOT


def test_three_engines_with_sources(catalogue):
    assert set(catalogue.engines) == {"fast", "small", "medium"}
    assert catalogue.default_engine == "medium"
    fast = catalogue.get("fast")
    assert fast.source["registry"] == "pypi" and fast.input_size == (320, 320)
    for name in ("small", "medium"):
        spec = catalogue.get(name)
        assert spec.source["package"] == "@imgly/background-removal-data"
        chunks = spec.source["chunks"]
        # chunks tile the file exactly, in order
        assert chunks[0]["start"] == 0 and chunks[-1]["end"] == spec.bytes
        assert all(a["end"] == b["start"] for a, b in itertools.pairwise(chunks))
        assert spec.input_size == (1024, 1024) and spec.output_name == "output"


def test_get_default_and_unknown(catalogue):
    assert catalogue.get(None).name == "medium"
    with pytest.raises(CatalogueError, match="unknown engine 'huge': choose one of fast, small, medium"):
        catalogue.get("huge")


def test_validation_names_the_field():
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    raw["engines"]["fast"]["input"]["resize"] = "nearest-ish"
    with pytest.raises(CatalogueError, match=r"engine 'fast'.input.resize"):
        load_catalogue(raw)
    raw = json.loads((ROOT / "models" / "catalogue.json").read_text())
    del raw["engines"]["small"]["sha256"]
    with pytest.raises(CatalogueError, match="engine 'small' lacks 'sha256'"):
        load_catalogue(raw)


def test_load_from_text_and_missing_path(tmp_path):
    text = (ROOT / "models" / "catalogue.json").read_text()
    assert load_catalogue(text).get("small").bytes == 44342436
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.json")
