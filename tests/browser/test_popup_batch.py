"""The popup's batch outlives the popup: the engine keeps the files, their cut-outs and their
states, a reopened popup finds them (the rest still progressing, then finishing), downloads
still work, and Clear (also during a batch) cancels what is queued and removes the batch.
Bounded by count, bytes and time."""

import base64
import io
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from composites import composite

from .popup_zip import download_all

pytestmark = pytest.mark.browser

# The engine's word on the batch, as the popup hears it (the popup shares its thread with the
# engine in Chromium, so its cards may lag behind while the model runs).
LISTEN = """() => {
    window.__batch = null;
    chrome.runtime.onMessage.addListener((m) => { if (m?.type === 'batch') window.__batch = m.data; });
}"""


@pytest.fixture
def photos(tmp_path):
    paths = []
    for i in range(3):
        data, _ = composite("ball", 800, 600, seed=i)
        (tmp_path / f"ball{i}.png").write_bytes(data)
        paths.append(tmp_path / f"ball{i}.png")
    return paths


def test_closing_the_popup_loses_nothing(browser, photos):
    popup = browser.open_popup()
    popup.evaluate(LISTEN)
    popup.set_input_files("#files", [str(p) for p in photos])
    popup.wait_for_function("() => window.__batch?.items[0].state === 'done'")
    states = popup.evaluate("() => window.__batch.items.map((i) => i.state)")
    # closed mid-batch, after the first result (the last can't be done yet: each takes a second or more)
    assert states[0] == "done" and states[-1] != "done", states
    assert popup.locator("#batch-kept").inner_text() == "This batch is kept for 30 minutes after the popup closes."
    popup.close()

    popup = browser.open_popup()
    browser.keep_download_names(popup)
    assert popup.locator(".card .name").all_inner_texts() == ["ball0.png", "ball1.png", "ball2.png"]
    popup.wait_for_selector(".card:first-child[data-state=done]")
    assert popup.locator("#batch-kept").is_visible()
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state=done]').length === 3")
    assert popup.locator("#status-text").inner_text() == "Done: 3 of 3 cut out."
    assert popup.locator(".card .state").all_inner_texts() == ["Cut-out, 800×600, Fast"] * 3

    # The viewer still offers the original (the engine kept it too).
    popup.locator(".card .preview").first.click()
    popup.locator("#viewer-toggle").click()
    popup.wait_for_function(
        "() => { const i = document.getElementById('viewer-img'); return i.dataset.original === 'true' && i.complete && i.naturalWidth; }"
    )
    assert popup.locator("#viewer-img").evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [800, 600]
    popup.keyboard.press("Escape")

    archive = download_all(browser, popup)
    assert archive.namelist() == [f"ball{i}-cutout.png" for i in range(3)]
    for name in archive.namelist():
        im = Image.open(io.BytesIO(archive.read(name)))
        assert im.mode == "RGBA" and im.size == (800, 600)

    popup.click("#clear")
    popup.wait_for_function("() => !document.querySelector('.card')")
    assert popup.locator("#status").is_hidden() and popup.locator("#batch-kept").is_hidden()
    assert popup.locator("#clear").is_disabled() and popup.locator("#download-all").is_disabled()
    popup.close()
    popup = browser.open_popup()
    assert popup.locator(".card").count() == 0 and popup.locator("#batch-kept").is_hidden()
    popup.close()


def test_clear_during_a_batch_cancels_what_is_queued(browser, photos):
    popup = browser.open_popup()
    # Every job the engine starts says so (its progress); a cancelled file's job never starts.
    # Clear is pressed as soon as the first file is in the model (the popup shares its thread
    # with the engine in Chromium: a click from outside could come only after the batch).
    popup.evaluate(
        """() => {
            window.__started = new Set();
            window.__jobs = {};
            chrome.runtime.onMessage.addListener((m) => {
                if (m?.type === 'progress') window.__started.add(m.data.jobId);
                if (m?.type !== 'batch') return;
                for (const i of m.data.items) window.__jobs[i.name] = i.jobId;
                if (m.data.items[0]?.state === 'working' && !window.__cleared) {
                    window.__cleared = !document.getElementById('clear').disabled;
                    document.getElementById('clear').click();
                }
            });
        }"""
    )
    popup.set_input_files("#files", [str(p) for p in photos])
    popup.wait_for_function("() => window.__cleared")
    popup.wait_for_function("() => !document.querySelector('.card')")
    # A later file goes through: everything the engine was going to do is done by then.
    popup.set_input_files("#files", [str(photos[0])])
    popup.wait_for_selector(".card[data-state=done]")
    assert popup.locator(".card").count() == 1
    jobs = popup.evaluate("() => window.__jobs")
    started = set(popup.evaluate("() => [...window.__started]"))
    assert jobs["ball0.png"] in started  # the new one (names repeat: the newest id wins)
    assert jobs["ball2.png"] not in started
    popup.close()


BOUNDS = """async ([files, limits]) => {
    const { createBatch } = await import('/extension/engine/batch.js');
    const { callEngine } = await import('/extension/lib/offscreen_client.js');
    const { Type } = globalThis.BackgroneMessages;
    window.__snaps = [];
    const batch = createBatch({
        cut: (data) => callEngine(Type.CUT, data),  // the real engine, as the engine's own batch calls it
        holdAwake: () => () => {},
        broadcast: (s) => window.__snaps.push(s),
        limits,
    });
    window.__batch = batch;
    const urls = files.map(([name, b64]) => URL.createObjectURL(
        new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' })));
    const answer = await batch.handlers[Type.BATCH_ADD]({
        files: files.map(([name, b64], i) => ({ name, type: 'image/png', size: atob(b64).length, url: urls[i] })),
        engine: 'fast', options: {}, modelSource: 'https://example.invalid/',
    });
    return { refused: answer.refused, notices: answer.batch.notices, items: answer.batch.items.map((i) => [i.name, i.state, i.error || '']) };
}"""


