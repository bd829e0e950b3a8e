import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from composites import composite
from conftest import ROOT

from .engine_page import open_engine_page
from .harness import Browser, ModelMirror, Site

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Backgrone test page</title>
<style>img {{ width: 320px; height: 240px; display: block; margin: 4px; }}</style></head>
<body>
<h1>Test images</h1>
<img id="same" src="/ball.png" alt="same origin">
<img id="cross" src="{cross}/box.png" alt="cross origin">
<picture>
  <source id="pic-source" type="image/webp" srcset="{cross}/ball.webp 1x">
  <img id="picture" src="/box.png" srcset="/box.png 1x" alt="picture">
</picture>
<img id="srcset" src="/box.png" srcset="/s320.png 320w, /s640.png 640w" sizes="320px" alt="srcset">
<img id="data" src="{data_url}" alt="data url">
<img id="missing" src="/missing.png" alt="404">
<img id="text" src="/notimage.png" alt="not an image">
<img id="other" src="/box2.png" alt="another">
<div style="height: 3000px"></div>
<img id="lazy" loading="lazy" src="/ball2.png" alt="lazy">
</body></html>
"""


@pytest.fixture(scope="session")
def ext_dir():
    """The extension as users load it: built by build_ext.py from this checkout."""
    if os.environ.get("BACKGRONE_EXT_DIR"):
        return os.environ["BACKGRONE_EXT_DIR"]
    subprocess.run([sys.executable, str(ROOT / "build_ext.py")], check=True, cwd=ROOT)
    return ROOT / "dist" / "extension"


@pytest.fixture(scope="session")
def sites(tmp_path_factory):
    root_a = tmp_path_factory.mktemp("site-a")
    root_b = tmp_path_factory.mktemp("site-b")
    import io

    from PIL import Image

    images = {}
    for name, kind, seed, size in [
        ("ball", "ball", 0, (640, 480)),
        ("s320", "ball", 4, (320, 240)),
        ("s640", "ball", 4, (640, 480)),
        ("box", "box", 0, (640, 480)),
        ("box2", "box", 2, (480, 360)),
        ("ball2", "ball", 1, (400, 300)),
    ]:
        data, _ = composite(kind, *size, seed=seed)
        images[name] = data
        for root in (root_a, root_b):
            (root / f"{name}.png").write_bytes(data)
    webp = io.BytesIO()
    Image.open(io.BytesIO(images["ball"])).save(webp, "WEBP", quality=92)
    (root_b / "ball.webp").write_bytes(webp.getvalue())
    small, _ = composite("ball", 200, 150, seed=3)
    data_url = "data:image/png;base64," + base64.b64encode(small).decode()
    a, b = Site(root_a), Site(root_b)
    (root_a / "index.html").write_text(PAGE.format(cross=b.origin, data_url=data_url))
    for name, policy in [("csp-strict.html", "img-src 'self'")]:
        (root_a / name).write_text(
            f'<!doctype html><meta http-equiv="Content-Security-Policy" content="{policy}">'
            '<img id="same" src="/ball.png" style="width:320px">'
        )
    a.route("/notimage.png", 200, "image/png", b"<html><body>Sorry, not an image</body></html>")
    yield a, b
    a.close()
    b.close()


@pytest.fixture(scope="session")
def mirror():
    m = ModelMirror(ROOT / "node_modules" / "@imgly" / "background-removal-data" / "dist")
    yield m
    m.close()


@pytest.fixture
def fresh(playwright, ext_dir, tmp_path, mirror):
    """A browser of its own (a new profile) set to `medium` from the mirror, which starts empty."""
    mirror.reset()
    b = Browser(playwright, ext_dir, tmp_path / "profile", tmp_path / "downloads")
    b.settings(engine="medium", modelSource=mirror.url)
    yield b
    mirror.reset()
    b.close()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright, ext_dir, tmp_path_factory):
    b = Browser(playwright, ext_dir, tmp_path_factory.mktemp("profile"), tmp_path_factory.mktemp("downloads"))
    b.settings(engine="fast")  # the bundled real model: fast tests, no download
    yield b
    b.close()


@pytest.fixture
def engine_page(browser):
    """An options page of the module's browser as the engine's test client (engine_page.py)."""
    page = open_engine_page(browser)
    yield page
    page.close()


@pytest.fixture(scope="module")
def firefox(ext_dir, tmp_path_factory):
    """Firefox ESR with this checkout's package, for one test module; engine fast (bundled: no download)."""
    from .firefox import Firefox

    ff = Firefox(Path(ext_dir), tmp_path_factory.mktemp("ff-profile"), tmp_path_factory.mktemp("ff-downloads"))
    ff.settings(engine="fast")
    yield ff
    ff.close()


@pytest.fixture(autouse=True)
def _no_kept_batch(request):
    """The engine keeps the popup's batch for reopened popups: each test starts without one."""
    yield
    if "browser" in request.fixturenames:
        request.getfixturevalue("browser").sw.evaluate(
            """async () => {
                const { Target, Type, message } = globalThis.BackgroneMessages;
                await chrome.runtime.sendMessage(message(Target.OFFSCREEN, Type.BATCH_CLEAR, {})).catch(() => {});
            }"""
        )


@pytest.fixture
def page(browser, sites):
    a, _ = sites
    p = browser.ctx.new_page()
    p.goto(a.url("index.html"))
    yield p
    p.close()
