"""The same package in real headless Firefox (ESR, WebDriver BiDi): the engine runs in the
event page. Right-click in place (same-origin, cross-origin, <picture>, data:), the real
context menu, Save, the popup batch, the model download and its cache across a suspension
of the event page, a job that outlives the idle timeout, the privacy proxy log, and the
same pixels as Chromium for the same PNG and engine."""

import base64
import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from composites import composite

from .firefox import ADDON_ID, Firefox
from .harness import IMG_ALPHA, LoggingProxy

pytestmark = pytest.mark.browser


@pytest.fixture
def tab(firefox, sites):
    a, _ = sites
    ctx = firefox.new_tab()
    firefox.navigate(ctx, a.url("index.html"))
    yield ctx
    firefox.close_tab(ctx)


TAB, ENTER = "\ue004", "\ue007"  # WebDriver key codes


def press(ff: Firefox, ctx: str, *keys: str) -> None:
    """Real key presses in the page (WebDriver BiDi input actions)."""
    actions = [{"type": kind, "value": k} for k in keys for kind in ("keyDown", "keyUp")]
    ff._cmd("input.performActions", context=ctx, actions=[{"type": "key", "id": "keyboard", "actions": actions}])


def wait_for_file(path: Path, timeout_s: float = 30) -> Path:
    end = time.monotonic() + timeout_s
    while not (path.is_file() and path.stat().st_size > 0):
        assert time.monotonic() < end, f"{path} never arrived: {list(path.parent.iterdir())}"
        time.sleep(0.2)
    return path


def src_of(ff: Firefox, ctx: str, selector: str) -> str:
    return ff.call(ctx, "(s) => { const i = document.querySelector(s); return i.currentSrc || i.src; }", selector)


def alpha(ff: Firefox, ctx: str, selector: str) -> dict:
    return ff.call(ctx, IMG_ALPHA, selector)


@pytest.mark.parametrize("selector", ["#same", "#data"])
def test_cut_out_in_place(firefox, tab, selector):
    result = firefox.menu_click(tab, src_of(firefox, tab, selector))
    assert result["ok"] and result["engine"] == "fast" and result["guarded"] is False, result
    assert firefox.call(tab, "(s) => document.querySelector(s).src.startsWith('blob:')", selector)
    px = alpha(firefox, tab, selector)
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px


@pytest.mark.parametrize("selector", ["#cross", "#picture"])
def test_unreadable_images_are_shown_out_of_the_pages_reach(firefox, tab, selector):
    """Another site's image without CORS (also behind <picture>): the cut-out shows in the
    extension's frame; the page's <img> keeps its own source and its picture moves out of view."""
    before = src_of(firefox, tab, selector)
    result = firefox.menu_click(tab, before)
    assert result["ok"] and result["guarded"] is True, result  # ok: the frame said it shows the cut-out
    assert src_of(firefox, tab, selector) == before
    assert "-100000px" in firefox.call(tab, "(s) => document.querySelector(s).style.objectPosition", selector)


def test_real_context_menu_and_save_by_keyboard(firefox, tab):
    """Firefox's own context menu, then Save from the overlay by keyboard (Tab, Enter)."""
    label = firefox.context_menu_click(tab, "#other")
    assert label == "Remove background"
    end = time.monotonic() + 60
    while not firefox.call(tab, "() => document.querySelector('#other').src.startsWith('blob:')"):
        assert time.monotonic() < end, "the cut-out never showed"
        time.sleep(0.2)
    px = alpha(firefox, tab, "#other")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    press(firefox, tab, TAB, ENTER)  # the finished box has the focus (nothing else had it): Tab to Save, Enter
    im = Image.open(wait_for_file(firefox.downloads / "box2-cutout.png"))
    assert im.mode == "RGBA" and im.size == (480, 360)


POPUP_DROP = """async (files) => {
    const drop = new DataTransfer();
    for (const [name, b64, type] of files) {
        drop.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
    }
    document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
}"""


