"""Refine… wired through the extension, in real Chromium: the overlay's Refine… opens the editor
on that cut-out in a tab beside the page (only for the page's own result; the job's port, and so
the result, stay while the editor works, even once the box is closed), a popup card's and the
viewer's Refine… open it on the batch item; the editor's Done puts the refined cut-out in the
page's own <img> (changed where edited, nowhere far; Save gives the new bytes, Copy too, Restore
the original) or in the guarded frame (the page still can't read a pixel of it), and on the card."""

import base64
import io
import uuid

import numpy as np
import pytest
from PIL import Image

from composites import composite

from .harness import DRAW_IMG, Overlays, cutout_frame, wait_for
from .test_copy_and_shortcut import READ_CLIPBOARD
from .test_editor_page import TO_SCREEN

pytestmark = pytest.mark.browser

EDITOR = "extension/editor/editor.html"


def tabs(browser) -> list[dict]:
    return browser.sw.evaluate(
        "async () => (await chrome.tabs.query({})).map((t) => ({ id: t.id, index: t.index, url: t.url || t.pendingUrl,"
        " opener: t.openerTabId ?? null, windowId: t.windowId }))"
    )


def result_alive(browser, result_id: str) -> bool:
    """The engine still keeps this cut-out (asked as an extension context, as the popup would)."""
    return browser.sw.evaluate(
        """async (resultId) => {
            const { Target, Type, message } = globalThis.BackgroneMessages;
            const r = await chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.RESULT_URL, { resultId }));
            return !!r?.ok;
        }""",
        result_id,
    )


def cut(browser, page, selector: str) -> dict:
    result = browser.menu_click(page, page.eval_on_selector(selector, "img => img.currentSrc"))
    assert result["ok"], result
    return result


def open_from_overlay(browser, page) -> object:
    """A real click on the overlay's Refine…: the editor's tab."""
    with browser.ctx.expect_page() as opened:
        Overlays(page).click("Refine…")
    return opened.value


def test_overlay_refine_opens_the_editor_beside_the_page_and_keeps_the_result(browser, page):
    result = cut(browser, page, "#same")
    editor = open_from_overlay(browser, page)
    assert editor.url == browser.ext_url(f"{EDITOR}#{result['resultId']}")
    by_url = {t["url"]: t for t in tabs(browser)}
    here, there = by_url[page.url], by_url[editor.url]
    assert there["index"] == here["index"] + 1 and there["opener"] == here["id"]
    assert there["windowId"] == here["windowId"]
    overlays = Overlays(page)
    overlays.wait_text("The editor is open in a new tab.")
    assert [name for name, _ in overlays.last()["buttons"]] == ["Save", "Copy", "Refine…", "Restore", "Close"]
    # Closed while the editor works: the cut-out stays on the page, and in the engine for the editor.
    overlays.click("Close")
    wait_for(lambda: Overlays(page).count() == 0, "the box never closed")
    assert result_alive(browser, result["resultId"])
    editor.close()


def test_refine_only_for_the_pages_own_live_result(browser, page, sites):
    """A content script can open the editor only on a result made for its own tab; a result the
    engine let go says so in the box, and no tab opens."""
    result = cut(browser, page, "#same")
    other = browser.ctx.new_page()
    other.goto(sites[0].url(f"index.html?{uuid.uuid4().hex}"))
    before = len(tabs(browser))
    asked = browser.sw.evaluate(
        """async ([pageUrl, resultId]) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            const [r] = await chrome.scripting.executeScript({ target: { tabId: tab.id }, args: [resultId],
              func: async (resultId) => {
                const send = (id) => chrome.runtime.sendMessage({ target: 'background', type: 'open-editor', data: { resultId: id } });
                return { other: await send(resultId), unknown: await send(crypto.randomUUID()) };
              } });
            return r.result;
        }""",
        [other.url, result["resultId"]],
    )
    assert asked["other"]["ok"] is False and "another tab" in asked["other"]["error"], asked
    assert asked["unknown"]["ok"] is False and "no longer available" in asked["unknown"]["error"], asked
    # The engine let this page's result go (bounded, oldest first): the box says so, no tab opens.
    browser.sw.evaluate(
        """async (resultId) => {
            const { Target, Type, message } = globalThis.BackgroneMessages;
            await chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.RELEASE, { resultId }));
        }""",
        result["resultId"],
    )
    Overlays(page).click("Refine…")
    said = Overlays(page).wait_text("Could not open the editor")
    assert "no longer available" in said
    assert len(tabs(browser)) == before
    other.close()


