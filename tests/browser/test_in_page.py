"""Right-click "Remove background" in real Chromium with the built extension."""

from pathlib import Path

import pytest

from .harness import IMG_ALPHA, Overlays, cutout_frame

pytestmark = pytest.mark.browser


def src_of(page, selector):
    return page.eval_on_selector(selector, "img => img.currentSrc || img.src")


def mark(page, selector):
    page.eval_on_selector(selector, "img => { window.__marked = img; }")


def is_same_element(page, selector):
    return page.eval_on_selector(selector, "img => window.__marked === img")


def assert_cut_out(page, selector):
    """The page's own <img> shows a cut-out: transparent corners, opaque centre."""
    px = page.evaluate(IMG_ALPHA, selector)
    assert px["corners"] == [0, 0, 0, 0], px
    assert px["centre"] == 255, px
    return px


@pytest.mark.parametrize("selector", ["#same", "#data"])
def test_cut_out_in_place_and_restore(browser, page, selector):
    """Images the page can read itself: the very same <img> shows the cut-out."""
    original = page.eval_on_selector(selector, "img => img.getAttribute('src')")
    mark(page, selector)
    result = browser.menu_click(page, src_of(page, selector))
    assert result["ok"], result
    assert result["engine"] == "fast" and result["guarded"] is False
    assert is_same_element(page, selector)  # the very same <img>, not a replacement
    assert page.eval_on_selector(selector, "img => img.src.startsWith('blob:')")
    px = assert_cut_out(page, selector)
    assert (px["width"], px["height"]) == (result["width"], result["height"])
    overlays = Overlays(page)
    assert overlays.last()["shadow"] == "closed"
    assert "Background removed" in overlays.text()
    overlays.click("Restore")
    page.wait_for_function("([s, v]) => document.querySelector(s).getAttribute('src') === v", arg=[selector, original])
    page.wait_for_function("(s) => document.querySelector(s).complete", arg=selector)
    assert overlays.count() == 0


def test_cross_origin_cut_out_is_shown_out_of_the_pages_reach(browser, page):
    """An image the page can't read (cross-origin, no CORS): the cut-out appears in an
    extension frame over it; the <img> keeps its source, so the page gains nothing."""
    original = page.eval_on_selector("#cross", "img => img.src")
    result = browser.menu_click(page, src_of(page, "#cross"))
    assert result["ok"] and result["guarded"] is True, result
    assert page.eval_on_selector("#cross", "img => img.src") == original
    # the page's own picture is moved out of its box (its border and layout stay)
    assert page.eval_on_selector("#cross", "img => getComputedStyle(img).objectPosition") == "-100000px -100000px"
    frame = cutout_frame(page)
    px = frame.evaluate(IMG_ALPHA, "#cutout")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px
    assert (px["width"], px["height"]) == (result["width"], result["height"])
    overlays = Overlays(page)
    assert overlays.last()["frame"]
    overlays.click("Restore")
    page.wait_for_function("() => getComputedStyle(document.querySelector('#cross')).objectPosition === '50% 50%'")
    assert page.get_attribute("#cross", "style") is None
    assert overlays.count() == 0


def test_picture_and_srcset_use_the_image_shown(browser, page, sites):
    _, b = sites
    shown = src_of(page, "#picture")
    assert shown == b.url("ball.webp")  # <source type=webp> wins over the <img> src
    result = browser.menu_click(page, shown)
    assert result["ok"] and result["guarded"], result  # a cross-origin webp the page can't read
    # the cut-out came from the webp that was shown: 640x480, not box.png
    assert (result["width"], result["height"]) == (640, 480)
    px = cutout_frame(page).evaluate(IMG_ALPHA, "#cutout")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px
    Overlays(page).click("Restore")
    page.wait_for_function("() => document.querySelector('#pic-source').getAttribute('srcset') !== null")
    assert page.get_attribute("#pic-source", "srcset") == f"{b.origin}/ball.webp 1x"
    assert page.get_attribute("#picture", "srcset") == "/box.png 1x"

    shown = src_of(page, "#srcset")
    assert shown.endswith("/s320.png")  # the 320w candidate for a 320px slot, not src
    assert browser.menu_click(page, shown)["ok"]
    px = assert_cut_out(page, "#srcset")
    assert px["width"] == 320


