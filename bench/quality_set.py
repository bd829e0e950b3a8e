"""A reproducible cut-out quality set: 3D emoji with soft alpha over studio, texture and photo backgrounds.

Every image is ``I = a*F + (1-a)*B`` computed in float and rounded to uint8, so the true alpha
``a`` and foreground ``F`` of each pixel are known:

* subjects: the 256x256 WebP renders of npm ``@lobehub/fluent-emoji-3d@1.1.0`` (MIT), picked
  deterministically from the sorted file list without flags, keycaps, skin-tone variants and
  emoji that are small or mostly transparent, each used once per set. The subject's longest side
  is 25-70 % of the image's short side, placed at random fully inside the frame. Colour and alpha
  are scaled separately (the colour first extended past the edge from the nearest opaque pixel,
  so no dark fringe comes in); when a subject is upscaled more than 2x its alpha edge is steepened
  back to about 2 px, like an in-focus photo (the interior stays as soft as the upscaled render).
* backgrounds (PyPI ``scikit-image``'s bundled ``skimage.data`` images, no download):
  ``studio``: flat colour, linear or radial gradient, vignette;
  ``texture``: plain textures without a subject (grass, gravel, brick, moon, Hubble deep field,
  handwriting), mirror-tiled near their native scale (at least half the frame), grey ones tinted;
  ``photo``: photos with a competing subject (astronaut, cameraman, cat, coffee cup, rocket,
  motorcycle, coins, retina), scaled to cover the frame and cropped.
* mild Gaussian sensor noise over the whole frame (it is part of the true F and B).
* sizes from 640x480 to 2400x1600, landscape and portrait.

The set has no hair, fur or glass (the emoji's alpha is opaque with anti-aliased edges): say so
wherever its numbers are quoted.

``cases(seed, count_per_kind)`` returns light recipes; a :class:`Case` renders its pixels on first
use (``image``, ``alpha``, ``foreground``, ``background``) and :meth:`Case.release` frees them.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
EMOJI_PACKAGE = "@lobehub/fluent-emoji-3d"
EMOJI_DIR = ROOT / "node_modules" / "@lobehub" / "fluent-emoji-3d" / "assets"

KINDS = ("studio", "texture", "photo")
# (width, height): 0.3 to 3.8 megapixels, landscape and portrait.
SIZES = (
    (640, 480),
    (480, 640),
    (1024, 768),
    (768, 1024),
    (1600, 1200),
    (1200, 1600),
    (2400, 1600),
    (1600, 2400),
)
STUDIO_STYLES = ("flat", "linear", "radial", "vignette")
# Plain textures without a subject. (The immunohistochemistry stain is left out: mirror-tiled, its
# cell clusters turn into symmetric blobs that read as objects.)
TEXTURES = ("grass", "gravel", "brick", "moon", "hubble_deep_field", "text")
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket", "motorcycle", "coins", "retina")
SUBJECT_FRACTION = (0.25, 0.70)  # the subject's longest side over the image's short side
NOISE_SIGMA = (1.5, 4.0)  # sensor noise, in 0..255 levels
EDGE_WIDTH = 2.0  # px: upscaled alpha edges are steepened back to about this width

# Emoji that make poor subjects: regional-indicator flags, keycaps, skin tones, tag sequences.
_SKIP_CODEPOINTS = {0x20E3, 0x1F3F3, 0x1F3F4, 0x1F6A9, 0x1F38C}


class MissingSource(RuntimeError):
    """The emoji package (npm) or scikit-image (pip) is not installed."""


def emoji_names() -> list[str]:
    """The candidate emoji (file stems), sorted; fixed by the pinned npm package."""
    if not EMOJI_DIR.is_dir():
        raise MissingSource(f"{EMOJI_PACKAGE} is not installed ({EMOJI_DIR}): run npm ci")
    out = []
    for path in sorted(EMOJI_DIR.glob("*.webp")):
        points = [int(p, 16) for p in path.stem.split("-")]
        if _SKIP_CODEPOINTS & set(points):
            continue
        if any(0x1F1E6 <= p <= 0x1F1FF or 0x1F3FB <= p <= 0x1F3FF or 0xE0000 <= p <= 0xE007F for p in points):
            continue
        out.append(path.stem)
    return out


@functools.lru_cache(maxsize=256)
def _emoji_rgba(name: str) -> np.ndarray:
    with Image.open(EMOJI_DIR / f"{name}.webp") as im:
        return np.asarray(im.convert("RGBA"))


def emoji_usable(name: str) -> bool:
    """Big and solid enough to be a subject: covers >= 15 % of its canvas, its opaque box spans
    >= 40 % of it both ways, and few of its pixels are semi-transparent (no glow, no glass)."""
    alpha = _emoji_rgba(name)[..., 3].astype(np.float32) / 255
    h, w = alpha.shape
    on = alpha > 0.05
    if alpha.mean() < 0.15 or not on.any():
        return False
    ys, xs = np.nonzero(alpha > 0.5)
    if (ys.max() - ys.min() + 1) < 0.4 * h or (xs.max() - xs.min() + 1) < 0.4 * w:
        return False
    soft = (on & (alpha < 0.95)).sum() / on.sum()
    return bool(soft < 0.2)


def _skimage_data():
    try:
        import skimage.data
    except ImportError as exc:
        raise MissingSource("scikit-image is not installed: pip install -r requirements.lock") from exc
    return skimage.data


@functools.lru_cache(maxsize=32)
def source_image(name: str) -> np.ndarray:
    """A bundled scikit-image picture as uint8, ``(H, W)`` grey or ``(H, W, 3)`` RGB."""
    data = _skimage_data()
    pixels = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise ValueError(f"skimage.data.{name} is {pixels.dtype}, not uint8")
    return pixels[..., :3] if pixels.ndim == 3 else pixels


@dataclass(eq=False)
class Case:
    """One image of the set (a recipe; pixels rendered on first use).

    ``image``: uint8 ``(H, W, 3)``, the composite. ``alpha``: float32 ``(H, W)`` in 0..1, the true
    alpha. ``foreground``: float32 ``(H, W, 3)`` in 0..1, the true F (noise included), 0 where the
    alpha is 0. ``background``: float32 ``(H, W, 3)`` in 0..1, the true B (noise included).
    ``image == round(255 * (alpha * foreground + (1 - alpha) * background))``.
    """

    name: str
    kind: str
    width: int
    height: int
    emoji: str
    source: str  # studio style, texture or photo name
    seed: tuple[int, ...]
    _pixels: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    @property
    def image(self) -> np.ndarray:
        return self._render()["image"]

    @property
    def alpha(self) -> np.ndarray:
        return self._render()["alpha"]

    @property
    def foreground(self) -> np.ndarray:
        return self._render()["foreground"]

    @property
    def background(self) -> np.ndarray:
        return self._render()["background"]

    def encoded(self) -> bytes:
        """The composite as PNG bytes (what the pipeline reads)."""
        buf = io.BytesIO()
        Image.fromarray(self.image, "RGB").save(buf, "PNG", compress_level=0)
        return buf.getvalue()

    def release(self) -> None:
        """Forget the rendered pixels (they come back, identical, on the next use)."""
        self._pixels = None

    def _render(self) -> dict[str, np.ndarray]:
        if self._pixels is None:
            self._pixels = render(self)
        return self._pixels


def _pick_emoji(rng: np.random.Generator, names: list[str], used: set[str]) -> str:
    start = int(rng.integers(len(names)))
    for step in range(len(names)):
        name = names[(start + step) % len(names)]
        if name not in used and emoji_usable(name):
            used.add(name)
            return name
    raise ValueError("ran out of usable emoji")


def cases(seed: int = 0, count_per_kind: int = 30) -> list[Case]:
    """The set: ``count_per_kind`` studio, then texture, then photo cases, the same for a seed."""
    names = emoji_names()
    _skimage_data()  # fail now, not at the first render
    rng = np.random.default_rng(seed)
    used: set[str] = set()
    out = []
    for k, kind in enumerate(KINDS):
        sources = {"studio": STUDIO_STYLES, "texture": TEXTURES, "photo": PHOTOS}[kind]
        # Balanced, shuffled pairings of size and background.
        size_order = rng.permutation(count_per_kind) % len(SIZES)
        source_order = rng.permutation(count_per_kind) % len(sources)
        for i in range(count_per_kind):
            width, height = SIZES[size_order[i]]
            source = sources[source_order[i]]
            emoji = _pick_emoji(rng, names, used)
            out.append(
                Case(
                    name=f"{kind}-{i:02d}-{source}-{emoji}",
                    kind=kind,
                    width=width,
                    height=height,
                    emoji=emoji,
                    source=source,
                    seed=(seed, k, i),
                )
            )
    return out


# --- rendering ---------------------------------------------------------------------------------


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised coordinates: x ``(1, W)`` and y ``(H, 1)`` in 0..1."""
    x = (np.arange(width, dtype=np.float32) + 0.5)[None, :] / width
    y = (np.arange(height, dtype=np.float32) + 0.5)[:, None] / height
    return x, y


