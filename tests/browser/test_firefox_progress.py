"""Firefox: the event page boots Python when a job needs it (on its first job, and again after it
slept), and says so: STARTING_ENGINE, with this device's usual time once it has one, and never
"waiting" with nothing ahead; the boot's time is kept where the popup reads it."""

import base64
import json
import time
from pathlib import Path

import pytest

from composites import composite

from .firefox import Firefox

pytestmark = pytest.mark.browser

LISTEN = """() => {
    if (!window.__listening) {
        window.__listening = true;
        browser.runtime.onMessage.addListener((m) => { if (m?.type === 'progress') window.__progress.push(m.data); });
    }
    window.__progress = [];
    return location.href;
}"""


# What the popup does with a file (lib/offscreen_client.js in Firefox): the event page wakes for it.
ADD = """async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
    const file = { name: 'photo.png', type: 'image/png', size: bytes.byteLength, url };
    const data = { files: [file], engine: 'fast', options: {}, modelSource: 'https://models.invalid/' };
    const { ok } = await browser.runtime.sendMessage({ target: 'offscreen', type: 'batch-add', data });
    return { ok };
}"""


def cut(ff: Firefox, tab: str) -> list[dict]:
    """A right-click on the page's own image; the engine's stages for it, as an extension page hears them."""
    ff.call(ff.helper(), LISTEN)
    src = ff.call(tab, "() => document.querySelector('#same').currentSrc")
    result = ff.menu_click(tab, src)
    assert result["ok"], result
    return ff.call(ff.helper(), "() => window.__progress")


def heard_until_encoded(ff: Firefox, timeout_s: float = 120) -> list[dict]:
    end = time.monotonic() + timeout_s
    while True:
        heard = ff.call(ff.helper(), "() => window.__progress")
        if "encoding" in [p["stage"] for p in heard]:
            return heard
        assert time.monotonic() < end, heard
        time.sleep(0.2)


def test_the_event_page_says_it_starts_the_engine_each_time_it_boots(ext_dir, sites, tmp_path):
    with Firefox(Path(ext_dir), tmp_path / "profile", tmp_path / "downloads") as ff:
        ff.settings(engine="fast")
        tab = ff.new_tab()
        ff.navigate(tab, sites[0].url("index.html"))
        first = cut(ff, tab)
        said = [p["stage"] for p in first]
        assert said[:2] == ["fetching-image", "starting-engine"] and "queued" not in said, said
        assert next(p for p in first if p["stage"] == "starting-engine").get("expectedMs") is None
        kept = json.loads(ff.call(ff.helper(), "() => localStorage.getItem('backgrone-timings-v1')"))
        assert len(kept["boot"]) == 1, kept
        # Asleep, and woken by the popup's next file: Python boots again, and the bar has a time to fill toward.
        ff.terminate_background()
        ff.call(ff.helper(), LISTEN)
        photo = base64.b64encode(composite("ball", 640, 480, seed=5)[0]).decode()
        popup = ff.open_ext_page("extension/popup/popup.html")
        assert ff.call(popup, ADD, photo)["ok"]
        again = heard_until_encoded(ff)
        said = [p["stage"] for p in again]
        assert said[:2] == ["fetching-image", "starting-engine"] and "queued" not in said, said
        starting = next(p for p in again if p["stage"] == "starting-engine")
        # What is left of the usual boot: the job starts Python's boot as it reads the file.
        assert 0 < starting["expectedMs"] <= kept["boot"][0], (starting, kept)
