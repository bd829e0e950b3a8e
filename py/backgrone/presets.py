"""Product-photo layout: the subject scaled and placed on a canvas of a given size, and the named
presets (``models/presets.json``, read by the CLI and by the extension alike).

The subject's box (alpha >= 16, as crop finds it) is scaled so that it takes ``fill`` of the
canvas on its limiting side (a tall subject ``fill`` of the height, a wide one of the width),
and never comes closer than ``margin`` px to the canvas's edge. ``position`` ``center`` centres
it; ``bottom`` stands it on the bottom, ``margin`` px above the edge or, with no margin, as far
above it as a centred tall subject would be. (Marketplaces ask for this: Amazon's main image is
the product on RGB 255,255,255 taking 85% of the frame, at least 1000 px on a side.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .errors import OptionsError

POSITIONS = ("center", "bottom")
MAX_SIDE = 16383  # the largest side every output format holds (WebP's limit)
# Alpha below this is not the subject when finding its box (as compose.CROP_THRESHOLD).
BOX_THRESHOLD = 16


def default_presets_path() -> Path:
    env = os.environ.get("BACKGRONE_PRESETS")
    if env:
        return Path(env)
    # py/backgrone/presets.py -> repository root / models / presets.json
    return Path(__file__).resolve().parents[2] / "models" / "presets.json"


def load_presets(source: str | os.PathLike | Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Name -> ``{"title", "options"}`` from a path, JSON text or an already parsed dict."""
    if isinstance(source, Mapping):
        raw: Any = source
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        raw = json.loads(source)
    else:
        path = Path(source) if source is not None else default_presets_path()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise OptionsError(f"the presets file {path} cannot be read ({exc})") from None
    presets = raw.get("presets") if isinstance(raw, Mapping) else None
    if not isinstance(presets, Mapping) or not all(
        isinstance(p, Mapping) and isinstance(p.get("title"), str) and isinstance(p.get("options"), Mapping)
        for p in presets.values()
    ):
        raise OptionsError('the presets file must hold {"presets": {name: {"title", "options"}}}')
    return {str(name): dict(p) for name, p in presets.items()}


def resolve(name: str, presets: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The options of the preset ``name`` (a copy), or an error naming the known ones."""
    known = load_presets() if presets is None else presets
    if name not in known:
        raise OptionsError(f"unknown preset '{name}': choose one of {', '.join(sorted(known))}")
    return dict(known[name]["options"])


def check(canvas: Any, fill: Any, position: Any, margin: int, min_size: Any, max_pixels: int) -> tuple[int, int] | None:
    """The canvas as ``(width, height)`` (``None`` for none), or an error naming the bad value."""
    if not (isinstance(fill, (int, float)) and not isinstance(fill, bool) and 0 < fill <= 1):
        raise OptionsError(f"the fill must be a share above 0 and at most 1 (e.g. 0.85), not {fill!r}")
    if position not in POSITIONS:
        raise OptionsError(f"unknown position '{position}': choose one of {', '.join(POSITIONS)}")
    if not (isinstance(min_size, int) and not isinstance(min_size, bool) and 0 <= min_size <= MAX_SIDE):
        raise OptionsError(f"the minimum size must be a whole number of pixels from 0 to {MAX_SIDE}, not {min_size!r}")
    if canvas is None:
        return None
    if isinstance(canvas, str):
        canvas = parse_size(canvas)
    if not (
        isinstance(canvas, (tuple, list))
        and len(canvas) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in canvas)
    ):
        raise OptionsError(f"the canvas must be a width and a height in whole pixels, not {canvas!r}")
    width, height = int(canvas[0]), int(canvas[1])
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise OptionsError(f"the canvas must be 1 to {MAX_SIDE} px on each side, not {width}x{height}")
    if width * height > max_pixels:
        raise OptionsError(
            f"the canvas {width}x{height} has {width * height / 1e6:.1f} MP, "
            f"over the limit of {max_pixels / 1e6:.0f} MP"
        )
    if min(width, height) < min_size:
        raise OptionsError(f"the canvas {width}x{height} is smaller than this preset's minimum of {min_size} px a side")
    if 2 * margin >= min(width, height):
        raise OptionsError(f"a margin of {margin} px leaves no room on a {width}x{height} canvas")
    return width, height


def parse_size(text: str) -> tuple[int, int]:
    """``'2000x2000'`` -> ``(2000, 2000)``; an error naming the text otherwise."""
    parts = text.lower().replace("\u00d7", "x").split("x")  # the multiplication sign too
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise OptionsError(f"'{text}' is not a canvas size: give width x height in px, e.g. 2000x2000")
    return int(parts[0]), int(parts[1])


def box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """The subject's box ``(left, top, right, bottom)``, or ``None`` when there is no subject."""
    rows = np.flatnonzero((alpha >= BOX_THRESHOLD).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((alpha[rows[0] : rows[-1] + 1] >= BOX_THRESHOLD).any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def layout(
    subject: tuple[int, int], canvas: tuple[int, int], fill: float, position: str, margin: int
) -> tuple[int, int, int, int]:
    """Where a subject box of ``subject`` (w, h) goes on ``canvas``: ``(left, top, width, height)``."""
    bw, bh = subject
    width, height = canvas
    scale = min(fill * width / bw, fill * height / bh, (width - 2 * margin) / bw, (height - 2 * margin) / bh)
    tw, th = max(1, min(width, round(bw * scale))), max(1, min(height, round(bh * scale)))
    left = (width - tw) // 2
    if position == "bottom":
        gap = margin if margin else (height - round(fill * height)) // 2
        top = max(0, height - gap - th)
    else:
        top = (height - th) // 2
    return left, top, tw, th


def place(
    cutout: Image.Image, alpha: np.ndarray, canvas: tuple[int, int], fill: float, position: str, margin: int
) -> tuple[Image.Image, tuple[float, float], tuple[float, float]]:
    """The cut-out (``RGBA``) scaled and placed on a transparent canvas, as :func:`layout` says,
    with the scale and shift that took a source point ``p`` to ``p * scale + shift``.

    Resampled premultiplied (Pillow does so for ``RGBA``), so no colour of a transparent pixel
    comes in at the edge; an empty subject gives an empty canvas."""
    out = Image.new("RGBA", canvas, (0, 0, 0, 0))
    found = box(alpha)
    if found is None:
        return out, (1.0, 1.0), (0.0, 0.0)
    l0, t0, r0, b0 = found
    left, top, tw, th = layout((r0 - l0, b0 - t0), canvas, fill, position, margin)
    part = cutout.crop(found)
    if part.size != (tw, th):
        part = part.resize((tw, th), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out.paste(part, (left, top))
    sx, sy = tw / (r0 - l0), th / (b0 - t0)
    return out, (sx, sy), (left - l0 * sx, top - t0 * sy)