def test_the_kept_batch_is_bounded(browser, tmp_path):
    """At most so many files and bytes (a clear word for what is refused), and gone `keptMs`
    after the last popup watching it closed. The module is run here with small limits."""
    files = []
    for i in range(4):
        data, _ = composite("ball", 200, 150, seed=i)
        files.append([f"b{i}.png", base64.b64encode(data).decode()])
    sizes = [len(base64.b64decode(b)) for _, b in files]
    page = browser.open_popup()
    limits = {"keptMs": 400, "maxItems": 3, "maxBytes": sizes[0] + sizes[1] // 2, "watchedMs": 60_000}
    added = page.evaluate(BOUNDS, [files, limits])
    assert added["refused"] == 1  # a fourth file: more than maxItems, and the batch says so
    assert added["notices"] == ["Files not added: 1 (a batch holds at most 3). Please download and clear it first."]
    assert [n for n, _, _ in added["items"]] == ["b0.png", "b1.png", "b2.png"]
    states = {n: (s, e) for n, s, e in added["items"]}
    refused = [n for n, (s, e) in states.items() if s == "failed"]
    assert len(refused) == 2  # over maxBytes: which of the two read first is a race, not the rule
    for n in refused:
        assert states[n][1].startswith("Not added: the batch would hold more than"), states[n]
    # Processed, then kept a while; a popup watching holds it; gone keptMs after it stops.
    page.evaluate(
        """() => { window.__port = { onDisconnect: { addListener: (f) => (window.__bye = f) } };
                   window.__batch.watch(window.__port); }"""
    )
    page.wait_for_function("() => window.__snaps.at(-1).items.some((i) => i.state === 'done')")
    page.wait_for_timeout(1000)  # longer than keptMs: a watched batch stays
    assert len(page.evaluate("() => window.__snaps.at(-1).items")) == 3
    page.evaluate("() => window.__bye()")
    page.wait_for_function("() => window.__snaps.at(-1).items.length === 0")
    page.close()


IDLE_S = 8  # Firefox suspends an idle event page after this long (30 s by default)


@pytest.fixture(scope="module")
def ff(ext_dir, tmp_path_factory):
    from .firefox import Firefox

    profile, downloads = tmp_path_factory.mktemp("ff-profile"), tmp_path_factory.mktemp("ff-downloads")
    f = Firefox(Path(ext_dir), profile, downloads, idle_timeout_ms=IDLE_S * 1000)
    f.settings(engine="fast")  # the bundled model: no download
    yield f
    f.close()


def ff_wait(ff, ctx, expression, timeout_s=90):
    end = time.monotonic() + timeout_s
    while not (value := ff.evaluate(ctx, expression)):
        assert time.monotonic() < end, f"never true: {expression}"
        time.sleep(0.2)
    return value


def ff_popup(ff):
    ctx = ff.open_ext_page("extension/popup/popup.html")
    ff_wait(ff, ctx, "document.body.dataset.ready === 'true'")
    return ctx


def test_firefox_a_reopened_popup_finds_the_batch(ff, photos):
    """Firefox: the engine's event page keeps the batch, and stays awake for it past the idle timeout."""
    from .test_firefox import POPUP_DROP, wait_for_file

    ctx = ff_popup(ff)
    ff.call(ctx, LISTEN)
    ff.call(ctx, POPUP_DROP, [[p.name, base64.b64encode(p.read_bytes()).decode(), "image/png"] for p in photos])
    ff_wait(ff, ctx, "window.__batch?.items[0].state === 'done'")
    states = ff.evaluate(ctx, "window.__batch.items.map((i) => i.state)")
    assert states[0] == "done" and states[-1] != "done", states
    ff.close_tab(ctx)

    ctx = ff_popup(ff)
    names = ff.evaluate(ctx, "[...document.querySelectorAll('.card .name')].map((n) => n.textContent)")
    assert names == ["ball0.png", "ball1.png", "ball2.png"]
    ff_wait(ff, ctx, "document.querySelectorAll('.card[data-state=done]').length === 3")
    ff.close_tab(ctx)
    time.sleep(IDLE_S + 2)  # nothing happens meanwhile: only the kept batch holds the event page
    assert ff.background_state() == "running"

    ctx = ff_popup(ff)
    ff_wait(ff, ctx, "document.querySelectorAll('.card[data-state=done]').length === 3")
    assert ff.evaluate(ctx, "document.getElementById('status-text').textContent") == "Done: 3 of 3 cut out."
    ff.evaluate(ctx, "document.getElementById('download-all').click()")
    archive = zipfile.ZipFile(wait_for_file(ff.downloads / "cut-outs.zip"))
    for i in range(3):
        assert Image.open(io.BytesIO(archive.read(f"ball{i}-cutout.png"))).size == (800, 600)
    ff.evaluate(ctx, "document.getElementById('clear').click()")
    ff_wait(ff, ctx, "!document.querySelector('.card')")
    ff.close_tab(ctx)
    ctx = ff_popup(ff)
    assert ff.evaluate(ctx, "document.querySelectorAll('.card').length") == 0
    ff.close_tab(ctx)
