#!/usr/bin/env python3
"""Backgrone against @imgly/background-removal and native onnxruntime, side by side, in one run.

    .venv/bin/python bench/side_by_side.py            # 0.3, 2, 12, 24 MP; 5 warm runs (~40 min here)
    .venv/bin/python bench/side_by_side.py --smoke    # one small image, one run (CI's smoke test)

On the same images (bench_images.py: photos with a subject of known alpha) and in the same run,
interleaved per image and run so that the machine's drift hits all alike:
- **ours-menu**: the built extension (dist/extension) in headless Chromium, right-click "Remove
  background" as the service worker's menu handler gets it; the whole call ends when the page
  shows the cut-out. The engine reports its steps (fetch, decode, prepare, inference,
  postprocess, encode, deliver).
- **ours-popup**: the same extension's toolbar popup: a file chosen, until its card is done.
- **imgly**: @imgly/background-removal 1.7.0 (imgly_site.py) in its own headless Chromium, same
  flags, cross-origin isolated, on the same ISNet chunk files: isnet_fp16, its default model and
  our medium; our standard and detailed engines (int8, built from the same weights) are measured
  against it too; its whole call is its removeBackground() in the page.
- **native**: the Python core with onnxruntime in this process (the CLI's code, stage by
  stage), and once per large image `python -m backgrone cut` as a subprocess for its memory.

Also: cold start per engine (browser start to first cut-out: a new profile, then the model
cached and Python's snapshot made, as every later start; `--cold-only` runs just these),
the model's load from IndexedDB, peak memory (sum of PSS of the browser's processes) at 12 and
24 MP, and each output's alpha against the true alpha. Writes
``<out>/side_by_side-<stamp>.json``, ``.md`` and the plots ``-latency.png``, ``-memory.png``
(side_by_side_report.py renders them again from a JSON).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import bench_images  # noqa: E402
import imgly_site  # noqa: E402
import pss  # noqa: E402
import side_by_side_report  # noqa: E402

from browser.harness import CHROMIUM, Browser, ModelMirror, Site  # noqa: E402

# our engine -> imgly's model with the same weights (None: imgly has no such model)
# Our engine -> the imgly model it is compared with (imgly's default, isnet_fp16, for every ISNet).
PAIRS = {"fast": None, "standard": "isnet_fp16", "detailed": "isnet_fp16", "medium": "isnet_fp16"}
BUNDLED = {"fast", "standard", "detailed"}  # in the package: there is no uncached state
MEMORY_SIZES = ("12MP", "24MP")
DATA_DIST = ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist"

# Remembers the engine's timings for each popup job, in the popup page: the engine keeps the
# popup's batch and says when it changes, each finished file with its timings.
POPUP_SPY = """() => {
  if (window.__answers) return;
  window.__answers = [];
  const seen = new Set();
  chrome.runtime.onMessage.addListener((m) => {
    if (m?.type !== 'batch') return;
    for (const item of m.data.items) {
      if (item.timings && !seen.has(item.id)) window.__answers.push({ timings: item.timings });
      if (item.timings) seen.add(item.id);
    }
  });
}"""


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Ours:
    """The built extension in one Chromium profile; models are cached in it as the run goes."""

    def __init__(self, pw, ext: Path, tmp: Path, site: Site, mirror: ModelMirror):
        self.pw, self.ext, self.site, self.mirror = pw, ext, site, mirror
        self.profile = tmp / "ours-profile"
        self.downloads = tmp / "ours-downloads"
        self.browser = None
        self.popup = None
        self.engine = None

    def launch(self) -> float:
        """Start (or restart) the browser; returns the seconds it took."""
        t0 = time.perf_counter()
        if self.browser is None:
            self.browser = Browser(self.pw, self.ext, self.profile, self.downloads)
        else:
            self.popup = None
            self.browser.restart()
        self.browser.sw  # noqa: B018 - waits for the service worker
        self.browser.settings(modelSource=self.mirror.url)
        return time.perf_counter() - t0

    def use(self, engine: str) -> None:
        self.browser.settings(engine=engine)
        self.engine = engine

    def open_page(self, size: bench_images.Size) -> tuple[object, str]:
        """A page showing just this image (the user's page holds the one image cut, not the run's
        others), loaded and its image decoded: the page, and the image's address."""
        page = self.browser.ctx.new_page()
        page.goto(self.site.url(f"one-{size.label}.html?{time.time_ns()}"))
        src = page.eval_on_selector(f"#{css_id(size.label)}", "img => img.decode().then(() => img.currentSrc)")
        return page, src

    def menu(self, size: bench_images.Size, want_bytes: bool = False, opened: tuple[object, str] | None = None) -> dict:
        """A right-click's cut on a page showing the image: `opened` (open_page's), or one opened now."""
        page, src = opened or self.open_page(size)
        t0 = time.perf_counter()
        r = self.browser.menu_click(page, src)
        wall = time.perf_counter() - t0
        if not r.get("ok"):
            page.close()
            raise RuntimeError(f"ours-menu {self.engine} {size.label}: {r}")
        out = {"wall": ms(wall), "stages": stages_ours(r["timings"]), "backend": r.get("backend")}
        if want_bytes:
            out["bytes"] = base64.b64decode(
                page.eval_on_selector(
                    f"#{css_id(size.label)}",
                    """async (img) => {
                      const b = new Uint8Array(await (await fetch(img.currentSrc)).arrayBuffer());
                      let s = '';
                      for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
                      return btoa(s);
                    }""",
                )
            )
        page.close()
        return out

    def popup_cut(self, path: Path) -> dict:
        if self.popup is None:
            self.popup = self.browser.ctx.new_page()
            self.popup.goto(self.browser.ext_url("extension/popup/popup.html"))
            self.popup.evaluate(POPUP_SPY)
        popup = self.popup
        before = popup.evaluate("() => window.__answers.length")
        t0 = time.perf_counter()
        popup.set_input_files("#files", str(path))
        popup.wait_for_function(
            "() => document.querySelector('.card') && !document.querySelector('.card:not([data-state])')"
        )
        wall = time.perf_counter() - t0
        state = popup.eval_on_selector(".card", "c => c.dataset.state + ': ' + c.querySelector('.state').textContent")
        if not state.startswith("done"):
            raise RuntimeError(f"ours-popup {self.engine} {path.name}: {state}")
        answers = popup.evaluate("() => window.__answers")
        timings = answers[-1]["timings"] if len(answers) > before else {}
        popup.click("#clear")  # one card at a time: what a batch holds is bench_batch.py's business
        popup.wait_for_function("() => !document.querySelector('.card')")
        return {"wall": ms(wall), "stages": stages_ours(timings)}

    def close(self) -> None:
        if self.browser:
            self.browser.close()
            self.browser = None


