"""After an update (or a reload) of the extension, tabs opened before still work; an engine
that never answers says so in words of its own."""

import uuid

import pytest

from composites import composite

from .harness import Browser, Overlays

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><meta charset="utf-8"><title>before the update</title>
<style>img { width: 240px; height: 180px; display: block; margin: 4px; }</style>
<img id="first" src="/twin.png"><img id="second" src="/twin.png"><img id="other" src="/box2.png">
<img id="gone" src="/gone.png">"""


@pytest.fixture(scope="module")
def updatable(playwright, ext_dir, tmp_path_factory):
    """A browser that can load the extension again, as an update does (through CDP)."""
    b = Browser(
        playwright,
        ext_dir,
        tmp_path_factory.mktemp("profile"),
        tmp_path_factory.mktemp("downloads"),
        ["--enable-unsafe-extension-debugging"],
    )
    b.settings(engine="fast")
    yield b
    b.close()


def in_page(browser, page, func: str):
    """Run `func` in the extension's world of the page's top frame, as the current version."""
    return browser.sw.evaluate(
        f"""async (pageUrl) => {{
            const [tab] = await chrome.tabs.query({{ url: pageUrl }});
            const [r] = await chrome.scripting.executeScript({{ target: {{ tabId: tab.id }}, func: {func} }});
            return r.result;
        }}""",
        page.url,
    )


def centre(page, selector):
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_a_tab_opened_before_an_update_still_works(updatable, sites):
    """The previous version's content script is cut off from the extension, and the browser
    adds the new version's declared pointer.js only to pages loaded afterwards: without
    adopting open tabs, the shortcut found no image and a right-click cut the wrong twin."""
    a, _ = sites
    data, _ = composite("ball", 400, 300, seed=41)
    a.route("/twin.png", 200, "image/png", data)
    a.route("/update.html", 200, "text/html", PAGE.encode())
    b = updatable
    page = b.ctx.new_page()
    page.goto(a.url(f"update.html?{uuid.uuid4().hex}"))
    # The previous version leaves its content script (and an overlay) in the page.
    result = b.menu_click(page, page.eval_on_selector("#gone", "img => img.currentSrc"))
    assert not result["ok"] and "did not load" in result["error"], result
    b.reload_extension()
    # The new version adopts the open tab (onInstalled) in its own world: wait for that.
    for _ in range(50):
        if in_page(b, page, "() => !!globalThis.__backgronePointer"):
            break
        page.wait_for_timeout(100)

    # A real right-click on the second of two copies of one picture: that very one is cut.
    x, y = centre(page, "#second")
    page.mouse.click(x, y, button="right")
    twin = page.eval_on_selector("#second", "img => img.currentSrc")
    result = b.menu_click(page, twin)
    assert result["ok"], result
    assert page.eval_on_selector("#second", "img => img.src.startsWith('blob:')")
    assert page.eval_on_selector("#first", "img => img.src.endsWith('/twin.png')")

    # The shortcut finds the image under the pointer.
    x, y = centre(page, "#other")
    page.mouse.move(x, y)
    result = b.sw.evaluate(
        """async (pageUrl) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            return globalThis.backgrone.onCommand('cut-under-pointer', tab);
        }""",
        page.url,
    )
    assert result["ok"], result
    assert page.eval_on_selector("#other", "img => img.src.startsWith('blob:')")
    page.close()


def test_an_engine_that_never_answers_says_so(updatable, sites):
    """Another offscreen document in the engine's place (one that never answers its PING):
    the right-click says, in its own words, that the engine did not start, instead of the
    browser's "Receiving end does not exist"; once it is gone, the next right-click works."""
    a, _ = sites
    b = updatable
    page = b.ctx.new_page()
    page.goto(a.url(f"index.html?{uuid.uuid4().hex}"))
    b.sw.evaluate(
        """async () => {
            await chrome.offscreen.closeDocument().catch(() => {});
            await chrome.offscreen.createDocument({ url: 'extension/frame/frame.html', reasons: ['BLOBS'],
              justification: 'test: a document that is not the engine' });
        }"""
    )
    src = page.eval_on_selector("#same", "img => img.currentSrc")
    result = b.menu_click(page, src)
    assert not result["ok"] and "engine did not start" in result["error"], result
    assert "engine did not start" in Overlays(page).wait_text("did not start")
    page.keyboard.press("Escape")
    b.sw.evaluate("() => chrome.offscreen.closeDocument()")
    result = b.menu_click(page, src)
    assert result["ok"], result
    page.close()
