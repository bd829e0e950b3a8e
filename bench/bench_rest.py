#!/usr/bin/env python3
"""The engine at rest and awake again (issue 19), in the built extension in headless Chromium.

    .venv/bin/python bench/bench_rest.py            # the product's own rest times (about 5 min)
    .venv/bin/python bench/bench_rest.py --quick    # rests shortened by the engine's REST message

One browser, one run, the default engine (standard), the benchmark photos (bench_images.py):
1. browser started, no job yet: the browser's memory (sum of PSS of its processes), the baseline;
2. the first cut-out (2 MP): cold (Python's boot and the model's session, side by side);
3. warm cut-outs (2 MP) and one at 12 MP: memory right after;
4. two minutes after the last job (the short rest is 90 s), the page still offering Save:
   memory, and where the engine is (its REST answer: phase, Python, onnxruntime);
5. a right-click on the rested engine (2 MP): its time against a warm one's;
6. the page closed (nothing held), the long rest: the engine's document gone, memory.
Writes ``<out>/rest-<stamp>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
import pss  # noqa: E402
from side_by_side import DATA_DIST, css_id, machine  # noqa: E402

from browser.harness import Browser, ModelMirror, Site  # noqa: E402

REST = """async (times) => {
    const { Target, Type, message } = globalThis.BackgroneMessages;
    return chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.REST, times)).catch(() => null);
}"""
ENGINE_OPEN = "async () => (await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).length"
SIZES = [s for s in bench_images.SIZES if s.label in ("2MP", "12MP")]


def log(*args) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def browser_mb() -> float:
    time.sleep(1.0)  # let freed pages leave the counts
    return round(pss.tree_pss_mb(pss.browser_roots(marker=pss.WITH_EXTENSION)), 1)


def extension_mb() -> float:
    """The extension's own processes (its service worker's and its engine document's renderers)."""
    tree = pss.tree_pss(pss.browser_roots(marker=pss.WITH_EXTENSION))
    return round(sum(kb for pid, kb in tree.items() if pss.process_kind(pid) == "extension") / 1024, 1)


STEPS: dict[str, dict] = {}  # label of a cut -> the engine's steps (ms)


def cut(browser: Browser, page, label: str, name: str | None = None) -> float:
    """Right-click "Remove background" on the image; seconds until the page shows the cut-out."""
    src = page.eval_on_selector(f"#{css_id(label)}", "img => img.currentSrc")
    t0 = time.perf_counter()
    r = browser.menu_click(page, src)
    wall = time.perf_counter() - t0
    if not r.get("ok"):
        raise RuntimeError(f"{label}: {r}")
    STEPS[name or label] = {k: round(v) for k, v in (r.get("timings") or {}).items()}
    return round(wall, 3)


MENU_S = 1.0  # a quick user: the menu open this long before "Remove background" is picked


def menu_then_cut(browser: Browser, page, label: str, name: str) -> float:
    """A real context menu opened on the image (its wake hint goes to the engine), the item picked
    MENU_S later; seconds from the pick until the page shows the cut-out (what the user waits)."""
    page.click(f"#{css_id(label)}", button="right")
    time.sleep(MENU_S)
    return cut(browser, page, label, name)


def rested(browser: Browser, short_ms: int) -> None:
    """Rest the engine now (both workers end), then give it back ``short_ms``."""
    browser.sw.evaluate(REST, {"shortMs": 300})
    t0 = time.perf_counter()
    while (browser.sw.evaluate(REST, {}) or {}).get("phase") != "rested" and time.perf_counter() - t0 < 60:
        time.sleep(0.3)
    browser.sw.evaluate(REST, {"shortMs": short_ms})
    time.sleep(5.5)  # the service worker wakes the engine at most every 5 s


