#!/usr/bin/env python3
"""The README's pictures, from the real built extension in headless Chromium, so they
stay true: the overlay on a page (and beside a small image), the popup with a batch (and the
viewer), the refine editor on a cut-out, the options page, and Medium in the options failed and
then downloaded (from a loopback copy of the registry package's files); light, plus the popup in dark.

    .venv/bin/python scripts/screenshots.py [--out docs/images] [--ext dist/extension]
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser.harness import Browser, ModelMirror, Overlays, Site  # noqa: E402

SHOTS = [
    "overlay.png",
    "overlay-small.png",
    "popup.png",
    "popup-dark.png",
    "viewer.png",
    "editor.png",
    "options.png",
    "options-medium-failed.png",
    "options-medium.png",
]
MIRRORED = ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist"  # npm ci puts it there


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--ext", default=str(ROOT / "dist" / "extension"), help="the built extension")
    parser.add_argument("--only", nargs="+", choices=SHOTS, metavar="SHOT", help="remake only these (file names)")
    args = parser.parse_args()
    wanted = set(args.only or SHOTS)
    want = lambda *names: bool(wanted & set(names))  # noqa: E731
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if not (Path(args.ext) / "manifest.json").exists():
        print("no built extension: run `python build_ext.py` first", file=sys.stderr)
        return 2
    samples = sorted((ROOT / "samples").glob("*.jpg"))

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        site_dir.mkdir()
        shutil.copyfile(samples[0], site_dir / samples[0].name)
        (site_dir / "index.html").write_text(
            "<!doctype html><html lang='en'><meta charset='utf-8'><title>A page with a photo</title>"
            "<body style='margin:0;padding:24px;font:16px system-ui;background:#f4f1ea'>"
            "<h2 style='margin:0 0 12px'>Trip notes</h2>"
            f"<img src='{html.escape(samples[0].name)}' style='width:420px;border-radius:6px'>"
            "<p style='max-width:420px;color:#444'>Right-click the photo, choose “Remove background”.</p>"
        )
        (site_dir / "small.html").write_text(
            "<!doctype html><html lang='en'><meta charset='utf-8'><title>A small photo</title>"
            "<body style='margin:0;padding:24px;font:16px system-ui;background:#f4f1ea'>"
            "<h2 style='margin:0 0 12px'>Shop</h2>"
            f"<img src='{html.escape(samples[0].name)}' style='width:220px;border-radius:6px'>"
            "<p style='max-width:440px;color:#444'>A 220 px picture: the box goes below it, not over it.</p>"
        )
        site = Site(site_dir)
        with sync_playwright() as pw:
            browser = Browser(pw, Path(args.ext), Path(tmp) / "profile", Path(tmp) / "downloads")
            if want("overlay.png"):
                overlay(browser, site, out / "overlay.png")
            if want("overlay-small.png"):
                overlay(browser, site, out / "overlay-small.png", page_name="small.html")
            if want("popup.png", "popup-dark.png", "viewer.png"):
                popup(browser, samples, out)
            if want("editor.png"):
                editor(browser, samples[1], out / "editor.png")
            if want("options.png"):
                options(browser, out / "options.png", samples[2])
            if want("options-medium-failed.png", "options-medium.png"):
                mirror = ModelMirror(MIRRORED)
                try:
                    medium_options(browser, mirror, out)
                finally:
                    mirror.close()
            browser.close()
        site.close()
    missing = [name for name in SHOTS if name in wanted and not (out / name).is_file()]
    if missing:
        print(f"error: not written: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"{len(wanted)} screenshots in {out}: {', '.join(n for n in SHOTS if n in wanted)}")
    return 0


def overlay(browser: Browser, site: Site, path: Path, page_name: str = "index.html") -> None:
    page = browser.ctx.new_page()
    page.set_viewport_size({"width": 520, "height": 520})
    page.goto(site.url(page_name))
    img = page.locator("img")
    img.evaluate("img => img.decode()")
    result = browser.menu_click(page, img.evaluate("img => img.currentSrc"))
    if not result.get("ok"):
        raise SystemExit(f"the right-click failed: {result}")
    Overlays(page).wait_text("Background removed")
    page.mouse.move(0, 0)
    page.screenshot(path=str(path))
    page.close()


def popup(browser: Browser, samples: list[Path], out: Path) -> None:
    for scheme, name in [("light", "popup.png"), ("dark", "popup-dark.png")]:
        page = browser.ctx.new_page()
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": 400, "height": 600})  # the toolbar popup's real size (Chrome's most)
        page.goto(browser.ext_url("extension/popup/popup.html"))
        page.wait_for_selector("body[data-ready]")
        page.set_input_files("#files", [str(p) for p in samples])
        page.wait_for_function(f"() => document.querySelectorAll('.card[data-state=done]').length === {len(samples)}")
        page.wait_for_function("() => document.getElementById('engine-about').textContent.includes('·')")
        page.wait_for_timeout(400)  # the progress bar's transition
        page.screenshot(path=str(out / name))
        if scheme == "light":
            page.locator(".card .preview").first.click()  # in the popup itself, at its own size
            page.locator("#viewer").wait_for(state="visible")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "viewer.png"))
            page.keyboard.press("Escape")
        page.click("#clear")  # the engine keeps a batch for a reopened popup: the next shot starts empty
        page.wait_for_function("() => !document.querySelector('.card')")
        page.close()


def editor(browser: Browser, sample: Path, path: Path) -> None:
    """The refine editor on a popup card's cut-out (chelsea: the model eats the cat's ear), a Keep
    stroke being drawn along it."""
    from PIL import Image

    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    popup.set_input_files("#files", [str(sample)])
    popup.wait_for_selector(".card[data-state=done] .refine:not([hidden])")
    with browser.ctx.expect_page() as opened:
        popup.locator(".card .refine").click()
    page = opened.value
    page.set_viewport_size({"width": 1100, "height": 720})
    page.wait_for_selector("body[data-ready]")
    box = page.locator("#canvas").bounding_box()
    with Image.open(sample) as im:
        w, h = im.size
    scale = min((box["width"] - 32) / w, (box["height"] - 32) / h)  # the editor's fit: 16 px margins

    left, top = box["x"] + (box["width"] - w * scale) / 2, box["y"] + (box["height"] - h * scale) / 2

    def at(ix, iy):
        return left + ix * scale, top + iy * scale

    page.mouse.move(*at(330, 70))
    page.mouse.down()
    for point in [(345, 45), (362, 25), (380, 12)]:  # along the ear the model ate; held: it shows as drawn
        page.mouse.move(*at(*point), steps=6)
    page.screenshot(path=str(path))
    page.mouse.up()
    page.close()
    popup.click("#clear")
    popup.close()


def options(browser: Browser, path: Path, picture: Path) -> None:
    """The options page, a background picture of the user's chosen (its thumbnail, Replace, Remove)."""
    page = browser.ctx.new_page()
    page.set_viewport_size({"width": 820, "height": 900})
    page.goto(browser.ext_url("extension/options/options.html"))
    page.wait_for_function("() => document.querySelector('#engines').children.length > 0")
    page.wait_for_function("() => document.getElementById('shortcut').textContent !== ''")
    page.set_input_files("#picture-file", str(picture))
    page.wait_for_function(
        "() => document.getElementById('picture-thumb').complete && !document.getElementById('picture-thumb').hidden"
    )
    page.screenshot(path=str(path), full_page=True)
    page.close()


def medium_options(browser: Browser, mirror: ModelMirror, out: Path) -> None:
    """Medium chosen, its download failed (nothing listens at the source), then downloaded."""
    browser.settings(engine="medium", modelSource="http://127.0.0.1:9/")
    page = browser.ctx.new_page()
    page.set_viewport_size({"width": 820, "height": 900})
    page.goto(browser.ext_url("extension/options/options.html"))
    medium = page.locator("[data-engine=medium]")
    medium.locator(".model-action", has_text="Download now").click()
    page.locator("[data-engine=medium][data-model=failed]").wait_for(timeout=60_000)
    page.locator("#advanced summary").click()
    page.mouse.move(0, 0)
    page.screenshot(path=str(out / "options-medium-failed.png"), full_page=True)
    browser.settings(modelSource=mirror.url)
    page.reload()
    medium.locator(".model-action", has_text="Retry").click()
    page.locator("[data-engine=medium][data-model=on-device]").wait_for(timeout=300_000)
    page.mouse.move(0, 0)
    page.screenshot(path=str(out / "options-medium.png"), full_page=True)
    page.close()


if __name__ == "__main__":
    sys.exit(main())
