"""Refine… in real headless Firefox (ESR, WebDriver BiDi; the engine in the event page): after a
real right-click, the overlay's Refine… (by keyboard) opens the editor on that cut-out in a tab
beside the page, a stroke drawn there with real pointer events applies, and Done puts the refined
cut-out in the page's own <img>."""

import pytest

from .firefox import Firefox
from .harness import DRAW_IMG, wait_for
from .test_editor_page import TO_SCREEN

pytestmark = pytest.mark.browser

TAB, ENTER = "\ue004", "\ue007"  # WebDriver key codes

# The alpha of a few pixels of an <img> the page can read: along a stroke's line, and far from it.
ALPHA_AT = (
    "async (selector, points) => {"
    + DRAW_IMG
    + """    return points.map(([x, y]) => g.getImageData(x, y, 1, 1).data[3]);
}"""
)


def pointer(ff: Firefox, ctx: str, *steps: dict) -> None:
    """Real pointer events in the page (viewport coordinates)."""
    ff._cmd(
        "input.performActions",
        context=ctx,
        actions=[{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": list(steps)}],
    )
    ff._cmd("input.releaseActions", context=ctx)


def test_refine_from_the_overlay_opens_the_editor_and_a_stroke_applies(firefox, sites):
    a, _ = sites
    tab = firefox.new_tab()
    firefox.navigate(tab, a.url("index.html"))
    assert firefox.context_menu_click(tab, "#other") == "Remove background"
    wait_for(
        lambda: firefox.call(tab, "() => document.querySelector('#other').src.startsWith('blob:')"),
        "the cut-out never showed",
    )
    size = firefox.call(
        tab, "() => { const i = document.querySelector('#other'); return [i.naturalWidth, i.naturalHeight]; }"
    )
    assert size == [480, 360]
    line = [[x, 180] for x in range(200, 281, 10)]
    far = [[20, 20], [460, 340], [240, 60], [160, 270], [330, 100]]  # background, and subject far from the stroke
    before = firefox.call(tab, ALPHA_AT, "#other", line + far)
    assert min(before[: len(line)]) > 250
    # The finished box has the focus (nothing else had it): Tab to Save, Copy, Refine…, then Enter.
    firefox.press(tab, TAB, TAB, TAB, ENTER)
    prefix = firefox.ext_url("extension/editor/editor.html#")
    editor = wait_for(
        lambda: next(
            (
                c["context"]
                for c in firefox._cmd("browsingContext.getTree", maxDepth=0)["contexts"]
                if c["url"].startswith(prefix)
            ),
            None,
        ),
        "no editor tab opened",
    )
    indices = firefox.background(
        """async (bg, prefix, pageUrl) => {
            const tabs = await browser.tabs.query({});
            const ed = tabs.find((t) => (t.url || "").startsWith(prefix)), page = tabs.find((t) => t.url === pageUrl);
            return [ed.index - page.index, ed.openerTabId === page.id];
        }""",
        prefix,
        a.url("index.html"),
    )
    assert indices == [1, True]
    wait_for(
        lambda: firefox.evaluate(editor, "document.body.dataset.ready !== undefined"), "the editor never got ready"
    )
    firefox.press(editor, "x")  # Remove
    (x0, y), (x1, _) = (
        firefox.call(editor, TO_SCREEN, [200, 180, *size]),
        firefox.call(editor, TO_SCREEN, [280, 180, *size]),
    )
    steps = [{"type": "pointerMove", "x": round(x0), "y": round(y)}, {"type": "pointerDown", "button": 0}]
    steps += [
        {"type": "pointerMove", "x": round(x0 + (x1 - x0) * i / 10), "y": round(y), "duration": 20}
        for i in range(1, 11)
    ]
    pointer(firefox, editor, *steps, {"type": "pointerUp", "button": 0})
    wait_for(
        lambda: firefox.evaluate(
            editor, "document.getElementById('canvas').getAttribute('aria-label').endsWith(': 1')"
        ),
        "the stroke never applied",
    )
    done = firefox.evaluate(
        editor,
        "(() => { const r = document.getElementById('done').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()",
    )
    pointer(
        firefox,
        editor,
        {"type": "pointerMove", "x": round(done[0]), "y": round(done[1])},
        {"type": "pointerDown", "button": 0},
        {"type": "pointerUp", "button": 0},
    )
    wait_for(
        lambda: firefox.evaluate(editor, "document.getElementById('status').textContent.startsWith('Done: ')"),
        "Done never finished",
    )
    # The page's own <img> shows the refined cut-out: gone along the stroke, the same far from it.
    after = wait_for(
        lambda: (got := firefox.call(tab, ALPHA_AT, "#other", line + far)) != before and got,
        "the page's image never changed",
    )
    assert max(after[: len(line)]) < 5, after
    assert after[len(line) :] == before[len(line) :]
    firefox.close_tab(editor)
    firefox.close_tab(tab)
