"""Generated test composites with a known alpha: I = a*F + (1-a)*B.

The subject is a shaded, soft-edged object (a ball and a box in perspective)
over a textured background, so segmentation quality can be scored exactly.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def texture(width: int, height: int, seed: int) -> np.ndarray:
    """A muted, cloudy texture with fine grain: ``(H, W, 3)`` uint8."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC), np.float32)
    base = 0.55 * base + 0.45 * np.array([150, 140, 120], np.float32)
    grain = rng.normal(0, 10, size=(height, width, 1)).astype(np.float32)
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def _soft(mask: Image.Image, radius: float) -> np.ndarray:
    return np.asarray(mask.filter(ImageFilter.GaussianBlur(radius)), np.float32) / 255.0


def ball(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A glossy ball: (foreground RGB float, alpha float in 0..1)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy, r = width * 0.5, height * 0.52, min(width, height) * 0.3
    mask = Image.new("L", (width * 4, height * 4))
    from PIL import ImageDraw

    ImageDraw.Draw(mask).ellipse([(cx - r) * 4, (cy - r) * 4, (cx + r) * 4, (cy + r) * 4], fill=255)
    alpha = _soft(mask.resize((width, height), Image.Resampling.LANCZOS), 1.2)
    colour = np.array(rng.choice([[200, 40, 40], [40, 90, 200], [230, 170, 20]]), np.float32)
    dist = np.sqrt((xx - (cx - r * 0.35)) ** 2 + (yy - (cy - r * 0.35)) ** 2) / (r * 1.6)
    shade = np.clip(1.15 - dist, 0.25, 1.0)[..., None]
    highlight = np.clip(1 - dist * 6, 0, 1)[..., None] * 255
    fg = np.clip(colour * shade + highlight, 0, 255)
    return fg, alpha


def box(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A product box with a lit and a shaded face and a label."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    s = 4
    mask = Image.new("L", (width * s, height * s))
    fg = Image.new("RGB", (width * s, height * s))
    d, m = ImageDraw.Draw(fg), ImageDraw.Draw(mask)
    w, h = width * s, height * s
    front = [(0.28 * w, 0.30 * h), (0.58 * w, 0.36 * h), (0.58 * w, 0.82 * h), (0.28 * w, 0.76 * h)]
    side = [(0.58 * w, 0.36 * h), (0.74 * w, 0.26 * h), (0.74 * w, 0.70 * h), (0.58 * w, 0.82 * h)]
    top = [(0.28 * w, 0.30 * h), (0.44 * w, 0.20 * h), (0.74 * w, 0.26 * h), (0.58 * w, 0.36 * h)]
    hue = tuple(int(v) for v in rng.choice([[30, 150, 90], [120, 60, 170], [20, 110, 190]]))
    for poly, k in ((front, 1.0), (side, 0.6), (top, 1.3)):
        d.polygon(poly, fill=tuple(int(min(255, c * k)) for c in hue))
        m.polygon(poly, fill=255)
    d.rectangle([0.33 * w, 0.48 * h, 0.53 * w, 0.60 * h], fill=(245, 245, 235))
    fg = np.asarray(fg.resize((width, height), Image.Resampling.LANCZOS), np.float32)
    alpha = _soft(mask.resize((width, height), Image.Resampling.LANCZOS), 0.8)
    return fg, alpha


def composite(kind: str, width: int = 640, height: int = 480, seed: int = 0) -> tuple[bytes, np.ndarray]:
    """PNG bytes of the composite and its true alpha (float, 0..1)."""
    fg, alpha = {"ball": ball, "box": box}[kind](width, height, seed)
    bg = texture(width, height, seed + 100).astype(np.float32)
    a = alpha[..., None]
    img = np.clip(a * fg + (1 - a) * bg + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, "PNG")
    return buf.getvalue(), alpha


def iou(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> float:
    p, t = pred >= threshold, truth >= threshold
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else 1.0
