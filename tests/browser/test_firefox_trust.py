"""Privacy and trust in real headless Firefox (the Firefox side of test_privacy.py): a hostile
page never gains the pixels of a private image it shows, content scripts are untrusted, and
the extension's pages and results stay out of a page's reach under moz-extension://: a page
never hears our origin from us (a per-install ID in Firefox), and handed it all the same, it
gains nothing, not even from the frame, a web-accessible page it can load with any id."""

import base64
import contextlib
import time
import uuid
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from composites import composite

from .firefox import BidiError, Firefox
from .harness import IMG_ALPHA
from .untrusted import UNTRUSTED

pytestmark = pytest.mark.browser

TAB, ENTER = "\ue004", "\ue007"  # WebDriver key values

# A page on another origin than the private image, which it shows (the user's cookie goes
# with its <img>) and tries every way to read: the image itself, any URL the extension puts
# into its DOM, the overlay, our frame (which it hears from), our moz-extension:// files.
# It also forges our frame's "ready" message, which only our own frame may send.
HOSTILE = """<!doctype html><meta charset="utf-8"><title>hostile</title>
<style>backgrone-overlay {{ display: none !important; visibility: hidden !important; opacity: 0 !important; }}</style>
<img id="private" src="{private}" style="width:320px;height:240px;display:block">
<iframe id="sub" src="/ff-sub.html" style="width:40px;height:30px"></iframe>
<script>
window.__stolen = []; window.__pending = 0; window.__heard = []; window.__probed = [];
const steal = (what) => window.__stolen.push(what);
const seen = new Set();
async function attempt(work) {{
  window.__pending++;
  try {{ await work(); }} catch (e) {{}} finally {{ window.__pending--; }}
}}
function tryRead(url) {{
  if (seen.has(url)) return; seen.add(url);
  attempt(async () => {{ const b = await (await fetch(url)).blob(); steal('fetch ' + url.slice(0, 60) + ' ' + b.size); }});
  attempt(async () => {{
    const im = new Image(); im.src = url; await im.decode();
    const c = document.createElement('canvas'); c.width = im.naturalWidth; c.height = im.naturalHeight;
    const g = c.getContext('2d'); g.drawImage(im, 0, 0); g.getImageData(0, 0, 1, 1);
    steal('canvas ' + url.slice(0, 60));
  }});
}}
function scan() {{
  for (const el of document.querySelectorAll('*')) {{
    for (const name of el.getAttributeNames()) {{
      const v = el.getAttribute(name) || '';
      if (/^(blob|data|moz-extension):/.test(v)) tryRead(v.split(' ')[0]);
    }}
    if (el.shadowRoot) steal('shadow root of ' + el.tagName);
    if (el.id === 'private') tryRead(el.currentSrc);
  }}
  for (let i = 0; i < frames.length; i++) {{
    try {{ if (frames[i].location.href !== new URL('/ff-sub.html', location.href).href) steal('frame ' + frames[i].location.href); }} catch (e) {{}}
  }}
}}
new MutationObserver(scan).observe(document.documentElement, {{ subtree: true, attributes: true, childList: true }});
// With our origin (and the frame's window, where it has it): look into it, ask it for things, fetch our files.
function probe(origin, frame) {{
  if (window.__probed.includes(origin)) return;
  window.__probed.push(origin);
  if (frame) {{
    try {{ steal('frame document ' + frame.document.documentElement.outerHTML.slice(0, 60)); }} catch (err) {{}}
    try {{ steal('frame address ' + frame.location.href); }} catch (err) {{}}
    for (const m of [{{ target: 'offscreen', type: 'result-url', data: {{}} }}, {{ target: 'frame', type: 'copy', data: {{}} }}, 'cutout'])
      frame.postMessage(m, '*');
  }}
  for (const p of ['/manifest.json', '/extension/popup/popup.html', '/extension/options/options.html',
      '/extension/engine/offscreen.html', '/extension/frame/frame.js', '/extension/lib/messages.js'])
    tryRead(origin + p);
}}
addEventListener('message', (e) => {{
  if (e.source === window || !e.origin.startsWith('moz-extension:')) return;
  const d = e.data;
  if (!(d && d.backgroneFrame === true && Object.keys(d).length === 2)) steal('message ' + JSON.stringify(d).slice(0, 80));
  window.__heard.push(e.origin);
  probe(e.origin, e.source);
}}, true);
setInterval(() => window.postMessage({{ backgroneFrame: true, ready: false }}, '*'), 20);
</script>"""


def sign_in_route(site) -> None:
    """/ff-login sets the user's cookie on that site (as signing in would)."""
    cookie = {"Set-Cookie": "session=secret; Path=/; SameSite=Lax"}
    site.route("/ff-login", 200, "text/plain", b"signed in", headers=cookie)


