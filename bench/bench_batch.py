#!/usr/bin/env python3
"""Memory over a long batch in the popup: does the engine hold on to anything per image?

Uploads N copies of a 2 MP photo through the popup (opened as a tab) and samples
the summed PSS of all Chromium processes after every image. A flat line means
no per-image leak, which is what "batches have no limits" needs.

    .venv/bin/python bench/bench_batch.py [--count 40] [--engine fast]

Writes bench/results/batch.json and bench/results/batch.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from PIL import Image, ImageDraw  # noqa: E402

from browser.harness import Browser, ModelMirror  # noqa: E402


def chromium_pss_by_type() -> dict[str, float]:
    """PSS in MB of all Chromium processes, by --type (browser, renderer, gpu-process, …)."""
    pids = subprocess.run(["pgrep", "-f", "chromium"], capture_output=True, text=True).stdout.split()
    by_type: dict[str, float] = {}
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
            kind = next((a.split(b"=", 1)[1].decode() for a in cmd if a.startswith(b"--type=")), "browser")
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    by_type[kind] = by_type.get(kind, 0) + int(line.split()[1]) / 1024
        except OSError:
            pass
    return {k: round(v, 1) for k, v in by_type.items()}


def chromium_pss_mb() -> float:
    return round(sum(chromium_pss_by_type().values()), 1)


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
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--engine", default="fast")
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
            samples = []
            for n in range(1, args.count + 1):
                page.wait_for_function(
                    "(n) => document.querySelectorAll('.card[data-state]').length >= n", arg=n, timeout=600_000
                )
                samples.append(chromium_pss_mb())
            failed = page.locator(".card[data-state=failed]").count()
            by_type = chromium_pss_by_type()
            b.close()
        mirror.close()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "engine": args.engine,
        "count": args.count,
        "failed": failed,
        "pss_mb_after_each": samples,
        "pss_mb_by_process_type_at_end": by_type,
    }
    (out / "batch.json").write_text(json.dumps(result, indent=1))
    plot(
        samples, out / "batch.png", f"Chromium PSS (MB) over a batch of {args.count} 2 MP photos, engine {args.engine}"
    )
    first10 = sum(samples[:10]) / min(10, len(samples))
    last10 = sum(samples[-10:]) / min(10, len(samples))
    print(
        f"{args.count} images, {failed} failed; PSS mean of first 10: {first10:.0f} MB, last 10: {last10:.0f} MB, "
        f"max {max(samples):.0f} MB; at the end by process type: {by_type}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
