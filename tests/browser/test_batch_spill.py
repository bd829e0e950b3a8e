"""A long popup batch stays flat in memory: only its newest files keep their bytes in the engine's
memory (engine/batch.js LIMITS.heavyItems), older ones' originals, cut-outs and refine recipes go
to the extension's IndexedDB (engine/spill_store.js). Nothing is lost: every card's cut-out, Download
all and Refine… on an old card give the same bytes as a file still in memory, and Clear wipes the
store."""

import base64
import time
import zipfile

import pytest

from composites import composite

from .engine_page import open_engine_page
from .harness import wait_for
from .popup_zip import card_bytes, download_all
from .test_refine import EDITOR, edit_and_done, stroke

pytestmark = pytest.mark.browser

# The keys the spill store holds now (read from the popup: the same extension origin). Its
# database is made at the batch's first spill: opened bare before that, it would be made without its store.
SPILLED = """async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'backgrone-spill')) return [];
    const db = await new Promise((ok, no) => { const r = indexedDB.open('backgrone-spill'); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
    const keys = await new Promise((ok) => { const r = db.transaction('bytes').objectStore('bytes').getAllKeys(); r.onsuccess = () => ok(r.result); });
    db.close();
    return keys.sort();
}"""

ITEMS = """async () => {
    const { callEngine } = await import('/extension/lib/offscreen_client.js');
    return (await callEngine(globalThis.BackgroneMessages.Type.BATCH_STATE, {})).batch.items;
}"""


def on_disk(popup, kind: str) -> set[str]:
    """The ids whose `kind` ('item': original and cut-out; 'recipe') the spill store holds."""
    return {key.partition(":")[2] for key in popup.evaluate(SPILLED) if key.startswith(kind + ":")}


def test_a_batch_past_its_window_spills_the_oldest_and_keeps_every_function(browser, tmp_path):
    # Six files, the first and the last the same picture: the newest four stay in memory, the
    # first two go to disk, so the first (spilled) and the last (in memory) must agree byte for byte.
    # (The last one's original goes to disk as it waits: beside the one being cut, the next four
    # waiting stay in memory.)
    same, _ = composite("ball", 400, 300, seed=0)
    paths = []
    for i in range(6):
        data = same if i in (0, 5) else composite("ball", 400, 300, seed=i)[0]
        paths.append(tmp_path / f"file{i}.png")
        paths[-1].write_bytes(data)
    popup = browser.open_popup()
    popup.set_input_files("#files", [str(p) for p in paths])
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state=done]').length === 6", timeout=120_000)
    items = popup.evaluate(ITEMS)
    oldest = {items[0]["refineId"], items[1]["refineId"]}
    wait_for(lambda: on_disk(popup, "recipe") == oldest, "the two oldest recipes never went to disk")
    assert on_disk(popup, "item") == {items[i]["id"] for i in (0, 1, 5)}
    assert all(item["refineId"] for item in items)  # Refine… on every card

    # Every card's cut-out, as the engine offers it, and Download all's ZIP.
    cards = card_bytes(popup)
    assert [name for name, _ in cards] == [f"file{i}-cutout.png" for i in range(6)]
    assert cards[0][1] == cards[5][1]
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state=done]').length === 6")
    zipped = download_all(browser, popup)
    assert [zipped.read(name) for name, _ in cards] == [data for _, data in cards]

    # Refine… on the first card: its recipe is read back from disk before the editor opens it.
    card = popup.locator(".card", has_text="file0.png")
    with browser.ctx.expect_page() as opened:
        card.locator(".refine").click()
    editor = opened.value
    assert editor.url == browser.ext_url(f"{EDITOR}#{items[0]['refineId']}")
    editor.wait_for_selector("body[data-ready]", timeout=60_000)
    editor.close()
    # An edit replays on the exact Float32 output: the same bytes as on the file still in memory.
    edit = stroke(100, 200, 150, radius=10)
    first = edit_and_done(browser, items[0]["refineId"], [edit])
    last = edit_and_done(browser, items[5]["refineId"], [edit])
    assert first["png"] == last["png"]
    # Done put the refined cut-out on the old card, and the card offers it.
    wait_for(lambda: card_bytes(popup)[0][1] != cards[0][1], "the refined cut-out never reached the card")
    assert card_bytes(popup)[0][1] == card_bytes(popup)[5][1]
    wait_for(lambda: on_disk(popup, "recipe") == oldest, "the refined card's recipe stayed in memory")

    # Clear: nothing of the batch stays on disk.
    popup.click("#clear")
    popup.wait_for_function("() => !document.querySelector('.card')")
    wait_for(lambda: popup.evaluate(SPILLED) == [], "the spill store kept files after Clear")
    popup.close()


