#!/usr/bin/env python3
"""Our extension alone, warm, at 12 and 24 MP: each call's wall time and the browser's peak
memory (pss.py), right-click then popup per size, as side_by_side.py runs them (its `Ours`).
For A/B runs of an engine change against another build (`--ext`), without the peer's ten
minutes: ratios against imgly come from side_by_side.py.

    flock /tmp/backgrone-heavy.lock .venv/bin/python bench/bench_ours_warm.py [--ext DIR]
        [--engine standard] [--sizes 12MP,24MP] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import bench_images  # noqa: E402
import pss  # noqa: E402
from side_by_side import DATA_DIST, Ours, css_id  # noqa: E402

from browser.harness import ModelMirror, Site  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ext", default=str(ROOT / "dist" / "extension"))
    ap.add_argument("--engine", default="standard")
    ap.add_argument("--sizes", default="12MP,24MP")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    wanted = args.sizes.split(",")
    sizes = [s for s in bench_images.SIZES if s.label in wanted]
    small = next(s for s in bench_images.SIZES if s.label == "2MP")
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        images = bench_images.write(tmp / "site", [small, *sizes])
        for s in [small, *sizes]:
            tag = f'<img id="{css_id(s.label)}" src="{s.filename}" style="width:320px">'
            (tmp / "site" / f"one-{s.label}.html").write_text(f"<!doctype html><title>bench {s.label}</title>{tag}")
        ours = Ours(pw, Path(args.ext).resolve(), tmp, Site(tmp / "site"), ModelMirror(DATA_DIST))
        sampler = pss.PeakSampler(lambda: pss.browser_roots(marker=str(ours.profile)))
        ours.launch()
        ours.use(args.engine)
        ours.menu(small)
        ours.popup_cut(images[small.label][0])
        for run in range(args.runs):
            for size in sizes:
                calls = (("menu", lambda: ours.menu(size)), ("popup", lambda: ours.popup_cut(images[size.label][0])))  # noqa: B023
                for impl, call in calls:
                    with sampler.window() as peak:
                        r = call()
                    row = {"run": run, "size": size.label, "impl": impl, "wall": r["wall"], "peak_mb": peak.mb}
                    rows.append({**row, "top": peak.top})
                    print(json.dumps(rows[-1]), flush=True)
    for size in sizes:
        for impl in ("menu", "popup"):
            got = [r for r in rows if r["size"] == size.label and r["impl"] == impl]
            print(
                f"{size.label} {impl}: wall {statistics.median(r['wall'] for r in got):.0f} ms, "
                f"peak {max(r['peak_mb'] for r in got):.0f} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
