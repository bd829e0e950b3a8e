"""Medium, the engine not in the package, downloaded on purpose: "Download now" in the options
shows its progress and ends "On this device" (a cut started meanwhile waits on the same
download); a failed download shows a sentence and Retry, stays failed across a reload and a
new engine document, and a cut with Medium then uses Detailed at once, with a plain notice and
no request; Retry that succeeds clears it. Through a loopback model mirror (throttled or failing)."""

import json
import time
import uuid

import pytest

from conftest import ROOT

from .harness import Overlays, wait_until
from .test_a11y import serious

pytestmark = pytest.mark.browser

CHUNKS = [
    c["sha256"]
    for c in json.loads((ROOT / "models" / "catalogue.json").read_text())["engines"]["medium"]["source"]["chunks"]
]
MEDIUM = "[data-engine=medium]"
FAILED_NOTICE = (
    "The Medium model could not be downloaded, so Detailed was used. "
    "Check the connection and choose Retry in the settings, or choose Detailed in the popup or the settings."
)

START_CUT = """async ([pageUrl, srcUrl]) => {
    const [tab] = await chrome.tabs.query({ url: pageUrl });
    globalThis.__cut = { settled: false };
    globalThis.backgrone.onMenuClick({ menuItemId: 'backgrone-remove-background', srcUrl, pageUrl, frameId: 0 }, tab)
      .then((r) => { globalThis.__cut = { settled: true, ...r }; },
            (e) => { globalThis.__cut = { settled: true, ok: false, error: String(e) }; });
}"""


def open_options(b):
    options = b.ctx.new_page()
    options.goto(b.ext_url("extension/options/options.html"))
    options.locator(f"{MEDIUM}[data-model]").wait_for()
    return options


def open_page(b, sites):
    page = b.ctx.new_page()
    page.goto(sites[0].url(f"index.html?tab={uuid.uuid4().hex}"))  # menu_click finds the tab by URL
    return page


def wait_for(what, timeout_s: float):
    end = time.time() + timeout_s
    while time.time() < end:
        if value := what():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s")


def test_download_now_shows_progress_ends_on_this_device_and_a_cut_meanwhile_shares_it(fresh, sites, mirror):
    b = fresh
    popup = b.open_popup()
    line = popup.locator("#engine-about .model-line")
    line.locator(".model-state", has_text="Not downloaded yet").wait_for()
    assert line.get_attribute("data-model") == "absent"
    assert line.locator(".model-action").inner_text() == "Download now"
    popup.close()

    options = open_options(b)
    row = options.locator(MEDIUM)
    assert row.get_attribute("data-model") == "absent"
    assert options.locator("[data-engine=standard]").get_attribute("data-model") == "built-in"
    assert options.locator("#delete-all").is_disabled()  # nothing downloaded yet
    mirror.throttle(12_000_000)  # 88 MB in about 7 s: time to see it go
    row.locator(".model-action", has_text="Download now").click()
    options.locator(f"{MEDIUM}[data-model=downloading]").wait_for()
    options.wait_for_function(
        "() => document.querySelector('[data-engine=medium] .model-progress').value > 5", polling=100
    )
    state = row.locator(".model-state").inner_text()
    assert state.startswith("Downloading: ") and state.endswith("%"), state
    assert row.locator(".model-progress").is_visible()
    assert serious(options) == []

    # A cut with Medium now waits on this very download: every chunk is fetched once.
    page = open_page(b, sites)
    b.sw.evaluate(START_CUT, [page.url, page.eval_on_selector("#same", "img => img.currentSrc")])
    mirror.throttle(30_000_000)
    options.locator(f"{MEDIUM}[data-model=on-device]").wait_for()
    assert row.locator(".model-state").inner_text() == "On this device"
    assert row.locator(".delete").is_visible() and not row.locator(".model-action").is_visible()
    assert options.locator("#delete-all").is_enabled() and options.locator("#nothing-downloaded").is_hidden()
    cut = wait_for(lambda: (c := b.sw.evaluate("() => globalThis.__cut"))["settled"] and c, 120)
    assert cut["ok"] and cut["engine"] == "medium" and cut["notice"] is None, cut
    assert mirror.requests == CHUNKS  # one download, shared

    popup = b.open_popup()
    popup.locator("#engine-about .model-line[data-model=on-device]", has_text="On this device").wait_for()
    assert not popup.locator("#engine-about .model-action").is_visible()
    popup.close()

    row.locator(".delete").click()
    options.locator(f"{MEDIUM}[data-model=absent]").wait_for()
    assert options.locator("#delete-all").is_disabled()


