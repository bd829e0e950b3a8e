"""The options page's storage: "Storage used" counts Python's start-up snapshot (engine/py_snapshot.js,
about 57 MB) besides the downloaded models; the page says so, and "Delete downloaded models" frees
both (the snapshot is made again at the next boot). Real: the engine's own boot makes the snapshot,
Medium comes from a loopback model mirror."""

import re
import time

import pytest

pytestmark = pytest.mark.browser

MEDIUM = "[data-engine=medium]"
# Through py_snapshot.js itself (opening the database bare would make it without its store).
SNAPSHOT_STORED = "async () => (await import('/extension/engine/py_snapshot.js')).stored()"
MODELS_STORED = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('backgrone'); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
    const n = await new Promise((ok) => { const r = db.transaction('chunks').objectStore('chunks').count(); r.onsuccess = () => ok(r.result); });
    db.close();
    return n;
}"""


def used_mb(options) -> float:
    text = options.locator("#storage").inner_text()
    number = re.search(r"([\d.,]+)\s*([kMG]?B)", text)
    assert number, text
    value = float(number.group(1).replace(",", ""))
    return value * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[number.group(2)]


def test_delete_downloaded_models_also_frees_the_python_snapshot_the_storage_line_counts(fresh):
    b = fresh
    options = b.ctx.new_page()
    options.goto(b.ext_url("extension/options/options.html"))
    options.locator(f"{MEDIUM}[data-model=absent]").wait_for()
    # The engine document boots Python as it starts, and stores the snapshot it makes.
    end = time.monotonic() + 180
    while not options.evaluate(SNAPSHOT_STORED):
        assert time.monotonic() < end, "the engine never stored a Python snapshot"
        time.sleep(0.5)
    options.locator(f"{MEDIUM} .model-action", has_text="Download now").click()
    options.locator(f"{MEDIUM}[data-model=on-device]").wait_for(timeout=180_000)
    options.reload()
    options.locator(f"{MEDIUM}[data-model=on-device]").wait_for()
    cache = options.locator("#storage-cache")
    cache.wait_for()
    assert cache.inner_text() == (
        "This includes a start-up cache that lets cuts begin sooner: "
        "it is deleted with the downloaded models and made again when next needed."
    )
    before = used_mb(options)

    options.locator("#delete-all").click()
    options.locator(f"{MEDIUM}[data-model=absent]").wait_for()
    cache.wait_for(state="hidden")
    assert options.evaluate(SNAPSHOT_STORED) is False
    assert options.evaluate(MODELS_STORED) == 0
    assert options.locator("#delete-all").is_disabled()
    # Both gone from what the line counts: Medium (88 MB) and the snapshot (about 57 MB).
    options.reload()
    options.locator(f"{MEDIUM}[data-model=absent]").wait_for()
    options.wait_for_function("() => document.getElementById('storage').textContent !== ''")
    after = used_mb(options)
    assert before - after > 100, (before, after)
    assert options.locator("#storage-cache").is_hidden()
