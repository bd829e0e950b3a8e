"""The engine at rest (issue 19): after a short rest its runtimes' workers end and the memory
falls, the next cut-out gives the same bytes and a page still offering Save can save; after a
long rest the document stays while a page holds a result, and closes once nothing is held; the
next right-click opens a new one. Rest times are shortened by the engine's REST message (the
product's are minutes)."""

from __future__ import annotations

import base64
import io
import sys
import time
import uuid

import numpy as np
import pytest
from PIL import Image

from composites import composite
from conftest import ROOT

from .harness import IMG_ALPHA, Browser, Overlays, wait_for

sys.path.insert(0, str(ROOT / "bench"))
from pss import browser_roots, tree_pss_mb

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><meta charset="utf-8"><title>rest</title>
<style>img { width: 300px; height: 200px; display: block; }</style>
<img id="big" src="/rest-big.png"><img id="small" src="/rest-small.png">"""

REST = """async (times) => {
    const { Target, Type, message } = globalThis.BackgroneMessages;
    return chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.REST, times));
}"""
ENGINE_OPEN = "async () => (await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).length"


@pytest.fixture(scope="module")
def rest_site(sites):
    a, _ = sites
    big, _ = composite("ball", 3000, 2000, seed=31)
    small, _ = composite("box", 400, 300, seed=32)
    a.route("/rest-big.png", 200, "image/png", big)
    a.route("/rest-small.png", 200, "image/png", small)
    a.route("/rest.html", 200, "text/html", PAGE.encode())
    return a


@pytest.fixture(scope="module")
def rest_browser(playwright, ext_dir, tmp_path_factory):
    """A browser of its own: its engine's memory is measured, and its rests are short."""
    b = Browser(playwright, ext_dir, tmp_path_factory.mktemp("rest"), tmp_path_factory.mktemp("rest-dl"))
    b.settings(engine="standard")  # the default engine: its session is the memory that matters
    yield b
    b.close()


def open_page(browser, site):
    page = browser.ctx.new_page()
    page.goto(site.url(f"rest.html?{uuid.uuid4().hex}"), wait_until="domcontentloaded")
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    return page


def rest_state(browser, **times) -> dict:
    return browser.sw.evaluate(REST, times)


def engine_mb(browser) -> float:
    roots = browser_roots(str(browser.profile))  # this browser only: Playwright gives every Chromium --load-extension=
    return tree_pss_mb(roots)


def cut_pixels(page, selector: str) -> bytes:
    """The cut-out the page shows, as PNG bytes read back from its <img>."""
    return page.evaluate(
        """async (sel) => {
            const img = document.querySelector(sel);
            const blob = await (await fetch(img.currentSrc)).blob();
            const bytes = new Uint8Array(await blob.arrayBuffer());
            let s = '';
            for (const b of bytes) s += String.fromCharCode(b);
            return btoa(s);
        }""",
        selector,
    )


def test_rested_engine_gives_memory_back_then_cuts_the_same_and_saves(rest_browser, rest_site):
    b = rest_browser
    page = open_page(b, rest_site)
    assert b.menu_click(page, rest_site.url("rest-small.png"))["ok"]  # the engine's document exists now
    rest_state(b, shortMs=600_000, longMs=600_000)
    first = b.menu_click(page, rest_site.url("rest-big.png"))
    assert first["ok"], first
    first_bytes = cut_pixels(page, "#big")
    state = rest_state(b)
    assert state["python"] and state["runtime"], state
    time.sleep(1)
    before = engine_mb(b)

    rest_state(b, shortMs=300)
    wait_for(lambda: rest_state(b)["phase"] == "rested", "the engine to rest", 30)
    state = rest_state(b)
    assert not state["python"] and not state["runtime"], state
    time.sleep(1)
    after = engine_mb(b)
    print(f"browser PSS: {before:.0f} MB before the rest, {after:.0f} MB after")
    assert before - after >= 150, (before, after)

    # The page still offers Save of the result made before the rest: the engine kept it.
    b.keep_download_names(page)
    overlays = Overlays(page)
    overlays.click("Save")
    saved = overlays.wait_text("Saved as").split("Saved as ")[1].rstrip(".")
    assert (b.downloads / saved).read_bytes() == base64.b64decode(first_bytes)
    overlays.click("Restore")
    page.wait_for_function("() => document.querySelector('#big').getAttribute('src') === '/rest-big.png'")
    again = b.menu_click(page, rest_site.url("rest-big.png"))
    assert again["ok"], again
    assert cut_pixels(page, "#big") == first_bytes  # the same bytes after a rest
    px = page.evaluate(IMG_ALPHA, "#big")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    page.close()


