#!/usr/bin/env python3
"""Cut-out quality of each engine on generated composites with a known alpha.

I = a*F + (1-a)*B with a soft-edged subject (ball, box) over textured
backgrounds (tests/composites.py). Metrics on alpha in 0..1: MAE, IoU at 0.5,
and MAE in a 10 px band around the true edge ("band MAE"), where errors show.
The set has no hair, fur or glass: say so wherever its numbers are quoted.

    .venv/bin/python bench/bench_quality.py [--count 20]

Writes bench/results/quality.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from backgrone import Options, cut, load_catalogue  # noqa: E402
from backgrone.fetch import fetch_engine  # noqa: E402
from backgrone.infer import OnnxSegmenter  # noqa: E402
from composites import composite, iou  # noqa: E402


def edge_band(truth: np.ndarray, width: int = 10) -> np.ndarray:
    hard = Image.fromarray(((truth >= 0.5) * 255).astype(np.uint8), "L")
    grown = np.asarray(hard.filter(ImageFilter.MaxFilter(2 * width + 1))) > 0
    shrunk = np.asarray(hard.filter(ImageFilter.MinFilter(2 * width + 1))) > 0
    return grown & ~shrunk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="composites (half balls, half boxes)")
    args = parser.parse_args()
    catalogue = load_catalogue()
    cases = [(kind, seed) for seed in range(args.count // 2) for kind in ("ball", "box")]
    sizes = [(640, 480), (800, 600), (480, 640)]
    results = {}
    for name in ("fast", "small", "medium"):
        spec = catalogue.get(name)
        seg = OnnxSegmenter(fetch_engine(spec), spec)
        rows = []
        for i, (kind, seed) in enumerate(cases):
            w, h = sizes[i % len(sizes)]
            data, truth = composite(kind, w, h, seed=seed)
            mask = Image.open(io.BytesIO(cut(data, seg, Options(output="mask"))))
            alpha = np.asarray(mask, np.float32) / 255
            band = edge_band(truth)
            rows.append(
                {
                    "mae": float(np.abs(alpha - truth).mean()),
                    "iou": iou(alpha, truth),
                    "band_mae": float(np.abs(alpha - truth)[band].mean()),
                }
            )
        results[name] = {k: round(statistics.mean(r[k] for r in rows), 4) for k in rows[0]}
        results[name]["iou_min"] = round(min(r["iou"] for r in rows), 4)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.json").write_text(json.dumps({"count": len(cases), "engines": results}, indent=1))
    print(f"| engine | MAE | IoU (mean) | IoU (worst) | band MAE |  ({len(cases)} composites, no hair/fur/glass)")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['mae']:.4f} | {r['iou']:.4f} | {r['iou_min']:.4f} | {r['band_mae']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