SUB = '<!doctype html><meta charset="utf-8"><title>sub</title><p>an ad</p>'


def tab_id(ff: Firefox, ctx: str) -> int:
    url = ff.evaluate(ctx, "location.href")
    return ff.background("async (bg, url) => (await browser.tabs.query({})).find((t) => t.url === url).id", url)


def result_url(ff: Firefox, result_id: str) -> str:
    """The engine's blob: URL of a result (what only extension pages may ask for)."""
    answer = ff.background(
        "async (bg, resultId) => bg.BackgroneEngine.handle({ target: 'offscreen', type: 'result-url', data: { resultId } })",
        result_id,
    )
    assert answer["ok"], answer
    return answer["url"]


def frame_states(ff: Firefox, ctx: str) -> dict:
    """{address: what the frame says (its error, "true" once it shows a cut-out, or None)} per frame in the page."""
    states = {}
    for frame in ff.frames(ctx):
        with contextlib.suppress(BidiError):  # still loading: its realm went away
            states.update(ff.evaluate(frame["context"], FRAME_STATE))
    return states


FRAME_STATE = (
    "(d => ({ [location.href]: d && (d.dataset.error || d.dataset.ready) || null }))(document.documentElement)"
)


def wait_for(ff: Firefox, ctx: str, expression: str, what: str, timeout_s: float = 30):
    end = time.monotonic() + timeout_s
    while (value := ff.evaluate(ctx, expression)) in (None, False, [], 0):
        assert time.monotonic() < end, what
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def hostile(firefox, sites):
    """The hostile page, after a right-click on the private image (cut out, guarded)."""
    ff, (a, b) = firefox, sites
    data, _ = composite("ball", 400, 300, seed=11)
    b.route("/ff-private.png", 200, "image/png", data, cookie="session=secret")
    sign_in_route(b)
    a.route("/ff-sub.html", 200, "text/html", SUB.encode())
    private = b.url("ff-private.png")
    a.route("/ff-hostile.html", 200, "text/html", HOSTILE.format(private=private).encode())
    ff.navigate(ff.tab, b.url("ff-login"))  # the user is signed in there: the cookie
    ctx = ff.new_tab()
    ff.navigate(ctx, a.url(f"ff-hostile.html?{uuid.uuid4().hex}"))
    shown = ff.evaluate(ctx, "document.querySelector('#private').naturalWidth")
    before = len(b.requests)
    result = ff.menu_click(ctx, private)
    yield SimpleNamespace(ctx=ctx, url=private, site=b, before=before, shown=shown, result=result)
    ff.close_tab(ctx)


@pytest.fixture(scope="module")
def other_result(firefox, sites):
    """A real result, made for another tab (still open: its page offers Save)."""
    ctx = firefox.new_tab()
    firefox.navigate(ctx, sites[0].url(f"index.html?{uuid.uuid4().hex}"))
    made = firefox.menu_click(ctx, sites[0].url("ball.png"))
    assert made["ok"], made
    yield SimpleNamespace(ctx=ctx, id=made["resultId"], tab=tab_id(firefox, ctx))
    firefox.close_tab(ctx)


