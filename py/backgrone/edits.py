"""Replaying an edit log (``edit_log``) on a cut-out: the one entry point for the CLI and the editor.

Edits apply in order and a later one wins. A keep/remove's sure part (a stroke's core,
a lasso's inside away from its outline) and a toggled region are *locked*: later
snapping, toggles' rims and re-detects leave them as they are; only a later keep/remove
or toggle that covers them changes them. Each op is one module:

* stroke and lasso: :mod:`backgrone.strokes` draws them, :mod:`backgrone.snap` snaps the
  rest of the brush (or the lasso's band) to the photo's edges;
* toggle: :mod:`backgrone.regions`;
* re-detect: :mod:`backgrone.redetect`.

Everything is a pure function of the image, the starting alpha and the log (numpy and
Pillow, no threads, element-wise float64 or integer maths), so the same log gives the
same bytes in CPython and in Pyodide. Each edit works inside the box it may change plus
a margin, so its cost follows the edit's size, not the image's (a toggle labels the
whole image once).

For an editor: :func:`start` makes the state, :func:`apply_edit` applies one edit in
place and returns the box that may have changed (redraw only that); undo is a replay of
the log's first edits from :func:`start` on the same starting alpha.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import redetect
from .edit_log import Edit, EditLog, EditLogError, Lasso, Stroke, Toggle, parse
from .infer import Segmenter
from .regions import toggle
from .snap import paint
from .strokes import Box, bounds, distance, inside

# A stroke's sure core, as a fraction of its radius; the rest of the brush snaps.
CORE = 0.5
# A lasso's outline snaps within this many px on either side.
LASSO_BAND = 12


@dataclass
class Edited:
    """The cut-out's alpha ``(H, W)`` uint8 and which pixels edits made certain (bool)."""

    alpha: np.ndarray
    locked: np.ndarray


def start(alpha: np.ndarray) -> Edited:
    """The editing state for a cut-out's alpha (copied; nothing locked yet)."""
    alpha = np.asarray(alpha)
    if alpha.ndim != 2 or alpha.dtype != np.uint8:
        raise ValueError(f"alpha must be (H, W) uint8, not {alpha.shape} {alpha.dtype}")
    return Edited(np.array(alpha, order="C"), np.zeros(alpha.shape, np.bool_))


def _stroke(rgba: np.ndarray, state: Edited, edit: Stroke, hard: bool) -> Box:
    h, w = state.alpha.shape
    r = edit.radius
    window = max(1, math.ceil(r * (1 - CORE)))  # the rim's width: its pixels' windows see both sides
    box = bounds(edit.points, r + 0.5 + 2 * window + 1, (w, h))
    d = distance(edit.points, box, r + 1)
    sure = d <= r * CORE
    cover = np.clip(r + 0.5 - d, 0.0, 1.0)
    paint(rgba, state.alpha, state.locked, box, sure, (cover > 0) & ~sure, cover, edit.keep, window, hard)
    return bounds(edit.points, r + 0.5, (w, h))


def _lasso(rgba: np.ndarray, state: Edited, edit: Lasso, hard: bool) -> Box | None:
    h, w = state.alpha.shape
    # The fit's windows are as wide as the band, so each unknown pixel's window sees both sides.
    reach = LASSO_BAND + 0.5 + 4 * LASSO_BAND + 1
    box = bounds(edit.polygon, reach, (w, h))
    ins = inside(edit.polygon, box)
    if not ins.any():
        return None
    d = distance(edit.polygon, box, LASSO_BAND + 1, closed=True)
    # A small polygon keeps a sure middle: the band is at most half its depth.
    band = min(float(LASSO_BAND), float(d[ins].max()) / 2)
    sure = ins & (d > band)
    cover = np.where(ins, 1.0, np.clip(band + 0.5 - d, 0.0, 1.0))
    window = max(1, math.ceil(2 * band))
    # The inside is what the user said: an earlier opposite certainty there (a remove lasso's
    # or a toggle's, around the subject now lassoed) no longer holds; its band snaps.
    x0, y0, x1, y1 = box
    lk = state.locked[y0:y1, x0:x1]
    lk[ins & ~sure & (state.alpha[y0:y1, x0:x1] != (255 if edit.keep else 0))] = False
    paint(rgba, state.alpha, state.locked, box, sure, (cover > 0) & ~sure, cover, edit.keep, window, hard)
    return bounds(edit.polygon, LASSO_BAND + 0.5, (w, h))


def apply_edit(
    rgba: np.ndarray,
    state: Edited,
    edit: Edit,
    segmenter: Segmenter | None = None,
    *,
    edges: bool = True,
    hard: bool = False,
) -> Box | None:
    """Apply one edit to ``state`` in place; returns ``(x0, y0, x1, y1)``, the pixels that may
    have changed (``None``: none). ``rgba`` is the ``(H, W, 4)`` uint8 image (the guide);
    ``segmenter`` runs a re-detect (``edges``: refine its mask's edges, as the pipeline
    did); ``hard`` paints strokes and lassos without snapping (for comparisons only)."""
    if isinstance(edit, Stroke):
        return _stroke(rgba, state, edit, hard)
    if isinstance(edit, Lasso):
        return _lasso(rgba, state, edit, hard)
    if isinstance(edit, Toggle):
        return toggle(state.alpha, state.locked, *edit.point)
    if segmenter is None:
        raise EditLogError("a re-detect edit needs the engine's model, and none was given")
    mask = segmenter.run(redetect.model_input(rgba, edit.box, segmenter.spec))
    return redetect.blend(rgba, state.alpha, state.locked, edit.box, mask, edges)


def apply_edits(
    rgba: np.ndarray,
    soft_mask: np.ndarray,
    log: EditLog | str | bytes | Mapping[str, Any],
    segmenter: Segmenter | None = None,
    *,
    edges: bool = True,
    hard: bool = False,
) -> Edited:
    """Replay ``log`` on a cut-out: ``rgba`` the ``(H, W, 4)`` uint8 image, ``soft_mask`` the
    cut-out's alpha at the image's size (``(H, W)`` uint8, the model's mask after the
    pipeline's post-processing). The log may be JSON text or a parsed :class:`EditLog`;
    its coordinates are checked against the image. Returns a new :class:`Edited`."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"rgba must be (H, W, 4) uint8, not {rgba.shape} {rgba.dtype}")
    if soft_mask.shape != rgba.shape[:2]:
        raise ValueError(f"the soft mask is {soft_mask.shape}, the image {rgba.shape[:2]}")
    if not isinstance(log, EditLog):
        log = parse(log)
    log.check_inside((rgba.shape[1], rgba.shape[0]))
    rgba = np.ascontiguousarray(rgba)
    state = start(soft_mask)
    for edit in log.edits:
        apply_edit(rgba, state, edit, segmenter, edges=edges, hard=hard)
    return state
