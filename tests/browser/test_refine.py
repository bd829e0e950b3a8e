"""Refine… wired through the extension, in real Chromium: the overlay's Refine… opens the editor
on that cut-out in a tab beside the page (only for the page's own result; the job's port, and so
the result, stay while the editor works, even once the box is closed), a popup card's and the
viewer's Refine… open it on the batch item; the editor's Done puts the refined cut-out in the
page's own <img> (changed where edited, nowhere far; Save gives the new bytes, Copy too, Restore
the original) or in the guarded frame (the page still can't read a pixel of it), and on the card."""

import time
import uuid

import pytest

from .harness import Overlays

pytestmark = pytest.mark.browser

EDITOR = "extension/editor/editor.html"


def wait_for(check, what: str, timeout_s: float = 60):
    end = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < end, what
        time.sleep(0.1)
    return value


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
