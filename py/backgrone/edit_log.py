"""The edit log: the user's corrections to a cut-out as one versioned JSON document.

Shape (``docs/edit-log.md``)::

    {"version": 1, "edits": [
      {"op": "keep",   "radius": 14, "points": [[x, y], ...]},   # brush stroke: subject
      {"op": "remove", "radius": 14, "points": [[x, y], ...]},   # brush stroke: background
      {"op": "keep",   "polygon": [[x, y], ...]},                # lasso: the inside is subject
      {"op": "remove", "polygon": [[x, y], ...]},                # lasso: the inside is background
      {"op": "toggle", "point": [x, y]},                         # flip the region under the point
      {"op": "redetect", "box": [x0, y0, x1, y1]}                # run the model again on this area
    ]}

Coordinates are pixels of the image as shown (after EXIF orientation), origin at the
top-left corner of the top-left pixel, so pixel ``(i, j)`` (column, row) covers
``[i, i + 1) x [j, j + 1)`` and its centre is ``(i + 0.5, j + 0.5)``; floats are allowed.

:func:`parse` checks the shape (anything else is refused with an :class:`EditLogError`
naming the edit and the problem) and :meth:`EditLog.check_inside` the coordinates
against the image's size, which is known only once the image is decoded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BackgroneError

VERSION = 1
OPS = ("keep", "remove", "toggle", "redetect")
# Bounds that keep a log's cost reasonable: far beyond what a person draws.
MAX_EDITS = 10_000
MAX_POINTS = 100_000  # in one stroke or lasso
MAX_RADIUS = 2_000.0
MAX_TOTAL_POINTS = 1_000_000  # in the whole log
MAX_REDETECTS = 100  # each runs the model once
# The pixels the edits work on, summed over the log (each stroke's segments' boxes and its own
# box, each lasso's box, the whole image for each toggle; clipped to the image): about 200 passes
# over a 50 MP image, minutes of work, where a hostile log could otherwise ask for days.
MAX_WORK_PIXELS = 10_000_000_000

Point = tuple[float, float]


class EditLogError(BackgroneError):
    """An edit log that is not valid: the message names the edit and the problem."""


@dataclass(frozen=True)
class Stroke:
    """A brush stroke: ``points`` joined by segments of ``radius`` px; ``keep`` or not (remove)."""

    keep: bool
    radius: float
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Lasso:
    """A closed polygon whose inside is subject (``keep``) or background."""

    keep: bool
    polygon: tuple[Point, ...]


@dataclass(frozen=True)
class Toggle:
    """Flip the connected region of the cut-out under ``point``."""

    point: Point


@dataclass(frozen=True)
class Redetect:
    """Run the model again on ``box = (x0, y0, x1, y1)``."""

    box: tuple[float, float, float, float]


Edit = Stroke | Lasso | Toggle | Redetect


@dataclass(frozen=True)
class EditLog:
    edits: tuple[Edit, ...] = ()

    def check_inside(self, size: tuple[int, int]) -> EditLog:
        """Refuse a coordinate outside the ``size = (width, height)`` image; returns ``self``."""
        width, height = size
        for n, edit in enumerate(self.edits, 1):
            if isinstance(edit, Redetect):
                points: Sequence[Point] = (edit.box[:2], edit.box[2:])
            elif isinstance(edit, Toggle):
                points = (edit.point,)
            elif isinstance(edit, Stroke):
                points = edit.points
            else:
                points = edit.polygon
            for x, y in points:
                if not (0 <= x <= width and 0 <= y <= height):
                    raise EditLogError(
                        f"edit {n} ({_name(edit)}): the point [{_num(x)}, {_num(y)}] is outside "
                        f"the {width}x{height} image"
                    )
            if isinstance(edit, Toggle) and (edit.point[0] >= width or edit.point[1] >= height):
                # A toggle names a pixel: the far edges belong to none.
                raise EditLogError(
                    f"edit {n} (toggle): the point [{_num(edit.point[0])}, {_num(edit.point[1])}] "
                    f"is on the far edge of the {width}x{height} image, not on a pixel"
                )
        work = sum(_work(edit, size) for edit in self.edits)
        if work > MAX_WORK_PIXELS:
            raise EditLogError(
                f"its edits work on {work / 1e6:,.0f} megapixels of the {width}x{height} image in all "
                f"(each stroke segment's and lasso's box, the whole image per toggle): "
                f"at most {MAX_WORK_PIXELS / 1e6:,.0f} are allowed"
            )
        return self

    def to_json(self) -> dict[str, Any]:
        """The log as the JSON document it came from (numbers as given)."""
        out: list[dict[str, Any]] = []
        for edit in self.edits:
            if isinstance(edit, Stroke):
                out.append({"op": _name(edit), "radius": edit.radius, "points": [list(p) for p in edit.points]})
            elif isinstance(edit, Lasso):
                out.append({"op": _name(edit), "polygon": [list(p) for p in edit.polygon]})
            elif isinstance(edit, Toggle):
                out.append({"op": "toggle", "point": list(edit.point)})
            else:
                out.append({"op": "redetect", "box": list(edit.box)})
        return {"version": VERSION, "edits": out}


def _box_area(xs: np.ndarray, ys: np.ndarray, reach: float, size: tuple[int, int]) -> int:
    """Pixels in the boxes from ``xs[:, 0]``..``xs[:, 1]`` (and the same for ``ys``) grown by
    ``reach``, clipped to the image: the work of a shape's rasterisation, about."""
    w = np.clip(xs.max(axis=1) + reach, 0, size[0]) - np.clip(xs.min(axis=1) - reach, 0, size[0])
    h = np.clip(ys.max(axis=1) + reach, 0, size[1]) - np.clip(ys.min(axis=1) - reach, 0, size[1])
    return int((w * h).sum())


