"""The refine editor's page in real Chromium, opened from a popup card's Refine… on a real cut:
a stroke drawn with real mouse events applies (the picture changes where drawn, its text
alternative counts the edit), Ctrl+Z takes it back and Redo brings it again, Before shows the
model's cut-out, Done puts the refined one on the card and Download saves it; the edit log
exports as <stem>.json and a bad one is refused in words; an editor on a cut-out the engine
no longer keeps says so and what to do; axe finds nothing serious in light and dark, and the
tools are a radio group the keys B, L, F, R and X work."""

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .test_a11y import serious

pytestmark = pytest.mark.browser

EDITOR = "extension/editor/editor.html"
MAGENTA = [255, 0, 255]


@pytest.fixture
def photo(tmp_path):
    from composites import composite

    data, _ = composite("ball", 400, 300, seed=0)
    (tmp_path / "ball.png").write_bytes(data)
    return tmp_path / "ball.png"


def open_editor(browser, photo, scheme="light"):
    """A real cut in the popup, then its card's Refine…: the editor's tab, ready."""
    popup = browser.open_popup()
    popup.set_input_files("#files", [str(photo)])
    popup.wait_for_selector(".card[data-state=done] .refine:not([hidden])", timeout=120_000)
    with browser.ctx.expect_page() as opened:
        popup.locator(".card .refine").click()
    editor = opened.value
    editor.emulate_media(color_scheme=scheme)
    editor.wait_for_selector("body[data-ready]", timeout=60_000)
    return popup, editor


# The screen point of an image point: the page fits the image, centred, with a 16 px margin.
TO_SCREEN = """([ix, iy, w, h]) => {
    const r = document.getElementById('canvas').getBoundingClientRect();
    const s = Math.min((r.width - 32) / w, (r.height - 32) / h);
    return [r.left + (r.width - w * s) / 2 + ix * s, r.top + (r.height - h * s) / 2 + iy * s];
}"""
# The screen canvas's colour at an image point.
PIXEL = """([ix, iy, w, h]) => {
    const c = document.getElementById('canvas'), r = c.getBoundingClientRect(), d = devicePixelRatio;
    const s = Math.min((r.width - 32) / w, (r.height - 32) / h);
    const x = ((r.width - w * s) / 2 + ix * s) * d, y = ((r.height - h * s) / 2 + iy * s) * d;
    return [...c.getContext('2d').getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)];
}"""


# The newest finished download whose name starts so (an earlier test may have saved one of that name).
DOWNLOADED = """async (stem) => {
    for (let i = 0; i < 100; i++) {
        const [d] = await chrome.downloads.search({ state: 'complete', orderBy: ['-startTime'], limit: 1 });
        if (d?.exists && d.filename.split('/').pop().startsWith(stem)) return d.filename;
        await new Promise((r) => setTimeout(r, 100));
    }
    return null;
}"""


def label(editor) -> str:
    return editor.locator("#canvas").get_attribute("aria-label")


