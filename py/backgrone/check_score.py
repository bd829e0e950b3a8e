"""The "check these first" score: how likely a cut-out is to need a fix, from the model's own mask.

Two signs, each mapped to 0..1 and combined as a noisy-or, ``1 - (1 - u)(1 - t)``:

* **uncertainty** ``u``: the model's indecision, ``4 m (1 - m)`` (1 where the mask is 0.5, 0
  where it is 0 or 1), summed over the mask and divided by the subject's area (``m >= 0.5``),
  saturating at :data:`UNCERTAIN_FULL`. A clean cut-out has indecision only in a thin rim; a
  subject the model is unsure of (a background it half takes for foreground, a textured edge)
  has it over much of its area.
* **touching the frame** ``t``: the share of the frame's border pixels that are subject,
  saturating at :data:`TOUCH_FULL`. A subject cut by the frame is often not the one meant (a
  photo's own subject) or is missing a part.

Measured on the quality set (``bench/check_score.py``, docs/quality.md, "Check these first"):
it separates cut-outs with IoU < 0.95 from the rest better than the share of the subject's
area whose alpha is neither near 0 nor near 1. Other signs were tried there (fragments away
from the main subject, the subject's share of the frame): they added nothing on that set.

Integer arithmetic on the mask quantised to 8 bits (as the cut-out's alpha is), so the sums are
exact in any order and CPython and Pyodide give the same score.
"""

from __future__ import annotations

import numpy as np

# The indecision per subject pixel at which ``u`` reaches 1, and the share of the frame's border
# at which ``t`` does (chosen on the quality set; from 0.3 to 0.5 and from 0.01 to 0.05 the
# ROC AUC moves by under 0.005).
UNCERTAIN_FULL = 0.3
TOUCH_FULL = 0.01
# Scores at or above this are flagged: the lowest threshold that flags at most one good cut-out
# (IoU >= 0.95) in five on the quality set with the standard engine (bench/check_score.py:
# 11 of 59 good and 28 of 31 needing a fix; at 0.30 it would be 12 of 59).
FLAG_AT = 0.31


def _levels(mask: np.ndarray) -> np.ndarray:
    """The mask in 0..1 as integer levels 0..255 (as ``compose.alpha_at_size`` rounds it)."""
    return np.round(np.clip(mask, 0.0, 1.0) * 255.0).astype(np.int64)


def uncertainty(mask: np.ndarray) -> float:
    """Indecision ``4 m (1 - m)`` summed over the mask, per subject pixel (``m >= 0.5``)."""
    q = _levels(mask)
    area = int((q >= 128).sum())
    total = int((q * (255 - q)).sum())  # exact: integers
    if area == 0:
        return 1.0 if total else 0.0
    return 4 * total / (255 * 255 * area)


def touching(mask: np.ndarray) -> float:
    """The share of the frame's border pixels that are subject (``m >= 0.5``)."""
    fg = _levels(mask) >= 128
    if fg.size == 0:
        return 0.0
    border = np.concatenate((fg[0], fg[-1], fg[1:-1, 0], fg[1:-1, -1]))
    return int(border.sum()) / border.size


def score(mask: np.ndarray) -> float:
    """0 (looks clean) to 1 (check it first), from the model's ``(h, w)`` mask in 0..1."""
    if mask.ndim != 2 or mask.size == 0:
        return 1.0
    u = min(uncertainty(mask) / UNCERTAIN_FULL, 1.0)
    t = min(touching(mask) / TOUCH_FULL, 1.0)
    return round(1 - (1 - u) * (1 - t), 4)


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
