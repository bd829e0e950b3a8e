"""Privacy proven on the wire: every request of every browser context (pages, service
worker, offscreen engine, popup) goes through a logging proxy on loopback."""

import base64
import json

import pytest

from composites import composite
from conftest import ROOT

from .harness import IMG_ALPHA, Browser, LoggingProxy, Site, cutout_frame

pytestmark = pytest.mark.browser

CATALOGUE = json.loads((ROOT / "models" / "catalogue.json").read_text())
CHUNKS = [c["sha256"] for c in CATALOGUE["engines"]["medium"]["source"]["chunks"]]  # the downloaded engine
# Chromium's own services (clock, sign-in, component updates), present with or without any
# extension. The extension's every address in this test is on loopback.
CHROMIUM_OWN = (".google.com", ".googleapis.com", ".gvt1.com", ".gstatic.com")


def ours(entry):
    host = entry["url"].split("://")[-1].split("/")[0].split(":")[0]
    return not host.endswith(CHROMIUM_OWN)


@pytest.fixture
def wired(playwright, ext_dir, tmp_path, mirror):
    proxy = LoggingProxy()
    roots = [tmp_path / "a", tmp_path / "b"]
    for r in roots:
        r.mkdir()
        (r / "ball.png").write_bytes(composite("ball", 400, 300, seed=41)[0])
        (r / "box.png").write_bytes(composite("box", 400, 300, seed=42)[0])
    # cacheable like most images on the web: after they were seen, they work offline
    a, b = Site(roots[0], "max-age=3600"), Site(roots[1], "max-age=3600")
    small = base64.b64encode(composite("ball", 160, 120, seed=43)[0]).decode()
    (roots[0] / "index.html").write_text(
        f'<!doctype html><img id="same" src="/ball.png"><img id="cross" src="{b.origin}/box.png">'
        f'<img id="data" src="data:image/png;base64,{small}">'
    )
    mirror.reset()
    browser = Browser(playwright, ext_dir, tmp_path / "profile", tmp_path / "dl", extra_args=proxy.args)
    browser.settings(engine="medium", modelSource=mirror.url)
    yield browser, proxy, a, b, mirror
    browser.close()
    proxy.close()
    a.close()
    b.close()


def popup_cut(browser, path):
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.set_input_files("#files", [str(path)])
    popup.wait_for_function("() => document.querySelector('.card[data-state]')")
    state = popup.eval_on_selector(".card", "c => c.dataset.state")
    popup.close()
    return state


def test_no_request_carries_image_data_and_offline_cut_outs_work(wired, tmp_path):
    browser, proxy, a, b, mirror = wired
    page = browser.ctx.new_page()
    page.goto(a.url("index.html"))
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")
    page_urls = {e["url"] for e in proxy.log}
    assert a.url("index.html") in page_urls  # the proxy sees loopback traffic
    seen = len(proxy.log)

    same, cross = a.url("ball.png"), b.url("box.png")
    first = browser.menu_click(page, same)
    assert first["ok"] and first["engine"] == "medium", first
    assert browser.menu_click(page, cross)["ok"]
    upload = tmp_path / "upload.png"
    upload.write_bytes(composite("box", 300, 200, seed=44)[0])
    assert popup_cut(browser, upload) == "done"

    log = [e for e in proxy.log if ours(e)]
    seen = len([e for e in proxy.log[:seen] if ours(e)])
    # nothing is ever sent: every request a GET without a body
    assert all(e["method"] == "GET" and e["body"] == 0 and not e["chunked"] for e in log), log
    caused = [e["url"] for e in log[seen:] if not e["url"].endswith("/favicon.ico")]
    chunks = {mirror.url + sha for sha in CHUNKS}
    # the only requests: the images themselves and, not yet cached, the model's chunks
    assert set(caused) <= {same, cross} | chunks, sorted(set(caused) - ({same, cross} | chunks))
    assert chunks <= set(caused)  # the engine's own traffic went through the proxy too
    assert not any(upload.name in u for u in caused)  # the uploaded file never touched the network

    # every request refused from now on: cached model, cached images, data: and files still work
    proxy.refuse()
    page.close()
    page2 = browser.ctx.new_page()
    page2.goto(a.url("index.html"))  # served from the HTTP cache
    page2.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")
    for sel in ("#same", "#data"):
        r = browser.menu_click(page2, page2.eval_on_selector(sel, "i => i.currentSrc"))
        assert r["ok"] and r["engine"] == "medium", (sel, r)
        px = page2.evaluate(IMG_ALPHA, sel)
        assert px["corners"] == [0, 0, 0, 0] and px["centre"] >= 250, px
    r = browser.menu_click(page2, cross)
    assert r["ok"] and r["guarded"], r
    assert cutout_frame(page2)
    assert popup_cut(browser, upload) == "done"
