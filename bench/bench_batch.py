#!/usr/bin/env python3
"""Memory over a long batch in the popup: does the engine hold on to anything per image?

Uploads N copies of a 2 MP photo through the popup (opened as a tab) and samples
the summed PSS of all Chromium processes after every image, by kind: the extension's
(the engine: the popup hands its files over and closes, as it does on a click outside it;
`--keep-popup` keeps it open, its cards' thumbnails then count too), the browser process
(which keeps the blobs of the files in memory) and the rest. A flat line after the first few
images means no per-image leak, which is what "batches have no limits" needs: the engine keeps
only its newest few files' bytes in memory (engine/batch.js LIMITS.heavyItems), older ones' go to
the extension's IndexedDB (engine/spill_store.js).

    .venv/bin/python bench/bench_batch.py [--count 100] [--engine standard]

Writes bench/results/batch.json and bench/results/batch.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import pss  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from browser.harness import Browser, ModelMirror  # noqa: E402

# The engine's own account (its REST answer): Python's wasm heap, whether its workers live.
ENGINE_STATE = """async () => {
    const { Target, Type, message } = globalThis.BackgroneMessages;
    return chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.REST, {})).catch(() => null);
}"""


BATCH_STATE = """async () => {
    const { Target, Type, message } = globalThis.BackgroneMessages;
    return chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.BATCH_STATE, {}));
}"""


def ended(browser) -> int:
    """How many of the engine's batch items are done or failed."""
    items = browser.sw.evaluate(BATCH_STATE)["batch"]["items"]
    return sum(item["state"] in ("done", "failed") for item in items)


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


COLOURS = [(26, 160, 110), (40, 90, 200), (200, 90, 40)]


def plot(series: dict[str, list[float]], path: Path, title: str) -> None:
    """One line per series (MB after each image), on one axis from 0."""
    w, h, pad = 640, 300, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    top = max(max(v) for v in series.values()) * 1.1
    d.text((10, 8), title, fill="black")
    d.line([(pad, h - pad), (w - 10, h - pad)], fill="black")
    d.line([(pad, 30), (pad, h - pad)], fill="black")
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        pts = [
            (pad + (w - pad - 20) * j / max(len(values) - 1, 1), h - pad - (h - pad - 30) * v / top)
            for j, v in enumerate(values)
        ]
        d.line(pts, fill=colour, width=2)
        d.text((pad + 10 + 190 * i, h - 22), name, fill=colour)
    d.text((pad, h - pad + 6), "images done ->", fill="black")
    d.text((4, 30), f"{top:.0f} MB", fill="black")
    d.text((4, h - pad - 10), "0", fill="black")
    img.save(path)


def series(kinds: list[dict[str, float]]) -> dict[str, list[float]]:
    return {
        "whole browser": [round(sum(k.values()), 1) for k in kinds],
        "extension's processes": [k.get("extension", 0.0) for k in kinds],
        "browser process (cut-outs)": [k.get("browser", 0.0) for k in kinds],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--engine", default="standard")
    parser.add_argument(
        "--keep-popup", action="store_true", help="keep the popup open (its cards' thumbnails count too)"
    )
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
            if not args.keep_popup:
                # The popup hands every file over at once, then closes (as it does on any click
                # outside it): what is left in the extension's process is the engine's.
                page.wait_for_function("(n) => document.querySelectorAll('.card').length >= n", arg=args.count)
                page.close()
            samples, kinds, heaps = [], [], []
            for n in range(1, args.count + 1):
                while ended(b) < n:
                    time.sleep(0.2)
                kinds.append(pss_by_kind())
                samples.append(round(sum(kinds[-1].values()), 1))
                state = b.sw.evaluate(ENGINE_STATE) or {}
                heaps.append(round((state.get("heap") or 0) / 2**20, 1))
            items = b.sw.evaluate(BATCH_STATE)["batch"]["items"]
            failed = sum(item["state"] == "failed" for item in items)
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
        "python_heap_mb_after_each": heaps,
        "mb_per_image_after_10": {
            "whole": round(slope(samples[after]), 2),
            "extension": round(slope(extension[after]), 2),
            "browser_process": round(slope(held[after]), 2),
            # every process kind (renderer, gpu-process, utility, …): where a growth is, if any
            "by_kind": {kind: round(slope([k.get(kind, 0.0) for k in kinds][after]), 2) for kind in sorted(kinds[-1])},
        },
    }
    (out / "batch.json").write_text(json.dumps(result, indent=1))
    title = f"Chromium PSS (MB) over a batch of {args.count} 2 MP photos, engine {args.engine}"
    plot(series(kinds), out / "batch.png", title)
    first10 = sum(samples[:10]) / min(10, len(samples))
    last10 = sum(samples[-10:]) / min(10, len(samples))
    print(
        f"{args.count} images, {failed} failed; PSS mean of first 10: {first10:.0f} MB, last 10: {last10:.0f} MB, "
        f"max {max(samples):.0f} MB; growth per image after the first 10: {result['mb_per_image_after_10']} MB; "
        f"Python's heap {heaps[0]:.0f} -> {heaps[-1]:.0f} MB; "
        f"at the end by process kind: {by_type}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