def test_a_hostile_page_gains_no_pixels_of_a_private_cross_site_image(firefox, hostile):
    ff, ctx, result = firefox, hostile.ctx, hostile.result
    assert hostile.shown == 400  # the user sees it (the cookie went with the page's <img>)
    assert result["ok"], result  # despite the page's forged "not shown" messages
    # the page gained nothing: no readable copy, its <img> untouched
    wait_for(ff, ctx, "window.__pending === 0", "the page's attempts never ended")
    assert ff.evaluate(ctx, "window.__stolen") == []
    assert ff.evaluate(ctx, "document.querySelector('#private').src") == hostile.url
    assert result["guarded"] is True, result
    # the engine fetched it as the user sees it, cookie included (the content script's own
    # attempt, bound by the page's CORS, is anonymous and fails)
    cookies = [c for p, c in hostile.site.server.cookies[hostile.before :] if p.startswith("/ff-private.png")]
    assert any(c and "session=secret" in c for c in cookies), cookies
    # the user sees the cut-out, in the extension's frame
    [frame] = [f for f in ff.frames(ctx) if f"/extension/frame/frame.html#r={result['resultId']}" in f["url"]]
    assert ff.evaluate(frame["context"], "document.documentElement.dataset.ready") == "true"
    px = ff.call(frame["context"], IMG_ALPHA, "#cutout")
    assert (px["width"], px["height"]) == (400, 300)
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px
    # The frame told our content script, not the page: a window message would name our origin,
    # in Firefox a per-install ID that follows the user from site to site. Handed the origin all
    # the same, the page tries our files and the frame's window: still nothing.
    origin = ff.ext_url("").rstrip("/")
    assert ff.evaluate(ctx, "window.__heard") == []
    ff.call(ctx, "(origin) => probe(origin, null)", origin)
    assert ff.evaluate(ctx, "window.__probed") == [origin]
    wait_for(ff, ctx, "window.__pending === 0", "the page's attempts never ended")
    assert ff.evaluate(ctx, "window.__stolen") == []
    # no way into the overlay, and no hiding it
    style = "(s => [s.display, s.visibility, s.opacity])(getComputedStyle(document.querySelector('backgrone-overlay')))"
    assert ff.evaluate(ctx, style) == ["block", "visible", "1"]
    assert ff.evaluate(ctx, "document.querySelector('backgrone-overlay').shadowRoot") is None
    # nor can it search the overlay's words (window.find() reaches into closed shadow roots)
    assert ff.evaluate(ctx, "[window.find('Background'), window.find('Restore'), window.find('Save')]") == [False] * 3
    assert ff.evaluate(ctx, "typeof browser === 'undefined' && typeof chrome === 'undefined'")  # no runtime to call
    tainted = ff.evaluate(
        ctx,
        """(() => { const im = document.querySelector('#private'); const c = document.createElement('canvas');
        c.width = 4; c.height = 4; const g = c.getContext('2d'); g.drawImage(im, 0, 0);
        try { g.getImageData(0, 0, 1, 1); return false; } catch (e) { return true; } })()""",
    )
    assert tainted
    # Save still works for the user (from the engine's blob: URL), with no background under the transparency
    ff.press(ctx, TAB, ENTER)  # the finished box has the focus: Tab to Save, Enter
    path = ff.downloads / "ff-private-cutout.png"
    end = time.monotonic() + 30
    while not (path.is_file() and path.stat().st_size > 0):
        assert time.monotonic() < end, list(ff.downloads.iterdir())
        time.sleep(0.2)
    saved = np.asarray(Image.open(path))
    assert saved.shape == (300, 400, 4)
    assert (saved[saved[..., 3] == 0][:, :3] == 0).all()


# A content script that connects the port of a job the service worker opened for another
# tab or frame (as if it had learnt the job's id), and says it can't read the image, so
# that the engine would fetch it with the user's cookies.
FORGED_PORT = """async ({ jobId, subframe }) => {
  if (subframe === (window === window.top)) return null;
  return new Promise((resolve) => {
    const got = [];
    const p = chrome.runtime.connect({ name: 'backgrone-job:' + jobId });
    p.onMessage.addListener((m) => got.push(m.type));
    p.onDisconnect.addListener(() => resolve({ got, disconnected: true }));
    p.postMessage({ target: 'port', type: 'unreadable', data: { reason: 'not-readable' } });
    setTimeout(() => resolve({ got, disconnected: false }), 5000);
  });
}"""

START_JOB = """async (bg, jobId, source) => {
  window.__job = bg.BackgroneEngine.handle({ target: 'offscreen', type: 'cut', data: { jobId, source,
    engine: 'fast', options: {}, modelSource: 'https://models.invalid/' } });
  return null;
}"""


def test_content_script_messages_are_untrusted(firefox, hostile, other_result):
    ff, ctx, b = firefox, hostile.ctx, hostile.site
    assert hostile.result["ok"], hostile.result
    hostile_tab = tab_id(ff, ctx)
    before = len(b.requests)
    downloads_before = ff.call(ff.helper(), "async () => (await browser.downloads.search({})).length")
    args = {"privateUrl": hostile.url, "tabId": hostile_tab, "ownResult": hostile.result["resultId"]}
    [run] = ff.in_content_script(ctx, UNTRUSTED, args | {"otherResult": other_result.id})
    out = run["result"]
    assert out is not None, run
    for asked in ["cut", "resultUrlOwn", "resultUrlOther", "ping", "deleteModels", "downloadModel", "modelStatus"]:
        assert out[asked] == "no answer", (asked, out[asked])  # the engine takes commands from extension pages only
    assert out["saveBytes"] == "no answer"  # not the protocol's shape: dropped
    assert out["saveUnknown"]["ok"] is False and "no longer available" in out["saveUnknown"]["error"]
    assert out["saveOtherTab"]["ok"] is False and "another tab" in out["saveOtherTab"]["error"]
    assert out["port"] == []  # a job port nobody registered hears nothing back

    # A real job's port, connected by the wrong page: another tab, or another frame of the tab.
    for victim, subframe in [(other_result, False), (SimpleNamespace(ctx=ctx, tab=hostile_tab), True)]:
        job = str(uuid.uuid4())
        source = {"kind": "page", "url": hostile.url, "tabId": victim.tab, "frameId": 0}
        ff.background(START_JOB, job, source)
        runs = ff.in_content_script(ctx, FORGED_PORT, {"jobId": job, "subframe": subframe}, all_frames=subframe)
        [forged] = [r for r in runs if r["result"] is not None]
        assert (forged["frameId"] != 0) == subframe, runs
        answer = ff.evaluate(ff.helper(), "window.__job")
        assert answer is not None, "the engine did not take the job (does it fit messages.js?)"
        assert answer["ok"] is False and "not the page that was clicked" in answer["error"], (subframe, answer)
        assert forged["result"] == {"got": [], "disconnected": True}, (subframe, forged)
    assert len(b.requests) == before  # the private image was not fetched again
    assert ff.call(ff.helper(), "async () => (await browser.downloads.search({})).length") == downloads_before


