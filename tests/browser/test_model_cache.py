"""medium (the engine not in the package): downloaded once from a (loopback) model source, verified, kept in IndexedDB."""

import json
import uuid

import pytest

from conftest import ROOT

from .harness import IMG_ALPHA, Browser, Overlays, wait_until

pytestmark = pytest.mark.browser

CATALOGUE = json.loads((ROOT / "models" / "catalogue.json").read_text())
CHUNKS = {name: [c["sha256"] for c in CATALOGUE["engines"][name]["source"]["chunks"]] for name in ("medium",)}

CORRUPT_CHUNK = """async ([engine, index]) => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open('backgrone'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const t = db.transaction('chunks', 'readwrite');
  const store = t.objectStore('chunks');
  const rec = await new Promise((res) => { const q = store.get([engine, index]); q.onsuccess = () => res(q.result); });
  const bytes = new Uint8Array(rec.data.slice(0));
  bytes[1000] ^= 0xff;
  store.put({ sha256: rec.sha256, data: bytes.buffer }, [engine, index]);
  await new Promise((res) => { t.oncomplete = res; });
  db.close();
  return true;
}"""


@pytest.fixture
def fresh_browser(playwright, ext_dir, tmp_path, mirror):
    mirror.reset()
    b = Browser(playwright, ext_dir, tmp_path / "profile", tmp_path / "downloads")
    b.settings(modelSource=mirror.url)
    yield b
    b.close()


def open_page(browser, sites):
    page = browser.ctx.new_page()
    page.goto(sites[0].url(f"index.html?tab={uuid.uuid4().hex}"))  # menu_click finds the tab by URL
    return page


def cut(browser, sites, selector="#same"):
    page = open_page(browser, sites)
    src = page.eval_on_selector(selector, "img => img.currentSrc")
    result = browser.menu_click(page, src)
    px = page.evaluate(IMG_ALPHA, selector) if result.get("ok") else None
    return page, result, px


def test_medium_downloads_once_with_progress_and_survives_restart_and_corruption(fresh_browser, sites, mirror):
    b = fresh_browser
    b.settings(engine="medium")
    b.record_progress()
    page, result, px = cut(b, sites)
    assert result["ok"] and result["engine"] == "medium" and result["notice"] is None, result
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    assert mirror.requests == CHUNKS["medium"]  # each chunk once, in order
    downloads = [e for e in b.progress() if e["stage"] == "downloading-model"]
    assert len(downloads) > 22 and all(e["total"] == 88188479 for e in downloads)
    loaded = [e["loaded"] for e in downloads]
    assert loaded == sorted(loaded) and loaded[-1] == 88188479
    assert any(e["stage"] == "verifying-model" for e in b.progress())
    page.close()

    # second use: from IndexedDB, no request
    _, result, _ = cut(b, sites, "#other")
    assert result["ok"] and result["engine"] == "medium"
    assert len(mirror.requests) == 22

    # the options page says it is downloaded
    options = b.ctx.new_page()
    options.goto(b.ext_url("extension/options/options.html"))
    options.locator("[data-engine=medium] .state", has_text="on this device").wait_for()
    assert options.locator("[data-engine=fast] .state").inner_text() == "Built in"
    assert "Storage used by Backgrone" in options.locator("#storage").inner_text()

    # a corrupt cache entry is detected on the next load and only that chunk is fetched again
    assert options.evaluate(CORRUPT_CHUNK, ["medium", 3])
    options.close()
    b.restart()
    b.settings(modelSource=mirror.url)
    _, result, px = cut(b, sites)
    assert result["ok"] and result["engine"] == "medium", result
    assert px["corners"] == [0, 0, 0, 0]
    assert mirror.requests[22:] == [CHUNKS["medium"][3]]

    # and after another restart everything comes from the cache
    b.restart()
    _, result, _ = cut(b, sites)
    assert result["ok"] and len(mirror.requests) == 23

    # deleting from the options page empties the cache
    options = b.ctx.new_page()
    options.goto(b.ext_url("extension/options/options.html"))
    options.locator("[data-engine=medium] .delete").click()
    options.locator("[data-engine=medium] .state", has_text="Not downloaded yet").wait_for()


RETRY = """async (modelSource) => {
    const { Target, Type, message } = globalThis.BackgroneMessages;
    return chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.DOWNLOAD_MODEL, { engine: 'medium', modelSource }));
}"""
NETWORK_NOTICE = (
    "The Medium model could not be downloaded, so Detailed was used. "
    "Check the connection and choose Retry in the settings, or choose Detailed in the popup or the settings."
)


def test_interrupted_download_falls_back_to_detailed_then_resumes_on_retry(fresh_browser, sites, mirror):
    b = fresh_browser
    b.settings(engine="medium")
    mirror.fail_after(5)  # the source goes away after 5 of 22 chunks
    page, result, px = cut(b, sites)
    assert result["ok"] and result["engine"] == "detailed", result
    assert result["notice"] == NETWORK_NOTICE
    assert NETWORK_NOTICE in Overlays(page).text()
    assert px["corners"] == [0, 0, 0, 0]
    assert mirror.requests[:5] == CHUNKS["medium"][:5]

    mirror.reset()  # the source is back; Retry (the options' button) fetches only the missing chunks
    assert b.sw.evaluate(RETRY, mirror.url) == {"ok": True}
    _, result, px = cut(b, sites, "#other")
    assert result["ok"] and result["engine"] == "medium" and result["notice"] is None, result
    assert mirror.requests == CHUNKS["medium"][5:]
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255


