"""The "check these first" score: how likely a cut-out is to need a fix, from the model's own mask.

The model's **indecision**, ``4 m (1 - m)`` (1 where the mask is 0.5, 0 where it is 0 or 1),
summed over the mask and divided by the square root of the subject's area (``m >= 0.5``),
mapped to 0..1 and saturating at :data:`UNCERTAIN_FULL`. A clean cut-out has indecision only in
a thin rim along a smooth outline; a subject the model is unsure of (a background it half takes
for foreground, a ragged or textured edge) has much more. Rim width times outline length over
the square root of the area does not change with the subject's size or the mask's resolution,
so one scale serves every engine.

Touching the frame (:func:`touching`, the share of the border that is subject) is measured but
not scored: on the quality set it added under 0.01 to the ROC AUC and changed no flag, while
in real photos a subject that touches the frame is mostly meant to (a head-and-shoulders
portrait stands on the bottom edge, a close-up fills the frame), so it flagged good cut-outs.

Measured on the quality set (``bench/check_score.py``, docs/quality.md, "Check these first"):
it separates cut-outs with IoU < 0.95 from the rest better than the share of the subject's
area whose alpha is neither near 0 nor near 1 (ROC AUC 0.971 against 0.874 for standard, 0.962
against 0.898 for fast).

Integer arithmetic on the mask quantised to 8 bits (as the cut-out's alpha is), so the sums are
exact in any order and CPython and Pyodide give the same score.
"""

from __future__ import annotations

import math

import numpy as np

# The indecision (per square root of the subject's area) at which the score reaches 1 (chosen on
# the quality set, standard engine; anywhere from 75 to 220 the ROC AUC moves by under 0.01).
UNCERTAIN_FULL = 100.0
# Scores at or above this are flagged: on the quality set it flags at most one good cut-out
# (IoU >= 0.95) in five (bench/check_score.py): standard 10 of 59 good and all 31 needing a fix;
# fast 5 of 59 and 26 of 31. (At 0.15 standard would flag 12 of 59.)
FLAG_AT = 0.16


def _levels(mask: np.ndarray) -> np.ndarray:
    """The mask in 0..1 as integer levels 0..255 (as ``compose.alpha_at_size`` rounds it)."""
    return np.round(np.clip(mask, 0.0, 1.0) * 255.0).astype(np.int64)


def uncertainty(mask: np.ndarray) -> float:
    """Indecision ``4 m (1 - m)`` summed over the mask, per square root of the subject's area
    (``m >= 0.5``); with no subject, as if it were one cell."""
    q = _levels(mask)
    area = int((q >= 128).sum())
    total = int((q * (255 - q)).sum())  # exact: integers
    return 4 * total / (255 * 255 * math.sqrt(max(area, 1)))  # sqrt: correctly rounded


def touching(mask: np.ndarray) -> float:
    """The share of the frame's border pixels that are subject (``m >= 0.5``): reported by the
    benchmark, not scored (see above)."""
    fg = _levels(mask) >= 128
    if fg.size == 0:
        return 0.0
    border = np.concatenate((fg[0], fg[-1], fg[1:-1, 0], fg[1:-1, -1]))
    return int(border.sum()) / border.size


def score(mask: np.ndarray) -> float:
    """0 (looks clean) to 1 (check it first), from the model's ``(h, w)`` mask in 0..1."""
    if mask.ndim != 2 or mask.size == 0:
        return 1.0
    return round(min(uncertainty(mask) / UNCERTAIN_FULL, 1.0), 4)


def soft_share(alpha: np.ndarray) -> float:
    """The trivial baseline the score is measured against: the share of the subject's area
    (alpha >= 0.5) whose alpha is neither near 0 nor near 1 (between 0.05 and 0.95); alpha in
    0..255 (uint8) or 0..1 (float)."""
    a = np.asarray(alpha)
    if a.dtype != np.uint8:
        a = _levels(a)
    a = a.astype(np.int64)
    area = int((a >= 128).sum())
    soft = int(((a > 13) & (a < 242)).sum())
    return soft / area if area else 1.0


def report(mask: np.ndarray) -> dict[str, float | bool]:
    """``{"check": score, "flag": whether to check it first}`` for a host or ``--report``."""
    s = score(mask)
    return {"check": s, "flag": s >= FLAG_AT}