def sampled(sampler: pss.PeakSampler | None, on: bool):
    """The sampler's window when memory is measured for this call, else nothing (no overhead)."""
    return sampler.window() if on else contextlib.nullcontext(pss.Peak())


def css_id(label: str) -> str:
    return "i" + label.replace(".", "_")


def stages_ours(t: dict) -> dict:
    """The engine's step timings under the stage names all three share."""
    keys = {
        "fetch": "fetch",
        "decode": "decode",
        "prepare": "preprocess",
        "inference": "inference",
        "postprocess": "postprocess",
        "encode": "encode",
        "shown": "deliver",
        "python": "python_wait",
        "model": "model_wait",
    }
    return {name: round(t[k], 1) for k, name in keys.items() if k in t}


def stages_imgly(t: dict) -> dict:
    keys = {
        "decode": "decode",
        "inference": "inference",
        "mask": "postprocess",
        "encode": "encode",
        "init": "model_wait",
    }
    return {name: round(t[k], 1) for k, name in keys.items() if k in t}


class Imgly:
    """imgly's page in its own Chromium (one page per model: it memoises a session per page)."""

    def __init__(self, pw, tmp: Path):
        self.pw = pw
        self.site = imgly_site.ImglySite(cache=True)
        self.profile = tmp / "imgly-profile"
        self.ctx = None
        self.pages: dict[str, object] = {}

    def launch(self) -> float:
        t0 = time.perf_counter()
        if self.ctx:
            self.ctx.close()
        self.pages = {}
        self.ctx = imgly_site.launch_persistent(self.pw, self.profile)
        return time.perf_counter() - t0

    def page(self, model: str):
        if model not in self.pages:
            self.pages[model] = self.site.open(self.ctx)
        return self.pages[model]

    def cut(self, model: str, data: bytes, shown: bool = False) -> dict:
        """One call; ``shown``: its page shows the photo (``show`` first) and then the cut-out,
        as a right-click's page does."""
        r = imgly_site.run(self.page(model), data, model, shown=shown)
        return {
            "wall": round(r["timings"]["total"], 1),
            "stages": stages_imgly(r["timings"]),
            "bytes": r["png"],
            "transfer": round(r["timings"]["transfer"], 1),
            "env": r["env"],
        }

    def close(self) -> None:
        if self.ctx:
            self.ctx.close()
        self.site.close()


