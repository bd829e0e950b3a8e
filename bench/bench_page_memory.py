#!/usr/bin/env python3
"""The web page's own memory through one right-click cut (issue 19): where the page's renderer
grows, step by step, while Backgrone cuts one of its images and shows the cut-out in place.

    flock /tmp/backgrone-heavy.lock .venv/bin/python bench/bench_page_memory.py --sizes 12MP,24MP

The built extension (dist/extension, or --ext) in headless Chromium, one page per cut showing
one bench_images.py photo at --css-width px (side_by_side.py's pages show them at 320 px).
The page's renderer (the renderer that appeared for it) and the whole browser are sampled
(PSS, bench/pss.py) every 50 ms; the steps are marked by what each part says:
- before: the page loaded and decoded its photo, nothing asked yet;
- sent: the engine's first stage after it holds the page's bytes (progress "decoding");
- arrived: the page put the cut-out into its <img> (its src/srcset became a blob: URL);
- shown: the engine heard the page shows it (the menu click's call returned);
- gc: after a full garbage collection of the page (CDP HeapProfiler.collectGarbage) and 2 s.
Each step's value is the page's PSS at that moment; "peak" columns are the highest page PSS
seen up to that step, and the whole browser's highest with the page's share at that moment.
Prints a table and writes JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import bench_images  # noqa: E402
import pss  # noqa: E402

from browser.harness import Browser, ModelMirror, Site  # noqa: E402

DATA_DIST = ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist"
STEPS = ("before", "sent", "arrived", "shown", "gc")

# Main world: when the <img>'s own sources become our blob: URL (the cut-out arrived in the page).
WATCH_IMG = """(sel) => {
  const img = document.querySelector(sel);
  window.__arrived = null;
  new MutationObserver(() => {
    const ours = (img.getAttribute('src') || img.getAttribute('srcset') || '').startsWith('blob:');
    if (window.__arrived === null && ours) window.__arrived = Date.now();
  }).observe(img, { attributes: true, attributeFilter: ['src', 'srcset'] });
  return img.decode().then(() => img.naturalWidth);
}"""
CUTOUT_SIZE = "(img) => fetch(img.currentSrc).then((r) => r.blob()).then((b) => b.size)"
RECORD_PROGRESS = """() => {
  globalThis.__pageMemProgress = [];
  if (globalThis.__pageMemListening) return;
  globalThis.__pageMemListening = true;
  chrome.runtime.onMessage.addListener((m) => {
    if (m && m.type === 'progress') globalThis.__pageMemProgress.push({ stage: m.data.stage, at: Date.now() });
  });
}"""


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def renderers(roots: list[int]) -> set[int]:
    """The web pages' renderers (not the extension's) below the browser."""
    return {pid for root in roots for pid in pss.descendants(root) if pss.process_kind(pid) == "renderer"}


class Sampler:
    """(epoch ms, page MB, browser MB) every period, in a thread."""

    def __init__(self, page_pid: int, roots: list[int], period_s: float = 0.05):
        self.page_pid, self.roots, self.period_s = page_pid, roots, period_s
        self.samples: list[tuple[float, float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            per = pss.tree_pss(self.roots)
            self.samples.append((time.time() * 1000, per.get(self.page_pid, 0) / 1024, sum(per.values()) / 1024))
            self.stop.wait(self.period_s)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def at(self, ms: float, before: bool = False) -> float:
        """The page's MB at the first sample at or after ``ms`` (the last one if none), or with
        ``before`` the last sample before it."""
        if before:
            return round(([s for s in self.samples if s[0] < ms] or self.samples[:1])[-1][1])
        after = [s for s in self.samples if s[0] >= ms]
        return round((after[0] if after else self.samples[-1])[1])

    def peaks(self, until: float) -> tuple[float, float, float]:
        """Up to ``until``: the page's highest MB, the browser's highest and the page's MB then."""
        upto = [s for s in self.samples if s[0] <= until] or self.samples[:1]
        page = max(s[1] for s in upto)
        top = max(upto, key=lambda s: s[2])
        return round(page), round(top[2]), round(top[1])


