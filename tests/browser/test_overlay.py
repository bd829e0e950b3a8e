"""The in-page overlay gets out of the way: its box goes where it hides least of the image
(below a small one, inside a big one), boxes never overlap, a finished box folds to a chip
when left alone and unfolds on hover or keyboard focus, "Close all" closes every box (the
cut-outs stay), one Escape closes one box, the shortcut's toast lands clear of the boxes, a
right-click on an image that already shows a cut-out offers Restore instead of cutting it
again (but cuts anew once the page has put another picture in the same <img>), and a cold
start's bar never goes back. In Firefox, after a real right-click, the box has the focus and
Enter saves."""

import time
from pathlib import Path

import pytest
from PIL import Image

from .firefox import Firefox
from .harness import Overlays

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>overlay places</title>
<style>body {{ margin: 0; }} img {{ display: block; }}</style>
<button id="before">before</button>
{body}
"""

BOX_STATE = """function () {
    const r = this.getBoundingClientRect();
    const active = this.getRootNode().activeElement;
    return { left: r.left, top: r.top, width: r.width, height: r.height, collapsed: this.classList.contains('collapsed'),
             where: this.dataset.where || null, chip: this.querySelector('.chip')?.getAttribute('aria-label'),
             fraction: this.querySelector('.fill')?.dataset.fraction ?? null, focused: active ? active.getAttribute('aria-label') || active.className : null };
}"""


RECORD_BOX = """function () {
    const box = this;
    const seen = (window.__seen = []);
    const look = () => seen.push({ text: box.querySelector('.text')?.dataset.text || '',
                                   fraction: box.querySelector('.fill')?.dataset.fraction ?? null,
                                   done: !!box.querySelector('.actions') });
    look();
    new MutationObserver(look).observe(box, { subtree: true, childList: true, attributes: true });
}"""


def page_with(browser, sites, name: str, body: str):
    a, _ = sites
    (a.root / name).write_text(PAGE.format(body=body))
    page = browser.ctx.new_page()
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto(a.url(name))
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")
    return page


def boxes(page) -> list[dict]:
    """Each overlay box's rectangle and state (read through CDP: the shadow roots are closed)."""
    out = []
    cdp = page.context.new_cdp_session(page)
    try:
        for o in Overlays(page).all():
            if o["box"] is None:
                continue
            obj = cdp.send("DOM.resolveNode", {"backendNodeId": o["box"]})["object"]
            state = cdp.send(
                "Runtime.callFunctionOn",
                {"objectId": obj["objectId"], "functionDeclaration": BOX_STATE, "returnByValue": True},
            )["result"]["value"]
            out.append({**state, "text": o["text"], "buttons": [b for b, _ in o["buttons"]]})
    finally:
        cdp.detach()
    return out