# ---- the editor's Done, through the edit port ------------------------------------------------

# An extension page's end of the edit port, as the editor uses it: the whole log, then Done.
EDIT_AND_DONE = """async ([refineId, edits]) => {
    const { Target, Type, EDIT_PORT, message, parse } = globalThis.BackgroneMessages;
    const port = chrome.runtime.connect({ name: `${EDIT_PORT}:${refineId}` });
    const heard = [];
    let wake = () => {};
    port.onMessage.addListener((m) => { const msg = parse(m, Target.EDIT); if (msg) { heard.push(msg); wake(); } });
    port.onDisconnect.addListener(() => { heard.push({ type: 'closed' }); wake(); });
    const next = async (...types) => {
        for (;;) {
            const i = heard.findIndex((m) => types.includes(m.type));
            if (i >= 0) return heard.splice(i, 1)[0];
            await new Promise((resolve) => { wake = resolve; });
        }
    };
    const ready = await next(Type.EDIT_READY, Type.EDIT_FAILED, 'closed');
    if (ready.type !== Type.EDIT_READY) return { error: ready };
    port.postMessage(message(Target.EDIT, Type.EDIT_SET, { seq: 1, edits }));
    const state = await next(Type.EDIT_STATE, Type.EDIT_FAILED, 'closed');
    if (state.type !== Type.EDIT_STATE) return { error: state };
    port.postMessage(message(Target.EDIT, Type.EDIT_RENDER, { seq: 2, replace: true }));
    const rendered = await next(Type.EDIT_RENDERED, Type.EDIT_FAILED, 'closed');
    if (rendered.type !== Type.EDIT_RENDERED) return { error: rendered };
    const bytes = new Uint8Array(await (await fetch(rendered.data.url)).arrayBuffer());
    port.disconnect();
    return { ready: ready.data, state: state.data, rendered: rendered.data, png: bytes.toBase64() };
}"""

# The alpha of every pixel of an <img> the page can read (or of the frame's own picture).
IMG_ALPHA_ALL = (
    "async (selector) => {"
    + DRAW_IMG
    + """    const d = g.getImageData(0, 0, c.width, c.height).data;
    const a = new Uint8Array(c.width * c.height);
    for (let i = 0; i < a.length; i++) a[i] = d[i * 4 + 3];
    return { width: c.width, height: c.height, alpha: a.toBase64(), src: img.currentSrc };
}"""
)


def alpha_of(where, selector: str) -> np.ndarray:
    got = where.evaluate(IMG_ALPHA_ALL, selector)
    return np.frombuffer(base64.b64decode(got["alpha"]), np.uint8).reshape(got["height"], got["width"])


def edit_and_done(browser, refine_id: str, edits: list) -> dict:
    """What the editor does on Done after these edits, from an extension page (options)."""
    page = browser.ctx.new_page()
    try:
        page.goto(browser.ext_url("extension/options/options.html"))
        out = page.evaluate(EDIT_AND_DONE, [refine_id, edits])
    finally:
        page.close()
    assert "error" not in out, out
    out["image"] = Image.open(io.BytesIO(base64.b64decode(out["png"])))
    return out


def stroke(x0: int, x1: int, y: int, radius: int = 20) -> dict:
    return {"op": "remove", "radius": radius, "points": [[x0, y], [x1, y]]}


@pytest.fixture
def reader(browser, sites):
    """A page of another site, allowed to read the clipboard: it reads back what was copied."""
    _, b = sites
    browser.ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=b.origin)
    p = browser.ctx.new_page()
    p.goto(b.url("box.png"))
    yield p
    p.close()


def far_from(shape, edit: dict, reach: float) -> np.ndarray:
    """Pixels farther than `reach` from a horizontal stroke's segment."""
    (x0, y), (x1, _) = edit["points"]
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    dx = np.maximum(np.maximum(x0 - xs, xs - x1), 0)
    return np.hypot(dx, ys - y) > reach


