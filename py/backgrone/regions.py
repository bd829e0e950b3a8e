"""Toggle: flip the connected region of the cut-out under a point.

The cut-out's subject is alpha >= 0.5 (128), 8-connected; its background is the
rest, 4-connected: the usual dual pair of digital topology (Rosenfeld, "Connectivity
in Digital Pictures", JACM 17(1), 1970), so a hole enclosed by a diagonal run of
subject pixels (a ring, a mug's handle) is its own region and does not leak to the
outside through the diagonal gaps. Components are found by
:func:`backgrone.refine.label` (run-length labelling), on the whole image.

The flipped region becomes 0 (a blob dropped) or 255 (a hole or second subject
kept) and locked; its soft rim, the pixels on the other side of 0.5 that are not
already 0 or 255 and reach it through such pixels within :data:`RIM` px, goes with
it, so no faint outline stays. Nothing farther than :data:`RIM` px from the region changes.
"""

from __future__ import annotations

import numpy as np

from .refine import label
from .strokes import Box

THRESHOLD = 128
# How far the soft rim that goes with a flipped region may reach (the edit log's
# locality bound for a toggle is 12 px).
RIM = 12


def _step(mask: np.ndarray) -> np.ndarray:
    """One 8-neighbour dilation step."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    row = out.copy()
    out[:, 1:] |= row[:, :-1]
    out[:, :-1] |= row[:, 1:]
    return out


def toggle(alpha: np.ndarray, locked: np.ndarray, x: float, y: float) -> Box | None:
    """Flip the region under the point ``(x, y)`` in ``alpha`` (``(H, W)`` uint8), in
    place, locking it in ``locked``. Returns the box of the pixels that may have
    changed, or ``None`` when the point is outside the image."""
    h, w = alpha.shape
    col, row = int(np.floor(x)), int(np.floor(y))
    if not (0 <= col < w and 0 <= row < h):
        return None
    subject = alpha >= THRESHOLD
    keep = not bool(subject[row, col])  # background under the point becomes subject
    side = ~subject if keep else subject
    labels, _ = label(side, 4 if keep else 8)
    region = labels == labels[row, col]
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region[rows[0] : rows[-1] + 1].any(axis=0))
    x0, y0 = max(int(cols[0]) - RIM, 0), max(int(rows[0]) - RIM, 0)
    x1, y1 = min(int(cols[-1]) + 1 + RIM, w), min(int(rows[-1]) + 1 + RIM, h)
    a = alpha[y0:y1, x0:x1]
    lk = locked[y0:y1, x0:x1]
    own = region[y0:y1, x0:x1]
    # The rim: soft pixels of the other side, reached from the region through soft pixels.
    soft = (a > 0) & (a < 255) & ~side[y0:y1, x0:x1] & ~lk
    rim = np.zeros_like(own)
    front = own
    for _ in range(RIM):
        grown = _step(front) & soft & ~rim
        if not grown.any():
            break
        rim |= grown
        front = grown
    target = 255 if keep else 0
    a[own] = target
    lk[own] = True
    a[rim] = target
    return (x0, y0, x1, y1)