POPUP_RESULT = """async (b64) => {
  const { callEngine } = await import('/extension/lib/offscreen_client.js');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
  const answer = await callEngine('cut', { jobId: crypto.randomUUID(), source: { kind: 'blob', url }, engine: 'fast',
    options: { output: 'cutout', format: 'png' }, modelSource: 'https://models.invalid/', name: 'mine.png' });
  return answer.resultId;
}"""

# The page, knowing our origin and (worst case) our results' ids and blob: URLs, reaches for them.
REACH = """async ({ base, blobs, frames }) => {
  const out = {};
  for (const url of blobs) {
    out['fetch ' + url] = await fetch(url).then((r) => 'read ' + r.status, () => 'refused');
    out['img ' + url] = await new Promise((resolve) => {
      const im = new Image(); im.onload = () => resolve('loaded'); im.onerror = () => resolve('refused'); im.src = url; });
  }
  for (const path of frames) {
    const f = document.createElement('iframe'); f.className = 'reach'; f.src = base + path; document.body.append(f);
  }
  return out;
}"""


def test_extension_pages_and_results_are_out_of_a_pages_reach(firefox, hostile, other_result, sites):
    """Firefox serves the guarded frame at a fixed address per install (no use_dynamic_url), and
    the page learns our origin from it: whatever a page then loads or fetches from our origin,
    it gets no result of another tab or of the popup, and no page but the frame."""
    ff, ctx = firefox, hostile.ctx
    data, _ = composite("box", 200, 150, seed=3)
    popup_result = ff.call(ff.helper(), POPUP_RESULT, base64.b64encode(data).decode())
    blobs = [result_url(ff, i) for i in (hostile.result["resultId"], other_result.id, popup_result)]
    frames = [
        "extension/popup/popup.html",
        "extension/options/options.html",
        "extension/engine/offscreen.html",
        f"extension/frame/frame.html#r={other_result.id}",
        f"extension/frame/frame.html#r={popup_result}",
    ]
    out = ff.call(ctx, REACH, {"base": ff.ext_url(""), "blobs": blobs, "frames": frames})
    assert set(out.values()) == {"refused"}, out
    # Extension pages that are not web-accessible don't load in the page's frames.
    end = time.monotonic() + 20
    while True:
        loaded = frame_states(ff, ctx)
        errors = {url: state for url, state in loaded.items() if "#r=" in url and "&" not in url}  # ours has &fit=
        if (len(errors) == 2 and all(errors.values())) or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert not [u for u in loaded if any(p in u for p in ("popup.html", "options.html", "offscreen.html"))], loaded
    # The frame, which any page may load, shows no result of another tab or of the popup.
    assert errors == {
        ff.ext_url(frames[3]): "this cut-out belongs to another tab",
        ff.ext_url(frames[4]): "this cut-out belongs to another window",
    }, errors
    ff.evaluate(ctx, "document.querySelectorAll('iframe.reach').forEach((f) => f.remove())")


def test_no_cookies_for_an_image_from_another_site(firefox, sites):
    """The engine's own request would count as first-party everywhere: for an image of another
    site than the tab's, it carries no cookies at all (the page's <img> could not send them)."""
    ff, (a, b) = firefox, sites
    data, _ = composite("box", 400, 300, seed=12)
    b.route("/ff-public.png", 200, "image/png", data)
    sign_in_route(b)
    other_site = f"http://localhost:{b.server.server_address[1]}"
    ff.navigate(ff.tab, f"{other_site}/ff-login")  # signed in on the other site
    a.route("/ff-embeds.html", 200, "text/html", f'<img id="pic" src="{other_site}/ff-public.png">'.encode())
    ctx = ff.new_tab()
    ff.navigate(ctx, a.url(f"ff-embeds.html?{uuid.uuid4().hex}"))
    result = ff.menu_click(ctx, f"{other_site}/ff-public.png")
    assert result["ok"] and result["guarded"], result
    fetched = [c for p, c in b.server.cookies if p.startswith("/ff-public.png")]
    # the <img>, the content script's attempt and the engine's fetch: none with a cookie
    assert len(fetched) >= 3 and not any(fetched), fetched
    ff.close_tab(ctx)
