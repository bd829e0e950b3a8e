#!/usr/bin/env python3
"""Speed of replaying edits (py/backgrone/edits.py) at editor sizes, in CPython.

    .venv/bin/python bench/bench_edits.py [--repeat 7] [--megapixels 2 12]

A generated photo (a soft disc over a textured background) at each size; the median
time of one edit applied to the current state, as the editor applies each on release:
keep strokes of radius 14 and 60 (a short one and one across the image), a lasso, a
toggle of a stray blob and of the whole subject. The editor's targets (issue 18) are
for the extension (Pyodide, typically 1.5-3x slower than CPython): a stroke <= 150 ms
at 2 MP and <= 400 ms at 12 MP, a toggle <= 100 ms at 2 MP.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from backgrone.edit_log import Edit, Lasso, Stroke, Toggle  # noqa: E402
from backgrone.edits import apply_edit, start  # noqa: E402


def case(megapixels: float) -> tuple[np.ndarray, np.ndarray]:
    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = round(width * 3 / 4)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.sqrt((xx - width * 0.45) ** 2 + (yy - height * 0.5) ** 2)
    true = np.clip(height * 0.3 - r, 0, 1)
    bg = np.stack([90 + 40 * np.sin(xx / 37), 120 + 30 * np.cos(yy / 23), 160 + 0 * xx], -1)
    img = true[..., None] * np.array([210, 70, 40], np.float32) + (1 - true[..., None]) * bg
    img += rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    rgba = np.full((height, width, 4), 255, np.uint8)
    rgba[..., :3] = np.clip(img + 0.5, 0, 255)
    alpha = np.round(true * 255).astype(np.uint8)
    alpha[int(height * 0.1) : int(height * 0.14), int(width * 0.85) : int(width * 0.9)] = 255  # a stray blob
    return rgba, alpha


def edits(width: int, height: int) -> dict[str, Edit]:
    cx, cy, r = width * 0.45, height * 0.5, height * 0.3
    arc = [(cx + r * np.cos(t), cy + r * np.sin(t)) for t in np.linspace(-0.6, 0.6, 40)]
    return {
        "stroke r14 along the edge (~40 pts)": Stroke(True, 14.0, tuple(arc)),
        "stroke r40 along the edge (~40 pts)": Stroke(False, 40.0, tuple((x + 20, y) for x, y in arc)),
        "stroke r60 across the image (diagonal)": Stroke(
            False, 60.0, tuple((width * t, height * t) for t in np.linspace(0.05, 0.95, 80))
        ),
        "lasso around a quarter": Lasso(
            True, tuple((cx + 1.1 * r * np.cos(t), cy + 1.1 * r * np.sin(t)) for t in np.linspace(0, 1.5, 60))
        ),
        "toggle: stray blob": Toggle((width * 0.87, height * 0.12)),
        "toggle: the subject": Toggle((cx, cy)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--megapixels", type=float, nargs="+", default=[2.0, 12.0])
    args = parser.parse_args()
    for mp in args.megapixels:
        rgba, alpha = case(mp)
        height, width = alpha.shape
        print(f"\n{width}x{height} ({mp:g} MP): median of {args.repeat}, ms")
        for name, edit in edits(width, height).items():
            times = []
            for _ in range(args.repeat):
                state = start(alpha)
                t0 = time.perf_counter()
                apply_edit(rgba, state, edit)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"  {name:42s} {statistics.median(times):8.1f}")


if __name__ == "__main__":
    main()
