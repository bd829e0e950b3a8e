"""Engines we build ourselves from registry weights (a build-time tool: onnx + onnxruntime).

Kept out of ``backgrone`` (the core the extension ships) because it needs onnx and
onnxruntime's quantiser. The catalogue describes a built engine with
``source: {"registry": "build", "from": <engine>, "recipe": ..., ...}``; :func:`build_engine`
turns the ``from`` engine's verified file into the built one, and the caller checks the result
against the catalogue's sha256 like any download.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RECIPES = ("isnet-int8",)

# Calibration ranges live beside the catalogue (models/), committed: they are what makes the
# build reproducible without running calibration (minutes, GBs) on every machine.


def build_engine(source: Mapping[str, Any], base: Path, out: Path, models_dir: Path) -> Path:
    """Run ``source['recipe']`` on ``base`` (the ``from`` engine's file), writing ``out``."""
    from . import isnet

    recipe = source.get("recipe")
    if recipe != "isnet-int8":
        raise ValueError(f"unknown engine recipe '{recipe}': known are {', '.join(RECIPES)}")
    ranges = models_dir / str(source["ranges"])
    model = isnet.prepare(base)
    with tempfile.TemporaryDirectory() as tmp:
        built = isnet.quantize(model, ranges, Path(tmp) / "built.onnx")
        Path(out).write_bytes(built.read_bytes())
    return Path(out)
