"""The imgly side of the benchmarks (bench/imgly_site.py) runs offline: @imgly/background-removal
1.7.0 in headless Chromium from loopback, on Backgrone's own ISNet chunk files."""

import io
import sys
from urllib.parse import urlsplit

import pytest
from PIL import Image

from composites import composite
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import imgly_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    s = imgly_site.ImglySite()
    yield s
    s.close()


def test_imgly_cuts_offline_on_our_chunks(playwright, site):
    browser = imgly_site.launch(playwright)
    try:
        ctx = browser.new_context()
        urls = []
        ctx.on("request", lambda r: urls.append(r.url))
        page = site.open(ctx)
        page.on("request", lambda r: urls.append(r.url))
        data, _ = composite("ball", 320, 240)
        result = imgly_site.run(page, data, "isnet_quint8")
    finally:
        browser.close()

    env = result["env"]
    assert env["ort"] == "1.21.0"
    assert env["crossOriginIsolated"] is True
    assert env["threads"] == env["hardwareConcurrency"]
    timings = result["timings"]
    assert timings["fetch"] > 0 and timings["inference"] > 0 and timings["total"] >= timings["inference"]

    png = Image.open(io.BytesIO(result["png"]))
    assert png.format == "PNG" and png.size == (320, 240) == (result["width"], result["height"])
    alpha = png.convert("RGBA").getchannel("A")
    for corner in [(2, 2), (317, 2), (2, 237), (317, 237)]:
        assert alpha.getpixel(corner) < 16, corner
    assert alpha.getpixel((160, 125)) > 240

    # nothing but the loopback site (and the blob: URLs imgly makes of what it fetched)
    outside = [u for u in urls if u.split(":")[0] not in ("blob", "data") and urlsplit(u).hostname != "127.0.0.1"]
    assert outside == []
    assert any(u.startswith(site.origin + "/public/") for u in urls)
    served = set(site.requests)
    model_chunks = [c["name"] for c in imgly_site.resources()[0]["/models/isnet_quint8"]["chunks"]]
    assert {f"/public/{name}" for name in model_chunks} <= served