class Native:
    """The CLI's pipeline in this process, stage by stage."""

    def __init__(self):
        from backgrone import load_catalogue

        self.catalogue = load_catalogue()
        self.sessions = {}

    def session(self, engine: str):
        from backgrone.fetch import fetch_engine
        from backgrone.infer import OnnxSegmenter

        if engine not in self.sessions:
            spec = self.catalogue.get(engine)
            t0 = time.perf_counter()
            self.sessions[engine] = (OnnxSegmenter(fetch_engine(spec), spec), ms(time.perf_counter() - t0))
        return self.sessions[engine]

    def cut(self, engine: str, data: bytes) -> dict:
        from backgrone.compose import encode
        from backgrone.pipeline import Options, compose, load, with_tensor

        seg, _ = self.session(engine)
        t = [time.perf_counter()]
        prepared = load(data)
        t.append(time.perf_counter())
        with_tensor(prepared, seg.spec)
        t.append(time.perf_counter())
        mask = seg.run(prepared.tensor)
        t.append(time.perf_counter())
        image, icc = compose(prepared, mask, Options())
        t.append(time.perf_counter())
        out = encode(image, "png", icc=icc)
        t.append(time.perf_counter())
        names = ["decode", "preprocess", "inference", "postprocess", "encode"]
        return {
            "wall": ms(t[-1] - t[0]),
            "stages": {n: ms(b - a) for n, a, b in zip(names, t, t[1:], strict=False)},
            "bytes": out,
        }


def cli_memory(engine: str, image: Path, out: Path) -> dict:
    """`python -m backgrone cut` as a user runs it: its wall time and peak PSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backgrone", "cut", str(image), "--engine", engine, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, pss.tree_pss_mb([proc.pid]))
        time.sleep(0.05)
    if proc.returncode != 0:
        raise RuntimeError(f"backgrone cut failed: {proc.stderr.read().decode()[-500:]}")
    return {"wall": ms(time.perf_counter() - t0), "peak_mb": round(peak, 1)}


def summarise(rows: list[dict]) -> list[dict]:
    """Median and min-max of the whole call and median per stage, per impl, engine and size."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["impl"], r["engine"], r["size"]), []).append(r)
    out = []
    for (impl, engine, size), rs in groups.items():
        walls = [r["wall"] for r in rs]
        stage_names = sorted({k for r in rs for k in r["stages"]})
        out.append(
            {
                "impl": impl,
                "engine": engine,
                "size": size,
                "runs": len(rs),
                "median": round(statistics.median(walls), 1),
                "min": min(walls),
                "max": max(walls),
                "stages": {k: round(statistics.median(r["stages"].get(k, 0.0) for r in rs), 1) for k in stage_names},
            }
        )
    return out


def ratios(summary: list[dict]) -> list[dict]:
    """ours/imgly and ours/native from medians of the same run."""
    by = {(s["impl"], s["engine"], s["size"]): s["median"] for s in summary}
    out = []
    for (impl, engine, size), median in by.items():
        if impl not in ("ours-menu", "ours-popup"):
            continue
        row = {"impl": impl, "engine": engine, "size": size}
        if ("imgly", engine, size) in by:
            row["ours_over_imgly"] = round(median / by[("imgly", engine, size)], 3)
        if ("native", engine, size) in by:
            row["ours_over_native"] = round(median / by[("native", engine, size)], 3)
        out.append(row)
    return out


