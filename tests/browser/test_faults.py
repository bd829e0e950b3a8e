"""Faults recover: a stopped service worker or a closed engine mid-job, a server that
never answers, many right-clicks across tabs at once."""

import uuid

import pytest

from composites import composite

from .harness import IMG_ALPHA, Overlays, cutout_frame

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><meta charset="utf-8"><title>faults</title>
<style>img { width: 300px; height: 200px; display: block; }</style>
<img id="big" src="/big.png"><img id="same" src="/ball.png"><img id="stall" src="/stall.png">"""


@pytest.fixture(scope="module")
def fault_site(sites):
    a, _ = sites
    big, _ = composite("ball", 3000, 2000, seed=21)  # long enough to act on mid-job
    a.route("/big.png", 200, "image/png", big)
    a.route("/faults.html", 200, "text/html", PAGE.encode())
    a.stall("/stall.png")
    return a


def open_page(browser, site):
    page = browser.ctx.new_page()
    page.goto(site.url(f"faults.html?{uuid.uuid4().hex}"), wait_until="domcontentloaded")
    page.wait_for_function("() => document.querySelector('#big').complete && document.querySelector('#same').complete")
    return page


def start_click(browser, page, src):
    """Right-click without waiting for the outcome (the service worker may not live to see it)."""
    browser.sw.evaluate(
        """async ([pageUrl, srcUrl]) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            globalThis.__settled = false;
            globalThis.__job = globalThis.backgrone.onMenuClick(
              { menuItemId: 'backgrone-remove-background', srcUrl, pageUrl, frameId: 0 }, tab);
            globalThis.__job.finally(() => { globalThis.__settled = true; });
            return true;
        }""",
        [page.url, src],
    )


def stop_service_worker(browser, page):
    cdp = browser.ctx.new_cdp_session(page)
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.stopAllWorkers")
    cdp.detach()


def test_result_reaches_the_page_when_the_service_worker_is_stopped_mid_job(browser, fault_site):
    page = open_page(browser, fault_site)
    browser.sw.evaluate("() => { globalThis.__beforeStop = true; }")
    start_click(browser, page, fault_site.url("big.png"))
    overlays = Overlays(page)
    overlays.wait_text("Removing the background")  # the engine has the job
    stop_service_worker(browser, page)
    overlays.wait_text("Background removed", timeout_s=120)
    px = page.evaluate(IMG_ALPHA, "#big")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255, px
    # and it really was a new service worker that the page never needed
    wake = browser.ctx.new_page()
    wake.goto(browser.ext_url("extension/popup/popup.html"))
    assert browser.sw.evaluate("() => globalThis.__beforeStop === undefined")
    wake.close()
    page.close()


def test_engine_closed_mid_job_says_so_and_the_next_job_works(browser, fault_site):
    page = open_page(browser, fault_site)
    start_click(browser, page, fault_site.url("big.png"))
    overlays = Overlays(page)
    overlays.wait_text("Removing the background")
    browser.sw.evaluate("() => chrome.offscreen.closeDocument()")
    text = overlays.wait_text("engine stopped unexpectedly")
    assert "try again" in text
    overlays.click("Dismiss")
    result = browser.menu_click(page, fault_site.url("ball.png"))
    assert result["ok"], result
    px = page.evaluate(IMG_ALPHA, "#same")
    assert px["corners"] == [0, 0, 0, 0] and px["centre"] == 255
    page.close()


def test_a_server_that_never_answers_holds_up_nothing(browser, fault_site):
    page = open_page(browser, fault_site)
    start_click(browser, page, fault_site.url("stall.png"))
    # meanwhile another image goes through at once, while the stalled one still waits
    result = browser.menu_click(page, fault_site.url("ball.png"))
    assert result["ok"], result
    assert browser.sw.evaluate("() => globalThis.__settled") is False
    stalled = browser.sw.evaluate("() => globalThis.__job")
    assert not stalled["ok"] and "did not answer" in stalled["error"], stalled
    overlays = Overlays(page)
    assert any("did not answer" in o["text"] for o in overlays.all())
    page.close()


def test_ten_right_clicks_across_four_tabs_all_complete(browser, sites, fault_site):
    a, _ = sites
    pages = [open_page(browser, fault_site)]
    for _ in range(3):
        p = browser.ctx.new_page()
        p.goto(a.url(f"index.html?{uuid.uuid4().hex}"))
        pages.append(p)
    # the big image first, so that the others (in the other tabs) line up behind it
    clicks = [[pages[0].url, fault_site.url("big.png"), "#big", 0]]
    for i in range(1, 10):
        t = 1 + i % 3  # with i % 4 below: never the same image twice in a tab
        sel = ["#same", "#other", "#data", "#cross"][i % 4]
        clicks.append([pages[t].url, pages[t].eval_on_selector(sel, "img => img.currentSrc"), sel, t])
    results = browser.sw.evaluate(
        """async (clicks) => Promise.all(clicks.map(async ([pageUrl, srcUrl], i) => {
            await new Promise((r) => setTimeout(r, i ? 300 : 0));  // the others start while the first runs
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            return globalThis.backgrone.onMenuClick({ menuItemId: 'backgrone-remove-background', srcUrl, pageUrl, frameId: 0 }, tab);
        }))""",
        clicks,
    )
    assert [r["ok"] for r in results] == [True] * 10, results
    for _, _, sel, t in clicks:
        if sel != "#cross":
            px = pages[t].evaluate(IMG_ALPHA, sel)
            assert px["corners"] == [0, 0, 0, 0], (sel, px)
    assert cutout_frame(pages[1])  # the cross-origin ones, in their frames
    for p in pages:
        p.close()


QUEUE = """async () => {
  const { JobQueue } = await import('/extension/engine/job_queue.js');
  const q = new JobQueue(300);
  const places = { a: [], b: [], c: [], d: [] };
  let release;
  const first = q.add(() => new Promise((r) => { release = r; }), (n) => places.a.push(n));
  const second = q.add(async () => 'b', (n) => places.b.push(n));
  const third = q.add(async () => 'c', (n) => places.c.push(n));
  release('a');
  const done = await Promise.all([first, second, third]);
  // a job that never ends: its deadline fails it, aborts its signal, and the line moves on
  let signal;
  const stuck = q.add((s) => { signal = s; return new Promise(() => {}); }).then(() => 'ended', (e) => e.message);
  const after = q.add(async () => 'after', (n) => places.d.push(n));
  return { done, places, stuck: await stuck, aborted: signal.aborted, after: await after };
}"""


def test_queue_tells_each_job_its_place_and_enforces_the_deadline(browser):
    page = browser.ctx.new_page()
    page.goto(browser.ext_url("extension/options/options.html"))
    out = page.evaluate(QUEUE)
    page.close()
    assert out["done"] == ["a", "b", "c"]
    assert out["places"]["a"] == []  # nothing ahead: no place is said (no "Waiting…" flash)
    assert out["places"]["b"] == [1]  # one ahead when it joined
    assert out["places"]["c"] == [2, 1]  # two ahead, then one
    assert "took longer than" in out["stuck"] and out["aborted"] is True
    assert out["after"] == "after" and out["places"]["d"] == [1]
