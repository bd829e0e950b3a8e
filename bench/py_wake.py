#!/usr/bin/env python3
"""Waking the engine (issue 19): a right-click after an idle release against a warm one, for two
builds of the extension side by side in headless Chromium, interleaved (A B A B ...).

    .venv/bin/python bench/py_wake.py --a /tmp/old/extension --b dist/extension --rounds 5

Each build: its own browser and profile, engine standard, a 2 MP photo, the engine's rests
shortened by its REST message (3 s: both workers ended). A round per build: a warm cut, then a
wait past the rest, then a woken cut. Prints per-build medians and the woken/warm ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import bench_images  # noqa: E402
from bench_rest import REST, STEPS, cut, fresh_page  # noqa: E402
from side_by_side import DATA_DIST, css_id  # noqa: E402

from browser.harness import Browser, ModelMirror, Site  # noqa: E402

SIZES = [s for s in bench_images.SIZES if s.label == "2MP"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, help="extension dir A")
    ap.add_argument("--b", required=True, help="extension dir B")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rest-s", type=float, default=6.0, help="wait after a cut (the short rest is 3 s)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    results = {"a": {"warm": [], "woken": []}, "b": {"warm": [], "woken": []}}
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        bench_images.write(tmp / "site", SIZES)
        tag = f'<img id="{css_id("2MP")}" src="{SIZES[0].filename}" style="width:320px">'
        (tmp / "site" / "index.html").write_text(f"<!doctype html><title>wake</title>{tag}")
        site, mirror = Site(tmp / "site"), ModelMirror(DATA_DIST)
        browsers = {}
        for key in ("a", "b"):
            b = Browser(pw, Path(getattr(args, key)).resolve(), tmp / f"profile-{key}", tmp / f"dl-{key}")
            b.sw  # noqa: B018 - waits for the service worker
            b.settings(engine="standard", modelSource=mirror.url)
            page = fresh_page(b, site)
            cut(b, page, "2MP", "cold")  # the first boot: makes the snapshot (stored after)
            b.sw.evaluate(REST, {"shortMs": 3000, "longMs": 600_000})
            browsers[key] = [b, page]
        time.sleep(args.rest_s + 4)  # snapshots stored, engines at rest
        for r in range(args.rounds):
            for key in ("a", "b") if r % 2 == 0 else ("b", "a"):
                b, page = browsers[key]
                page.close()
                page = browsers[key][1] = fresh_page(b, site)
                woken = cut(b, page, "2MP", f"{key}-woken{r}")
                page.close()  # a page of its own, as bench_rest.py's warm cuts (not the page's kept result)
                page = browsers[key][1] = fresh_page(b, site)
                warm = cut(b, page, "2MP", f"{key}-warm{r}")
                results[key]["woken"].append(woken)
                results[key]["warm"].append(warm)
                results[key].setdefault("woken_steps", []).append(STEPS[f"{key}-woken{r}"])
                print(f"round {r} {key}: woken {woken:.2f} s, warm {warm:.2f} s", file=sys.stderr, flush=True)
                time.sleep(args.rest_s)  # this one rests while the other runs
        for b, _ in browsers.values():
            b.close()
        site.close()
        mirror.close()
    summary = {}
    for key, r in results.items():
        woken, warm = statistics.median(r["woken"]), statistics.median(r["warm"])
        summary[key] = {
            "ext": getattr(args, key),
            "woken_median_s": woken,
            "warm_median_s": warm,
            "ratio": round(woken / warm, 2),
            **r,
        }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
