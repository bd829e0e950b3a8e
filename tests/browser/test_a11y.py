"""Accessibility in the real browser: axe-core (npm) finds no serious or critical
violation in the popup (empty, with a batch, with the viewer open) and the options
page, in light and dark; the in-page overlay works by keyboard alone (focus on its
first action, Tab, Enter, Escape) and announces progress; every control has a label."""

import pytest

from conftest import ROOT

from .harness import Overlays

pytestmark = pytest.mark.browser

AXE = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
# Evaluated over DevTools, so the extension pages' CSP (script-src 'self') doesn't apply.
RUN_AXE = """async (context) => {
    const r = await axe.run(context || document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary).slice(0, 5) }));
}"""


def serious(page, context=None) -> list[dict]:
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE)
    found = page.evaluate(RUN_AXE, context)
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def photo(tmp_path):
    from composites import composite

    data, _ = composite("ball", 400, 300, seed=0)
    (tmp_path / "ball.png").write_bytes(data)
    (tmp_path / "notes.png").write_text("not an image")
    return [tmp_path / "ball.png", tmp_path / "notes.png"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_popup_has_no_serious_violations(browser, photo, scheme):
    popup = browser.ctx.new_page()
    popup.emulate_media(color_scheme=scheme)
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    assert serious(popup) == []
    popup.set_input_files("#files", [str(p) for p in photo])
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state]').length === 2")
    popup.locator("details.more summary").click()
    popup.select_option("#output", "color")
    assert serious(popup) == []
    popup.locator(".card[data-state=done] .preview").click()
    popup.locator("#viewer").wait_for(state="visible")
    assert serious(popup) == []
    popup.keyboard.press("Escape")
    popup.select_option("#output", "cutout")
    # Dark really is dark (prefers-color-scheme), light really light.
    bg = popup.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert bg == ("rgb(29, 31, 35)" if scheme == "dark" else "rgb(255, 255, 255)")
    # The yardstick itself: a nameless button and faint text are caught.
    popup.evaluate(
        """() => { document.querySelector('footer').append(document.createElement('button'));
            const p = document.createElement('p'); p.textContent = 'faint'; p.style.color = getComputedStyle(document.body).backgroundColor;
            p.style.opacity = '1'; p.style.color = 'rgba(128,128,128,0.3)'; document.querySelector('main').prepend(p);
                document.querySelector('main').scrollTop = 0; }  // in view: main scrolls"""
    )
    assert {"button-name", "color-contrast"} <= {v["id"] for v in serious(popup)}
    popup.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_options_page_has_no_serious_violations(browser, scheme):
    options = browser.ctx.new_page()
    options.emulate_media(color_scheme=scheme)
    options.goto(browser.ext_url("extension/options/options.html"))
    options.wait_for_function("() => document.querySelector('#engines').children.length > 0")
    assert serious(options) == []
    options.close()


def test_popup_works_by_keyboard(browser, photo):
    """Tab reaches every control in reading order, each with a visible focus ring."""
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    popup.set_input_files("#files", [str(photo[0])])
    popup.wait_for_selector(".card[data-state=done]")
    order = [
        "tab",
        "options",
        "choose",
        "engine",
        "output",
        "preset",
        "SUMMARY",
        "preview checker",
        "download",
        "copy",
        "refine",
        "download-all",
        "clear",
    ]
    seen = []
    for _ in order:
        popup.keyboard.press("Tab")
        seen.append(
            popup.evaluate(
                """() => { const el = document.activeElement, s = getComputedStyle(el);
                    return [el.id || el.className || el.tagName, s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2]; }"""
            )
        )
    assert [name for name, _ in seen] == order
    assert all(ring for _, ring in seen), [s for s in seen if not s[1]]
    popup.close()