def layout_count(cdp) -> float:
    """How many layouts the page has run (Chromium's performance counter)."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "LayoutCount")


def rect(page, selector: str) -> dict:
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; }",
    )


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["left"] + b["width"]
        and b["left"] < a["left"] + a["width"]
        and a["top"] < b["top"] + b["height"]
        and b["top"] < a["top"] + a["height"]
    )


def in_view(r: dict, page) -> bool:
    v = page.viewport_size
    return (
        r["left"] >= 0
        and r["top"] >= 0
        and r["left"] + r["width"] <= v["width"]
        and r["top"] + r["height"] <= v["height"]
    )


def wait_for(fn, what: str, timeout_s: float = 30):
    end = time.monotonic() + timeout_s
    while not (value := fn()):
        assert time.monotonic() < end, what
        time.sleep(0.1)
    return value


def cut(browser, page, selector: str) -> dict:
    result = browser.menu_click(page, page.eval_on_selector(selector, "i => i.currentSrc"))
    assert result["ok"], result
    return result


def test_a_small_images_box_goes_below_it_a_big_ones_inside_and_boxes_never_overlap(browser, sites):
    page = page_with(
        browser,
        sites,
        "places.html",
        """
        <div style="display: flex; gap: 12px; margin: 20px">
          <img id="a" src="/ball.png" style="width: 200px; height: 150px" alt="a">
          <img id="b" src="/box2.png" style="width: 200px; height: 150px" alt="b">
        </div>
        <img id="big" src="/ball2.png" style="width: 100%; height: 900px" alt="big">""",
    )
    try:
        results = browser.menu_clicks(page, [page.eval_on_selector(s, "i => i.currentSrc") for s in ("#a", "#b")])
        assert all(r["ok"] for r in results), results
        two = wait_for(
            lambda: (
                [b for b in boxes(page) if "Background removed" in b["text"]][-2:] if len(boxes(page)) == 2 else None
            ),
            "two finished boxes",
        )
        for box, img in zip(two, ("#a", "#b"), strict=True):
            assert box["where"] == "below", box
            assert not overlaps(box, rect(page, img)) and in_view(box, page), (box, rect(page, img))
        assert not overlaps(two[0], two[1]), two  # the second stacks clear of the first

        page.eval_on_selector("#big", "e => e.scrollIntoView()")
        cut(browser, page, "#big")
        big = wait_for(lambda: [b for b in boxes(page) if b["where"] == "inside"], "a box inside the big image")[0]
        assert in_view(big, page), big
        assert big["top"] + big["height"] > page.viewport_size["height"] - 30, big  # along the bottom edge, not on top
    finally:
        page.close()


def test_a_finished_box_folds_to_a_chip_and_unfolds_on_focus_and_hover(browser, sites):
    page = page_with(
        browser, sites, "fold.html", '<img id="a" src="/ball.png" style="width: 240px; height: 180px" alt="a">'
    )
    try:
        page.focus("#before")  # the keyboard is elsewhere: the box does not take the focus
        page.mouse.move(900, 650)
        cut(browser, page, "#a")
        folded = wait_for(lambda: [b for b in boxes(page) if b["collapsed"]], "the box never folded", timeout_s=15)[0]
        assert folded["height"] < 40 and folded["chip"] == "Cut-out ready", folded
        page.keyboard.press("Tab")  # from the page's button to the chip: it unfolds, the keyboard on Save
        box = wait_for(lambda: [b for b in boxes(page) if not b["collapsed"]], "focus did not unfold the chip")[0]
        assert box["focused"] == "Save" and "Save" in box["buttons"], box
        page.focus("#before")  # the keyboard leaves: it folds again
        folded = wait_for(
            lambda: [b for b in boxes(page) if b["collapsed"]], "the box never folded again", timeout_s=15
        )[0]
        page.mouse.move(folded["left"] + folded["width"] / 2, folded["top"] + folded["height"] / 2)
        wait_for(lambda: [b for b in boxes(page) if not b["collapsed"]], "hover did not unfold the chip", timeout_s=5)
    finally:
        page.close()


def two_cut_outs(browser, sites, name: str):
    """A page of two small pictures, both cut out (their boxes side by side below them)."""
    page = page_with(
        browser,
        sites,
        f"{name}.html",
        """
        <img id="a" src="/ball.png" style="width: 200px; height: 150px" alt="a">
        <img id="b" src="/box2.png" style="width: 200px; height: 150px" alt="b">""",
    )
    results = browser.menu_clicks(page, [page.eval_on_selector(s, "i => i.currentSrc") for s in ("#a", "#b")])
    assert all(r["ok"] for r in results), results
    return page


def test_close_all_closes_every_box_and_keeps_the_cut_outs(browser, sites):
    page = two_cut_outs(browser, sites, "closeall")
    try:
        wait_for(lambda: len([b for b in boxes(page) if "Close all" in b["buttons"]]) == 2, "no Close all on two boxes")
        Overlays(page).click("Close all")
        page.wait_for_function("() => !document.querySelector('backgrone-overlay')", timeout=5000)
        assert page.evaluate("() => [...document.images].every((i) => i.src.startsWith('blob:'))")
    finally:
        page.close()


def test_one_escape_closes_only_the_box_with_the_focus(browser, sites):
    page = two_cut_outs(browser, sites, "escape")
    try:
        wait_for(lambda: len([b for b in boxes(page) if "Background removed" in b["text"]]) == 2, "two finished boxes")
        older, newer = (o["box"] for o in Overlays(page).all())
        cdp = page.context.new_cdp_session(page)
        try:
            cdp.send("DOM.focus", {"backendNodeId": older})  # the keyboard in the older box
        finally:
            cdp.detach()
        page.keyboard.press("Escape")
        left = [o["box"] for o in Overlays(page).all() if o["box"] is not None]
        assert left == [newer], left  # the older box closed; the newer one (the newest finished) stays
    finally:
        page.close()


def test_a_box_follows_a_scrolling_element_once_a_frame_however_many_scroll_events(browser, sites):
    page = page_with(
        browser,
        sites,
        "scroller.html",
        """
        <div id="scroller" style="height: 400px; overflow: auto; margin-top: 20px">
          <img id="a" src="/ball.png" style="width: 200px; height: 150px" alt="a">
          <div style="height: 2000px"></div>
        </div>""",
    )
    try:
        cut(browser, page, "#a")
        before = wait_for(lambda: [b for b in boxes(page) if "Background removed" in b["text"]], "no finished box")[0]
        cdp = page.context.new_cdp_session(page)
        try:
            cdp.send("Performance.enable")
            start = layout_count(cdp)
            # A burst of scrolls within one frame: the boxes move once, not once per event.
            page.eval_on_selector(
                "#scroller",
                "s => { for (let y = 1; y <= 60; y++) { s.scrollTop = y; s.dispatchEvent(new Event('scroll')); } }",
            )
            burst = layout_count(cdp) - start
        finally:
            cdp.detach()
        assert burst < 30, burst
        after = wait_for(lambda: [b for b in boxes(page) if b["top"] < before["top"] - 50], "the box did not follow")[0]
        assert round(before["top"] - after["top"]) == 60, (before, after)
    finally:
        page.close()


def test_the_shortcuts_toast_lands_clear_of_a_box(browser, sites):
    # A thin banner at the top: its box goes just below it, where the toast would go.
    page = page_with(
        browser,
        sites,
        "toast.html",
        """
        <img id="banner" src="/ball.png" style="position: fixed; top: 0; left: 250px; width: 500px; height: 8px" alt="banner">
        <h1 style="margin-top: 300px">Nothing here</h1>""",
    )
    try:
        cut(browser, page, "#banner")
        box = wait_for(lambda: [b for b in boxes(page) if "Background removed" in b["text"]], "no finished box")[0]
        heading = rect(page, "h1")
        page.mouse.move(heading["left"] + 5, heading["top"] + 5)
        result = browser.sw.evaluate(
            """async (pageUrl) => {
                const [tab] = await chrome.tabs.query({ url: pageUrl });
                return globalThis.backgrone.onCommand('cut-under-pointer', tab);
            }""",
            page.url,
        )
        assert not result["ok"] and "no image under the mouse pointer" in result["error"]
        toast = wait_for(lambda: [b for b in boxes(page) if "no image" in b["text"]], "no toast")[0]
        assert not overlaps(toast, box), (toast, box)
        assert in_view(toast, page), toast
    finally:
        page.close()


@pytest.mark.parametrize("selector", ["#other", "#cross"])
def test_a_right_click_on_a_cut_out_offers_restore(browser, page, selector):
    """Same-origin (swapped in the <img>, its box closed first) and another site's image (in
    our frame, its box still open): the menu item on the cut-out offers Restore, which works."""
    before = page.eval_on_selector(selector, "i => i.currentSrc")
    cut(browser, page, selector)
    overlays = Overlays(page)
    overlays.wait_text("Background removed")
    if selector == "#other":
        overlays.click("Close")
        page.wait_for_function("() => !document.querySelector('backgrone-overlay')", timeout=5000)
    again = browser.menu_click(page, page.eval_on_selector(selector, "i => i.currentSrc"))
    assert again == {"ok": True, "offered": "restore"}, again  # no second cut
    assert "already a cut-out" in overlays.wait_text("already a cut-out")
    overlays.click("Restore")
    page.wait_for_function("() => !document.querySelector('backgrone-overlay')", timeout=5000)
    page.wait_for_function(
        "([s, src]) => document.querySelector(s).currentSrc === src", arg=[selector, before], timeout=5000
    )
    assert page.eval_on_selector(selector, "i => i.style.objectPosition") == ""


@pytest.mark.parametrize(("selector", "next_picture"), [("#other", "/ball2.png"), ("#cross", "/box2.png")])
def test_a_page_that_puts_another_picture_in_a_cut_out_img_gets_a_new_cut(browser, page, selector, next_picture):
    """A carousel changes the source of the same <img>: a right-click on the next slide cuts it
    (no "already a cut-out"), our frame over the old picture goes, and Restore puts back the
    next slide, not the first picture."""
    cut(browser, page, selector)
    overlays = Overlays(page)
    overlays.wait_text("Background removed")
    overlays.click("Close")  # the cut-out stays (in the <img>, or in our frame over it)
    page.wait_for_function("() => [...document.querySelectorAll('backgrone-overlay')].length <= 1", timeout=5000)
    wait_for(lambda: not boxes(page), "the box did not close")
    page.eval_on_selector(
        selector,
        "(i, next) => { i.src = new URL(next, i.src.startsWith('blob:') ? location.href : i.src).href; }",
        next_picture,
    )
    page.wait_for_function(
        "([s, next]) => { const i = document.querySelector(s); return i.complete && i.currentSrc.endsWith(next); }",
        arg=[selector, next_picture],
        timeout=5000,
    )
    slide = page.eval_on_selector(selector, "i => i.currentSrc")
    again = browser.menu_click(page, slide)
    assert again["ok"] and again.get("offered") != "restore", again  # a new cut, not "already a cut-out"
    overlays.wait_text("Background removed")
    assert len([o for o in overlays.all() if o["frame"]]) == (1 if selector == "#cross" else 0), overlays.all()
    overlays.click("Restore")
    page.wait_for_function(
        "([s, src]) => document.querySelector(s).currentSrc === src", arg=[selector, slide], timeout=5000
    )
    assert page.eval_on_selector(selector, "i => i.style.objectPosition") == ""


def test_firefox_after_a_real_right_click_the_box_has_the_focus_and_enter_saves(ext_dir, sites, tmp_path):
    a, _ = sites
    (tmp_path / "downloads").mkdir()
    ff = Firefox(Path(ext_dir), tmp_path / "profile", tmp_path / "downloads")
    try:
        ff.settings(engine="fast")
        ctx = ff.new_tab()
        ff.navigate(ctx, a.url("index.html"))
        assert ff.context_menu_click(ctx, "#other") == "Remove background"
        end = time.monotonic() + 60
        while not ff.call(ctx, "() => document.querySelector('#other').src.startsWith('blob:')"):
            assert time.monotonic() < end, "the cut-out never showed"
            time.sleep(0.2)
        end = time.monotonic() + 5
        while ff.call(ctx, "() => document.activeElement?.tagName") != "BACKGRONE-OVERLAY":
            assert time.monotonic() < end, "the box never took the focus"
            time.sleep(0.1)
        ff.press(ctx, "\ue007")  # Enter, on the box itself: Save
        path = tmp_path / "downloads" / "box2-cutout.png"
        end = time.monotonic() + 30
        while not (path.is_file() and path.stat().st_size > 0):
            assert time.monotonic() < end, f"Enter did not save: {list(path.parent.iterdir())}"
            time.sleep(0.2)
        assert Image.open(path).mode == "RGBA"
    finally:
        ff.close()


def test_a_cold_start_names_the_engine_starting_and_fills_its_bar_toward_the_last_time(browser, page):
    """The engine's boot, after it was timed once here: the box says what happens, and its bar
    fills toward the time it took (never back, never full); it never says it waits."""
    cut(browser, page, "#same")  # the engine has booted (and timed its boot) at least once
    Overlays(page).click("Close")
    browser.sw.evaluate("() => chrome.offscreen.closeDocument().catch(() => {})")  # as after a browser restart
    browser.sw.evaluate(
        """async (pageUrl) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            const srcUrl = new URL('/box2.png', pageUrl).href;
            globalThis.__cold = globalThis.backgrone.onMenuClick({ menuItemId: 'backgrone-remove-background', srcUrl, pageUrl, frameId: 0 }, tab);
        }""",
        page.url,
    )
    # Every change of the box, recorded in the page (the box is reached through CDP: its root is closed).
    box = wait_for(lambda: next((o["box"] for o in Overlays(page).all() if o["box"]), None), "no box", timeout_s=30)
    cdp = page.context.new_cdp_session(page)
    try:
        obj = cdp.send("DOM.resolveNode", {"backendNodeId": box})["object"]
        cdp.send("Runtime.callFunctionOn", {"objectId": obj["objectId"], "functionDeclaration": RECORD_BOX})
    finally:
        cdp.detach()
    page.wait_for_function("() => window.__seen.some((s) => s.done)", timeout=60_000)
    seen = page.evaluate("() => window.__seen")
    progress = seen[: next(i for i, s in enumerate(seen) if s["done"])]
    starting = [
        float(s["fraction"])
        for s in progress
        if "Starting the engine; only the first image after a break" in s["text"] and s["fraction"]
    ]
    assert starting, seen  # named, with a determinate bar
    # One bar for the whole job: from its first determinate step on, through every stage, it never
    # falls nor turns busy again; it moves, and never reaches the end.
    first = next(i for i, s in enumerate(progress) if s["fraction"] is not None)
    fractions = [float(s["fraction"]) if s["fraction"] is not None else None for s in progress[first:]]
    assert None not in fractions and fractions == sorted(fractions), progress
    assert len(set(fractions)) >= 2 and all(0 <= f < 1 for f in fractions), fractions
    assert len({s["text"] for s in progress[first:]}) >= 2, progress  # across more than one stage
    assert not any("Waiting" in s["text"] for s in seen), seen