# An earlier engine's spill, as a crash or a closed browser would leave it.
PLANT_LEFTOVER = """async () => {
    const r = indexedDB.open('backgrone-spill', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('bytes');
    const db = await new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
    const t = db.transaction('bytes', 'readwrite');
    t.objectStore('bytes').put({ source: new Blob([new Uint8Array(5000)]) }, 'item:left-over');
    await new Promise((ok) => { t.oncomplete = ok; });
    db.close();
    return true;
}"""
SPILL_DB_EXISTS = "async () => (await indexedDB.databases()).some((d) => d.name === 'backgrone-spill')"


def test_an_earlier_engines_spill_is_deleted_when_the_engine_starts_and_none_is_made_without_a_spill(browser):
    # Planted with no engine running (from the service worker: no page that would start one).
    browser.sw.evaluate("() => chrome.offscreen.closeDocument().catch(() => {})")
    assert browser.sw.evaluate(PLANT_LEFTOVER)
    assert browser.sw.evaluate(SPILLED) == ["item:left-over"]
    page = open_engine_page(browser)  # the options page asks the engine: a new one starts
    wait_for(lambda: not page.evaluate(SPILL_DB_EXISTS), "the new engine kept an earlier engine's spill")
    # An engine that never spills never makes the database (the batch opens it at its first spill).
    done = page.evaluate(
        "async (b64) => (await batchFile(b64)).state", base64.b64encode(composite("ball", 200, 150, seed=1)[0]).decode()
    )
    assert done == "done"
    page.evaluate("async () => callEngine(globalThis.BackgroneMessages.Type.BATCH_CLEAR, {})")
    assert not page.evaluate(SPILL_DB_EXISTS)
    page.close()


def test_firefox_spills_the_oldest_too_and_download_all_has_every_file(firefox):
    """Firefox: the engine is its event page; its IndexedDB takes the oldest files the same way."""
    from .test_firefox import POPUP_DROP, wait_for_file

    ctx = firefox.open_ext_page("extension/popup/popup.html")
    same, _ = composite("ball", 300, 200, seed=0)
    files = []
    for i in range(6):
        data = same if i in (0, 5) else composite("ball", 300, 200, seed=i)[0]
        files.append([f"file{i}.png", base64.b64encode(data).decode(), "image/png"])
    firefox.call(ctx, POPUP_DROP, files)
    end = time.monotonic() + 120
    while firefox.evaluate(ctx, "document.querySelectorAll('.card[data-state=done]').length") < 6:
        assert time.monotonic() < end, "the batch never finished"
        time.sleep(0.3)
    keys = wait_for(
        lambda: (k := firefox.evaluate(ctx, f"({SPILLED})()")) and sum(x.startswith("recipe:") for x in k) == 2 and k,
        "the two oldest recipes never went to disk",
    )
    assert sum(k.startswith("item:") for k in keys) == 3, keys
    assert firefox.evaluate(ctx, "document.getElementById('batch-notice').hidden")  # no word of a failed write
    firefox.evaluate(ctx, "document.getElementById('download-all').click()")
    archive = zipfile.ZipFile(wait_for_file(firefox.downloads / "cut-outs.zip"))
    assert sorted(archive.namelist()) == [f"file{i}-cutout.png" for i in range(6)]
    assert archive.read("file0-cutout.png") == archive.read("file5-cutout.png")
    firefox.evaluate(ctx, "document.getElementById('clear').click()")
    wait_for(lambda: firefox.evaluate(ctx, f"({SPILLED})()") == [], "the spill store kept files after Clear")
    firefox.close_tab(ctx)
