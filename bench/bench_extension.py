#!/usr/bin/env python3
"""Speed of the extension in headless Chromium against the native CLI pipeline, side by side.

For each engine: a cold start (Pyodide boot, model download from a loopback
mirror, session), warm runs, and a run after a browser restart (model from
IndexedDB). The same images then go through the native pipeline (onnxruntime,
CPython) in this process. Medians of the warm runs; figures in milliseconds.

    .venv/bin/python bench/bench_extension.py [--runs 3] [--engines fast,small,medium]

Writes bench/results/extension.json and bench/results/extension.png.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from PIL import Image, ImageDraw  # noqa: E402

from browser.harness import Browser, ModelMirror, Site  # noqa: E402

SIZES = {"2MP": (1600, 1200), "12MP": (4000, 3000)}


def make_images(folder: Path) -> dict[str, Path]:
    src = Image.open(ROOT / "samples" / "coffee.jpg").convert("RGB")
    out = {}
    for label, size in SIZES.items():
        path = folder / f"photo-{label}.jpg"
        src.resize(size, Image.Resampling.BICUBIC).save(path, quality=90)
        out[label] = path
    return out


def median(values):
    return round(statistics.median(values), 1) if values else None


def bench_browser(pw, ext: Path, engine: str, images: dict[str, Path], runs: int, mirror: ModelMirror, tmp: Path):
    site_dir = tmp / f"site-{engine}"
    site_dir.mkdir()
    for p in images.values():
        shutil.copyfile(p, site_dir / p.name)
    tags = "".join(f'<img id="i{label}" src="{p.name}" style="width:400px">' for label, p in images.items())
    (site_dir / "index.html").write_text(f"<!doctype html><title>bench</title>{tags}")
    site = Site(site_dir)
    browser = Browser(pw, ext, tmp / f"profile-{engine}", tmp / f"dl-{engine}")
    browser.settings(engine=engine, modelSource=mirror.url)
    result = {"engine": engine, "sizes": {}}

    def click(label):
        page = browser.ctx.new_page()
        page.goto(site.url(f"index.html?{time.time_ns()}"))
        src = page.eval_on_selector(f"#i{label}", "img => img.currentSrc")
        t0 = time.perf_counter()
        r = browser.menu_click(page, src)
        r["wall"] = (time.perf_counter() - t0) * 1000
        page.close()
        if not r.get("ok"):
            raise RuntimeError(f"{engine} {label}: {r}")
        return r

    first_label = next(iter(images))
    cold = click(first_label)
    result["cold"] = {"wall": round(cold["wall"]), **{k: round(v) for k, v in cold["timings"].items()}}
    result["backend"] = cold["backend"]
    for label in images:
        warm = [click(label) for _ in range(runs)]
        result["sizes"][label] = {
            "wall": median([w["wall"] for w in warm]),
            **{k: median([w["timings"][k] for w in warm]) for k in ("decode", "prepare", "inference", "finish", "shown")},
        }
    browser.restart()
    restarted = click(first_label)
    result["after_restart"] = {
        "wall": round(restarted["wall"]),
        "image_fetch": round(restarted["timings"]["fetch"]),
        "python_boot": round(restarted["timings"]["python"]),
        "model_bytes_from_indexeddb": round(restarted["timings"].get("modelBytes", 0)),
        "model_total_with_session": round(restarted["timings"]["model"]),
    }
    browser.close()
    site.close()
    return result


def bench_native(engine: str, images: dict[str, Path], runs: int):
    from backgrone import load_catalogue
    from backgrone.fetch import fetch_engine
    from backgrone.infer import OnnxSegmenter
    from backgrone.pipeline import Options, finish, prepare

    spec = load_catalogue().get(engine)
    t0 = time.perf_counter()
    seg = OnnxSegmenter(fetch_engine(spec), spec)
    out = {"session": round((time.perf_counter() - t0) * 1000), "sizes": {}}
    for label, path in images.items():
        data = path.read_bytes()
        rows = []
        for _ in range(runs):
            t = [time.perf_counter()]
            prepared = prepare(data, spec)
            t.append(time.perf_counter())
            mask = seg.run(prepared.tensor)
            t.append(time.perf_counter())
            finish(prepared, mask, Options())
            t.append(time.perf_counter())
            rows.append([(b - a) * 1000 for a, b in zip(t, t[1:])])
        out["sizes"][label] = {k: median([r[i] for r in rows]) for i, k in enumerate(("prepare", "inference", "finish"))}
    return out


def plot(results: dict, path: Path) -> None:
    """Stacked bars: prepare / inference / finish per engine, size and runtime."""
    colours = {"prepare": (90, 140, 220), "inference": (26, 160, 110), "finish": (230, 150, 40)}
    rows = []
    for engine, r in results["engines"].items():
        for label in SIZES:
            rows.append((f"{engine} {label} browser", r["browser"]["sizes"][label]))
            rows.append((f"{engine} {label} native", r["native"]["sizes"][label]))
    top = max(sum(v[k] for k in colours) for _, v in rows)
    w, left, bar_h = 900, 190, 18
    h = 40 + len(rows) * (bar_h + 6) + 30
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 10), "Median time per image (ms): prepare / inference / finish", fill="black")
    for i, (name, v) in enumerate(rows):
        y = 40 + i * (bar_h + 6)
        d.text((10, y + 3), name, fill="black")
        x = left
        for k, c in colours.items():
            width = (w - left - 90) * v[k] / top
            d.rectangle([x, y, x + width, y + bar_h], fill=c)
            x += width
        d.text((x + 6, y + 3), f"{sum(v[k] for k in colours):.0f}", fill="black")
    for j, (k, c) in enumerate(colours.items()):
        d.rectangle([left + j * 120, h - 22, left + j * 120 + 12, h - 10], fill=c)
        d.text((left + j * 120 + 18, h - 22), k, fill="black")
    img.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="fast,small,medium")
    parser.add_argument("--ext", default=str(ROOT / "dist" / "extension"))
    args = parser.parse_args()
    engines = args.engines.split(",")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    results = {"machine": {"cpu_count": __import__("os").cpu_count(), "platform": platform.platform()},
               "runs": args.runs, "engines": {}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        images = make_images(tmp)
        mirror = ModelMirror(ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist")
        with sync_playwright() as pw:
            for engine in engines:
                print(f"{engine}: browser…", file=sys.stderr)
                browser = bench_browser(pw, Path(args.ext), engine, images, args.runs, mirror, tmp)
                print(f"{engine}: native…", file=sys.stderr)
                native = bench_native(engine, images, args.runs)
                results["engines"][engine] = {"browser": browser, "native": native}
                print(json.dumps(results["engines"][engine], indent=1), file=sys.stderr)
        mirror.close()
    (out_dir / "extension.json").write_text(json.dumps(results, indent=1))
    if set(engines) >= {"fast"}:
        plot(results, out_dir / "extension.png")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