def test_download_cut_mid_body_falls_back_then_resumes(fresh_browser, sites, mirror):
    b = fresh_browser
    b.settings(engine="medium")
    mirror.cut_after(3)  # the 4th chunk's connection drops halfway through its body
    page, result, px = cut(b, sites)
    assert result["ok"] and result["engine"] == "detailed", result
    assert result["notice"] == NETWORK_NOTICE
    assert px["corners"] == [0, 0, 0, 0]
    page.close()
    mirror.reset()
    assert b.sw.evaluate(RETRY, mirror.url) == {"ok": True}
    _, result, px = cut(b, sites, "#other")
    assert result["ok"] and result["engine"] == "medium" and result["notice"] is None, result
    assert mirror.requests == CHUNKS["medium"][3:]  # the three whole chunks were kept


def test_a_bad_file_fails_before_any_model_download(fresh_browser, sites, mirror):
    b = fresh_browser
    b.settings(engine="medium")
    _, result, _ = cut(b, sites, "#text")
    assert not result["ok"] and "not an image" in result["error"], result
    assert mirror.requests == []


def test_storage_full_says_so_and_keeps_nothing_half_written(playwright, ext_dir, tmp_path, sites, mirror):
    """A full disk: 'unlimitedStorage' lifts the quota, so a copy of the build without it
    stands in for a disk with no room left (the same code meets QuotaExceededError)."""
    import shutil

    limited = tmp_path / "ext"
    shutil.copytree(ext_dir, limited)
    manifest = json.loads((limited / "manifest.json").read_text())
    manifest["permissions"].remove("unlimitedStorage")
    (limited / "manifest.json").write_text(json.dumps(manifest))
    mirror.reset()
    b = Browser(playwright, limited, tmp_path / "profile", tmp_path / "downloads")
    try:
        b.settings(engine="medium", modelSource=mirror.url)
        page = b.ctx.new_page()
        cdp = b.ctx.new_cdp_session(page)
        origin = f"chrome-extension://{b.ext_id}"
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": 12_000_000})  # 2-3 chunks
        _, result, px = cut(b, sites)
        assert result["ok"] and result["engine"] == "detailed", result
        assert result["notice"].startswith("There is not enough free storage for the Medium model (88.2 MB)"), result
        assert "Free some disk space and choose Retry" in result["notice"]
        assert px["corners"] == [0, 0, 0, 0]
        options = b.ctx.new_page()
        options.goto(b.ext_url("extension/options/options.html"))
        state = options.evaluate("""async () => {
            const { loadCatalogue } = await import('/extension/lib/catalogue.js');
            const { modelState } = await import('/extension/lib/model_store.js');
            return modelState((await loadCatalogue()).engines.medium);
        }""")
        assert state["cached"] is False  # never recorded as complete
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})  # room again: the download completes
        kept = len(mirror.requests)
        assert b.sw.evaluate(RETRY, mirror.url) == {"ok": True}  # Retry, as the options offer it
        _, result, _ = cut(b, sites, "#other")
        assert result["ok"] and result["engine"] == "medium", result
        assert 0 < len(mirror.requests) - kept < len(CHUNKS["medium"])  # the chunks that fitted were kept
    finally:
        b.close()


IDB_ENGINES = """async () => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open('backgrone'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const t = db.transaction(['chunks', 'models'], 'readonly');
  const keys = (s) => new Promise((res) => { const q = t.objectStore(s).getAllKeys(); q.onsuccess = () => res(q.result); });
  const [chunks, models] = await Promise.all([keys('chunks'), keys('models')]);
  db.close();
  return [...new Set([...chunks.map((k) => k[0]), ...models])].sort();
}"""

PLANT_OLD_ENGINE = """async () => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open('backgrone'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const t = db.transaction(['chunks', 'models'], 'readwrite');
  t.objectStore('chunks').put({ sha256: 'x', data: new ArrayBuffer(4096) }, ['small', 0]);
  t.objectStore('models').put({ engine: 'small', sha256: 'x', bytes: 4096 }, 'small');
  await new Promise((res) => { t.oncomplete = res; });
  db.close();
  return true;
}"""


def test_storage_of_an_engine_no_longer_offered_is_freed(fresh_browser):
    """An earlier version's 'small' chunks would otherwise hold storage forever: the engine frees
    them when it starts, and "Delete downloaded models" removes everything stored."""
    b = fresh_browser
    options = b.ctx.new_page()
    options.goto(b.ext_url("extension/options/options.html"))
    options.locator("[data-engine=medium][data-model]").wait_for()  # the engine answered: its store exists
    assert options.evaluate(PLANT_OLD_ENGINE)
    assert options.evaluate(IDB_ENGINES) == ["small"]
    # What "Delete downloaded models" asks (the button itself is off: no engine offered now is downloaded).
    assert options.locator("#delete-all").is_disabled()
    options.evaluate("""async () => {
        const { Target, Type, message } = globalThis.BackgroneMessages;
        return chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.DELETE_MODELS, {}));
    }""")
    wait_until(options, f"async () => (await ({IDB_ENGINES})()).length === 0")

    assert options.evaluate(PLANT_OLD_ENGINE)
    options.close()
    b.restart()  # a new engine starts with the next request and prunes at start
    options = b.ctx.new_page()
    options.goto(b.ext_url("extension/options/options.html"))
    options.wait_for_function("() => document.querySelector('#engines').children.length > 0")
    wait_until(options, f"async () => (await ({IDB_ENGINES})()).length === 0", timeout=30_000)
    options.close()
