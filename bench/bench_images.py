"""Benchmark images: photo backgrounds with a subject of known alpha, I = a*F + (1-a)*B.

The background is one of the sample photos (scikit-image's, samples/) scaled to the size with
sensor-like grain, so every size is a photo, not flat colour; the subject (tests/composites.py's
ball or box) is drawn at up to 1600 px wide and scaled up, so its edge softens with the size as
a real photo's does. The true alpha lets every engine's output be scored (``score``).
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import composites  # noqa: E402

PHOTOS = ["coffee.jpg", "chelsea.jpg", "astronaut.jpg"]
SUBJECT_MAX_WIDTH = 1600


@dataclass(frozen=True)
class Size:
    label: str
    width: int
    height: int
    format: str  # "png" or "jpeg"
    subject: str  # "ball" or "box"

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    @property
    def filename(self) -> str:
        return f"photo-{self.label}.{'jpg' if self.format == 'jpeg' else 'png'}"


# About 0.3, 2, 12 and 24 megapixels, PNG and JPEG alternating.
SIZES = [
    Size("0.3MP", 640, 480, "png", "ball"),
    Size("2MP", 1632, 1224, "jpeg", "box"),
    Size("12MP", 4000, 3000, "jpeg", "ball"),
    Size("24MP", 6000, 4000, "png", "box"),
]
SMOKE = [Size("0.08MP", 320, 240, "png", "ball")]


def background(width: int, height: int, seed: int) -> np.ndarray:
    """A sample photo scaled (and cropped) to fill ``width x height``, with grain: float RGB."""
    photo = Image.open(ROOT / "samples" / PHOTOS[seed % len(PHOTOS)]).convert("RGB")
    scale = max(width / photo.width, height / photo.height)
    big = photo.resize((round(photo.width * scale + 0.5), round(photo.height * scale + 0.5)), Image.Resampling.BICUBIC)
    left, top = (big.width - width) // 2, (big.height - height) // 2
    out = np.asarray(big.crop((left, top, left + width, top + height)), np.float32)
    rng = np.random.default_rng(seed)
    return out + rng.normal(0, 3.0, size=(height, width, 1)).astype(np.float32)


def subject(kind: str, width: int, height: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(foreground float RGB, alpha float 0..1) at ``width x height``."""
    w = min(width, SUBJECT_MAX_WIDTH)
    h = round(height * w / width)
    fg, alpha = {"ball": composites.ball, "box": composites.box}[kind](w, h, seed)
    if (w, h) == (width, height):
        return fg, alpha
    fg_img = Image.fromarray(np.clip(fg + 0.5, 0, 255).astype(np.uint8), "RGB").resize(
        (width, height), Image.Resampling.BICUBIC
    )
    a_img = Image.fromarray(alpha.astype(np.float32), "F").resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(fg_img, np.float32), np.clip(np.asarray(a_img, np.float32), 0.0, 1.0)


def make(size: Size, seed: int = 0) -> tuple[bytes, np.ndarray]:
    """The encoded image and its true alpha (uint8, 0..255)."""
    fg, alpha = subject(size.subject, size.width, size.height, seed)
    a = alpha[..., None]
    pixels = np.clip(a * fg + (1 - a) * background(size.width, size.height, seed) + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    image = Image.fromarray(pixels, "RGB")
    if size.format == "jpeg":
        image.save(buf, "JPEG", quality=90)
    else:
        image.save(buf, "PNG", compress_level=6)
    return buf.getvalue(), np.round(alpha * 255).astype(np.uint8)


def write(folder: Path, sizes: list[Size]) -> dict[str, tuple[Path, Path]]:
    """Each size's image and its true alpha (as an 8-bit PNG) in ``folder``: label -> (image, alpha)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, size in enumerate(sizes):
        data, alpha = make(size, seed=i)
        image_path = folder / size.filename
        alpha_path = folder / f"alpha-{size.label}.png"
        image_path.write_bytes(data)
        Image.fromarray(alpha, "L").save(alpha_path)
        out[size.label] = (image_path, alpha_path)
    return out


def alpha_of(encoded: bytes) -> np.ndarray:
    """The alpha channel of a cut-out (PNG or WebP) as uint8."""
    with Image.open(io.BytesIO(encoded)) as im:
        return np.asarray(im.convert("RGBA").getchannel("A"), np.uint8)


def alpha_of_png(path: Path) -> np.ndarray:
    """A true alpha written by :func:`write`."""
    with Image.open(path) as im:
        return np.asarray(im, np.uint8)


def score(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """MAE (0..1), IoU at 0.5 and MAE in a band around the true edge."""
    if predicted.shape != truth.shape:
        raise ValueError(f"alpha is {predicted.shape[::-1]}, the image {truth.shape[::-1]}")
    p, t = predicted.astype(np.float32) / 255, truth.astype(np.float32) / 255
    band = (t > 0.02) & (t < 0.98)
    # widen the band to the pixels around the soft edge, a few pixels per megapixel side
    radius = max(2, round(max(truth.shape) / 400))
    edge = Image.fromarray((band * 255).astype(np.uint8), "L").filter(ImageFilter.BoxBlur(radius))
    band = np.asarray(edge) > 0
    return {
        "mae": round(float(np.abs(p - t).mean()), 5),
        "iou": round(composites.iou(p, t), 5),
        "edge_mae": round(float(np.abs(p - t)[band].mean()), 5) if band.any() else 0.0,
    }