def _work(edit: Edit, size: tuple[int, int]) -> int:
    """About how many pixels applying ``edit`` to an image of ``size`` works on (a re-detect's
    model run is bounded by :data:`MAX_REDETECTS` instead)."""
    if isinstance(edit, Toggle):
        return size[0] * size[1]  # a toggle labels the whole image
    if isinstance(edit, Redetect):
        return 0
    pts = np.asarray(edit.points if isinstance(edit, Stroke) else edit.polygon, np.float64)
    whole = _box_area(pts[None, :, 0], pts[None, :, 1], edit.radius + 1 if isinstance(edit, Stroke) else 1, size)
    if isinstance(edit, Lasso):
        return whole
    ends = np.stack((pts[:-1], pts[1:]), axis=1) if len(pts) > 1 else pts[:, None, :]
    return whole + _box_area(ends[..., 0], ends[..., 1], edit.radius + 1, size)


def _name(edit: Edit) -> str:
    if isinstance(edit, Stroke | Lasso):
        return "keep" if edit.keep else "remove"
    return "toggle" if isinstance(edit, Toggle) else "redetect"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _number(value: Any, where: str) -> float:
    # bool is an int in Python, but true is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EditLogError(f"{where} must be a number, not {json.dumps(value)[:40]}")
    return float(value)


def _point(value: Any, where: str) -> Point:
    if not isinstance(value, list) or len(value) != 2:
        raise EditLogError(f"{where} must be a point [x, y], not {json.dumps(value)[:40]}")
    return (_number(value[0], where), _number(value[1], where))


def _points(value: Any, where: str, least: int) -> tuple[Point, ...]:
    if not isinstance(value, list):
        raise EditLogError(f"{where} must be a list of points [[x, y], ...]")
    if len(value) < least:
        raise EditLogError(f"{where} has {len(value)} point(s): it needs at least {least}")
    if len(value) > MAX_POINTS:
        raise EditLogError(f"{where} has {len(value)} points: at most {MAX_POINTS} are allowed")
    return tuple(_point(p, f"{where}, point {k}") for k, p in enumerate(value, 1))


