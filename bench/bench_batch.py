#!/usr/bin/env python3
"""Memory over a long batch in the popup: does the engine hold on to anything per image?

Uploads N copies of a 2 MP photo through the popup (opened as a tab) and samples
the summed PSS of all Chromium processes after every image, by kind: the extension's
(engine and popup), the browser process (which keeps the finished cut-outs' blobs for
"Download all") and the rest. A flat line after the first few images means no per-image
leak, which is what "batches have no limits" needs.

    .venv/bin/python bench/bench_batch.py [--count 100] [--engine standard]

Writes bench/results/batch.json and bench/results/batch.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import pss  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from browser.harness import Browser, ModelMirror  # noqa: E402


def pss_by_kind() -> dict[str, float]:
    """PSS in MB of the benchmark's browser, by process kind (browser, extension, renderer, gpu-process, …)."""
    tree = pss.tree_pss(pss.browser_roots(marker=pss.WITH_EXTENSION))
    by_kind: dict[str, float] = {}
    for pid, kb in tree.items():
        kind = pss.process_kind(pid)
        by_kind[kind] = by_kind.get(kind, 0) + kb / 1024
    return {k: round(v, 1) for k, v in by_kind.items()}


def slope(values: list[float]) -> float:
    """MB per image of a least-squares line through ``values``."""
    n = len(values)
    if n < 2:
        return 0.0
    mx, my = (n - 1) / 2, sum(values) / n
    return sum((i - mx) * (v - my) for i, v in enumerate(values)) / sum((i - mx) ** 2 for i in range(n))


def plot(samples: list[float], path: Path, title: str) -> None:
    w, h, pad = 640, 300, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    top = max(samples) * 1.1
    d.text((10, 8), title, fill="black")
    d.line([(pad, h - pad), (w - 10, h - pad)], fill="black")
    d.line([(pad, 30), (pad, h - pad)], fill="black")
    pts = [
        (pad + (w - pad - 20) * i / max(len(samples) - 1, 1), h - pad - (h - pad - 30) * v / top)
        for i, v in enumerate(samples)
    ]
    d.line(pts, fill=(26, 160, 110), width=2)
    d.text((pad, h - pad + 8), "images done ->", fill="black")
    d.text((4, 30), f"{top:.0f} MB", fill="black")
    d.text((4, h - pad - 10), "0", fill="black")
    img.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--engine", default="standard")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        photo = (
            Image.open(ROOT / "samples" / "coffee.jpg").convert("RGB").resize((1600, 1200), Image.Resampling.BICUBIC)
        )
        files = []
        for i in range(args.count):
            p = tmp / f"photo-{i:03d}.jpg"
            photo.save(p, quality=90)
            files.append(str(p))
        mirror = ModelMirror(ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist")
        with sync_playwright() as pw:
            b = Browser(pw, ROOT / "dist" / "extension", tmp / "profile", tmp / "dl")
            b.settings(engine=args.engine, modelSource=mirror.url)
            page = b.ctx.new_page()
            page.goto(b.ext_url("extension/popup/popup.html?tab"))
            page.set_input_files("#files", files)
            samples, kinds = [], []
            for n in range(1, args.count + 1):
                page.wait_for_function(
                    "(n) => document.querySelectorAll('.card[data-state]').length >= n", arg=n, timeout=600_000
                )
                kinds.append(pss_by_kind())
                samples.append(round(sum(kinds[-1].values()), 1))
            failed = page.locator(".card[data-state=failed]").count()
            by_type = kinds[-1]
            b.close()
        mirror.close()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    extension = [k.get("extension", 0.0) for k in kinds]
    held = [k.get("browser", 0.0) for k in kinds]  # the browser process keeps the finished cut-outs' blobs
    after = slice(min(10, len(samples) - 1), None)  # after the first few: what must stay flat
    result = {
        "engine": args.engine,
        "count": args.count,
        "failed": failed,
        "pss_mb_after_each": samples,
        "pss_mb_by_kind_after_each": kinds,
        "pss_mb_by_process_type_at_end": by_type,
        "mb_per_image_after_10": {
            "whole": round(slope(samples[after]), 2),
            "extension": round(slope(extension[after]), 2),
            "browser_process": round(slope(held[after]), 2),
        },
    }
    (out / "batch.json").write_text(json.dumps(result, indent=1))
    plot(
        samples, out / "batch.png", f"Chromium PSS (MB) over a batch of {args.count} 2 MP photos, engine {args.engine}"
    )
    first10 = sum(samples[:10]) / min(10, len(samples))
    last10 = sum(samples[-10:]) / min(10, len(samples))
    print(
        f"{args.count} images, {failed} failed; PSS mean of first 10: {first10:.0f} MB, last 10: {last10:.0f} MB, "
        f"max {max(samples):.0f} MB; growth per image after the first 10: {result['mb_per_image_after_10']} MB; "
        f"at the end by process kind: {by_type}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
