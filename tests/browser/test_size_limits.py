"""The size limit holds before the browser decodes anything: a 1.7 KB AVIF that declares
12000x12000 (a real one, made by avifenc) is refused from its header with the core's own
over-limit message, and the engine's process never holds its pixels."""

import base64
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from pss import PeakSampler, browser_roots, tree_pss_mb

pytestmark = pytest.mark.browser

HUGE = (ROOT / "tests" / "fixtures" / "huge-12000x12000.avif").read_bytes()
SMALL = (ROOT / "tests" / "fixtures" / "ball.avif").read_bytes()

ENGINE_CUT = """async ([b64, type]) => {
    const { callEngine } = await import('/extension/lib/offscreen_client.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type }));
    try {
        const answer = await callEngine('cut', { jobId: crypto.randomUUID(), source: { kind: 'blob', url }, engine: 'fast',
            options: { output: 'cutout', format: 'png' }, modelSource: 'https://models.invalid/', name: 'in.avif' });
        return { ok: true, width: answer.width, height: answer.height };
    } catch (err) {
        return { ok: false, error: String(err.message || err) };
    }
}"""


def test_a_huge_avif_is_refused_from_its_header_without_decoding(browser):
    page = browser.ctx.new_page()
    page.goto(browser.ext_url("extension/options/options.html"))
    cut = lambda data: page.evaluate(ENGINE_CUT, [base64.b64encode(data).decode(), "image/avif"])  # noqa: E731
    warm = cut(SMALL)  # Python and the model loaded: what follows is the AVIF's own cost
    assert warm["ok"] and (warm["width"], warm["height"]) == (320, 240), warm
    roots = browser_roots(str(browser.profile))  # this browser only: Playwright gives every Chromium --load-extension=
    assert roots
    before = tree_pss_mb(roots)  # the whole browser: engine, pages, GPU process
    with PeakSampler(lambda: roots, period_s=0.05).window() as peak:
        refused = cut(HUGE)
    assert not refused["ok"], refused
    assert "12000x12000 (144.0 MP), over the 50.0 MP limit" in refused["error"], refused
    # Decoded, the image is 576 MB as a bitmap, again as a canvas, as ImageData and in the wasm heap.
    assert peak.mb - before < 150, (before, peak.mb, peak.top)
    again = cut(SMALL)  # and the engine goes on
    assert again["ok"], again
    page.close()
