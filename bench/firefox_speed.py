#!/usr/bin/env python3
"""Firefox against Chromium, side by side in one run: one 2 MP PNG through the engine
(from an extension page: the popup's path), per engine, first call and warm median.

    .venv/bin/python bench/firefox_speed.py [--engines fast standard] [--runs 4]

Firefox runs the engine in its event page on one thread (no cross-origin isolation);
Chromium in its offscreen document on two. Needs `bash scripts/setup.sh` (both browsers).
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.firefox import Firefox  # noqa: E402
from browser.harness import Browser  # noqa: E402
from browser.test_firefox import ENGINE_CUT  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["fast", "standard"])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--ext", default=str(ROOT / "dist" / "extension"))
    args = parser.parse_args()
    photo = Image.open(ROOT / "samples" / "astronaut.jpg").convert("RGB").resize((1732, 1155))
    buf = io.BytesIO()
    photo.save(buf, "PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        chromium = Browser(pw, Path(args.ext), Path(tmp) / "chromium", Path(tmp) / "dl")
        page = chromium.ctx.new_page()
        page.goto(chromium.ext_url("extension/options/options.html"))
        firefox = Firefox(Path(args.ext), Path(tmp) / "firefox", Path(tmp) / "dl-ff")
        runners = {
            "chromium": lambda engine: page.evaluate(f"([b, e]) => ({ENGINE_CUT})(b, e)", [b64, engine]),
            "firefox": lambda engine: firefox.call(firefox.helper(), ENGINE_CUT, b64, engine),
        }
        try:
            print(f"{photo.width}x{photo.height} PNG, whole engine call; seconds")
            for engine in args.engines:
                warm = {}
                for name, run in runners.items():
                    times = []
                    for _ in range(args.runs):
                        t0 = time.perf_counter()
                        run(engine)
                        times.append(time.perf_counter() - t0)
                    warm[name] = statistics.median(times[1:])
                    print(f"{engine:9} {name:8} first {times[0]:.2f}  warm median {warm[name]:.2f}", flush=True)
                print(f"{engine:9} firefox / chromium: {warm['firefox'] / warm['chromium']:.2f}x")
        finally:
            firefox.close()
            chromium.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
