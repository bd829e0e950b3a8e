"""A job that ends early stops its work: a page closed while its model downloads stops the
download (unless another job waits on it), and the next job downloads with progress of its
own, resuming from the chunks already stored. Through a throttled model mirror, two tabs."""

import time

import pytest

from .harness import Browser

pytestmark = pytest.mark.browser

START = """async ([pageUrl, srcUrl, key]) => {
    const [tab] = await chrome.tabs.query({ url: pageUrl });
    globalThis.__jobs ??= {};
    globalThis.__jobs[key] = { settled: false };
    globalThis.backgrone.onMenuClick({ menuItemId: 'backgrone-remove-background', srcUrl, pageUrl, frameId: 0 }, tab)
      .then((r) => { globalThis.__jobs[key] = { settled: true, ...r }; },
            (e) => { globalThis.__jobs[key] = { settled: true, ok: false, error: String(e) }; });
    return true;
}"""


def wait_for(what, timeout_s: float, step_s: float = 0.1):
    end = time.time() + timeout_s
    while time.time() < end:
        value = what()
        if value:
            return value
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s} s")


def test_a_page_closed_mid_download_stops_it_and_the_next_job_hears_its_own(
    playwright, ext_dir, tmp_path, mirror, sites
):
    a, _ = sites
    browser = Browser(playwright, ext_dir, tmp_path / "profile", tmp_path / "downloads")
    try:
        browser.settings(engine="medium", modelSource=mirror.url)
        mirror.reset()
        mirror.throttle(3_000_000)  # a 4 MB chunk in about 1.4 s
        first, second = browser.ctx.new_page(), browser.ctx.new_page()
        first.goto(a.url("index.html?first"))
        second.goto(a.url("index.html?second"))
        browser.record_progress()
        browser.sw.evaluate(START, [first.url, a.url("ball.png"), "first"])
        wait_for(lambda: browser.progress(), 30)  # the first job is under way
        browser.sw.evaluate(START, [second.url, a.url("box.png"), "second"])
        wait_for(lambda: len(mirror.requests) >= 2, 60)  # a chunk stored, the next on its way
        first.close()
        # The download stops mid-chunk, not at its end: 20 chunks left at this rate take 28 s or more.
        wait_for(lambda: mirror.aborted, 25)
        mirror.throttle(None)
        jobs = wait_for(lambda: (j := browser.sw.evaluate("() => globalThis.__jobs"))["second"]["settled"] and j, 180)
        assert jobs["second"]["ok"] and jobs["second"]["engine"] == "medium", jobs
        assert not jobs["first"]["ok"], jobs
        downloading = [p for p in browser.progress() if p.get("stage") == "downloading-model"]
        by_job = {}
        for p in downloading:
            by_job.setdefault(p["jobId"], []).append(p["loaded"])
        assert len(by_job) == 2, by_job.keys()  # the second job heard a download of its own
        resumed = list(by_job.values())[1]
        assert resumed[0] >= 4_194_304, resumed[:3]  # it started from the chunk already stored
        counts = {name: mirror.requests.count(name) for name in set(mirror.requests)}
        assert len(counts) == 22 and max(counts.values()) <= 2, counts  # only the broken-off chunk again
    finally:
        mirror.reset()
        browser.close()
