"""A soft shadow made from the subject's own alpha, to lay under the subject.

Two styles, sized by the subject's box so they look alike at any resolution:

* ``contact``: the subject's silhouette squashed flat (to :data:`CONTACT_HEIGHT` of its
  height) and centred on its lowest row, then blurred: the dark patch where an object meets the
  floor, under a studio light from above;
* ``drop``: the silhouette moved by an offset (down and to the right by default) and blurred:
  a light from the upper left falling on a wall behind.

The shadow is an 8-bit alpha (its colour is :data:`COLOUR`). It is built on the subject's alpha
reduced so that the blur spans a few cells, and scaled back up bilinearly: a soft shadow has no
detail that the reduction loses. Pillow's integer filters and element-wise numpy only, so
CPython and Pyodide give the same bytes. The subject is laid over it, so it shows only where the
subject is not opaque.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .decode import to_array
from .errors import OptionsError

STYLES = ("none", "contact", "drop")
COLOUR = (0, 0, 0)
# Per style: opacity 0..1, blur radius and offset (x right, y down), as fractions of the
# subject box's height.
DEFAULTS: dict[str, tuple[float, float, tuple[float, float]]] = {
    "contact": (0.6, 0.03, (0.0, 0.0)),  # opacity, blur, offset
    "drop": (0.35, 0.04, (0.03, 0.04)),
}
CONTACT_HEIGHT = 0.08
# The blur's radius in cells of the reduced alpha.
WORK_RADIUS = 3.0
# Alpha below this is not the subject when finding its box (as compose.CROP_THRESHOLD).
BOX_THRESHOLD = 16


def check(style: str, opacity: float | None, blur: float | None, offset: tuple[float, float] | None) -> None:
    """Refuse an unknown style or a value out of range, naming it."""
    if style not in STYLES:
        raise OptionsError(f"unknown shadow '{style}': choose one of {', '.join(STYLES)}")
    if opacity is not None and not (isinstance(opacity, (int, float)) and 0 < opacity <= 1):
        raise OptionsError(f"the shadow's opacity must be a number above 0 and at most 1, not {opacity!r}")
    if blur is not None and not (isinstance(blur, (int, float)) and 0 <= blur <= 1):
        raise OptionsError(f"the shadow's blur must be a share of the subject's height from 0 to 1, not {blur!r}")
    if offset is not None and not (
        isinstance(offset, (tuple, list))
        and len(offset) == 2
        and all(isinstance(v, (int, float)) and -1 <= v <= 1 for v in offset)
    ):
        raise OptionsError(
            f"the shadow's offset must be two shares of the subject's height from -1 to 1, not {offset!r}"
        )


def _box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((alpha >= BOX_THRESHOLD).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((alpha[rows[0] : rows[-1] + 1] >= BOX_THRESHOLD).any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def shadow(
    alpha: np.ndarray,
    style: str,
    opacity: float | None = None,
    blur: float | None = None,
    offset: tuple[float, float] | None = None,
) -> np.ndarray | None:
    """The shadow's ``(H, W)`` uint8 alpha for a subject of ``alpha`` (uint8), or ``None``
    (no style, or no subject). ``None`` values take the style's :data:`DEFAULTS`."""
    check(style, opacity, blur, offset)
    if style == "none":
        return None
    box = _box(alpha)
    if box is None:
        return None
    style_opacity, style_blur, style_offset = DEFAULTS[style]
    strength = style_opacity if opacity is None else float(opacity)
    spread = style_blur if blur is None else float(blur)
    dx, dy = style_offset if offset is None else (float(offset[0]), float(offset[1]))
    h, w = alpha.shape
    left, top, right, bottom = box
    sh = bottom - top
    radius = max(spread * sh, 0.5)
    f = max(1, int(radius / WORK_RADIUS))
    small = Image.fromarray(alpha, "L")
    small = small.reduce(f) if f > 1 else small
    sw, shh = small.size
    canvas = Image.new("L", (sw, shh), 0)
    if style == "contact":
        # The silhouette's box squashed flat, centred on its lowest row.
        l0, t0, r0, b0 = left // f, top // f, -(-right // f), -(-bottom // f)
        flat_h = max(1, round((b0 - t0) * CONTACT_HEIGHT))
        flat = small.crop((l0, t0, r0, b0)).resize((r0 - l0, flat_h), Image.Resampling.BOX)
        canvas.paste(flat, (l0 + round(dx * sh / f), b0 - (flat_h + 1) // 2 + round(dy * sh / f)))
    else:
        canvas.paste(small, (round(dx * sh / f), round(dy * sh / f)))
    canvas = canvas.filter(ImageFilter.GaussianBlur(radius / f))
    scaled = (np.asarray(canvas, np.uint16) * round(strength * 256) + 128) >> 8
    out = Image.fromarray(scaled.astype(np.uint8), "L")
    if out.size != (w, h):
        # The reduced grid covers ceil(w / f) cells; scale its exact span back to the image.
        out = out.resize((w, h), Image.Resampling.BILINEAR, box=(0, 0, w / f, h / f))
    return to_array(out)
