"""Privacy and trust: a page never gains pixels it could not read, content scripts are
untrusted, saved cut-outs carry no removed background, the model source is https."""

import uuid

import numpy as np
import pytest
from PIL import Image

from composites import composite

from .harness import IMG_ALPHA, Overlays, cutout_frame
from .untrusted import UNTRUSTED

pytestmark = pytest.mark.browser

HOSTILE = """<!doctype html><meta charset="utf-8"><title>hostile</title>
<img id="decoy" src="/ball.png" style="width:320px;height:240px;display:block">
<img id="private" src="{private}" style="position:absolute;left:8px;top:8px;width:320px;height:240px;opacity:0.02">
<script>
window.__stolen = []; window.__heard = [];
// Our frame tells our content script that it shows the cut-out, never the page: a window message
// would name our origin (and that the engine could fetch the image).
addEventListener('message', (e) => {{ if (e.source !== window) window.__heard.push(e.origin); }}, true);
const seen = new Set();
async function tryRead(url) {{
  if (seen.has(url)) return; seen.add(url);
  try {{ const b = await (await fetch(url)).blob(); window.__stolen.push('fetch ' + url.slice(0, 40) + ' ' + b.size); }} catch (e) {{}}
  try {{
    const im = new Image(); im.src = url; await im.decode();
    const c = document.createElement('canvas'); c.width = im.naturalWidth; c.height = im.naturalHeight;
    const g = c.getContext('2d'); g.drawImage(im, 0, 0); g.getImageData(0, 0, 1, 1);
    window.__stolen.push('canvas ' + url.slice(0, 40));
  }} catch (e) {{}}
}}
function scan() {{
  for (const el of document.querySelectorAll('*')) {{
    for (const name of el.getAttributeNames()) {{
      const v = el.getAttribute(name) || '';
      if (/^(blob|data):/.test(v)) tryRead(v.split(' ')[0]);
    }}
    if (el.shadowRoot) window.__stolen.push('shadow root of ' + el.tagName);
    if (el.id === 'private') tryRead(el.currentSrc);
  }}
}}
new MutationObserver(scan).observe(document.documentElement, {{ subtree: true, attributes: true, childList: true }});
</script>"""


@pytest.fixture
def private_image(browser, sites):
    """A cookie-protected image on another origin (another loopback port), and a hostile page over it."""
    a, b = sites
    data, _ = composite("ball", 400, 300, seed=11)
    b.route("/private.png", 200, "image/png", data, cookie="session=secret")
    url = b.url("private.png")
    browser.ctx.add_cookies([{"name": "session", "value": "secret", "url": b.origin, "sameSite": "Lax"}])
    a.route("/hostile.html", 200, "text/html", HOSTILE.format(private=url).encode())
    page = browser.ctx.new_page()
    page.goto(a.url(f"hostile.html?{uuid.uuid4().hex}"))
    page.wait_for_function("() => document.querySelector('#private').complete")
    yield page, url, b
    page.close()


