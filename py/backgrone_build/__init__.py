"""Engines we build ourselves from registry weights (a build-time tool: onnx + onnxruntime).

Kept out of ``backgrone`` (the core the extension ships) because it needs onnx and
onnxruntime's quantiser. The catalogue describes a built engine with
``source: {"registry": "build", "from": <engine or file>, "recipe": ..., ...}``; :func:`build_engine`
turns the ``from`` engine's (or upstream file's) verified file into the built one, and the caller
checks the result against the catalogue's sha256 like any download.

Recipes: ``isnet-int8`` (:mod:`.isnet`: our int8 ISNet) and ``fp32-thread-stable``
(:mod:`.thread_stable`: an fp32 model whose result does not depend on the thread count).
An engine's ``browser`` form (what the extension loads instead of its ``file``) is made by
:func:`build_browser_file`: recipe ``ort-format`` (:mod:`.ort_format`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RECIPES = ("isnet-int8", "fp32-thread-stable")

# Calibration ranges live beside the catalogue (models/), committed: they are what makes the
# build reproducible without running calibration (minutes, GBs) on every machine.


def build_engine(source: Mapping[str, Any], base: Path, out: Path, models_dir: Path) -> Path:
    """Run ``source['recipe']`` on ``base`` (the ``from`` engine's file), writing ``out``."""
    recipe = source.get("recipe")
    if recipe == "fp32-thread-stable":
        from . import thread_stable

        stable = thread_stable.prepare(str(base), onnx_first_output(base))
        Path(out).write_bytes(stable.SerializeToString())
        return Path(out)
    if recipe != "isnet-int8":
        raise ValueError(f"unknown engine recipe '{recipe}': known are {', '.join(RECIPES)}")
    from . import isnet

    ranges = models_dir / str(source["ranges"])
    model = isnet.prepare(base)
    with tempfile.TemporaryDirectory() as tmp:
        built = isnet.quantize(model, ranges, Path(tmp) / "built.onnx")
        Path(out).write_bytes(built.read_bytes())
    return Path(out)


def onnx_first_output(path: Path) -> str:
    """The first graph output's name: the fused mask in U2-Net exports (the rest are side heads)."""
    import onnx

    return onnx.load(str(path), load_external_data=False).graph.output[0].name


def build_browser_file(browser: Mapping[str, Any], model: Path, out: Path) -> Path:
    """Make an engine's ``browser`` form from its verified ``model`` file, writing ``out``."""
    if browser.get("recipe") != "ort-format":
        raise ValueError(f"unknown browser recipe '{browser.get('recipe')}': known is ort-format")
    from . import ort_format

    return ort_format.to_ort(model, out, str(browser["level"]))