def _keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise EditLogError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _edit(raw: Any, n: int) -> Edit:
    if not isinstance(raw, dict):
        raise EditLogError(f'edit {n} must be an object like {{"op": "keep", ...}}')
    op = raw.get("op")
    if op not in OPS:
        raise EditLogError(f"edit {n}: unknown op {json.dumps(op)[:40]}: use one of {', '.join(OPS)}")
    where = f"edit {n} ({op})"
    if op == "toggle":
        _keys(raw, {"op", "point"}, where)
        return Toggle(_point(raw.get("point"), f"{where}: the point"))
    if op == "redetect":
        _keys(raw, {"op", "box"}, where)
        box = raw.get("box")
        if not isinstance(box, list) or len(box) != 4:
            raise EditLogError(f"{where}: the box must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (_number(v, f"{where}: the box") for v in box)
        if not (x1 > x0 and y1 > y0):
            raise EditLogError(f"{where}: the box [x0, y0, x1, y1] must have x1 > x0 and y1 > y0")
        return Redetect((x0, y0, x1, y1))
    keep = op == "keep"
    if "polygon" in raw:
        _keys(raw, {"op", "polygon"}, where)
        return Lasso(keep, _points(raw["polygon"], f"{where}: the polygon", 3))
    if "points" not in raw:
        raise EditLogError(f'{where}: a stroke needs "radius" and "points", a lasso "polygon"')
    _keys(raw, {"op", "radius", "points"}, where)
    radius = _number(raw.get("radius"), f"{where}: the radius")
    if not 0 < radius <= MAX_RADIUS:
        raise EditLogError(
            f"{where}: the radius must be more than 0 and at most {int(MAX_RADIUS)} px, not {_num(radius)}"
        )
    return Stroke(keep, radius, _points(raw["points"], f"{where}: the stroke", 1))


def parse(source: str | bytes | Mapping[str, Any]) -> EditLog:
    """An edit log from its JSON text (or the already parsed document). Raises
    :class:`EditLogError` naming the problem; coordinates are checked against the image
    by :meth:`EditLog.check_inside`."""
    if isinstance(source, str | bytes):
        try:
            # UTF-8 (a byte-order mark allowed), as JSON files are written.
            doc = json.loads(source.decode("utf-8-sig") if isinstance(source, bytes) else source)
        except UnicodeDecodeError:
            raise EditLogError("it is not text (UTF-8 JSON)") from None
        except json.JSONDecodeError as exc:
            raise EditLogError(f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    else:
        doc = source
    if not isinstance(doc, Mapping):
        raise EditLogError('it must be a JSON object like {"version": 1, "edits": [...]}')
    if "version" not in doc:
        raise EditLogError('it has no "version": this program reads version 1')
    version = doc["version"]
    if isinstance(version, bool) or version != VERSION:
        raise EditLogError(f"its version is {json.dumps(version)[:40]}: this program reads version {VERSION}")
    _keys(doc, {"version", "edits"}, "the log")
    edits = doc.get("edits")
    if not isinstance(edits, list):
        raise EditLogError('it must have "edits": a list of edits')
    if len(edits) > MAX_EDITS:
        raise EditLogError(f"it has {len(edits)} edits: at most {MAX_EDITS} are allowed")
    log = EditLog(tuple(_edit(raw, n) for n, raw in enumerate(edits, 1)))
    points = sum(
        len(e.points) if isinstance(e, Stroke) else len(e.polygon) for e in log.edits if isinstance(e, Stroke | Lasso)
    )
    if points > MAX_TOTAL_POINTS:
        raise EditLogError(
            f"its strokes and lassos have {points:,} points in all: at most {MAX_TOTAL_POINTS:,} are allowed"
        )
    redetects = sum(isinstance(e, Redetect) for e in log.edits)
    if redetects > MAX_REDETECTS:
        raise EditLogError(f"it has {redetects} re-detects (each runs the model): at most {MAX_REDETECTS} are allowed")
    return log
