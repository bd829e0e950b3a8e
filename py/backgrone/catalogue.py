"""The model catalogue (``models/catalogue.json``): one validated record per engine.

The JSON file is the single source of truth for the Python core, the build and
the extension's downloader. ``load_catalogue`` validates it once so the rest of
the code can trust every field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import CatalogueError

RESIZE_FILTERS = ("bilinear", "lanczos", "bicubic")
ACTIVATIONS = ("none", "minmax", "sigmoid")
REGISTRIES = ("pypi", "npm", "build")


@dataclass(frozen=True)
class Normalise:
    """``((v / max(v)) if scale_to_max else v) - mean) / std`` per RGB channel."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale_to_max: bool


@dataclass(frozen=True)
class EngineSpec:
    name: str
    title: str
    file: str
    bytes: int
    sha256: str
    source: Mapping[str, Any]
    input_name: str
    input_size: tuple[int, int]  # (width, height)
    resize: str
    normalise: Normalise
    output_name: str
    activation: str
    licence: str
    # fp32 engines whose convolutions onnxruntime's generic (wasm) kernels sum in another order on
    # more threads than this: the extension runs them on at most this many (measured, see
    # backgrone_build.thread_stable), so their bytes do not depend on the machine's core count.
    max_threads: int | None = None
    # The file the extension loads instead of ``file`` (the CLI keeps ``file``): the same model in
    # ONNX Runtime's own format, built from ``file`` by ``recipe`` and pinned like it
    # ({file, bytes, sha256, recipe, level}; see backgrone_build.ort_format).
    browser: Mapping[str, Any] | None = None


def default_catalogue_path() -> Path:
    env = os.environ.get("BACKGRONE_CATALOGUE")
    if env:
        return Path(env)
    # py/backgrone/catalogue.py -> repository root / models / catalogue.json
    return Path(__file__).resolve().parents[2] / "models" / "catalogue.json"