def test_popup_batch(firefox):
    ctx = firefox.open_ext_page("extension/popup/popup.html")
    files = []
    for i in range(2):
        data, _ = composite("ball", 400, 300, seed=i)
        files.append([f"ball{i}.png", base64.b64encode(data).decode(), "image/png"])
    files.append(["notes.png", base64.b64encode(b"just text").decode(), "image/png"])
    firefox.call(ctx, POPUP_DROP, files)
    end = time.monotonic() + 90
    while firefox.evaluate(ctx, "document.querySelectorAll('.card[data-state]').length") < 3:
        assert time.monotonic() < end, "the batch never finished"
        time.sleep(0.3)
    states = firefox.evaluate(ctx, "[...document.querySelectorAll('.card .state')].map((s) => s.textContent)")
    assert states[:2] == ["Cut-out, 400×300, Fast", "Cut-out, 400×300, Fast"]
    assert "not an image" in states[2]
    assert firefox.evaluate(ctx, "document.getElementById('status-text').textContent") == "Done: 2 of 3 cut out."
    firefox.evaluate(ctx, "document.getElementById('download-all').click()")  # one ZIP of the finished ones
    archive = zipfile.ZipFile(wait_for_file(firefox.downloads / "cut-outs.zip"))
    assert sorted(archive.namelist()) == ["ball0-cutout.png", "ball1-cutout.png"]
    for name in archive.namelist():
        assert Image.open(io.BytesIO(archive.read(name))).size == (400, 300)
    firefox.close_tab(ctx)


def test_site_access_taken_back_is_detected_and_asked_for(firefox, tab):
    """Firefox lets a user take an add-on's site access back: a right-click then says what to
    do, and the popup offers to allow it again."""
    helper = firefox.helper()
    all_sites = "{ origins: ['<all_urls>'] }"
    page_url = firefox.evaluate(tab, "location.href")
    src = src_of(firefox, tab, "#same")
    # Found while we may still see its address (without site access, tabs come without one).
    page_tab = firefox.background(
        "async (bg, url) => (await browser.tabs.query({})).find((t) => t.url === url)", page_url
    )
    assert firefox.evaluate(helper, f"browser.permissions.remove({all_sites})")
    try:
        result = firefox.background(
            "(bg, info, tab) => bg.backgrone.onMenuClick(info, tab)",
            {"menuItemId": "backgrone-remove-background", "srcUrl": src, "pageUrl": page_url, "frameId": 0},
            page_tab,
        )
        assert not result["ok"] and "may not read this website's images" in result.get("error", ""), result
        popup = firefox.open_ext_page("extension/popup/popup.html")
        end = time.monotonic() + 10
        while firefox.evaluate(popup, "document.getElementById('permission').hidden"):
            assert time.monotonic() < end, "the popup did not ask for site access"
            time.sleep(0.2)
        text = firefox.evaluate(popup, "document.getElementById('permission').textContent")
        assert "may not read images on websites" in text and "Allow on all websites" in text
        firefox.close_tab(popup)
    finally:
        # Granted back as "Allow on all websites" would, once the user accepts Firefox's prompt
        # (the prompt itself is out of a test's reach): from the browser's own side.
        firefox.evaluate(firefox.chrome(), GRANT_ALL_SITES)
        assert firefox.evaluate(helper, f"browser.permissions.contains({all_sites})")


GRANT_ALL_SITES = f"""(async () => {{
    const {{ ExtensionPermissions }} = ChromeUtils.importESModule('resource://gre/modules/ExtensionPermissions.sys.mjs');
    const {{ ExtensionParent }} = ChromeUtils.importESModule('resource://gre/modules/ExtensionParent.sys.mjs');
    const ext = ExtensionParent.GlobalManager.getExtension('{ADDON_ID}');
    await ExtensionPermissions.add('{ADDON_ID}', {{ permissions: [], origins: ['<all_urls>'] }}, ext);
    return true;
}})()"""


ENGINE_CUT = """async (b64, engine) => {
    const { callEngine } = await import('/extension/lib/offscreen_client.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
    const answer = await callEngine('cut', { jobId: crypto.randomUUID(), source: { kind: 'blob', url }, engine,
        options: { output: 'cutout', format: 'png' }, modelSource: 'https://models.invalid/', name: 'in.png' });
    const out = new Uint8Array(await (await fetch(answer.url)).arrayBuffer());
    let s = '';
    for (const b of out) s += String.fromCharCode(b);
    return btoa(s);
}"""