def fresh_page(browser: Browser, site: Site):
    page = browser.ctx.new_page()
    page.goto(site.url(f"index.html?{time.time_ns()}"))
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    return page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short rests (3 s, 5 s) instead of the product's")
    ap.add_argument("--warm-runs", type=int, default=3)
    ap.add_argument("--ext", default=str(ROOT / "dist" / "extension"))
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    ext = Path(args.ext).resolve()
    if not (ext / "manifest.json").exists():
        raise SystemExit(f"no built extension in {ext}: run build_ext.py first")
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    report: dict = {"when": dt.datetime.now().isoformat(timespec="seconds"), "quick": args.quick, "machine": machine()}
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        bench_images.write(tmp / "site", SIZES)
        tags = "".join(f'<img id="{css_id(s.label)}" src="{s.filename}" style="width:320px">' for s in SIZES)
        (tmp / "site" / "index.html").write_text(f"<!doctype html><title>rest</title>{tags}")
        site, mirror = Site(tmp / "site"), ModelMirror(DATA_DIST)
        browser = Browser(pw, ext, tmp / "profile", tmp / "downloads")
        try:
            browser.sw  # noqa: B018 - waits for the service worker
            browser.settings(engine="standard", modelSource=mirror.url)
            page = fresh_page(browser, site)
            report["baseline_mb"] = browser_mb()
            report["baseline_extension_mb"] = extension_mb()
            log("baseline", report["baseline_mb"], "MB")

            report["cold_s"] = cut(browser, page, "2MP", "cold")
            log("cold 2 MP", report["cold_s"], "s")
            if args.quick:
                browser.sw.evaluate(REST, {"shortMs": 3000, "longMs": 60_000})
            warm = []
            for _ in range(args.warm_runs):
                page.close()
                page = fresh_page(browser, site)
                warm.append(cut(browser, page, "2MP", f"warm{len(warm)}"))
            report["warm_s"] = warm
            report["warm_median_s"] = statistics.median(warm)
            log("warm 2 MP", warm)
            report["cut_12mp_s"] = cut(browser, page, "12MP")
            report["after_job_mb"] = browser_mb()
            report["after_job_extension_mb"] = extension_mb()
            report["after_job_engine"] = browser.sw.evaluate(REST, {})
            last_job = time.perf_counter()
            log("after a 12 MP job", report["after_job_mb"], "MB", report["after_job_engine"])

            # Two minutes after the last job (the page still offers Save of both cut-outs).
            wait = 8 if args.quick else 120
            time.sleep(max(0.0, wait - (time.perf_counter() - last_job)))
            report["rest_after_s"] = wait
            report["at_rest_mb"] = browser_mb()
            report["at_rest_extension_mb"] = extension_mb()
            report["at_rest_engine"] = browser.sw.evaluate(REST, {})
            report["at_rest_over_baseline_mb"] = round(report["at_rest_mb"] - report["baseline_mb"], 1)
            report["at_rest_extension_over_baseline_mb"] = round(
                report["at_rest_extension_mb"] - report["baseline_extension_mb"], 1
            )
            log("at rest", report["at_rest_mb"], "MB", report["at_rest_engine"])

            page.close()
            page = fresh_page(browser, site)
            report["woken_s"] = cut(browser, page, "2MP", "woken")
            report["woken_engine"] = browser.sw.evaluate(REST, {})
            report["woken_over_warm"] = round(report["woken_s"] / report["warm_median_s"], 2)
            log("a right-click on the rested engine", report["woken_s"], "s", report["woken_over_warm"], "x warm")
            page.close()
            page = fresh_page(browser, site)  # the other one's image shows its cut-out now
            rested(browser, 3000 if args.quick else 90_000)
            report["woken_menu_s"] = menu_then_cut(browser, page, "2MP", "woken-menu")
            report["woken_menu_over_warm"] = round(report["woken_menu_s"] / report["warm_median_s"], 2)
            log("the same after the menu was open", MENU_S, "s:", report["woken_menu_s"], "s")

            # Nothing held: the page goes; the long rest (the product's is 10 min: shortened here).
            page.close()
            browser.sw.evaluate(REST, {"shortMs": 3000, "longMs": 5000})
            t0 = time.perf_counter()
            while browser.sw.evaluate(ENGINE_OPEN) and time.perf_counter() - t0 < 60:
                time.sleep(0.5)
            report["document_closed"] = browser.sw.evaluate(ENGINE_OPEN) == 0
            report["closed_after_s"] = round(time.perf_counter() - t0, 1)
            report["closed_mb"] = browser_mb()
            report["closed_extension_mb"] = extension_mb()
            log("document closed", report["document_closed"], report["closed_mb"], "MB")

            # A browser start on this profile (Python's snapshot stored, wasm code cached): the first cut-out.
            t0 = time.perf_counter()
            browser.restart()
            browser.sw  # noqa: B018 - waits for the service worker
            launch = time.perf_counter() - t0
            page = fresh_page(browser, site)
            report["restart_launch_s"] = round(launch, 3)
            report["restart_first_cut_s"] = cut(browser, page, "2MP", "after-restart")
            report["restart_engine"] = browser.sw.evaluate(REST, {})
            log("after a browser start", launch, "s launch,", report["restart_first_cut_s"], "s first cut")
            # The same start, as a user does it: the menu opened on the image first.
            page.close()
            t0 = time.perf_counter()
            browser.restart()
            browser.sw  # noqa: B018 - waits for the service worker
            launch = time.perf_counter() - t0
            page = fresh_page(browser, site)
            report["restart_menu_launch_s"] = round(launch, 3)
            report["restart_menu_first_cut_s"] = menu_then_cut(browser, page, "2MP", "after-restart-menu")
            log("after a browser start, with the menu", report["restart_menu_first_cut_s"], "s")
        finally:
            browser.close()
            mirror.close()
            site.close()

    report["steps_ms"] = STEPS
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = out_dir / f"rest-{stamp}{'-quick' if args.quick else ''}"
    base.with_suffix(".json").write_text(json.dumps(report, indent=1))
    base.with_suffix(".md").write_text(markdown(report))
    print(base.with_suffix(".json"))
    return 0