def studio(style: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A studio backdrop, float32 ``(H, W, 3)`` in 0..255."""
    # Muted backdrop colours: a grey level with a colour cast, the gradient's far end near it.
    c1 = np.clip(rng.uniform(35, 240) + rng.normal(0, 30, 3), 0, 255).astype(np.float32)
    c2 = np.clip(c1 * rng.uniform(0.45, 1.1) + rng.normal(0, 25, 3), 0, 255).astype(np.float32)
    x, y = _grid(width, height)
    aspect = width / height
    if style == "flat":
        return np.broadcast_to(c1, (height, width, 3)).copy()
    if style == "linear":
        angle = rng.uniform(0, 2 * np.pi)
        t = (x - 0.5) * np.cos(angle) * aspect + (y - 0.5) * np.sin(angle)
        t = (t - t.min()) / (t.max() - t.min())
    elif style == "radial":
        cx, cy = rng.uniform(0.3, 0.7, 2)
        t = np.sqrt(((x - cx) * aspect) ** 2 + (y - cy) ** 2)
        t = np.clip(t / t.max(), 0, 1)
    elif style == "vignette":
        t = ((x - 0.5) * aspect) ** 2 + (y - 0.5) ** 2
        t = t / t.max() * rng.uniform(0.3, 0.7)
        return c1 * (1 - t)[..., None]
    else:
        raise ValueError(f"unknown studio style {style!r}")
    t = t.astype(np.float32)[..., None]
    return c1 * (1 - t) + c2 * t


def _rgb(pixels: np.ndarray, rng: np.random.Generator, tint: bool) -> np.ndarray:
    if pixels.ndim == 3:
        return pixels
    grey = pixels[..., None].astype(np.float32)
    colour = rng.uniform(0.7, 1.15, 3).astype(np.float32) if tint else np.ones(3, np.float32)
    return np.clip(grey * colour, 0, 255).astype(np.uint8)


def texture(name: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A texture near its native scale, mirror-tiled and cropped: float32 ``(H, W, 3)`` in 0..255."""
    src = source_image(name)
    sh, sw = src.shape[:2]
    scale = max(rng.uniform(1.0, 2.0), 0.5 * min(width, height) / min(sh, sw))
    size = (max(1, round(sw * scale)), max(1, round(sh * scale)))
    tex = np.asarray(Image.fromarray(_rgb(src, rng, tint=True)).resize(size, Image.Resampling.BICUBIC))
    if rng.random() < 0.5:
        tex = tex[:, ::-1]
    if rng.random() < 0.5:
        tex = tex[::-1]
    th, tw = tex.shape[:2]
    tiled = np.pad(tex, ((0, height), (0, width), (0, 0)), mode="symmetric")
    top, left = int(rng.integers(th)), int(rng.integers(tw))
    return tiled[top : top + height, left : left + width].astype(np.float32)


def photo(name: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A photo scaled to cover the frame (and a little more) and cropped: float32 ``(H, W, 3)``."""
    src = _rgb(source_image(name), rng, tint=False)
    sh, sw = src.shape[:2]
    scale = max(width / sw, height / sh) * rng.uniform(1.0, 1.3)
    size = (max(width, round(sw * scale)), max(height, round(sh * scale)))
    big = np.asarray(Image.fromarray(src).resize(size, Image.Resampling.BICUBIC))
    if rng.random() < 0.5:
        big = big[:, ::-1]
    top = int(rng.integers(size[1] - height + 1))
    left = int(rng.integers(size[0] - width + 1))
    return big[top : top + height, left : left + width].astype(np.float32)


def _resize_f(channel: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(channel.astype(np.float32), "F").resize(size, Image.Resampling.LANCZOS))


def subject(name: str, longest: int) -> tuple[np.ndarray, np.ndarray]:
    """The emoji cropped to its visible box and scaled so its longest side is ``longest`` px:
    (foreground float32 ``(h, w, 3)`` in 0..255, alpha float32 ``(h, w)`` in 0..1)."""
    from scipy import ndimage  # comes with scikit-image

    rgba = _emoji_rgba(name)
    alpha = rgba[..., 3].astype(np.float32) / 255
    ys, xs = np.nonzero(alpha > 0)
    pad = 3
    top, bottom = max(0, ys.min() - pad), min(alpha.shape[0], ys.max() + 1 + pad)
    left, right = max(0, xs.min() - pad), min(alpha.shape[1], xs.max() + 1 + pad)
    alpha = alpha[top:bottom, left:right]
    rgb = rgba[top:bottom, left:right, :3].astype(np.float32)
    # Extend the colour past the edge (nearest fairly opaque pixel) so scaling brings in no fringe.
    _, (iy, ix) = ndimage.distance_transform_edt(alpha < 0.3, return_indices=True)
    rgb = rgb[iy, ix]
    h, w = alpha.shape
    scale = longest / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    fg = np.stack([_resize_f(rgb[..., c], size) for c in range(3)], axis=-1)
    a = _resize_f(alpha, size)
    if scale > EDGE_WIDTH:
        a = (a - 0.5) * (scale / EDGE_WIDTH) + 0.5
    return np.clip(fg, 0, 255), np.clip(a, 0, 1)


def render(case: Case) -> dict[str, np.ndarray]:
    """The pixels of ``case`` (see :class:`Case`); the same for the same recipe."""
    rng = np.random.default_rng(list(case.seed))
    width, height = case.width, case.height
    if case.kind == "studio":
        bg = studio(case.source, width, height, rng)
    elif case.kind == "texture":
        bg = texture(case.source, width, height, rng)
    elif case.kind == "photo":
        bg = photo(case.source, width, height, rng)
    else:
        raise ValueError(f"unknown kind {case.kind!r}")
    short = min(width, height)
    fg, a = subject(case.emoji, round(short * rng.uniform(*SUBJECT_FRACTION)))
    sh, sw = a.shape
    margin = round(0.02 * short)
    top = int(rng.integers(margin, height - sh - margin + 1))
    left = int(rng.integers(margin, width - sw - margin + 1))
    sigma = np.float32(rng.uniform(*NOISE_SIGMA))
    noise = rng.standard_normal((height, width, 1), dtype=np.float32) * sigma

    background = bg  # a fresh float32 array: worked on in place
    background += noise
    np.clip(background, 0, 255, out=background)
    patch = (slice(top, top + sh), slice(left, left + sw))
    fg += noise[patch]
    np.clip(fg, 0, 255, out=fg)
    fg[a == 0] = 0
    ap = a[..., None]
    image = np.rint(background).astype(np.uint8)
    image[patch] = np.rint(ap * fg + (1 - ap) * background[patch]).astype(np.uint8)
    alpha = np.zeros((height, width), np.float32)
    alpha[patch] = a
    foreground = np.zeros((height, width, 3), np.float32)
    foreground[patch] = fg * np.float32(1 / 255)
    background *= np.float32(1 / 255)
    return {"image": image, "alpha": alpha, "foreground": foreground, "background": background}