def near(shape, edit: dict) -> np.ndarray:
    """The stroke's sure core (half its radius of the segment, pixel centres: a pixel less here)."""
    return ~far_from(shape, edit, edit["radius"] / 2 - 1)


def draw_and_done(editor, x0: int, x1: int, y: int, size: tuple[int, int]) -> dict:
    """In the editor's page: Remove, a stroke from (x0, y) to (x1, y) with real mouse events, Done;
    the edit it stands for (the brush's radius, in image pixels, as the editor chose it for the image)."""
    editor.wait_for_selector("body[data-ready]", timeout=60_000)
    edit = stroke(x0, x1, y, radius=int(editor.locator("#size").input_value()))
    editor.keyboard.press("x")  # Remove
    sx0, sy = editor.evaluate(TO_SCREEN, [x0, y, *size])
    sx1, _ = editor.evaluate(TO_SCREEN, [x1, y, *size])
    editor.mouse.move(sx0, sy)
    editor.mouse.down()
    editor.mouse.move(sx1, sy, steps=12)
    editor.mouse.up()
    editor.wait_for_function("() => document.getElementById('canvas').getAttribute('aria-label').endsWith(': 1')")
    editor.locator("#done").click()
    editor.wait_for_function("() => document.getElementById('status').textContent.startsWith('Done: ')")
    return edit


def test_a_stroke_in_the_editor_shows_in_the_pages_own_image(browser, page, reader):
    """A readable image: Refine…, a stroke drawn with the mouse, Done: the page's <img> (the same
    element) changes where drawn and nowhere far; Save and Copy give the new bytes; Restore the original."""
    result = cut(browser, page, "#same")
    assert result["width"] == 640
    before = alpha_of(page, "#same")
    handle = page.query_selector("#same")
    editor = open_from_overlay(browser, page)
    edit = draw_and_done(editor, 260, 380, 250, (640, 480))
    editor.close()
    page.bring_to_front()
    overlays = Overlays(page)
    overlays.wait_text("Refined cut-out shown.")
    after = alpha_of(page, "#same")
    assert page.evaluate("(img) => img === document.querySelector('#same')", handle)
    assert before[near(before.shape, edit)].mean() > 250 and after[near(after.shape, edit)].max() < 5
    changed_far = (before != after) & far_from(before.shape, edit, 3 * edit["radius"])
    assert changed_far.mean() < 0.001, changed_far.sum()
    # Save gives the new bytes, Copy too.
    browser.keep_download_names(page)
    overlays.click("Save")
    name = overlays.wait_text("Saved as").split("Saved as ")[1].rstrip(".")
    saved = np.asarray(Image.open(browser.downloads / name).getchannel("A"))
    assert (saved == after).all()
    overlays.click("Copy")
    assert "Copied to the clipboard" in overlays.wait_text("op")
    reader.bring_to_front()
    copied = Image.open(io.BytesIO(bytes(reader.evaluate(READ_CLIPBOARD)["png"])))
    assert (np.asarray(copied.getchannel("A")) == after).all()
    # Restore: the page's own picture again.
    page.bring_to_front()
    overlays.click("Restore")
    page.wait_for_function("() => document.querySelector('#same').getAttribute('src') === '/ball.png'")


def test_done_reaches_a_page_whose_box_was_closed_while_editing(browser, page):
    """Refine…, then Close: the cut-out stays in the page, and the editor's Done still replaces it."""
    result = cut(browser, page, "#same")
    open_from_overlay(browser, page).close()
    Overlays(page).click("Close")
    wait_for(lambda: Overlays(page).count() == 0, "the box never closed")
    before = alpha_of(page, "#same")
    edit = stroke(260, 380, 250)
    edit_and_done(browser, result["resultId"], [edit])
    wait_for(lambda: (alpha_of(page, "#same") != before).any(), "the page's image never changed")
    assert alpha_of(page, "#same")[near(before.shape, edit)].max() < 5


