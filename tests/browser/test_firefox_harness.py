"""The Firefox harness itself, on the current build: launch and install, extension pages,
the background page, loopback pages, the real context menu, suspension."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT

from .firefox import ADDON_ID, EXT_UUID, HELPER_PAGE, MENU_ID, BidiError, Firefox, _crashhelpers
from .harness import LoggingProxy, Site

pytestmark = pytest.mark.browser

PAGE = '<!doctype html><meta charset="utf-8"><title>ff</title><img id="a" src="{src}" style="width:200px;height:150px">'


def built_ext() -> Path:
    """The current build; built here only when there is none."""
    if os.environ.get("BACKGRONE_EXT_DIR"):
        return Path(os.environ["BACKGRONE_EXT_DIR"])
    path = ROOT / "dist" / "extension"
    if not (path / "manifest.json").exists():
        subprocess.run([sys.executable, str(ROOT / "build_ext.py")], check=True, cwd=ROOT)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("ff-site")
    Image.new("RGB", (64, 48), (200, 40, 40)).save(root / "red.png")
    (root / "index.html").write_text(PAGE.format(src="/red.png"))
    (root / "file.html").write_text(PAGE.format(src="red.png"))  # opened as file://
    s = Site(root)
    yield s
    s.close()


@pytest.fixture(scope="module")
def firefox(tmp_path_factory, ext_dir):  # conftest: the build of this checkout
    ff = Firefox(Path(ext_dir), tmp_path_factory.mktemp("ff-profile"), tmp_path_factory.mktemp("ff-downloads"))
    yield ff
    ff.close()


def test_starts_and_installs(firefox):
    assert firefox.proc.poll() is None
    end = time.monotonic() + 10  # the event page may still be starting
    while firefox.background_state() != "running" and time.monotonic() < end:
        time.sleep(0.05)
    assert firefox.background_state() == "running"
    assert firefox.evaluate(firefox.tab, "location.href") == "about:blank"
    prefs = (
        "['extensions.background.idle.timeout', 'browser.download.folderList'].map((p) => Services.prefs.getIntPref(p))"
    )
    assert firefox.evaluate(firefox.chrome(), prefs) == [300_000, 2]  # user.js was read


def test_extension_page(firefox):
    ctx = firefox.open_ext_page(HELPER_PAGE)
    assert firefox.evaluate(ctx, "location.href") == f"moz-extension://{EXT_UUID}/{HELPER_PAGE}"
    assert firefox.evaluate(ctx, "browser.runtime.id") == ADDON_ID
    assert firefox.evaluate(ctx, "({ a: [1, 'x', null, true, 1.5], n: undefined })") == {
        "a": [1, "x", None, True, 1.5],
        "n": None,
    }
    assert firefox.call(ctx, "async (a, b) => ({ sum: a.x + b, keys: Object.keys(a) })", {"x": 2}, 3) == {
        "sum": 5,
        "keys": ["x"],
    }
    firefox.close_tab(ctx)


def test_background_page(firefox):
    assert firefox.background("async (bg) => typeof bg.backgrone.onMenuClick") == "function"
    firefox.settings(engine="fast")
    assert firefox.call(firefox.helper(), "async () => (await browser.storage.local.get('engine')).engine") == "fast"


def test_loopback_page(firefox, site):
    ctx = firefox.new_tab()
    firefox.navigate(ctx, site.url("index.html"))
    width = firefox.call(
        ctx, "async (s) => { const i = document.querySelector(s); await i.decode(); return i.naturalWidth; }", "#a"
    )
    assert width == 64
    assert "/red.png" in site.requests
    firefox.close_tab(ctx)


def test_menu_click_seam(firefox, site):
    """The seam finds the page's tab (port in the URL) and reaches onMenuClick; a refused
    scheme keeps the engine out of it."""
    ctx = firefox.new_tab()
    firefox.navigate(ctx, site.url("index.html"))
    result = firefox.menu_click(ctx, "ftp://127.0.0.1/red.png")
    assert result["ok"] is False, result
    assert "thrown" not in result, result
    firefox.close_tab(ctx)


def test_context_menu_click(firefox, site):
    """A real right-click and our item in Firefox's own menu: contextMenus.onClicked fires with
    the image's URL. (A file:// page: the background refuses its scheme, so no engine runs.)"""
    firefox.call(
        firefox.helper(),
        "() => { window.__clicks = []; browser.contextMenus.onClicked.addListener((info) => window.__clicks.push(info)); }",
    )
    ctx = firefox.new_tab()
    page = (site.root / "file.html").as_uri()
    firefox.navigate(ctx, page)
    assert firefox.context_menu_click(ctx, "#a") == "Remove background"
    end = time.monotonic() + 10
    while not (clicks := firefox.evaluate(firefox.helper(), "window.__clicks")) and time.monotonic() < end:
        time.sleep(0.05)
    assert len(clicks) == 1, clicks
    assert clicks[0]["menuItemId"] == MENU_ID
    assert clicks[0]["srcUrl"] == (site.root / "red.png").as_uri()
    assert clicks[0]["pageUrl"] == page
    firefox.close_tab(ctx)


def test_errors_are_clear(firefox):
    """A promise that never settles times out instead of hanging; throws and misses say what happened."""
    firefox.timeout = 1
    try:
        with pytest.raises(BidiError, match="no answer in 1"):
            firefox.evaluate(firefox.tab, "new Promise(() => {})")
    finally:
        firefox.timeout = 120
    with pytest.raises(BidiError, match="ReferenceError"):
        firefox.evaluate(firefox.tab, "nope.x")
    with pytest.raises(BidiError, match="no element matches"):
        firefox.context_menu_click(firefox.tab, "#nothing")
    assert firefox.evaluate(firefox.tab, "1 + 1") == 2


def test_terminate_background(firefox):
    firefox.terminate_background()
    assert firefox.background_state() == "stopped"
    # getBackgroundPage() wakes it again
    assert firefox.background("async (bg) => typeof bg.backgrone") == "object"
    assert firefox.background_state() == "running"


def live_in_group(pgid: int) -> list[int]:
    """Processes (not zombies) still in a process group."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError):
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(proc.name))
    return found


def test_proxy_sees_loopback_and_nothing_else(site, tmp_path):
    """Every request goes through the proxy, 127.0.0.1 included, and Firefox makes none of its own;
    close() leaves no process behind."""
    proxy = LoggingProxy()
    host, port = proxy.server.server_address[:2]
    try:
        with Firefox(built_ext(), tmp_path / "profile", tmp_path / "downloads", proxy=(host, port)) as ff:
            ff.navigate(ff.tab, site.url("index.html"))
            assert (
                ff.call(
                    ff.tab,
                    "async () => { const i = document.querySelector('#a'); await i.decode(); return i.naturalWidth; }",
                )
                == 64
            )
            time.sleep(1)  # a moment for any background chatter
        urls = [e["url"] for e in proxy.log]
        assert ff.proc.returncode is not None
        assert live_in_group(ff.proc.pid) == []
        assert _crashhelpers(ff.proc.pid) == []
    finally:
        proxy.close()
    assert site.url("index.html") in urls and site.url("red.png") in urls
    assert [u for u in urls if not u.startswith(site.origin)] == []
