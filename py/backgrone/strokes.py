"""Rasterising the edit log's shapes: strokes (segments of a radius) and polygons.

Both are exact functions of pixel centres, ``(i + 0.5, j + 0.5)`` for column ``i`` and row
``j``, computed with element-wise IEEE operations only (no reductions whose order a
platform may change), so CPython and Pyodide give the same bits.

* :func:`distance` - the Euclidean distance from each pixel centre of a box to a
  polyline (a stroke's capsule is ``distance <= radius``); the brush's soft rim is made
  by the snapping, not here.
* :func:`inside` - even-odd scanline fill of a polygon at pixel centres (Foley et al.,
  "Computer Graphics: Principles and Practice", 2nd ed., section 3.6): no
  anti-aliasing, since a lasso's outline is snapped to the photo in a band anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1): columns x0..x1-1, rows y0..y1-1


def bounds(points: Sequence[tuple[float, float]], reach: float, size: tuple[int, int]) -> Box:
    """The pixels whose centres may lie within ``reach`` of the points, clipped to the image."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    width, height = size
    return (
        max(0, int(np.floor(min(xs) - reach - 0.5))),
        max(0, int(np.floor(min(ys) - reach - 0.5))),
        min(width, int(np.ceil(max(xs) + reach + 0.5))),
        min(height, int(np.ceil(max(ys) + reach + 0.5))),
    )


def grow(box: Box, by: int, size: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = box
    return (max(0, x0 - by), max(0, y0 - by), min(size[0], x1 + by), min(size[1], y1 + by))


def distance(points: Sequence[tuple[float, float]], box: Box, reach: float, closed: bool = False) -> np.ndarray:
    """Distance from each pixel centre in ``box`` to the polyline through ``points``
    (closed: back to the first point too), float64 ``(y1 - y0, x1 - x0)``. Only
    distances up to ``reach`` are exact; farther pixels hold ``inf`` or a distance
    to some segment, never less than ``reach``."""
    x0, y0, x1, y1 = box
    out = np.full((y1 - y0, x1 - x0), np.inf)
    pts = [(float(x), float(y)) for x, y in points]
    if closed and len(pts) > 2:
        pts.append(pts[0])
    segments = list(pairwise(pts)) if len(pts) > 1 else [(pts[0], pts[0])]
    for (ax, ay), (bx, by) in segments:
        sx0, sy0, sx1, sy1 = bounds(((ax, ay), (bx, by)), reach, (x1, y1))
        sx0, sy0 = max(sx0, x0), max(sy0, y0)
        if sx1 <= sx0 or sy1 <= sy0:
            continue
        px = (np.arange(sx0, sx1, dtype=np.float64) + 0.5)[None, :]
        py = (np.arange(sy0, sy1, dtype=np.float64) + 0.5)[:, None]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        if length2 > 0:
            t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
            ex, ey = px - (ax + t * dx), py - (ay + t * dy)
        else:
            ex, ey = px - ax, py - ay
        d = np.sqrt(ex * ex + ey * ey)
        view = out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
        np.minimum(view, d, out=view)
    return out


def inside(polygon: Sequence[tuple[float, float]], box: Box) -> np.ndarray:
    """Which pixel centres in ``box`` lie inside ``polygon`` (even-odd rule): bool
    ``(y1 - y0, x1 - x0)``. An edge counts for the rows whose centre ``y`` has
    ``min(ya, yb) <= y < max(ya, yb)``, so a vertex on a row is counted once."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    pts = np.asarray(polygon, np.float64)
    a, b = pts, np.roll(pts, -1, axis=0)
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    # Rows r (in the box) with lo <= r + y0 + 0.5 < hi. In intp: np.repeat takes only counts it
    # can cast safely to it, and Pyodide's (wasm32) intp is 32-bit.
    first = np.clip(np.ceil(lo - 0.5 - y0), 0, h).astype(np.intp)
    stop = np.clip(np.ceil(hi - 0.5 - y0), 0, h).astype(np.intp)
    count = np.maximum(stop - first, 0)
    edge = np.repeat(np.arange(pts.shape[0]), count)
    rows = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    yc = rows + (y0 + 0.5)
    ax, ay, bx, by = a[edge, 0], a[edge, 1], b[edge, 0], b[edge, 1]
    xc = ax + (yc - ay) * (bx - ax) / (by - ay)
    # A crossing at x is to the left of the centres of columns c >= floor(x - 0.5) + 1.
    cols = np.clip(np.floor(xc - 0.5 - x0).astype(np.int64) + 1, 0, w)
    toggles = np.zeros((h, w + 1), np.int32)
    np.add.at(toggles, (rows, cols), 1)
    return (np.cumsum(toggles[:, :w], axis=1) & 1).astype(np.bool_)
