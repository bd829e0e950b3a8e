"""Copy to the clipboard (in-page overlay, guarded frame, popup) and the keyboard shortcut."""

import io

import pytest
from PIL import Image

from .harness import IMG_ALPHA, Overlays

pytestmark = pytest.mark.browser

READ_CLIPBOARD = """async () => {
    const items = await navigator.clipboard.read();
    const item = items.find((i) => i.types.includes('image/png'));
    if (!item) return { types: items.flatMap((i) => i.types) };
    const bytes = new Uint8Array(await (await item.getType('image/png')).arrayBuffer());
    return { png: Array.from(bytes) };
}"""


def clipboard_png(page) -> Image.Image:
    page.bring_to_front()
    got = page.evaluate(READ_CLIPBOARD)
    assert "png" in got, got
    return Image.open(io.BytesIO(bytes(got["png"])))


def assert_cutout_png(im: Image.Image, size):
    assert im.size == size and im.mode == "RGBA"
    a = im.getchannel("A")
    w, h = im.size
    assert [a.getpixel(p) for p in [(2, 2), (w - 3, 2), (2, h - 3), (w - 3, h - 3)]] == [0, 0, 0, 0]
    assert a.getpixel((w // 2, int(h * 0.52))) == 255


@pytest.fixture
def reader(browser, sites):
    """A page of another site, allowed to read the clipboard: it reads back what was copied.
    (The pages that copy are never given that permission: see test_copy_refused_where_the_page_reads.)"""
    _, b = sites
    browser.ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=b.origin)
    p = browser.ctx.new_page()
    p.goto(b.url("box.png"))
    yield p
    p.close()


def copy_from_overlay(browser, page, selector) -> tuple[dict, str]:
    page.bring_to_front()
    result = browser.menu_click(page, page.eval_on_selector(selector, "img => img.currentSrc"))
    assert result["ok"], result
    overlays = Overlays(page)
    overlays.click("Copy")
    said = overlays.wait_text("op")  # "Copied…", "Could not copy…" or "Not copied…"
    return result, said


@pytest.mark.parametrize("selector", ["#same", "#cross"])
def test_copy_from_the_overlay(browser, page, reader, selector):
    """Copy puts the cut-out on the clipboard as PNG: from the page's own <img>, and for an
    image the page could not read, from the extension frame (the page never holds its pixels)."""
    result, said = copy_from_overlay(browser, page, selector)
    assert result["guarded"] is (selector == "#cross")
    assert "Copied to the clipboard" in said, said
    assert_cutout_png(clipboard_png(reader), (result["width"], result["height"]))
    page.bring_to_front()
    Overlays(page).click("Restore")


def test_copy_refused_where_the_page_reads_the_clipboard(browser, sites, reader):
    """A page allowed to read the clipboard would gain a guarded cut-out from there: it is
    not copied (the page says why); a cut-out the page could read anyway still is. And the
    page can't make the frame copy by posting to it."""
    a, _ = sites
    reader.evaluate("() => navigator.clipboard.writeText('before')")
    page = browser.ctx.new_page()
    page.goto(a.url("index.html"))
    page.evaluate(
        "() => { for (let i = 0; i < frames.length; i++) frames[i].postMessage({ backgroneCopy: true }, '*'); }"
    )
    browser.ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=a.origin)
    try:
        _, said = copy_from_overlay(browser, page, "#cross")
        assert "Not copied: this page may read your clipboard" in said, said
        # The frame ignores what the page posts to it.
        page.evaluate(
            "() => { for (let i = 0; i < frames.length; i++) frames[i].postMessage({ backgroneCopy: true }, '*'); }"
        )
        page.wait_for_timeout(500)
        reader.bring_to_front()
        assert reader.evaluate("() => navigator.clipboard.readText()") == "before"
        page.bring_to_front()
        Overlays(page).click("Restore")
        _, said = copy_from_overlay(browser, page, "#same")
        assert "Copied to the clipboard" in said, said
    finally:
        browser.ctx.clear_permissions()
        page.close()


