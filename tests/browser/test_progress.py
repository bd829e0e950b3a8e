"""Honest progress on a cold start: while Python boots, the engine says so (and not "reading the
image"), with this device's usual time once it has one; it says "waiting" only with a job ahead;
it keeps how long each engine takes here, and the engine choice then says "about N s here"; the
popup's bar fills during the cold start and never moves back."""

import json
import re

import pytest

from composites import composite
from conftest import ROOT

pytestmark = pytest.mark.browser

TIMINGS = "backgrone-timings-v1"
EN = json.loads((ROOT / "_locales" / "en" / "messages.json").read_text(encoding="utf-8"))


def stages(progress):
    return [p["stage"] for p in progress if p["stage"] != "heartbeat"]


def timings(browser):
    """What the engine kept about this device (localStorage of the extension's origin)."""
    page = browser.ctx.new_page()
    try:
        page.goto(browser.ext_url("models/catalogue.json"))  # an extension page that starts nothing
        return json.loads(page.evaluate("(k) => localStorage.getItem(k) || '{}'", TIMINGS))
    finally:
        page.close()


def close_engine(browser):
    """The engine document goes, as after a browser restart: the next job boots Python again."""
    browser.sw.evaluate("() => chrome.offscreen.closeDocument().catch(() => {})")


def cut(browser, page, selector):
    """A right-click's result; the engine's progress messages for it."""
    if not browser.sw.evaluate("() => Array.isArray(globalThis.__progress)"):
        browser.record_progress()
    browser.sw.evaluate("() => { globalThis.__progress.length = 0; }")
    result = browser.menu_click(page, page.eval_on_selector(selector, "img => img.currentSrc"))
    assert result["ok"], result
    return browser.progress()


def test_a_cold_start_says_the_engine_starts_and_its_times_are_kept(browser, page):
    # The first cut after the browser starts: the engine document is made for it and boots Python.
    first = cut(browser, page, "#same")
    said = stages(first)
    assert said[0] == "fetching-image" and said[1] == "starting-engine", said
    # The model's session is built beside Python's boot: if the job still waits for it, it says so after decoding.
    assert said.index("starting-engine") < said.index("decoding"), said
    if "loading-engine" in said:
        assert said.index("decoding") < said.index("loading-engine"), said
    assert "queued" not in said, said  # nothing was ahead of it
    starting = next(p for p in first if p["stage"] == "starting-engine")
    assert starting["engine"] == "fast" and starting.get("expectedMs") is None  # nothing timed yet here
    kept = timings(browser)
    assert len(kept["boot"]) == 1 and len(kept.get("load:fast", [])) <= 1 and "run:fast" not in kept, kept

    # The second: Python up, the model loaded: nothing cold to say, and its time is the warm figure.
    second = cut(browser, page, "#other")
    assert stages(second) == ["fetching-image", "decoding", "removing-background", "encoding"], second
    kept = timings(browser)
    assert len(kept["run:fast"]) == 1 and kept["run:fast"][0] > 0, kept

    # The engine choice now says how long Fast takes here.
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    about = popup.locator("#engine-about").inner_text()
    assert re.search(r" · (about \d+(\.\d)?\u00a0s|under a second) here\b", about), about
    popup.close()

    # After a restart of the engine the cold steps carry this device's times: a bar can fill toward them.
    close_engine(browser)
    third = cut(browser, page, "#srcset")
    starting = next(p for p in third if p["stage"] == "starting-engine")
    assert 0 < starting["expectedMs"] <= kept["boot"][0], (starting, kept)
    # The model's load, when the job still waits for it, fills toward its time here.
    loading = next((p for p in third if p["stage"] == "loading-engine"), None)
    if loading and kept.get("load:fast"):
        assert loading["expectedMs"] == kept["load:fast"][0], (loading, kept)


def test_the_popups_bar_fills_during_a_cold_start_and_never_moves_back(browser, tmp_path):
    data, _ = composite("ball", 640, 480, seed=5)
    (tmp_path / "photo.png").write_bytes(data)
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    # This device's times (as an earlier session kept them), and an engine that must boot afresh.
    popup.evaluate(
        "(k) => localStorage.setItem(k, JSON.stringify({boot: [8000], 'load:fast': [1500], 'run:fast': [1500]}))",
        TIMINGS,
    )
    close_engine(browser)
    # Every change of the status line, its bar and the card's words, as the popup shows them.
    popup.evaluate(
        """() => {
            window.__seen = [];
            const look = () => window.__seen.push({
                text: document.getElementById('status-text').textContent,
                width: parseFloat(document.getElementById('status-bar').style.width) || 0,
                card: document.querySelector('.card .state')?.textContent || '',
            });
            new MutationObserver(look).observe(document.body,
                { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['style'] });
        }"""
    )
    popup.set_input_files("#files", [str(tmp_path / "photo.png")])
    popup.wait_for_selector(".card[data-state=done]")
    seen = popup.evaluate("() => window.__seen")
    popup.close()
    starting = EN["stageStartingEngine"]["message"]
    loading = EN["stageLoadingModel"]["message"].replace("$ENGINE$", "Fast")
    cold = [s for s in seen if s["text"] in (starting, loading)]
    assert any(s["text"] == starting for s in cold), seen
    assert any(s["card"] == starting for s in seen), seen  # the card says it too
    assert max(s["width"] for s in cold) > 0, cold  # not stuck at 0 through the cold start
    assert not [s for s in seen if "engineName_" in s["card"] + s["text"]], seen  # never a raw key
    widths = [s["width"] for s in seen if s["text"]]
    assert widths == sorted(widths), widths  # never back
    assert seen[-1]["width"] == 100 and seen[-1]["text"] == "Done: 1 of 1 cut out.", seen[-1]