def _require(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in mapping:
        raise CatalogueError(f"model catalogue: {where} lacks '{key}'")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CatalogueError(f"model catalogue: {where}.{key} should be {kind.__name__}")
    return value


def _triple(values: Any, where: str) -> tuple[float, float, float]:
    if not (isinstance(values, list) and len(values) == 3 and all(isinstance(v, (int, float)) for v in values)):
        raise CatalogueError(f"model catalogue: {where} should be three numbers")
    return (float(values[0]), float(values[1]), float(values[2]))


def _upstream(raw: Mapping[str, Any], where: str) -> None:
    """A downloaded file a built engine is made from: ``{file, bytes, sha256, source}``."""
    _require(raw, "file", str, where)
    _require(raw, "bytes", int, where)
    if len(_require(raw, "sha256", str, where)) != 64:
        raise CatalogueError(f"model catalogue: {where}.sha256 is not a sha256 hex digest")
    source = _require(raw, "source", dict, where)
    if _require(source, "registry", str, where + ".source") not in ("pypi", "npm"):
        raise CatalogueError(f"model catalogue: {where}.source.registry must be pypi or npm")
    for key in ("package", "version"):
        _require(source, key, str, where + ".source")


def _browser(raw: Any, where: str) -> Mapping[str, Any] | None:
    """An engine's browser form, ``{file, bytes, sha256, recipe, level}``, or None."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise CatalogueError(f"model catalogue: {where} should be an object")
    _require(raw, "file", str, where)
    _require(raw, "bytes", int, where)
    if len(_require(raw, "sha256", str, where)) != 64:
        raise CatalogueError(f"model catalogue: {where}.sha256 is not a sha256 hex digest")
    if _require(raw, "recipe", str, where) != "ort-format":
        raise CatalogueError(f"model catalogue: {where}.recipe must be ort-format")
    if _require(raw, "level", str, where) not in ("basic", "extended", "all"):
        raise CatalogueError(f"model catalogue: {where}.level must be basic, extended or all")
    return {**raw, "sha256": raw["sha256"].lower()}


def parse_engine(name: str, raw: Mapping[str, Any]) -> EngineSpec:
    where = f"engine '{name}'"
    inp = _require(raw, "input", dict, where)
    out = _require(raw, "output", dict, where)
    norm = _require(inp, "normalise", dict, where + ".input")
    size = _require(inp, "size", list, where + ".input")
    if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
        raise CatalogueError(f"model catalogue: {where}.input.size should be [width, height]")
    resize = _require(inp, "resize", str, where + ".input")
    if resize not in RESIZE_FILTERS:
        raise CatalogueError(f"model catalogue: {where}.input.resize must be one of {RESIZE_FILTERS}")
    activation = _require(out, "activation", str, where + ".output")
    if activation not in ACTIVATIONS:
        raise CatalogueError(f"model catalogue: {where}.output.activation must be one of {ACTIVATIONS}")
    std = _triple(norm.get("std"), where + ".input.normalise.std")
    if 0 in std:
        raise CatalogueError(f"model catalogue: {where}.input.normalise.std must not be 0")
    source = _require(raw, "source", dict, where)
    registry = _require(source, "registry", str, where + ".source")
    if registry not in REGISTRIES:
        raise CatalogueError(f"model catalogue: {where}.source.registry must be one of {', '.join(REGISTRIES)}")
    # A built engine is made from another engine's verified file, or from an upstream file of
    # its own (see backgrone_build).
    if registry == "build":
        recipe = _require(source, "recipe", str, where + ".source")
        if isinstance(source.get("from"), dict):
            _upstream(source["from"], where + ".source.from")
        else:
            _require(source, "from", str, where + ".source")
        if recipe == "isnet-int8":
            _require(source, "ranges", str, where + ".source")
    else:
        for key in ("package", "version"):
            _require(source, key, str, where + ".source")
    max_threads = raw.get("max_threads")
    if max_threads is not None and (
        not isinstance(max_threads, int) or isinstance(max_threads, bool) or max_threads < 1
    ):
        raise CatalogueError(f"model catalogue: {where}.max_threads should be a whole number of at least 1")
    # What the graph needs of a WebGPU adapter (the extension's gpu_route.js): an fp16 graph,
    # "shader-f16". The core runs no WebGPU; it only checks the shape.
    features = raw.get("webgpu_features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) and f for f in features):
        raise CatalogueError(f"model catalogue: {where}.webgpu_features should be a list of WebGPU feature names")
    sha = _require(raw, "sha256", str, where)
    if len(sha) != 64:
        raise CatalogueError(f"model catalogue: {where}.sha256 is not a sha256 hex digest")
    return EngineSpec(
        name=name,
        title=_require(raw, "title", str, where),
        file=_require(raw, "file", str, where),
        bytes=_require(raw, "bytes", int, where),
        sha256=sha.lower(),
        source=source,
        input_name=_require(inp, "name", str, where + ".input"),
        input_size=(size[0], size[1]),
        resize=resize,
        normalise=Normalise(
            mean=_triple(norm.get("mean"), where + ".input.normalise.mean"),
            std=std,
            scale_to_max=bool(norm.get("scale_to_max", False)),
        ),
        output_name=_require(out, "name", str, where + ".output"),
        activation=activation,
        licence=_require(raw, "licence", str, where),
        max_threads=max_threads,
        browser=_browser(raw.get("browser"), where + ".browser"),
    )


@dataclass(frozen=True)
class Catalogue:
    engines: Mapping[str, EngineSpec]
    default_engine: str

    def base_of(self, spec: EngineSpec) -> EngineSpec | None:
        """The engine a built engine is made from (``None`` for a downloaded one).

        A built engine made from an upstream file of its own gets that file as an engine of the
        same name, so it is fetched and verified like any download.
        """
        if spec.source["registry"] != "build":
            return None
        base = spec.source["from"]
        if isinstance(base, Mapping):
            return replace(
                spec, file=base["file"], bytes=base["bytes"], sha256=base["sha256"].lower(), source=base["source"]
            )
        return self.engines[base]

    def get(self, name: str | None) -> EngineSpec:
        name = name or self.default_engine
        try:
            return self.engines[name]
        except KeyError:
            known = ", ".join(self.engines)
            raise CatalogueError(f"unknown engine '{name}': choose one of {known}") from None


def parse_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    engines_raw = _require(raw, "engines", dict, "top level")
    engines = {name: parse_engine(name, spec) for name, spec in engines_raw.items()}
    for spec in engines.values():
        if spec.source["registry"] == "build" and not isinstance(spec.source["from"], Mapping):
            base = engines.get(spec.source["from"])
            if base is None or base.source["registry"] == "build":
                raise CatalogueError(
                    f"model catalogue: engine '{spec.name}' is built from '{spec.source['from']}', "
                    "which is not a downloaded engine of the catalogue"
                )
    default = _require(raw, "default_engine", str, "top level")
    if default not in engines:
        raise CatalogueError(f"model catalogue: default engine '{default}' is not listed")
    return Catalogue(engines=engines, default_engine=default)


def load_catalogue(source: str | os.PathLike | Mapping[str, Any] | None = None) -> Catalogue:
    """Load and validate the catalogue from a path, JSON text or an already parsed dict."""
    if isinstance(source, Mapping):
        return parse_catalogue(source)
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return parse_catalogue(json.loads(source))
    path = Path(source) if source is not None else default_catalogue_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"model catalogue not found at {path}: {exc.strerror}") from None
    try:
        return parse_catalogue(json.loads(text))
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"model catalogue {path} is not valid JSON: {exc}") from None