def cut_once(browser: Browser, site: Site, size: bench_images.Size, css_width: int) -> dict:
    roots = pss.browser_roots(marker=str(browser.profile))
    page = browser.ctx.new_page()
    page.goto(site.url(f"mem-{size.label}-{css_width}.html?{time.time_ns()}"))
    natural = page.evaluate(WATCH_IMG, "#photo")
    assert natural == size.width, natural
    time.sleep(1.0)
    # The page's renderer, its photo decoded, is the largest (Chromium may give the page the spare
    # renderer it started beforehand, so not necessarily a new one).
    page_pid = max(renderers(roots), key=pss.pss_kb)
    log("renderers:", {pid: pss.pss_kb(pid) // 1024 for pid in renderers(roots)}, "page:", page_pid)
    browser.sw.evaluate(RECORD_PROGRESS)
    src = page.eval_on_selector("#photo", "img => img.currentSrc")
    with Sampler(page_pid, roots) as sampler:
        time.sleep(0.3)
        t_click = time.time() * 1000
        r = browser.menu_click(page, src)
        t_shown = time.time() * 1000
        if not r.get("ok"):
            raise RuntimeError(f"{size.label}: {r}")
        time.sleep(1.0)
        cdp = browser.ctx.new_cdp_session(page)
        t_gc = time.time() * 1000
        cdp.send("HeapProfiler.collectGarbage")
        cdp.detach()
        time.sleep(2.0)
        t_end = time.time() * 1000
    progress = browser.sw.evaluate("() => globalThis.__pageMemProgress")
    sent = next((p["at"] for p in progress if p["stage"] == "decoding"), t_click)
    arrived = page.evaluate("() => window.__arrived") or t_shown
    marks = {"before": t_click, "sent": sent, "arrived": arrived, "shown": t_shown, "gc": t_end - 1}
    row = {"size": size.label, "css_width": css_width}
    row.update({step: sampler.at(ms, before=step == "before") for step, ms in marks.items()})
    row["page_peak"], row["browser_peak"], row["page_at_browser_peak"] = sampler.peaks(t_gc)
    row["marks"] = {step: round(ms - t_click) for step, ms in marks.items()}
    row["timeline"] = [(round(t - t_click), round(p), round(b)) for t, p, b in sampler.samples[::2]]
    row["wall_ms"] = round(t_shown - t_click)
    row["cutout_mb"] = round(page.eval_on_selector("#photo", CUTOUT_SIZE) / 1e6, 1)
    page.close()
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="12MP,24MP")
    ap.add_argument("--runs", type=int, default=1, help="cuts per size (medians reported)")
    ap.add_argument("--engine", default="standard")
    ap.add_argument("--css-width", type=int, default=320, help="the <img>'s CSS width in the page")
    ap.add_argument("--dpr", type=float, default=1.0, help="the page's device pixel ratio")
    ap.add_argument("--ext", default=str(ROOT / "dist" / "extension"))
    ap.add_argument("--out", default="", help="a JSON file for the rows")
    args = ap.parse_args()
    wanted = args.sizes.split(",")
    sizes = [s for s in bench_images.SIZES if s.label in wanted]
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as pw:
        tmp = Path(tmp_name)
        log("making images…")
        bench_images.write(tmp / "site", sizes)
        for s in sizes:
            tag = f'<img id="photo" src="{s.filename}" style="width:{args.css_width}px">'
            html = f"<!doctype html><title>{s.label}</title>{tag}"
            (tmp / "site" / f"mem-{s.label}-{args.css_width}.html").write_text(html)
        site, mirror = Site(tmp / "site"), ModelMirror(DATA_DIST)
        extra = [f"--force-device-scale-factor={args.dpr}"] if args.dpr != 1.0 else []
        browser = Browser(pw, Path(args.ext).resolve(), tmp / "profile", tmp / "downloads", extra)
        try:
            browser.settings(modelSource=mirror.url, engine=args.engine)
            cut_once(browser, site, sizes[0], args.css_width)  # warms the engine up
            for run in range(args.runs):
                for s in sizes:
                    rows.append({"run": run, **cut_once(browser, site, s, args.css_width)})
                    log(rows[-1])
        finally:
            browser.close()
            mirror.close()
            site.close()
    for r in rows:
        log(r["size"], "marks (ms after the click):", r["marks"])
        log("  (ms, page MB, browser MB):", " ".join(f"{t}:{p}/{b}" for t, p, b in r["timeline"]))
    keys = [*STEPS, "page_peak", "browser_peak", "page_at_browser_peak", "wall_ms", "cutout_mb"]
    print(f"page renderer PSS (MB), engine {args.engine}, <img> {args.css_width} CSS px at {args.dpr}x")
    print("| size | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for s in sizes:
        mine = [r for r in rows if r["size"] == s.label]
        print(f"| {s.label} | " + " | ".join(str(round(statistics.median(r[k] for r in mine))) for k in keys) + " |")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