def markdown(r: dict) -> str:
    at_rest = (
        f"{r['at_rest_mb']} MB (+{r['at_rest_over_baseline_mb']} MB over no job); the extension's processes"
        f" {r['at_rest_extension_mb']} MB (+{r['at_rest_extension_over_baseline_mb']} MB)"
    )
    closed = f"{r['document_closed']} after {r['closed_after_s']} s, {r['closed_mb']} MB"
    closed += f" (the extension's {r['closed_extension_mb']} MB)"
    rows = [
        (
            "browser started, no job",
            f"{r['baseline_mb']} MB; the extension's processes {r['baseline_extension_mb']} MB",
        ),
        ("first cut-out, 2 MP (cold)", f"{r['cold_s']} s"),
        ("warm cut-out, 2 MP (median)", f"{r['warm_median_s']} s"),
        ("right after a 12 MP cut-out", f"{r['after_job_mb']} MB; the extension's {r['after_job_extension_mb']} MB"),
        (f"{r['rest_after_s']} s after the last job, page offering Save", at_rest),
        ("a right-click on the rested engine, 2 MP", f"{r['woken_s']} s ({r['woken_over_warm']}x warm)"),
        (
            f"the same, the menu open {MENU_S} s first (from the pick)",
            f"{r['woken_menu_s']} s ({r['woken_menu_over_warm']}x warm)",
        ),
        ("nothing held, long rest: document closed", closed),
        ("browser start, then the first cut-out, 2 MP", f"{r['restart_launch_s']} s + {r['restart_first_cut_s']} s"),
        (
            f"the same, the menu open {MENU_S} s first (from the pick)",
            f"{r['restart_menu_launch_s']} s + {r['restart_menu_first_cut_s']} s",
        ),
    ]
    lines = [
        f"# The engine at rest ({r['when']}{', quick' if r['quick'] else ''})",
        "",
        "| step | figure |",
        "|---|---|",
    ]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