def cut_then_rest(b, site, long_ms: int):
    """A cut-out on a new page (which then offers Save), then the engine rests at once: the page."""
    page = open_page(b, site)
    assert b.menu_click(page, site.url("rest-small.png"))["ok"]
    rest_state(b, shortMs=200, longMs=long_ms)
    wait_for(lambda: rest_state(b)["phase"] == "rested", "the engine to rest", 30)
    return page


def test_a_page_offering_save_keeps_the_engine_and_its_result(rest_browser, rest_site):
    b = rest_browser
    page = cut_then_rest(b, rest_site, long_ms=500)
    time.sleep(1.5)  # well past the long rest: the page's result holds the document
    assert b.sw.evaluate(ENGINE_OPEN) == 1
    state = rest_state(b)
    assert not state["runtime"] and not state["python"], state
    b.keep_download_names(page)
    Overlays(page).click("Save")
    saved = Overlays(page).wait_text("Saved as").split("Saved as ")[1].rstrip(".")
    image = Image.open(io.BytesIO((b.downloads / saved).read_bytes()))
    assert image.size == (400, 300) and np.asarray(image.convert("RGBA"))[0, 0, 3] == 0
    # The page goes, and with it what the engine held for it: the document closes.
    page.close()
    wait_for(lambda: b.sw.evaluate(ENGINE_OPEN) == 0, "the engine's document to close", 30)
    # The next right-click opens a new one, which cuts as before.
    page = open_page(b, rest_site)
    result = b.menu_click(page, rest_site.url("rest-small.png"))
    assert result["ok"], result
    px = page.evaluate(IMG_ALPHA, "#small")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    assert rest_state(b)["phase"] == "awake"
    page.close()


def test_a_menu_opened_on_an_image_wakes_a_rested_engine(rest_browser, rest_site):
    """The user opens the context menu on an image: the engine boots while they pick an item."""
    b = rest_browser
    page = cut_then_rest(b, rest_site, long_ms=600_000)
    rest_state(b, shortMs=600_000)  # once woken, it stays awake while the test looks
    time.sleep(5.5)  # the service worker wakes the engine at most every 5 s
    page.click("body", button="right", position={"x": 600, "y": 20})  # beside the images: no wake
    time.sleep(2)
    state = rest_state(b)
    assert state["phase"] == "rested" and not state["python"] and not state["runtime"], state
    page.click("#small", button="right")
    wait_for(lambda: rest_state(b)["python"] and rest_state(b)["runtime"], "Python and onnxruntime to boot", 30)
    state = rest_state(b)
    assert state["phase"] == "awake" and state["busy"] == 0, state  # woken, with no job
    page.close()
    # The cut-out that follows (on a page whose image is not cut yet), picked a few seconds later,
    # finds Python booted.
    page = open_page(b, rest_site)
    time.sleep(3)
    result = b.menu_click(page, rest_site.url("rest-small.png"))
    assert result["ok"] and result["timings"]["python"] < 500, result
    page.close()


def test_firefox_event_page_rests_its_workers_and_wakes(ext_dir, sites, tmp_path):
    """Firefox: the engine shares the event page with the router; it ends its workers too."""
    from .firefox import Firefox

    a, _ = sites
    rest = """async (bg, times) => {
        const { Target, Type, message } = bg.BackgroneMessages;
        return bg.BackgroneEngine.handle(message(Target.OFFSCREEN, Type.REST, times));
    }"""
    with Firefox(ext_dir, tmp_path / "ff-profile", tmp_path / "ff-downloads") as ff:
        ff.settings(engine="fast")
        ctx = ff.new_tab()
        ff.navigate(ctx, a.url("index.html"))
        src = ff.call(ctx, "(s) => document.querySelector(s).currentSrc", "#same")
        assert ff.menu_click(ctx, src)["ok"]
        state = ff.background(rest, {"shortMs": 300})
        assert state["python"] and state["runtime"], state
        wait_for(lambda: not (s := ff.background(rest, {}))["python"] and not s["runtime"], "the workers to end", 30)
        other = ff.call(ctx, "(s) => document.querySelector(s).currentSrc", "#data")
        result = ff.menu_click(ctx, other)
        assert result["ok"], result
        px = ff.call(ctx, IMG_ALPHA, "#data")
        assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