def test_a_hostile_page_gains_no_pixels_of_a_private_cross_site_image(browser, private_image):
    page, url, b = private_image
    assert page.eval_on_selector("#private", "img => img.naturalWidth") == 400  # the user sees it (cookie sent)
    before = len(b.requests)
    result = browser.menu_click(page, url)
    assert result["ok"] and result["guarded"] is True, result
    # the engine fetched the private image as the user sees it, cookie included
    # (the content script's own attempt, bound by the page's CORS, is anonymous and fails)
    cookies = [c for p, c in b.server.cookies[before:] if p.startswith("/private.png")]
    assert any(c and "session=secret" in c for c in cookies), cookies
    # the user sees the cut-out, in the extension's frame
    px = cutout_frame(page).evaluate(IMG_ALPHA, "#cutout")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px
    page.wait_for_timeout(500)  # let the page's observers run
    # the page gained nothing: no readable copy, its <img> untouched, no way into the overlay
    assert page.evaluate("() => window.__stolen") == []
    assert page.evaluate("() => window.__heard") == []
    assert page.eval_on_selector("#private", "img => img.src") == url
    assert page.evaluate("() => document.querySelector('backgrone-overlay').shadowRoot") is None
    # nor can it search the overlay's words (window.find() reaches into closed shadow roots)
    assert page.evaluate("() => [window.find('Background'), window.find('removed'), window.find('Save')]") == [
        False,
        False,
        False,
    ]
    tainted = page.evaluate("""() => { const im = document.querySelector('#private'); const c = document.createElement('canvas');
        c.width = 4; c.height = 4; const g = c.getContext('2d'); g.drawImage(im, 0, 0);
        try { g.getImageData(0, 0, 1, 1); return false; } catch (e) { return true; } }""")
    assert tainted
    # Save still works for the user, and the file has no background under its transparency
    browser.keep_download_names(page)
    overlays = Overlays(page)
    overlays.click("Save")
    overlays.wait_text("Saved as private-cutout.png")
    saved = np.asarray(Image.open(browser.downloads / "private-cutout.png"))
    assert saved.shape == (300, 400, 4)
    assert (saved[saved[..., 3] == 0][:, :3] == 0).all()


def test_saved_cut_out_carries_no_removed_background(browser, page):
    """Fully transparent pixels hold no colour: alpha -> 255 reveals black, not the room."""
    browser.keep_download_names(page)
    src = page.eval_on_selector("#same", "img => img.currentSrc")
    assert browser.menu_click(page, src)["ok"]
    overlays = Overlays(page)
    overlays.click("Save")
    overlays.wait_text("Saved as ball-cutout")
    name = overlays.text().split("Saved as ")[1].split(".png")[0] + ".png"
    rgba = np.asarray(Image.open(browser.downloads / name))
    clear = rgba[..., 3] == 0
    assert clear.mean() > 0.3  # a real cut-out, with a large removed background
    assert (rgba[clear][:, :3] == 0).all()


def test_content_script_messages_are_untrusted(browser, sites, private_image):
    page, url, b = private_image
    # a real result, made for another tab
    other = browser.ctx.new_page()
    other.goto(sites[0].url(f"index.html?{uuid.uuid4().hex}"))
    made = browser.menu_click(other, other.eval_on_selector("#same", "img => img.currentSrc"))
    assert made["ok"], made
    before = len(b.requests)
    downloads_before = browser.sw.evaluate("async () => (await chrome.downloads.search({})).length")
    run_untrusted = (
        "async ([pageUrl, privateUrl, otherResult]) => {"
        "  const [tab] = await chrome.tabs.query({ url: pageUrl });"
        "  const [r] = await chrome.scripting.executeScript({ target: { tabId: tab.id },"
        f"    func: {UNTRUSTED}, args: [{{ privateUrl, tabId: tab.id, ownResult: null, otherResult }}] }});"
        "  return r.result;"
        "}"
    )
    out = browser.sw.evaluate(
        run_untrusted,
        [page.url, url, made["resultId"]],
    )
    for asked in ["cut", "resultUrlOwn", "resultUrlOther", "ping", "deleteModels", "downloadModel", "modelStatus"]:
        assert out[asked] == "no answer", (asked, out[asked])  # the engine takes commands from extension pages only
    assert out["saveBytes"] == "no answer"  # not the protocol's shape: dropped
    assert out["saveUnknown"]["ok"] is False and "no longer available" in out["saveUnknown"]["error"]
    assert out["saveOtherTab"]["ok"] is False and "another tab" in out["saveOtherTab"]["error"]
    assert out["port"] == []  # a job port nobody registered hears nothing back
    assert len(b.requests) == before  # the private image was not fetched
    downloads_after = browser.sw.evaluate("async () => (await chrome.downloads.search({})).length")
    assert downloads_after == downloads_before
    other.close()


