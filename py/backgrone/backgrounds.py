"""Backgrounds behind a cut-out: the original photo blurred without its subject, or an image.

The blurred original is a normalised convolution (Knutsson & Westin 1993, "Normalized and
differential convolution", CVPR): a Gaussian blur in which only clean background counts,

    B = blur(I * w) / blur(w),   w = 1 where alpha is 0 (and the source showed the pixel), else 0,

so B holds only the background's colours: neither the subject nor its soft edge (whose colours
mix the subject's in) bleeds into the blur, and the soft edge laid over B shows no halo of
itself. Colours the source itself hid under alpha 0 weigh 0 too: they never show. Pillow does
the division: a layer whose alpha is ``w``, premultiplied (``RGBa``), blurred, and read back.
Where the blur reaches no background at all (inside a large subject), a much wider blur of the
same kind fills in, so every pixel has a colour.

The blur runs on the image reduced so that its radius is a few cells (:data:`WORK_RADIUS`), with
``w`` per cell (1 only where all its pixels are clean), and is scaled back up bilinearly: a blur
this wide has no detail that the reduction loses, and at 12 MP this costs a fraction of
blurring at full size. Only Pillow's integer filters and element-wise numpy run, so CPython and
Pyodide give the same bytes.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from .compose import STRIP_PIXELS
from .decode import DEFAULT_MAX_PIXELS, decode_image
from .errors import DecodeError, OptionsError

# ``blur`` strength: the Gaussian radius in px for an image whose long side is 1000 px; a
# larger image gets a proportionally larger radius, so a strength looks alike at any size.
BLUR_REFERENCE = 1000
BLUR_DEFAULT = 20.0
BLUR_MAX = 200.0
# The blur's radius in cells of the reduced image (at least this, under twice it).
WORK_RADIUS = 4.0
# The fill-in blur for pixels the blur reaches no background from: the image reduced to
# about this many cells on its long side, blurred over a quarter of it.
COARSE_SIDE = 16


def _premultiplied(rgb: np.ndarray, weight: np.ndarray) -> Image.Image:
    """An ``RGBa`` image of ``rgb`` weighted by ``weight`` (uint8, 255 = all background)."""
    h, w = weight.shape
    layer = np.empty((h, w, 4), np.uint8)
    layer[..., :3] = rgb
    layer[..., 3] = weight
    return Image.frombuffer("RGBA", (w, h), layer, "raw", "RGBA", 0, 1).convert("RGBa")


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    return image.reduce(factor) if factor > 1 else image


def _mean_colour(small: Image.Image) -> np.ndarray | None:
    """The weighted mean colour of an ``RGBa`` image (integer sums: exact, in any order)."""
    arr = np.asarray(small).reshape(-1, 4).astype(np.int64)
    total = int(arr[:, 3].sum())
    if total == 0:
        return None
    return arr[:, :3].sum(axis=0).astype(np.float32) * np.float32(255 / total)


def _clean_blocks(alpha: np.ndarray, source: np.ndarray, factor: int) -> np.ndarray:
    """Per block of ``factor`` x ``factor`` px: 255 where every pixel is background (alpha 0)
    and visible in the source (alpha 255), else 0. Exact (no rounding of a mean). Strips of
    blocks at a time, so no full-size mask is made."""
    h, w = alpha.shape
    gh, gw = -(-h // factor), -(-w // factor)
    hidden = source.min() < 255
    blocks = np.empty((gh, gw), np.bool_)
    step = max(1, STRIP_PIXELS // (gw * factor * factor))  # block rows per strip
    for g0 in range(0, gh, step):
        g1 = min(g0 + step, gh)
        y0, y1 = g0 * factor, min(g1 * factor, h)
        bad = np.zeros(((g1 - g0) * factor, gw * factor), np.bool_)
        bad[: y1 - y0, :w] = alpha[y0:y1] != 0
        if hidden:
            bad[: y1 - y0, :w] |= source[y0:y1] != 255
        blocks[g0:g1] = bad.reshape(g1 - g0, factor, gw, factor).any(axis=(1, 3))
    return np.where(blocks, np.uint8(0), np.uint8(255))


def _weighted(rgba: np.ndarray, alpha: np.ndarray, factor: int) -> Image.Image:
    """The image reduced by ``factor`` as ``RGBa``, each cell weighing 1 where it is all visible
    background and 0 where it holds any of the subject (its soft edge's colours mix the subject's
    in) or anything the source hid (never seen: it must not show)."""
    if factor == 1:
        return _premultiplied(rgba[..., :3], _clean_blocks(alpha, rgba[..., 3], 1))
    h, w = alpha.shape
    colour = np.asarray(Image.frombuffer("RGBX", (w, h), rgba, "raw", "RGBX", 0, 1).reduce(factor))
    weight = _clean_blocks(alpha, rgba[..., 3], factor)
    small = np.empty(colour.shape, np.uint8)
    small[..., :3] = colour[..., :3] * (weight[..., None] // 255)
    small[..., 3] = weight
    return Image.fromarray(small, "RGBa")


def blurred_background(rgba: np.ndarray, alpha: np.ndarray, strength: float) -> tuple[Image.Image, int]:
    """The original without its subject, blurred: an RGB image reduced by a whole factor, and
    that factor (:func:`aligned` brings it to the image or a canvas).

    ``rgba``: the ``(H, W, 4)`` uint8 source; ``alpha``: the cut-out's ``(H, W)`` uint8 alpha;
    ``strength``: the radius in px per :data:`BLUR_REFERENCE` px of the long side.
    """
    h, w = alpha.shape
    radius = max(strength * max(h, w) / BLUR_REFERENCE, 0.5)
    factor = max(1, int(radius / WORK_RADIUS))
    small = _weighted(np.ascontiguousarray(rgba), alpha, factor)
    fine = np.asarray(small.filter(ImageFilter.GaussianBlur(radius / factor)), np.float32)
    # The fill-in colour, where the fine blur saw little or no background: a coarse blur of the
    # same kind, or, where the subject leaves none anywhere, of the whole visible image.
    gh, gw = fine.shape[:2]
    c = max(1, max(gh, gw) // COARSE_SIDE)
    mean = _mean_colour(small)
    if mean is None:  # no background anywhere: the whole visible image's colour
        mean = _mean_colour(_weighted(np.ascontiguousarray(rgba), np.zeros_like(alpha), factor))
    coarse = np.asarray(_reduced(small, c).filter(ImageFilter.GaussianBlur(COARSE_SIDE / 4)), np.float32)
    cw = coarse[..., 3:]
    base = np.zeros(3, np.float32) if mean is None else mean
    coarse = np.where(cw > 0, coarse[..., :3] * (255 / np.maximum(cw, 1)), base)
    fill = Image.fromarray(np.clip(coarse + 0.5, 0, 255).astype(np.uint8), "RGB")
    if fill.size != (gw, gh):
        fill = fill.resize((gw, gh), Image.Resampling.BILINEAR)
    # The fine blur's own colour where it saw enough background (a quarter of its weight and
    # more), fading into the fill-in colour where it saw less.
    fw = fine[..., 3:]
    share = np.minimum(fw * np.float32(4 / 255), 1)
    out = share * (fine[..., :3] * (255 / np.maximum(fw, 1))) + (1 - share) * np.asarray(fill, np.float32)
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB"), factor


def aligned(
    small: Image.Image,
    factor: int,
    size: tuple[int, int],
    scale: tuple[float, float] = (1.0, 1.0),
    shift: tuple[float, float] = (0.0, 0.0),
) -> Image.Image:
    """The reduced background ``small`` (cells of ``factor`` source px) at ``size``, where a
    source point ``p`` lands at ``p * scale + shift`` (as the subject does on a canvas), so the
    place the subject was taken from lies under it again. Past the source's edge its edge
    colours continue (the cells are edge-padded), bilinear in between."""
    sx, sy = scale
    # Output pixel centre x + 0.5 -> source (x + 0.5 - shift) / scale -> cell coordinates.
    a, c = 1 / (sx * factor), -shift[0] / (sx * factor)
    e, f = 1 / (sy * factor), -shift[1] / (sy * factor)
    width, height = size
    gw, gh = small.size
    # Cells the output reaches (and one more for bilinear), past the grid: padded with its edge.
    x0, x1 = int(np.floor(c)) - 1, int(np.ceil(a * width + c)) + 1
    y0, y1 = int(np.floor(f)) - 1, int(np.ceil(e * height + f)) + 1
    pad = (max(0, -y0), max(0, y1 - gh)), (max(0, -x0), max(0, x1 - gw)), (0, 0)
    if any(p != (0, 0) for p in pad[:2]):
        small = Image.fromarray(np.pad(np.asarray(small), pad, mode="edge"), "RGB")
    px, py = pad[1][0], pad[0][0]
    # A resize of the box the output spans (separable: faster than a general transform).
    region = (c + px, f + py, a * width + c + px, e * height + f + py)
    return small.resize(size, Image.Resampling.BILINEAR, box=region)


def fit(background: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``background`` scaled to cover ``size`` (its aspect kept) and cropped to it, centred: a
    new image (the caller may draw on it)."""
    if background.size == size:
        return background.copy()
    width, height = size
    bw, bh = background.size
    if bw * height == bh * width:
        return background.resize(size, Image.Resampling.BILINEAR)
    return ImageOps.fit(background, size, Image.Resampling.BILINEAR)


def read_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A background image from file bytes, as opaque RGB (its transparent parts on white).
    The last one is kept: a host checks the same options several times per job and batch.

    Raises :class:`OptionsError` naming what is wrong when the bytes are not a readable image."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise OptionsError("the background image must be the bytes of an image file")
    return _read_image(bytes(data), max_pixels)


@functools.lru_cache(maxsize=1)
def _read_image(data: bytes, max_pixels: int) -> Image.Image:
    try:
        rgba = decode_image(data, max_pixels=max_pixels).rgba
    except DecodeError as exc:
        raise OptionsError(f"the background image cannot be used: {exc}") from None
    h, w = rgba.shape[:2]
    image = Image.frombuffer("RGBA", (w, h), rgba, "raw", "RGBA", 0, 1)
    if rgba[..., 3].min() == 255:
        return image.convert("RGB")
    base = Image.new("RGBA", (w, h), (255, 255, 255, 255))
    base.alpha_composite(image)
    return base.convert("RGB")
