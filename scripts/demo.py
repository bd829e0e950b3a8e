#!/usr/bin/env python3
"""The extension's main job, headless: open a page of photos in Chromium with
dist/extension loaded, right-click "Remove background" on each, press Save,
and collect the cut-outs (plus a screenshot of the page) in a folder.

    .venv/bin/python scripts/demo.py [--out out/extension] [--engine standard] [IMAGES...]

The default engine (standard) ships in the package; medium is downloaded by the extension
itself, from a loopback mirror of the npm package's files, exactly as from a public mirror.
"""

from __future__ import annotations

import argparse
import glob
import html
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.harness import Browser, ModelMirror, Overlays, Site  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", help="images to cut out (default: samples/*.jpg)")
    parser.add_argument("--out", default=str(ROOT / "out" / "extension"))
    parser.add_argument("--engine", choices=["fast", "standard", "detailed", "medium"], default="standard")
    parser.add_argument("--ext", default=str(ROOT / "dist" / "extension"), help="the built extension")
    args = parser.parse_args()
    images = [Path(p) for p in args.images] or sorted((ROOT / "samples").glob("*.jpg"))
    # Absolute: Chromium resolves a relative download folder against its own working directory.
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # A run replaces the files it writes (else Chromium would save "x-cutout (1).png" beside them).
    for i, src in enumerate(images):
        stem = f"{i:02d}-{Path(src).stem}-cutout"
        for old in [out / f"{stem}.png", *out.glob(f"{glob.escape(stem)} (*).png")]:
            old.unlink(missing_ok=True)
    (out / "page.png").unlink(missing_ok=True)
    if not (Path(args.ext) / "manifest.json").exists():
        print("no built extension: run `python build_ext.py` first", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        site_dir.mkdir()
        tags = []
        for i, src in enumerate(images):
            name = f"{i:02d}-{src.name}"
            shutil.copyfile(src, site_dir / name)
            tags.append(f'<img src="{html.escape(name)}" style="max-width:420px;margin:6px">')
        checker = "body{background:#fff conic-gradient(#d9dce1 25%,#0000 0 50%,#d9dce1 0 75%,#0000 0) 0 0/20px 20px}"
        (site_dir / "index.html").write_text(
            f"<!doctype html><title>Backgrone demo</title><style>{checker}</style>" + "".join(tags)
        )
        site = Site(site_dir)
        mirror = ModelMirror(ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist")
        with sync_playwright() as pw:
            browser = Browser(pw, Path(args.ext), Path(tmp) / "profile", out)
            browser.settings(engine=args.engine, modelSource=mirror.url)
            page = browser.ctx.new_page()
            page.set_viewport_size({"width": 1400, "height": 900})
            page.goto(site.url("index.html"))
            browser.keep_download_names(page)
            failed = 0
            saved = []
            for i, img in enumerate(page.locator("img").all()):
                src = img.evaluate("el => el.currentSrc")
                t0 = time.perf_counter()
                result = browser.menu_click(page, src)
                took = time.perf_counter() - t0
                if not result.get("ok"):
                    failed += 1
                    print(f"{images[i].name}: failed: {result.get('error')}")
                    continue
                overlays = Overlays(page)  # the overlay's shadow root is closed: read and clicked via CDP
                overlays.click("Save")
                saved_as = overlays.wait_text("Saved as").split("Saved as ", 1)[1].rstrip(".")
                if not _arrived(out / saved_as):
                    failed += 1
                    print(f"{images[i].name}: the overlay says 'Saved as {saved_as}' but {out / saved_as} is missing")
                    continue
                saved.append(saved_as)
                note = f" ({result['notice']})" if result.get("notice") else ""
                print(
                    f"{images[i].name}: {result['width']}x{result['height']} cut out with {result['engine']} "
                    f"in {took:.1f} s{note}"
                )
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "page.png"), full_page=True)
            browser.close()
        mirror.close()
        site.close()
    print(f"{len(saved)} cut-out(s) and page.png in {out}: {', '.join(saved)}")
    if failed or len(saved) < len(images):
        print(f"error: {failed} image(s) failed; expected {len(images)} cut-outs in {out}", file=sys.stderr)
        return 1
    return 0


def _arrived(path: Path, timeout_s: float = 30) -> bool:
    """The download has landed (Chromium renames it from .crdownload when complete)."""
    end = time.time() + timeout_s
    while time.time() < end:
        if path.is_file() and path.stat().st_size > 0:
            return True
        time.sleep(0.1)
    return False


if __name__ == "__main__":
    sys.exit(main())