@pytest.mark.parametrize("engine", ["standard", "fast"])
def test_same_pixels_as_chromium(firefox, browser, engine):
    """One PNG, one engine: Firefox (one thread, event page) and Chromium (two threads,
    offscreen document). The int8 engines (standard, the default, and detailed: one file)
    give the very same pixels. fast is fp32: onnxruntime's fp32 convolutions sum in another
    order on one thread than on two (Chromium on one thread matches Firefox exactly), which
    moves a few edge pixels by one level."""
    data, _ = composite("box", 333, 251, seed=5)
    b64 = base64.b64encode(data).decode()
    ff_ctx = firefox.helper()
    in_firefox = firefox.call(ff_ctx, ENGINE_CUT, b64, engine)
    page = browser.ctx.new_page()
    page.goto(browser.ext_url("extension/options/options.html"))
    in_chromium = page.evaluate(f"([b64, engine]) => ({ENGINE_CUT})(b64, engine)", [b64, engine])
    page.close()
    ff = np.asarray(Image.open(io.BytesIO(base64.b64decode(in_firefox)))).astype(int)
    ch = np.asarray(Image.open(io.BytesIO(base64.b64decode(in_chromium)))).astype(int)
    assert ff.shape == ch.shape == (251, 333, 4)
    assert 0.05 < (ff[..., 3] > 127).mean() < 0.95  # a real cut-out
    differ = (ff != ch).any(axis=2)
    if engine == "standard":
        assert not differ.any(), f"{int(differ.sum())} pixels differ"
    else:
        assert differ.mean() < 0.001 and np.abs(ff - ch).max() <= 1, (int(differ.sum()), int(np.abs(ff - ch).max()))


def test_model_download_survives_suspension_and_jobs_outlive_the_idle_timeout(ext_dir, sites, mirror, tmp_path):
    """With an 8 s idle timeout: medium downloads into IndexedDB, the jobs (longer than that)
    finish, and Save still works after the timeout (a page offering it keeps the event page
    awake); the event page is then suspended, and the next cut wakes it and
    reads the model from the cache without a request."""
    a, _ = sites
    mirror.reset()
    ff = Firefox(Path(ext_dir), tmp_path / "profile", tmp_path / "downloads", idle_timeout_ms=8000)
    try:
        ff.settings(engine="medium", modelSource=mirror.url)
        ctx = ff.new_tab()
        ff.navigate(ctx, a.url("index.html"))
        t0 = time.monotonic()
        result = ff.menu_click(ctx, src_of(ff, ctx, "#same"))
        took = time.monotonic() - t0
        assert result["ok"] and result["engine"] == "medium" and result["notice"] is None, result
        assert took > 8  # longer than the idle timeout: the page was kept awake
        fetched = len(mirror.requests)
        assert fetched >= 22
        # While the page offers Save, the event page (which holds the result) stays awake.
        time.sleep(10)
        assert ff.background_state() == "running"
        press(ff, ctx, TAB, ENTER)  # the finished box has the focus: Tab to Save, Enter
        wait_for_file(ff.downloads / "ball-cutout.png")
        ff.terminate_background()
        assert ff.background_state() == "stopped"
        result = ff.menu_click(ctx, src_of(ff, ctx, "#other"))
        assert result["ok"] and result["engine"] == "medium", result
        assert len(mirror.requests) == fetched  # from IndexedDB, across the suspension
        px = alpha(ff, ctx, "#other")
        assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    finally:
        ff.close()


def test_privacy_no_request_carries_image_data(ext_dir, sites, tmp_path):
    """Every request Firefox makes goes through a logging proxy: the page, its images, and
    nothing that carries a body; no request of the extension's own but the unreadable image."""
    a, b = sites
    proxy = LoggingProxy()
    ff = Firefox(
        Path(ext_dir), tmp_path / "profile", tmp_path / "downloads", proxy=("127.0.0.1", proxy.server.server_address[1])
    )
    try:
        ff.settings(engine="fast")
        ctx = ff.new_tab()
        ff.navigate(ctx, a.url("index.html"))
        for selector in ["#same", "#cross", "#data"]:
            result = ff.menu_click(ctx, src_of(ff, ctx, selector))
            assert result["ok"], (selector, result)
        log = proxy.log
        assert log, "nothing went through the proxy"
        assert all(e["method"] == "GET" and e["body"] == 0 and not e["chunked"] for e in log), log
        hosts = {e["url"].split("/")[2] for e in log}
        assert hosts <= {a.origin.split("/")[2], b.origin.split("/")[2]}, json.dumps(log, indent=1)
    finally:
        ff.close()
        proxy.close()
