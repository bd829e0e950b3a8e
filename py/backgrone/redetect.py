"""Re-detect: the model run again on a part of the image, at its full input size.

A model sees the whole photo shrunk to its input (320 to 1024 px): a 12 MP photo is
reduced about 20 times, and a small subject, a thin part or hair is lost in it. Run on
a box (grown by a margin of context, :data:`MARGIN`), the model sees that part far
larger. Its soft mask, scaled to the crop and refined against the photo's edges as the
pipeline refines the whole mask (``refine.refine_edges``), replaces the cut-out inside
the box; the change fades in over :data:`FEATHER` px inside the box's edges (except
where the box meets the image's border), so no seam shows and nothing outside the box
changes. Locked pixels (made certain by earlier keep/remove edits or toggles) stay.

The split :func:`model_input` -> (model) -> :func:`blend` lets the browser run the
model asynchronously between two synchronous calls, as ``pipeline`` does; the blend is
integer arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from .catalogue import EngineSpec
from .compose import alpha_at_size
from .preprocess import to_tensor
from .refine import refine_edges
from .strokes import Box

# Context around the box for the model: a tenth of its longer side, at least 16 px.
MARGIN = 0.1
MARGIN_MIN = 16
# The seam: the new mask fades in over at most this many px inside the box, and over
# at most an eighth of its shorter side.
FEATHER = 16


def pixel_box(box: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    """The pixels whose centres ``(i + 0.5, j + 0.5)`` lie in the box (at least one)."""
    width, height = size
    x0, y0, x1, y1 = box
    c0 = min(max(0, math.ceil(x0 - 0.5)), width - 1)
    r0 = min(max(0, math.ceil(y0 - 0.5)), height - 1)
    c1 = min(max(c0 + 1, math.floor(x1 - 0.5) + 1), width)
    r1 = min(max(r0 + 1, math.floor(y1 - 0.5) + 1), height)
    return (c0, r0, c1, r1)


def crop_box(box: Box, size: tuple[int, int]) -> Box:
    """``box`` grown by the context margin, clipped to the image."""
    x0, y0, x1, y1 = box
    m = max(MARGIN_MIN, math.ceil(MARGIN * max(x1 - x0, y1 - y0)))
    return (max(0, x0 - m), max(0, y0 - m), min(size[0], x1 + m), min(size[1], y1 + m))


def model_input(rgba: np.ndarray, box: tuple[float, float, float, float], spec: EngineSpec) -> np.ndarray:
    """The model's input tensor for the box (with its margin) of the ``(H, W, 4)`` image."""
    size = (rgba.shape[1], rgba.shape[0])
    x0, y0, x1, y1 = crop_box(pixel_box(box, size), size)
    return to_tensor(np.ascontiguousarray(rgba[y0:y1, x0:x1]), spec)


def blend(
    rgba: np.ndarray,
    alpha: np.ndarray,
    locked: np.ndarray,
    box: tuple[float, float, float, float],
    mask: np.ndarray,
    edges: bool = True,
) -> Box:
    """Put the model's ``mask`` for :func:`model_input`'s crop into ``alpha`` inside the box,
    in place; returns the box of pixels that may have changed."""
    h, w = alpha.shape
    inner = pixel_box(box, (w, h))
    cx0, cy0, cx1, cy1 = crop_box(inner, (w, h))
    crop = np.ascontiguousarray(rgba[cy0:cy1, cx0:cx1])
    new = alpha_at_size(mask, (cx1 - cx0, cy1 - cy0))
    if edges:
        new = refine_edges(crop, new, mask)
    x0, y0, x1, y1 = inner
    new = new[y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0].astype(np.int32)
    feather = max(1, min(FEATHER, min(x1 - x0, y1 - y0) // 8))
    # Steps from each side that is not the image's border (1 on the outermost pixels).
    far = np.int32(feather)
    cols = np.arange(x0, x1, dtype=np.int32)
    rows = np.arange(y0, y1, dtype=np.int32)
    across = np.minimum(cols - x0 + 1 if x0 > 0 else far, x1 - cols if x1 < w else far)
    down = np.minimum(rows - y0 + 1 if y0 > 0 else far, y1 - rows if y1 < h else far)
    weight = np.minimum(np.minimum(down[:, None], across[None, :]), far)
    a = alpha[y0:y1, x0:x1]
    mixed = (a.astype(np.int32) * (far - weight) + new * weight + far // 2) // far
    free = ~locked[y0:y1, x0:x1]
    a[free] = mixed[free].astype(np.uint8)
    return inner