def test_done_reloads_a_guarded_frame_and_the_page_still_reads_nothing(browser, page):
    """Another site's image without CORS: the refined cut-out shows in the extension's frame;
    the page's <img> keeps its source and nothing in the page points at a readable copy."""
    src = page.eval_on_selector("#cross", "img => img.currentSrc")
    result = browser.menu_click(page, src)
    assert result["ok"] and result["guarded"] is True, result
    frame = cutout_frame(page)
    before = alpha_of(frame, "#cutout")
    edit = stroke(270, 380, 244)
    edit_and_done(browser, result["resultId"], [edit])
    wait_for(lambda: frame.evaluate("() => document.documentElement.dataset.shown") == "2", "the frame never reloaded")
    after = alpha_of(frame, "#cutout")
    assert before[near(before.shape, edit)].mean() > 250 and after[near(after.shape, edit)].max() < 5
    assert (((before != after) & far_from(before.shape, edit, 3 * edit["radius"])).mean()) < 0.001
    assert Overlays(page).wait_text("Refined cut-out shown.")
    assert page.eval_on_selector("#cross", "img => img.currentSrc") == src
    readable = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap((el) => el.getAttributeNames()
            .map((n) => el.getAttribute(n) || '').filter((v) => /(^|\\s)blob:/.test(v)))"""
    )
    assert readable == []
    # Save gives the refined bytes.
    browser.keep_download_names(page)
    Overlays(page).click("Save")
    name = Overlays(page).wait_text("Saved as").split("Saved as ")[1].rstrip(".")
    assert (np.asarray(Image.open(browser.downloads / name).getchannel("A")) == after).all()


def test_popup_card_and_viewer_refine_and_show_the_refined_cut_out(browser, tmp_path):
    """A done card's Refine… (and the viewer's) opens the editor on that item; the editor's Done
    puts the refined cut-out on the card and in the open viewer."""
    data, _ = composite("ball", 400, 300, seed=0)
    (tmp_path / "ball.png").write_bytes(data)
    popup = browser.open_popup()
    popup.set_input_files("#files", [str(tmp_path / "ball.png")])
    popup.wait_for_selector(".card[data-state=done] .refine:not([hidden])")
    assert popup.locator(".card .refine").get_attribute("aria-label") == "Refine ball.png"
    with browser.ctx.expect_page() as opened:
        popup.locator(".card .refine").click()
    editor = opened.value
    refine_id = editor.url.partition("#")[2]
    assert editor.url == browser.ext_url(f"{EDITOR}#{refine_id}")
    editor.close()
    popup.locator(".card .preview").click()
    with browser.ctx.expect_page() as opened:
        popup.locator("#viewer-refine").click()
    assert opened.value.url == browser.ext_url(f"{EDITOR}#{refine_id}")
    opened.value.close()
    thumb = popup.eval_on_selector(".card img", "img => img.src")
    shown = popup.eval_on_selector("#viewer-img", "img => img.src")
    before = alpha_of(popup, "#viewer-img")
    edit = stroke(160, 240, 155, radius=12)
    edit_and_done(browser, refine_id, [edit])
    wait_for(lambda: popup.eval_on_selector(".card img", "img => img.src") != thumb, "the card kept the old picture")
    wait_for(
        lambda: popup.eval_on_selector("#viewer-img", "img => img.src") != shown, "the viewer kept the old picture"
    )
    after = alpha_of(popup, "#viewer-img")
    assert before[near(before.shape, edit)].mean() > 250 and after[near(after.shape, edit)].max() < 5
    assert (((before != after) & far_from(before.shape, edit, 3 * edit["radius"])).mean()) < 0.001
    assert popup.locator("#viewer-refine").is_visible()  # Refine again: the same item, its log kept
    popup.close()


def test_done_after_the_page_closed_says_nothing_was_replaced(browser, page):
    """Refine…, then the page's tab closes: Done replaces nothing anyone sees, and says so."""
    cut(browser, page, "#same")
    editor = open_from_overlay(browser, page)
    editor.wait_for_selector("body[data-ready]", timeout=60_000)
    page.close()
    editor.locator("#done").click()
    editor.wait_for_function("() => document.getElementById('error').textContent.startsWith('Nothing was replaced: ')")
    assert "Download or Export edits" in editor.locator("#error").text_content()
    assert not editor.locator("#download").is_disabled()  # the refined cut-out is still the editor's
    editor.close()