def test_overlay_cannot_be_restyled_by_the_page(browser, page):
    page.add_style_tag(
        content="backgrone-overlay { display: none !important; visibility: hidden !important; opacity: 0 !important; }"
    )
    assert browser.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))["ok"]
    style = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('backgrone-overlay'));
        return [s.display, s.visibility, s.opacity]; }""")
    assert style == ["block", "visible", "1"]
    assert page.evaluate("() => document.querySelector('backgrone-overlay').shadowRoot") is None


@pytest.mark.parametrize(
    "source,ok",
    [
        ("https://models.example.org/dist/", True),
        ("http://127.0.0.1:8080/dist/", True),
        ("http://localhost/dist/", True),
        ("http://models.example.org/dist/", False),
        ("ftp://models.example.org/dist/", False),
        ("https://user:pw@models.example.org/dist/", False),
        ("https://models.example.org/dist", False),
    ],
)
def test_model_source_is_https_only(browser, source, ok):
    """Checked where it is used (the model store) and where it is set (settings)."""
    options = browser.ctx.new_page()
    options.goto(browser.ext_url("extension/options/options.html"))
    problem = options.evaluate(
        "async (u) => (await import('/extension/lib/settings.js')).modelSourceProblem(u)", source
    )
    assert (problem is None) == ok, problem
    saved = options.evaluate(
        "async (u) => (await import('/extension/lib/settings.js')).saveSettings({ modelSource: u }).then(() => 'saved', (e) => e.message)",
        source,
    )
    assert (saved == "saved") == ok, saved
    options.evaluate(
        "async () => (await import('/extension/lib/settings.js')).saveSettings({ modelSource: 'https://staticimgly.com/@imgly/background-removal-data/1.4.5/dist/' })"
    )
    options.close()


def test_model_store_refuses_a_plain_http_source_even_if_stored(browser, sites):
    """A value written around the settings form still can't make the engine fetch over http."""
    options = browser.ctx.new_page()
    options.goto(browser.ext_url("extension/options/options.html"))
    error = options.evaluate("""async () => {
        const { loadCatalogue } = await import('/extension/lib/catalogue.js');
        const { loadModelBytes } = await import('/extension/lib/model_store.js');
        const spec = (await loadCatalogue()).engines.medium;
        return loadModelBytes(spec, { source: 'http://models.example.org/dist/' }).then(() => 'loaded', (e) => e.message);
    }""")
    assert "https://" in error
    options.close()


def test_no_cookies_for_an_image_from_another_site(browser, sites):
    """The engine's own request would count as same-site everywhere: for an image of another
    site than the tab's, it carries no cookies at all (the page's <img> could not send them)."""
    a, b = sites
    data, _ = composite("box", 400, 300, seed=12)
    b.route("/public.png", 200, "image/png", data)
    other_site = f"http://localhost:{b.server.server_address[1]}"
    browser.ctx.add_cookies([{"name": "session", "value": "secret", "url": other_site, "sameSite": "Lax"}])
    a.route("/embeds.html", 200, "text/html", f'<img id="pic" src="{other_site}/public.png">'.encode())
    page = browser.ctx.new_page()
    page.goto(a.url(f"embeds.html?{uuid.uuid4().hex}"))
    page.wait_for_function("() => document.querySelector('#pic').complete")
    result = browser.menu_click(page, f"{other_site}/public.png")
    assert result["ok"] and result["guarded"], result
    fetched = [c for p, c in b.server.cookies if p.startswith("/public.png")]
    # the <img>, the content script's attempt and the engine's fetch: none with a cookie
    assert len(fetched) >= 3 and not any(fetched), fetched
    page.close()


def test_escape_closes_the_overlay_and_ends_the_job(browser, page):
    assert browser.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))["ok"]
    overlays = Overlays(page)
    overlays.focus("Save")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('backgrone-overlay')")
    assert page.eval_on_selector("#same", "img => img.src.startsWith('blob:')")  # the cut-out stays