def test_a_stroke_applies_and_undo_and_redo_take_it_back_and_again(browser, photo, tmp_path):
    popup, editor = open_editor(browser, photo)
    assert editor.locator("#canvas").get_attribute("role") == "img"
    assert label(editor) == "Cut-out of ball-cutout.png, edits applied: 0"
    # On a magenta backdrop, a removed pixel shows magenta.
    editor.select_option("#backdrop", "color")
    editor.eval_on_selector("#color", "(c) => { c.value = '#ff00ff'; c.dispatchEvent(new Event('input')); }")
    centre = [200, 150, 400, 300]
    editor.wait_for_function(f"() => ({PIXEL})({centre}).join() !== '{','.join(map(str, MAGENTA))}'")
    before = editor.evaluate(PIXEL, centre)
    assert before != MAGENTA  # the ball is kept
    editor.keyboard.press("x")  # Remove
    assert editor.locator("#modes input[value=remove]").is_checked()
    x0, y = editor.evaluate(TO_SCREEN, [150, 150, 400, 300])
    x1, _ = editor.evaluate(TO_SCREEN, [250, 150, 400, 300])
    editor.mouse.move(x0, y)
    editor.mouse.down()
    editor.mouse.move(x1, y, steps=12)
    editor.mouse.up()
    editor.wait_for_function("() => document.getElementById('canvas').getAttribute('aria-label').endsWith(': 1')")
    editor.wait_for_function(f"() => ({PIXEL})({centre}).join() === '255,0,255'")
    far = [20, 20, 400, 300]
    far_before = editor.evaluate(PIXEL, far)

    editor.keyboard.press("Control+z")
    editor.wait_for_function("() => document.getElementById('canvas').getAttribute('aria-label').endsWith(': 0')")
    editor.wait_for_function(f"() => ({PIXEL})({centre}).join() === '{','.join(map(str, before))}'")
    assert editor.locator("#undo").is_disabled() and editor.locator("#redo").is_enabled()

    editor.locator("#redo").click()
    editor.wait_for_function("() => document.getElementById('canvas').getAttribute('aria-label').endsWith(': 1')")
    editor.wait_for_function(f"() => ({PIXEL})({centre}).join() === '255,0,255'")
    assert editor.evaluate(PIXEL, far) == far_before  # nothing far from the stroke changed

    # Before: the model's cut-out, while the button is pressed (or P held).
    editor.locator("#before").click()
    assert editor.locator("#before").get_attribute("aria-pressed") == "true"
    assert label(editor).startswith("The model’s cut-out of ball-cutout.png")
    editor.wait_for_function(f"() => ({PIXEL})({centre}).join() === '{','.join(map(str, before))}'")
    editor.locator("#before").click()
    editor.wait_for_function(f"() => ({PIXEL})({centre}).join() === '255,0,255'")

    # Done: the card in the popup shows the refined cut-out; Download saves it.
    card = popup.eval_on_selector(".card .preview img", "(img) => img.src")
    editor.locator("#done").click()
    editor.wait_for_function("() => document.getElementById('status').textContent.startsWith('Done: ')")
    popup.wait_for_function("(old) => document.querySelector('.card .preview img').src !== old", arg=card)
    browser.keep_download_names(editor)
    editor.locator("#download").click()
    editor.wait_for_function("() => document.getElementById('status').textContent === 'Saved as ball-cutout.png.'")
    saved = editor.evaluate(DOWNLOADED, "ball-cutout")
    alpha = np.asarray(Image.open(saved).getchannel("A"))
    assert alpha.shape == (300, 400) and alpha[150, 200] == 0 and alpha[90, 200] == 255

    # Export: <stem>.json, the log the CLI replays.
    editor.locator("#export").click()
    editor.wait_for_function("() => document.getElementById('status').textContent.includes('ball.json')")
    saved = editor.evaluate(DOWNLOADED, "ball")
    log = json.loads(Path(saved).read_text())
    assert log["version"] == 1 and len(log["edits"]) == 1
    stroke = log["edits"][0]
    assert stroke["op"] == "remove" and stroke["radius"] > 0
    assert abs(stroke["points"][0][0] - 150) < 1 and abs(stroke["points"][-1][0] - 250) < 1

    # Import: a file that is not JSON, and one the engine refuses, are named with the reason.
    (tmp_path / "notes.json").write_text("not json")
    editor.set_input_files("#import-file", str(tmp_path / "notes.json"))
    editor.wait_for_function(
        "() => document.getElementById('error').textContent.includes('notes.json is not an edit log')"
    )
    bad = {"version": 1, "edits": [{"op": "keep", "radius": -4, "points": [[10, 10]]}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    editor.set_input_files("#import-file", str(tmp_path / "bad.json"))
    editor.wait_for_function(
        "() => document.getElementById('error').textContent.startsWith('bad.json was not imported: ')"
    )
    assert "radius" in editor.locator("#error").text_content()
    assert label(editor).endswith(": 1")  # the refused import changed nothing
    editor.close()
    popup.close()


def test_an_editor_on_a_cut_out_no_longer_kept_says_what_to_do(browser):
    editor = browser.ctx.new_page()
    editor.goto(browser.ext_url(f"{EDITOR}#{uuid.uuid4()}"))
    editor.wait_for_selector("body[data-closed]", timeout=60_000)
    text = editor.locator("#error[role=alert]").text_content()
    assert text and len(text) > 20
    assert editor.locator("#done").is_disabled() and editor.locator("#undo").is_disabled()
    editor.goto(browser.ext_url(EDITOR))  # no cut-out named at all
    editor.wait_for_selector("body[data-closed]")
    assert "Refine…" in editor.locator("#error").text_content()
    editor.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_editor_has_no_serious_violations_and_works_by_keyboard(browser, photo, scheme):
    popup, editor = open_editor(browser, photo, scheme)
    assert serious(editor) == []
    bg = editor.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert bg == ("rgb(29, 31, 35)" if scheme == "dark" else "rgb(255, 255, 255)")
    checked = "() => document.querySelector('input[name=tool]:checked').value"
    for key, tool in [("l", "lasso"), ("f", "flip"), ("r", "redetect"), ("b", "brush")]:
        editor.keyboard.press(key)
        assert editor.evaluate(checked) == tool
        assert editor.locator("#help").text_content()
    # The tools are one radio group: arrow keys move within it.
    editor.locator("input[name=tool][value=brush]").focus()
    editor.keyboard.press("ArrowRight")
    assert editor.evaluate(checked) == "lasso"
    size = editor.locator("#size").input_value()
    editor.locator("#canvas").focus()
    editor.keyboard.press("]")
    assert int(editor.locator("#size").input_value()) > int(size)
    editor.keyboard.down("p")  # held: the model's cut-out
    assert label(editor).startswith("The model’s cut-out of ball-cutout.png")
    editor.keyboard.up("p")
    assert label(editor).startswith("Cut-out of ball-cutout.png")
    zoom = editor.locator("#zoom").text_content()
    editor.keyboard.press("1")
    assert editor.locator("#zoom").text_content() == "100%"
    editor.keyboard.press("+")
    assert editor.locator("#zoom").text_content() != zoom
    editor.keyboard.press("0")
    assert editor.locator("#zoom").text_content() == zoom
    # Escape while drawing drops the stroke: nothing is applied on release.
    editor.keyboard.press("b")
    editor.mouse.move(*editor.evaluate(TO_SCREEN, [150, 150, 400, 300]))
    editor.mouse.down()
    editor.mouse.move(*editor.evaluate(TO_SCREEN, [250, 150, 400, 300]), steps=5)
    editor.keyboard.press("Escape")
    editor.mouse.up()  # the release is handled before this returns: a stroke would count at once
    assert label(editor).endswith(": 0") and editor.locator("#undo").is_disabled()
    editor.close()
    popup.close()


def drag(editor, points, size=(400, 300)):
    """A real mouse drag through these image points."""
    screen = [editor.evaluate(TO_SCREEN, [x, y, *size]) for x, y in points]
    editor.mouse.move(*screen[0])
    editor.mouse.down()
    for x, y in screen[1:]:
        editor.mouse.move(x, y, steps=4)
    editor.mouse.up()


def wait_edits(editor, n: int) -> None:
    editor.wait_for_function(f"() => document.getElementById('canvas').getAttribute('aria-label').endsWith(': {n}')")


def test_lasso_flip_and_a_redetect_that_shows_progress_and_cannot_run_twice(browser, photo):
    popup, editor = open_editor(browser, photo)
    editor.select_option("#backdrop", "color")
    editor.eval_on_selector("#color", "(c) => { c.value = '#ff00ff'; c.dispatchEvent(new Event('input')); }")
    corner = [60, 50, 400, 300]  # background
    editor.wait_for_function(f"() => ({PIXEL})({corner}).join() === '255,0,255'")
    editor.evaluate(
        """() => { window.__said = []; const s = document.getElementById('status');
            new MutationObserver(() => window.__said.push(s.textContent)).observe(s, { childList: true, characterData: true, subtree: true }); }"""
    )
    # A keep lasso round a patch of background: its inside becomes subject.
    editor.keyboard.press("l")
    drag(editor, [(20, 15), (105, 15), (105, 85), (20, 85), (20, 15)])
    wait_edits(editor, 1)
    editor.wait_for_function(f"() => ({PIXEL})({corner}).join() !== '255,0,255'")
    # Flip that patch: it goes again.
    editor.keyboard.press("f")
    drag(editor, [(60, 50)])
    wait_edits(editor, 2)
    editor.wait_for_function(f"() => ({PIXEL})({corner}).join() === '255,0,255'")
    # Re-detect a box round the ball; a second box while it runs is refused in words.
    # Two boxes dragged in one go (synthetic events, so that the second surely comes while the first runs).
    editor.keyboard.press("r")
    boxes = [
        [editor.evaluate(TO_SCREEN, [x, y, 400, 300]) for x, y in box]
        for box in [[(90, 40), (310, 260)], [(10, 10), (80, 80)]]
    ]
    editor.evaluate(
        """(boxes) => { const c = document.getElementById('canvas');
            const at = (type, [x, y], buttons) => c.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, button: 0, buttons, pointerId: 7, bubbles: true }));
            for (const [a, b] of boxes) { at('pointerdown', a, 1); at('pointermove', b, 1); at('pointerup', b, 0); } }""",
        boxes,
    )
    editor.wait_for_function("() => window.__said.includes('Area detected again.')", timeout=120_000)
    said = editor.evaluate("() => window.__said")
    assert "Looking at the area again…" in said
    assert "Re-detect is still running; please wait for it to finish." in said
    wait_edits(editor, 3)
    assert label(editor).endswith(": 3")  # the second box never became an edit (refused as dispatched)
    assert editor.locator("#progress").is_hidden()
    # The engine goes (its document closed): the editor says so, and Export still saves the edits.
    browser.sw.evaluate("() => chrome.offscreen.closeDocument()")
    editor.wait_for_selector("body[data-closed]")
    assert editor.locator("#done").is_disabled() and not editor.locator("#export").is_disabled()
    browser.keep_download_names(editor)
    editor.locator("#export").click()
    editor.wait_for_function("() => document.getElementById('status').textContent.includes('ball')")
    saved = editor.evaluate(DOWNLOADED, "ball")
    assert [e["op"] for e in json.loads(Path(saved).read_text())["edits"]] == ["keep", "toggle", "redetect"]
    editor.close()
    popup.close()