def test_lazy_image(browser, page):
    page.locator("#lazy").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('#lazy').complete && document.querySelector('#lazy').naturalWidth > 0"
    )
    assert browser.menu_click(page, src_of(page, "#lazy"))["ok"]
    assert_cut_out(page, "#lazy")


def test_several_clicks_queue_and_all_complete(browser, page):
    sels = ["#same", "#cross", "#other"]
    results = browser.menu_clicks(page, [src_of(page, s) for s in sels])
    assert [r["ok"] for r in results] == [True, True, True], results
    assert [r["guarded"] for r in results] == [False, True, False]
    for s in ("#same", "#other"):
        assert_cut_out(page, s)
    px = cutout_frame(page).evaluate(IMG_ALPHA, "#cutout")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px


@pytest.mark.parametrize("selector,message", [("#missing", "did not load"), ("#text", "not an image")])
def test_bad_images_say_why_and_the_next_still_works(browser, page, selector, message):
    result = browser.menu_click(page, src_of(page, selector))
    assert not result["ok"] and message in result["error"]
    overlays = Overlays(page)
    assert message in overlays.wait_text(message)
    overlays.click("Dismiss")
    assert browser.menu_click(page, src_of(page, "#same"))["ok"]
    assert_cut_out(page, "#same")


def test_save_to_downloads(browser, page):
    browser.keep_download_names(page)
    assert browser.menu_click(page, src_of(page, "#other"))["ok"]
    overlays = Overlays(page)
    overlays.click("Save")
    overlays.wait_text("Saved as box2-cutout.png")
    item = browser.sw.evaluate(
        """async () => {
            for (let i = 0; i < 100; i++) {
              const [d] = await chrome.downloads.search({ filenameRegex: 'box2-cutout', state: 'complete' });
              if (d && d.exists) return d;
              await new Promise((r) => setTimeout(r, 100));
            }
            return null;
        }"""
    )
    assert item and item["filename"] == str(browser.downloads / "box2-cutout.png")
    data = Path(item["filename"]).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(data))
    assert im.mode == "RGBA" and im.size == (480, 360)


def test_recovers_after_the_service_worker_is_stopped(browser, page):
    """The service worker keeps no state: after Chromium stops it, the next right-click works."""
    browser.sw.evaluate("() => { globalThis.__beforeStop = true; }")
    cdp = browser.ctx.new_cdp_session(page)
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.stopAllWorkers")
    cdp.detach()
    page.wait_for_timeout(1000)
    # Any extension event wakes it again, as the real menu click would.
    ui = browser.ctx.new_page()
    ui.goto(browser.ext_url("extension/popup/popup.html"))
    ui.evaluate("() => chrome.runtime.sendMessage({ target: 'background', type: 'ping', data: {} }).catch(() => {})")
    ui.close()
    assert browser.sw.evaluate("() => globalThis.__beforeStop === undefined")  # a fresh worker
    result = browser.menu_click(page, src_of(page, "#same"))
    assert result["ok"], result
    assert_cut_out(page, "#same")


def test_strict_page_csp(browser, sites):
    """A page whose CSP allows only its own images still shows the cut-out (and can save it)."""
    a, _ = sites
    page = browser.ctx.new_page()
    page.goto(a.url("csp-strict.html"))
    browser.keep_download_names(page)
    assert browser.menu_click(page, a.url("ball.png"))["ok"]
    assert_cut_out(page, "#same")
    overlays = Overlays(page)
    overlays.click("Save")
    overlays.wait_text("Saved as ball-cutout.png")
    assert (browser.downloads / "ball-cutout.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.close()


def test_software_webgpu_adapter_is_not_used(playwright, ext_dir, tmp_path, sites):
    """With only a SwiftShader WebGPU adapter the engine runs wasm (WebGPU there is ~170x slower)."""
    from .harness import Browser

    b = Browser(
        playwright,
        ext_dir,
        tmp_path / "p",
        tmp_path / "d",
        extra_args=["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"],
    )
    try:
        b.settings(engine="fast")
        page = b.ctx.new_page()
        page.goto(sites[0].url("index.html"))
        assert page.evaluate("async () => (await navigator.gpu.requestAdapter()).info.architecture") == "swiftshader"
        result = b.menu_click(page, src_of(page, "#same"))
        assert result["ok"], result
        assert result["backend"]["webgpu"] is False and result["backend"]["isolated"] is True
        assert_cut_out(page, "#same")
    finally:
        b.close()
