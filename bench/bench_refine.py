#!/usr/bin/env python3
"""Speed and effect of the mask post-processing (py/backgrone/refine.py).

A generated composite I = a*F + (1-a)*B with a known soft alpha: a shaded subject
(body, box and a thin handle) over a strongly coloured, textured background. The
"model mask" is the true alpha area-reduced to the model's side, blurred by about a
cell and shifted by a third of one, as a model's output is; the plain cut-out is
that mask upscaled bilinearly with the image's own colours.

    .venv/bin/python bench/bench_refine.py [--repeat 7]

Prints the median time of each step at 2 and 12 MP (and despeckle on a 1024 px mask
with speckles and a spiral subject), and, over a 10 px band around the true edge,
alpha MAE and premultiplied colour error against the truth, plain vs refined.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from backgrone.compose import alpha_at_size  # noqa: E402
from backgrone.refine import despeckle, estimate_foreground, refine, refine_edges  # noqa: E402


def make_case(width: int, height: int, mask_side: int = 1024, seed: int = 0) -> dict[str, np.ndarray]:
    """A composite with its truth: rgba, alpha (float 0..1), fg (float RGB), and the model-like mask."""
    rng = np.random.default_rng(seed)
    s = 2  # drawn at twice the size, then reduced: anti-aliased edges
    shape = Image.new("L", (width * s, height * s))
    d = ImageDraw.Draw(shape)
    w, h = width * s, height * s
    d.ellipse([0.22 * w, 0.18 * h, 0.62 * w, 0.86 * h], fill=255)
    d.polygon([(0.55 * w, 0.40 * h), (0.80 * w, 0.35 * h), (0.78 * w, 0.80 * h), (0.52 * w, 0.78 * h)], fill=255)
    d.line([(0.40 * w, 0.20 * h), (0.30 * w, 0.06 * h)], fill=255, width=max(2, round(0.004 * w)))  # thin handle
    d.ellipse([0.36 * w, 0.44 * h, 0.46 * w, 0.58 * h], fill=0)  # a real hole
    soft = shape.reduce(s).filter(ImageFilter.GaussianBlur(0.0008 * max(width, height)))
    alpha = np.asarray(soft, np.float32) / 255

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy, xx = yy / height, xx / width
    # Sensor-like grain is part of each layer's true colour.
    grain = rng.normal(0, 3, size=(2, height, width, 1)).astype(np.float32)
    fg = np.stack([200 - 120 * xx, 60 + 140 * yy, 40 + 60 * np.sin(9 * xx)], axis=-1) + grain[0]
    coarse = rng.integers(0, 256, size=(9, 12, 3), dtype=np.uint8)
    cloud = np.asarray(Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC), np.float32)
    bg = 0.4 * cloud + 0.6 * np.array([40, 200, 60], np.float32) + grain[1]  # strongly green
    a = alpha[..., None]
    img = a * fg + (1 - a) * bg
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = np.clip(img + 0.5, 0, 255)
    rgba[..., 3] = 255

    side = (mask_side, mask_side)
    model = Image.fromarray(alpha * 255, "F").resize(side, Image.Resampling.BOX)
    model = Image.fromarray(np.asarray(model.convert("L").filter(ImageFilter.GaussianBlur(0.8)))).transform(
        side, Image.Transform.AFFINE, (1, 0, 0.33, 0, 1, -0.25), Image.Resampling.BILINEAR
    )
    mask = np.asarray(model, np.float32) / 255
    return {"rgba": rgba, "alpha": alpha, "fg": np.clip(fg, 0, 255), "mask": mask}


def edge_band(truth: np.ndarray, width: int = 10) -> np.ndarray:
    hard = Image.fromarray(((truth >= 0.5) * 255).astype(np.uint8), "L")
    grown = np.asarray(hard.filter(ImageFilter.MaxFilter(2 * width + 1))) > 0
    shrunk = np.asarray(hard.filter(ImageFilter.MinFilter(2 * width + 1))) > 0
    return grown & ~shrunk


def scores(case: dict[str, np.ndarray]) -> dict[str, float]:
    """Band alpha MAE (0..1) and premultiplied colour error (0..255): plain, and refined."""
    rgba, truth, fg = case["rgba"], case["alpha"], case["fg"]
    h, w = truth.shape
    band = edge_band(truth)
    plain = alpha_at_size(case["mask"], (w, h))
    refined = refine_edges(rgba, plain, case["mask"])
    index, rgb = estimate_foreground(rgba, refined)
    colour = rgba[..., :3].astype(np.float32).reshape(-1, 3)
    colour[index] = rgb
    colour = colour.reshape(h, w, 3)
    want = (truth[..., None] * fg)[band]

    def err(a: np.ndarray, c: np.ndarray) -> float:
        return float(np.abs((a.astype(np.float32)[..., None] / 255 * c)[band] - want).mean())

    return {
        "alpha_plain": float(np.abs(plain / 255 - truth)[band].mean()),
        "alpha_refined": float(np.abs(refined / 255 - truth)[band].mean()),
        "colour_plain": err(plain, rgba[..., :3]),
        "colour_alpha_only": err(refined, rgba[..., :3]),
        "colour_refined": err(refined, colour),
    }


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def speckled_spiral(side: int = 1024, speckles: int = 300, seed: int = 0) -> np.ndarray:
    """A soft spiral subject (worst case for label propagation) and scattered speckles."""
    rng = np.random.default_rng(seed)
    im = Image.new("L", (side, side))
    d = ImageDraw.Draw(im)
    t = np.linspace(0, 10 * np.pi, 4000)
    rad = 0.02 * side + t * (0.45 * side) / t[-1]
    pts = list(zip(side / 2 + rad * np.cos(t), side / 2 + rad * np.sin(t), strict=True))
    d.line(pts, fill=255, width=max(3, side // 150))
    for x, y in rng.integers(0, side, size=(speckles, 2)):
        r = int(rng.integers(1, 4))
        d.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.integers(140, 256)))
    return np.asarray(im.filter(ImageFilter.GaussianBlur(1)), np.float32) / 255


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    mask = speckled_spiral()
    print(f"despeckle, 1024x1024 spiral + 300 speckles: {median_ms(lambda: despeckle(mask), args.repeat):.1f} ms")
    print()
    print("| size | refine_edges | estimate_foreground | refine (both) | band alpha MAE | colour error |")
    print("|---|---|---|---|---|---|")
    for width, height in ((1600, 1200), (4000, 3000)):
        case = make_case(width, height)
        rgba, mask = case["rgba"], case["mask"]
        plain = alpha_at_size(mask, (width, height))
        refined = refine_edges(rgba, plain, mask)
        t_edges = median_ms(lambda: refine_edges(rgba, plain, mask), args.repeat)  # noqa: B023
        t_fg = median_ms(lambda: estimate_foreground(rgba, refined), args.repeat)  # noqa: B023
        t_both = median_ms(lambda: refine(rgba, plain, mask), args.repeat)  # noqa: B023
        s = scores(case)
        alpha = f"{s['alpha_plain']:.4f} -> {s['alpha_refined']:.4f} ({s['alpha_refined'] / s['alpha_plain'] - 1:+.0%})"
        colour = (
            f"{s['colour_plain']:.2f} -> {s['colour_refined']:.2f} ({s['colour_refined'] / s['colour_plain'] - 1:+.0%})"
        )
        print(f"| {width}x{height} | {t_edges:.1f} ms | {t_fg:.1f} ms | {t_both:.1f} ms | {alpha} | {colour} |")
    print()
    print("band: 10 px around the true edge; alpha MAE in 0..1; colour error: mean |a F - a_true F_true| in 0..255")
    return 0


if __name__ == "__main__":
    sys.exit(main())