def test_a_failed_download_stays_failed_cuts_use_detailed_without_the_network_until_retry(fresh, sites, mirror):
    b = fresh
    options = open_options(b)
    mirror.fail_after(3)  # the source goes away after 3 of 22 chunks
    options.locator(f"{MEDIUM} .model-action", has_text="Download now").click()
    options.locator(f"{MEDIUM}[data-model=failed]").wait_for()
    row = options.locator(MEDIUM)
    assert row.locator(".model-state").inner_text() == "Download failed"
    assert row.locator(".model-problem").inner_text() == (
        "Check the connection and choose Retry; until then, a cut with Medium uses Detailed."
    )
    assert row.locator(".model-action").inner_text() == "Retry"
    for scheme in ("light", "dark"):
        options.emulate_media(color_scheme=scheme)
        assert serious(options) == [], scheme

    # It stays failed: a reload of the page, and a new engine document (failures are kept on the device).
    b.sw.evaluate("() => chrome.offscreen.closeDocument()")
    options.reload()
    options.locator(f"{MEDIUM}[data-model=failed]").wait_for()
    popup = b.open_popup()
    popup.locator("#engine-about .model-line[data-model=failed]").wait_for()
    assert popup.locator("#engine-about .model-action").inner_text() == "Retry"
    assert "until then, a cut with Medium uses Detailed" in popup.locator("#engine-about .model-problem").inner_text()
    assert serious(popup) == []
    popup.close()

    # A cut with Medium uses Detailed at once: a plain notice, no request to the source.
    asked = len(mirror.requests)
    page = open_page(b, sites)
    result = b.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))
    assert result["ok"] and result["engine"] == "detailed", result
    assert result["notice"] == FAILED_NOTICE
    assert FAILED_NOTICE in Overlays(page).text()
    assert len(mirror.requests) == asked
    page.close()

    # Retry with the source back: only the missing chunks, and the failure is gone.
    mirror.reset()
    options.locator(f"{MEDIUM} .model-action", has_text="Retry").click()
    options.locator(f"{MEDIUM}[data-model=on-device]").wait_for()
    assert mirror.requests == CHUNKS[3:]
    assert not row.locator(".model-problem").is_visible()
    b.record_progress()
    page = open_page(b, sites)
    result = b.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))
    assert result["ok"] and result["engine"] == "medium" and result["notice"] is None, result
    # The download on purpose stored the bytes only: the cut loads the model itself (a session
    # built by the download could have pushed out the one a user cuts with).
    said = [(p["stage"], p.get("engine")) for p in b.progress()]
    assert ("loading-engine", "medium") in said, said


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_options_mark_the_chosen_engine_keep_the_source_under_advanced_and_say_nothing_is_downloaded(browser, scheme):
    options = browser.ctx.new_page()
    options.emulate_media(color_scheme=scheme)
    options.goto(browser.ext_url("extension/options/options.html"))
    options.locator("[data-engine=fast][data-model=built-in]").wait_for()
    # The chosen engine's row stands out (the module's browser has chosen Fast).
    background = "(el) => getComputedStyle(el).backgroundColor"
    fast, standard = options.locator("[data-engine=fast]"), options.locator("[data-engine=standard]")
    assert "chosen" in fast.get_attribute("class") and "chosen" not in standard.get_attribute("class")
    assert fast.evaluate(background) != standard.evaluate(background)
    options.locator("#engine-standard").check()
    options.locator("[data-engine=standard].chosen").wait_for()
    assert "chosen" not in fast.get_attribute("class")
    options.locator("#engine-fast").check()
    wait_until(options, "async () => (await chrome.storage.local.get('engine')).engine === 'fast'")
    # Nothing downloaded: Delete is off, and the page says why.
    options.locator("#nothing-downloaded").wait_for()
    assert (
        options.locator("#nothing-downloaded").inner_text()
        == "Nothing is downloaded: the built-in engines need no download."
    )
    assert options.locator("#delete-all").is_disabled()
    # The model source waits under Advanced; a refused address is told in a sentence.
    assert not options.locator("#source").is_visible()
    options.locator("#advanced summary", has_text="Advanced").click()
    words = options.locator("body").inner_text()
    assert "sha256" not in words and "@imgly" not in words
    options.fill("#source", "http://example.com/models/")
    options.locator("#source-form button[type=submit]").click()
    options.locator("#source-state.error").wait_for()
    assert options.locator("#source-state").inner_text() == (
        "The address must start with https://. Plain http:// works only for a server on this computer "
        "(localhost or 127.0.0.1)."
    )
    options.close()


def test_in_firefox_a_failed_download_outlives_the_event_page_and_cuts_use_detailed(ext_dir, sites, mirror, tmp_path):
    """Firefox: the engine lives in the event page, which the browser suspends; the failure is
    kept on the device all the same, and a cut with Medium uses Detailed without a request."""
    from pathlib import Path

    from .firefox import Firefox

    mirror.reset()
    ff = Firefox(Path(ext_dir), tmp_path / "profile", tmp_path / "downloads")
    try:
        ff.settings(engine="medium", modelSource=mirror.url)
        mirror.fail_after(2)
        options = ff.open_ext_page("extension/options/options.html")
        model = "() => document.querySelector('[data-engine=medium]')?.dataset.model"
        wait_for(lambda: ff.call(options, model) == "absent", 60)
        ff.call(options, "() => document.querySelector('[data-engine=medium] .model-action').click()")
        wait_for(lambda: ff.call(options, model) == "failed", 60)
        ff.terminate_background()
        asked = len(mirror.requests)
        page = ff.new_tab()
        ff.navigate(page, sites[0].url("index.html"))
        result = ff.menu_click(page, sites[0].url("ball.png"))
        assert result["ok"] and result["engine"] == "detailed", result
        assert result["notice"] == FAILED_NOTICE
        assert len(mirror.requests) == asked
    finally:
        mirror.reset()
        ff.close()