def test_overlay_by_keyboard_alone(browser, page):
    """The finished overlay's box takes the focus (nothing else had it); Enter on it saves
    (its first action), Tab reaches its buttons, Escape closes it."""
    src = page.eval_on_selector("#other", "img => img.currentSrc")
    result = browser.menu_click(page, src)
    assert result["ok"], result
    overlays = Overlays(page)
    overlays.wait_text("Background removed")
    assert page.evaluate("() => document.activeElement.tagName") == "BACKGRONE-OVERLAY"  # its box, in its closed root
    browser.keep_download_names(page)
    page.keyboard.press("Enter")  # on the box itself: its first action, Save
    assert "box2-cutout" in overlays.wait_text("Saved as")
    assert page.evaluate("() => document.activeElement.tagName") == "BACKGRONE-OVERLAY"  # focus stays in the box
    page.keyboard.press("Tab")  # to Copy, now the first action
    page.keyboard.press("Escape")  # Close: the box goes, the cut-out stays
    page.wait_for_function("() => !document.querySelector('backgrone-overlay')")
    assert page.eval_on_selector("#other", "img => img.src.startsWith('blob:')")


OVERLAY_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>overlay</title>
<img id="pic" src="ball.png" style="width:320px;height:240px" alt="a ball">
"""


def test_overlay_markup_has_no_serious_violations(browser, sites):
    """The overlay class itself, on a plain page, with its shadow root opened for axe
    (the real one is closed, which axe can't enter): its roles, names and states."""
    a, _ = sites
    (a.root / "overlay.html").write_text(OVERLAY_PAGE)
    # The box's own scripts, in the content script's order (content_files.js): its bar needs the stage words.
    scripts = ["lib/messages.js", "content/stage_words.js", "content/placement.js", "content/overlay.js"]
    for path in scripts:
        a.route(f"/{path.split('/')[1]}", 200, "text/javascript", (ROOT / "extension" / path).read_bytes())
    page = browser.ctx.new_page()
    page.goto(a.url("overlay.html"))
    page.evaluate(
        """async () => {
            const attach = Element.prototype.attachShadow;
            Element.prototype.attachShadow = function (init) { return attach.call(this, { ...init, mode: 'open' }); };
            globalThis.BackgroneI18n = { t: (key) => key };  // the words are the locales' business (test_i18n)
            for (const src of ['/messages.js', '/stage_words.js', '/placement.js', '/overlay.js']) {
                await new Promise((ok) => { const s = document.createElement('script'); s.src = src; s.onload = ok; document.head.append(s); });
            }
            const img = document.getElementById('pic');
            await img.decode();
            const busy = new BackgroneOverlay(img);
            busy.status('Removing the background…');
            const done = new BackgroneOverlay(img);
            done.actions('Background removed.', ['Save', 'Copy', 'Refine…', 'Restore', 'Close'].map((label, i) =>
                ({ label, primary: i === 0, onClick: () => {} })), { notice: 'The medium model is not available.' });
            const failed = new BackgroneOverlay(img);
            failed.actions('Could not remove the background: the file is text, not an image', [{ label: 'Dismiss', onClick: () => {} }], { error: true });
            window.__boxes = [busy, done, failed].map((o) => o.host.shadowRoot.querySelector('.box'));
        }"""
    )
    roles = page.evaluate("() => window.__boxes.map((b) => [b.getAttribute('role'), b.getAttribute('aria-live')])")
    assert roles[0] == ["status", "polite"]  # progress is announced, politely
    assert roles[2][0] == "alert"  # a failure interrupts
    names = page.evaluate(
        "() => [...window.__boxes[1].querySelectorAll('button:not(.chip)')].map((b) => b.getAttribute('aria-label'))"
    )
    assert names == ["Save", "Copy", "Refine…", "Restore", "Close", "buttonCloseAll"]  # two finished boxes: Close all
    chip = page.evaluate("() => window.__boxes[1].querySelector('.chip').getAttribute('aria-expanded')")
    assert chip == "true"  # the folded box's chip (hidden while unfolded) says whether it is
    assert serious(page) == []
    page.close()