def machine() -> dict:
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem) / 2**20, 1),
        "platform": platform.platform(),
        "browser": chromium,
        "python": platform.python_version(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--smoke", action="store_true", help="one small image, one run, engine standard: proves all three run"
    )
    ap.add_argument("--runs", type=int, default=5, help="warm runs per implementation, engine and size")
    ap.add_argument("--engines", default="fast,standard,detailed,medium")
    ap.add_argument("--sizes", default=",".join(s.label for s in bench_images.SIZES))
    ap.add_argument("--cold-only", action="store_true", help="only the cold starts (browser start to first cut-out)")
    ap.add_argument("--ext", default=str(ROOT / "dist" / "extension"))
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    if args.smoke:
        sizes, engines, runs, memory_sizes = bench_images.SMOKE, ["standard"], 1, {s.label for s in bench_images.SMOKE}
    else:
        wanted = args.sizes.split(",")
        sizes = [s for s in bench_images.SIZES if s.label in wanted]
        engines, runs, memory_sizes = args.engines.split(","), args.runs, set(MEMORY_SIZES)
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M")
    ext = Path(args.ext).resolve()
    if not (ext / "manifest.json").exists():
        raise SystemExit(f"no built extension in {ext}: run build_ext.py first")

    from playwright.sync_api import sync_playwright

    report: dict = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "runs": runs,
        "machine": machine(),
        "versions": imgly_site.versions(),
        "images": {
            s.label: {"width": s.width, "height": s.height, "format": s.format, "megapixels": round(s.megapixels, 2)}
            for s in sizes
        },
        "warm": [],
        "cold": [],
        "memory": [],
        "quality": [],
        "native_sessions": {},
    }
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        log("making images…")
        images = bench_images.write(tmp / "site", sizes)
        for s in sizes:
            report["images"][s.label]["bytes"] = images[s.label][0].stat().st_size
        for s in sizes:
            tag = f'<img id="{css_id(s.label)}" src="{s.filename}" style="width:320px">'
            (tmp / "site" / f"one-{s.label}.html").write_text(f"<!doctype html><title>bench {s.label}</title>{tag}")
        site = Site(tmp / "site")
        mirror = ModelMirror(DATA_DIST)
        ours, imgly, native = Ours(pw, ext, tmp, site, mirror), Imgly(pw, tmp), Native()
        ours_mem = pss.PeakSampler(lambda: pss.browser_roots(marker=str(ours.profile)))  # its own browser only
        imgly_mem = pss.PeakSampler(lambda: pss.browser_roots(marker=str(imgly.profile)))
        first = sizes[0]
        first_bytes = images[first.label][0].read_bytes()
        try:
            # Cold starts: browser start to the first cut-out, the model not yet cached, then cached.
            for engine in engines:
                for cached in (False, True):
                    # A bundled model has no uncached state; its "not cached" start is a profile's very
                    # first (Python's snapshot is made then), its cached one a later start (everyday use).
                    if engine in BUNDLED and not cached and ours.browser is not None:
                        continue
                    profile = "new" if ours.browser is None else "used"
                    launch = ours.launch()
                    ours.use(engine)
                    r = ours.menu(first)
                    report["cold"].append(
                        {
                            "impl": "ours-menu",
                            "engine": engine,
                            "cached": cached or engine in BUNDLED,
                            "profile": profile,
                            "launch": ms(launch),
                            "first_cut": r["wall"],
                            "total": round(ms(launch) + r["wall"], 1),
                            "stages": r["stages"],
                            "backend": r["backend"],
                        }
                    )
                    log("cold", report["cold"][-1])
                model = PAIRS.get(engine)
                if model:
                    for cached in (False, True):
                        if not cached:
                            imgly_site.clear_profile(imgly.profile)
                        launch = imgly.launch()
                        r = imgly.cut(model, first_bytes)
                        report["cold"].append(
                            {
                                "impl": "imgly",
                                "engine": engine,
                                "model": model,
                                "cached": cached,
                                "launch": ms(launch),
                                "first_cut": r["wall"],
                                "total": round(ms(launch) + r["wall"], 1),
                                "stages": r["stages"],
                            }
                        )
                        log("cold", report["cold"][-1])
            report["imgly_env"] = r["env"] if any(PAIRS.get(e) for e in engines) else None
            for engine in engines:
                _, session_ms = native.session(engine)
                report["native_sessions"][engine] = session_ms

            # Warm runs, interleaved: per engine, run and size, each implementation once in turn.
            for engine in [] if args.cold_only else engines:
                model = PAIRS.get(engine)
                ours.use(engine)
                log(f"{engine}: warming up")
                ours.menu(first)
                ours.popup_cut(images[first.label][0])
                if model:
                    imgly.cut(model, first_bytes)
                native.cut(engine, first_bytes)  # onnxruntime's first run sets up its arena
                shown_later: list[tuple[dict, bytes]] = []
                for run in range(runs):
                    for size in sizes:
                        path, alpha_path = images[size.label]
                        data = path.read_bytes()
                        measure = size.label in memory_sizes and run == 0
                        score_it = run == 0
                        truth = bench_images.alpha_of_png(alpha_path) if score_it else None
                        cell = {"engine": engine, "size": size.label}

                        def record(impl, call, sampler=None, scored_as=None):
                            """One warm call: its row, and its peak memory and quality where asked."""
                            with sampled(sampler, measure and sampler is not None) as peak:  # noqa: B023 - called at once, in this iteration
                                r = call()
                            extra = {"transfer": r["transfer"]} if "transfer" in r else {}
                            report["warm"].append(
                                {**cell, "run": run, "impl": impl, "wall": r["wall"], "stages": r["stages"], **extra}  # noqa: B023
                            )
                            if measure and sampler is not None:  # noqa: B023
                                report["memory"].append({**cell, "impl": impl, "peak_mb": peak.mb, "top": peak.top})  # noqa: B023
                            if score_it and scored_as:  # noqa: B023
                                scores = bench_images.score(bench_images.alpha_of(r["bytes"]), truth)  # noqa: B023
                                report["quality"].append({**cell, "impl": scored_as, **scores})  # noqa: B023

                        # The page is open before the call, as imgly's is: its memory counts (a user's page
                        # shows the photo), the browser's load and decode of it do not.
                        opened = ours.open_page(size)
                        menu = partial(ours.menu, size, want_bytes=score_it, opened=opened)
                        record("ours-menu", menu, ours_mem, "ours")
                        record("ours-popup", lambda: ours.popup_cut(path), ours_mem)  # noqa: B023
                        if model:
                            record("imgly", lambda: imgly.cut(model, data), imgly_mem, "imgly")  # noqa: B023
                            if measure:
                                shown_later.append((cell, data))  # after every bare call: see below
                        record("native", lambda: native.cut(engine, data), None, "native")  # noqa: B023
                        if measure:
                            m = cli_memory(engine, path, tmp / "cli-out")
                            report["memory"].append(
                                {
                                    "impl": "native-cli",
                                    "engine": engine,
                                    "size": size.label,
                                    "peak_mb": m["peak_mb"],
                                    "wall": m["wall"],
                                }
                            )
                        log(engine, size.label, run, [(w["impl"], w["wall"]) for w in report["warm"][-4:]])
                # imgly's page showing the photo and then its cut-out, as the right-click's page does: the
                # like-for-like peak (its time is not a warm run's). After all the bare calls, whose peaks
                # what it leaves in the page for a while (decoded pictures) would otherwise raise. The photo
                # is shown before the window, as the right-click's page is opened before its call.
                for cell, data in shown_later:
                    imgly_site.show(imgly.page(model), data)
                    with sampled(imgly_mem, True) as peak:
                        imgly.cut(model, data, shown=True)
                    imgly_site.hide(imgly.page(model))
                    report["memory"].append({**cell, "impl": "imgly-shown", "peak_mb": peak.mb, "top": peak.top})
        finally:
            ours.close()
            imgly.close()
            mirror.close()
            site.close()

    report["summary"] = summarise(report["warm"])
    report["ratios"] = ratios(report["summary"])
    base = out_dir / f"side_by_side-{stamp}{'-smoke' if args.smoke else ''}"
    (base.parent / f"{base.name}.json").write_text(json.dumps(report, indent=1))
    side_by_side_report.render(report, base)
    log(f"wrote {base}.json, .md, -latency.png, -memory.png")
    print(base.parent / f"{base.name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