def test_copy_and_viewer_in_the_popup(browser, files, reader):
    """A finished card copies its cut-out; clicked, it opens large with a before/after toggle
    (Escape closes it); dragged, it hands the browser a file to save."""
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    popup.set_input_files("#files", [str(files[0])])
    popup.wait_for_selector(".card[data-state=done]")
    card = popup.locator(".card").first
    card.locator(".copy").click()
    popup.wait_for_function("() => document.querySelector('.card .state').textContent.includes('Copied')")
    assert_cutout_png(clipboard_png(reader), (400, 300))
    popup.bring_to_front()

    # Drag out: Chromium saves a DownloadURL drop as a file named like Download's.
    drag = card.locator("img").evaluate(
        """(img) => { const dt = new DataTransfer();
            img.dispatchEvent(new DragEvent('dragstart', { dataTransfer: dt, bubbles: true }));
            return dt.getData('DownloadURL'); }"""
    )
    assert drag.startswith("image/png:red ball-cutout.png:blob:chrome-extension://"), drag
    assert card.locator("img").get_attribute("draggable") == "true"

    # The viewer: the cut-out large, then the original, by keyboard alone.
    card.locator(".preview").focus()
    popup.keyboard.press("Enter")
    viewer = popup.locator("#viewer")
    viewer.wait_for(state="visible")
    img = popup.locator("#viewer-img")
    assert img.get_attribute("alt") == "Cut-out of red ball.png"
    corner = """async (img) => { await img.decode(); const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d');
        g.drawImage(img, 0, 0); return g.getImageData(1, 1, 1, 1).data[3]; }"""
    assert img.evaluate(corner) == 0  # transparent: the cut-out
    toggle = popup.locator("#viewer-toggle")
    assert toggle.inner_text() == "Show original"
    toggle.click()
    popup.wait_for_function("() => document.getElementById('viewer-toggle').textContent.trim() === 'Show cut-out'")
    popup.wait_for_function("() => document.getElementById('viewer-img').alt.startsWith('Original')")
    assert img.evaluate(corner) == 255  # opaque: the original photo
    toggle.click()
    popup.wait_for_function("() => document.getElementById('viewer-toggle').textContent.trim() === 'Show original'")
    popup.keyboard.press("Escape")
    viewer.wait_for(state="hidden")
    popup.close()


@pytest.fixture
def files(tmp_path):
    from composites import composite

    data, _ = composite("ball", 400, 300, seed=0)
    (tmp_path / "red ball.png").write_bytes(data)
    return [tmp_path / "red ball.png"]


def test_keyboard_shortcut_cuts_the_image_under_the_pointer(browser, page):
    """The shortcut (manifest "commands") takes the image under the mouse pointer, as a
    right-click would; with none there, the page says so."""
    page.locator("#other").scroll_into_view_if_needed()
    box = page.locator("#other").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    result = shortcut(browser, page)
    assert result["ok"], result
    px = page.evaluate(IMG_ALPHA, "#other")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    overlays = Overlays(page)
    overlays.wait_text("Background removed")
    overlays.click("Restore")

    page.locator("h1").scroll_into_view_if_needed()
    heading = page.locator("h1").bounding_box()
    page.mouse.move(heading["x"] + 5, heading["y"] + 5)
    result = shortcut(browser, page)
    assert not result["ok"] and "no image under the mouse pointer" in result["error"]
    assert "no image under the mouse pointer" in Overlays(page).wait_text("no image")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('backgrone-overlay')", timeout=1000)  # not its 5 s

    # The page's own synthetic mouse events don't steer the shortcut.
    page.evaluate(
        """() => { const r = document.getElementById('same').getBoundingClientRect();
            document.dispatchEvent(new MouseEvent('mousemove', { clientX: r.x + 10, clientY: r.y + 10, bubbles: true })); }"""
    )
    result = shortcut(browser, page)
    assert not result["ok"] and "no image under the mouse pointer" in result["error"]


def shortcut(browser, page) -> dict:
    """What pressing the shortcut does (the browser's own key handling is out of a test's reach)."""
    return browser.sw.evaluate(
        """async (pageUrl) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            return globalThis.backgrone.onCommand('cut-under-pointer', tab);
        }""",
        page.url,
    )


def test_the_shortcut_is_declared_and_free(browser):
    """A default the browser accepts: Chrome leaves a suggested key unassigned when it is
    one of its own (Alt+Shift+R and Alt+Shift+X were, here)."""
    import json

    from conftest import ROOT

    commands = json.loads((ROOT / "manifest.json").read_text())["commands"]
    assert commands["cut-under-pointer"]["suggested_key"]["default"] == "Alt+Shift+E"
    assert commands["cut-under-pointer"]["description"] == "__MSG_commandCut__"
    assigned = browser.sw.evaluate(
        "async () => (await chrome.commands.getAll()).find((c) => c.name === 'cut-under-pointer')"
    )
    assert assigned["shortcut"] == "Alt+Shift+E", assigned
    assert assigned["description"] == "Remove the background of the image under the mouse pointer"
