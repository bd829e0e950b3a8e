"""The popup and options explain themselves and offer the core's output options: a
notice once per batch, format and crop chosen, remembered and applied (popup and
right-click alike), and a clear message where the browser refuses to copy."""

import io
from pathlib import Path

import pytest
from PIL import Image

from composites import composite

from .harness import Overlays, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def photos(tmp_path):
    paths = []
    for i in range(2):
        data, _ = composite("ball", 400, 300, seed=i)
        (tmp_path / f"ball{i}.png").write_bytes(data)
        paths.append(tmp_path / f"ball{i}.png")
    return paths


def test_a_notice_is_shown_once_per_batch_not_per_card(browser, photos):
    """Medium can't be had (its source refuses): the nearest built-in engine (Detailed) does the
    batch, and the popup says why once, above the cards, not on each of them."""
    browser.settings(engine="medium", modelSource="http://127.0.0.1:9/")  # nothing listens there
    popup = browser.ctx.new_page()
    try:
        popup.goto(browser.ext_url("extension/popup/popup.html"))
        popup.wait_for_selector("body[data-ready]")
        popup.set_input_files("#files", [str(p) for p in photos])
        popup.wait_for_function("() => document.querySelectorAll('.card[data-state=done]').length === 2")
        notice = popup.locator("#batch-notice")
        assert notice.is_visible()
        text = notice.inner_text()
        assert text.startswith("The Medium model could not be downloaded, so Detailed was used.")
        assert text.count("could not be downloaded") == 1
        for state in popup.locator(".card .state").all_inner_texts():
            assert "could not" not in state and state.endswith("Detailed")
    finally:
        # The failed download is remembered on the device: forget it for the tests after this one.
        popup.evaluate("() => localStorage.removeItem('backgrone-model-failures-v1')")
        popup.close()
        browser.settings(
            engine="fast", modelSource="https://staticimgly.com/@imgly/background-removal-data/1.4.5/dist/"
        )


def test_engine_choice_says_what_each_is_for(browser):
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    about = popup.locator("#engine-about")
    said = {}
    for engine in ["fast", "standard", "detailed", "medium"]:
        popup.select_option("#engine", engine)
        popup.wait_for_function("() => document.getElementById('engine-about').textContent.split('·').length === 3")
        said[engine] = about.inner_text()
    assert "Quickest" in said["fast"] and "4.6 MB" in said["fast"] and "Built in" in said["fast"]
    assert "best balance" in said["standard"] and "44.6 MB" in said["standard"]
    assert "Finer detail" in said["detailed"]
    assert "88.2 MB" in said["medium"] and "Not downloaded yet" in said["medium"]
    assert [o for o in popup.locator("#engine option").all_inner_texts()] == ["Fast", "Standard", "Detailed", "Medium"]
    popup.select_option("#engine", "fast")
    popup.close()


def test_format_and_crop_are_offered_remembered_and_applied(browser, photos, sites):
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    popup.locator("details.more summary").click()
    popup.select_option("#format", "webp")
    popup.check("#crop")
    popup.fill("#margin", "4")
    popup.locator("#margin").dispatch_event("change")
    wait_until(popup, "async () => (await chrome.storage.local.get('margin')).margin === 4")
    popup.reload()
    popup.wait_for_selector("body[data-ready]")
    assert popup.locator("#format").input_value() == "webp"
    assert popup.locator("#crop").is_checked() and popup.locator("#margin").input_value() == "4"
    browser.keep_download_names(popup)
    popup.set_input_files("#files", [str(photos[0])])
    popup.wait_for_selector(".card[data-state=done]")
    caption = popup.locator(".card .state").inner_text()
    assert caption.startswith("Cut-out, cropped to ") and caption.endswith(", Fast"), caption
    w, h = (int(v) for v in caption.split(", ")[1].removeprefix("cropped to ").split("×"))
    assert w < 400 and h < 300  # cropped to the ball, with its margin
    before = popup.evaluate("async () => Math.max(0, ...(await chrome.downloads.search({})).map((d) => d.id))")
    popup.locator(".card .download").click()
    # This click's download, complete and on disk, where Chromium's record says it is.
    found = wait_until(
        popup,
        "async (before) => (await chrome.downloads.search({ state: 'complete', exists: true }))"
        ".filter((d) => d.id > before).map((d) => d.filename).find((f) => f.endsWith('/ball0-cutout.webp')) || null",
        arg=before,
    )
    saved = Path(found)
    assert saved.name == "ball0-cutout.webp", found
    im = Image.open(io.BytesIO(saved.read_bytes()))
    assert im.format == "WEBP" and im.size == (w, h)

    # A right-click takes the format; in place, the cut-out keeps the image's geometry (no crop).
    a, _ = sites
    page = browser.ctx.new_page()
    page.goto(a.url("index.html"))
    browser.keep_download_names(page)
    result = browser.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))
    assert result["ok"] and (result["width"], result["height"]) == (640, 480), result
    overlays = Overlays(page)
    overlays.click("Save")
    assert "ball-cutout.webp" in overlays.wait_text("Saved as")
    page.close()

    popup.locator("details.more summary").click()
    popup.select_option("#format", "png")
    popup.uncheck("#crop")
    wait_until(popup, "async () => (await chrome.storage.local.get('crop')).crop === false")
    popup.close()


def test_copy_refused_by_the_page_says_so(browser, sites):
    """A page whose Permissions-Policy forbids the clipboard: Copy says it could not, and how
    to go on; Save still works."""
    a, _ = sites
    a.route(
        "/no-clipboard.html",
        200,
        "text/html",
        b'<!doctype html><html lang="en"><img id="same" src="/ball.png" style="width:320px">',
        headers={"Permissions-Policy": "clipboard-write=()"},
    )
    page = browser.ctx.new_page()
    page.goto(a.url("no-clipboard.html"))
    result = browser.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))
    assert result["ok"], result
    overlays = Overlays(page)
    overlays.click("Copy")
    said = overlays.wait_text("Could not copy")
    assert "use Save" in said
    assert [name for name, _ in overlays.last()["buttons"]] == ["Save", "Copy", "Refine…", "Restore", "Close"]
    page.close()
