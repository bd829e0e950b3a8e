"""The engine's end of the refine editor's port, driven from a real extension page (options) in
Chromium: a cut-out's session opens, a stroke changes alpha inside its box only, undo gives the
start back, Done replaces the result its id gives, a gone recipe and a content script are refused."""

import base64
import io

import pytest
from PIL import Image

from composites import composite

from .engine_page import engine_eval

pytestmark = pytest.mark.browser

W, H = 200, 150


STROKE = {"op": "keep", "radius": 8, "points": [[15, 15], [40, 20]]}  # a corner of the background
REDETECT = {"op": "redetect", "box": [90, 40, 190, 140]}


def photo_b64() -> str:
    data, _ = composite("ball", W, H, seed=7)
    return base64.b64encode(data).decode()


def test_a_stroke_undo_and_done_through_the_edit_port(browser, engine_page):
    page = engine_page
    made = page.evaluate(
        "async (b64) => { const i = await batchFile(b64); window.original = await bytes(i.resultUrl); return i; }",
        photo_b64(),
    )
    assert made["state"] == "done" and (made["width"], made["height"]) == (W, H) and made["refineId"], made
    ready = page.evaluate(
        """async (id) => {
            window.ed = openEdit(id);
            const m = await ed.next('edit-ready', undefined);
            if (m.type !== 'edit-ready') return m;
            const d = m.data;
            const [image, s, a] = await Promise.all([d.imageUrl, d.startUrl, d.alphaUrl].map(bytes));
            Object.assign(window, { width: d.width, start: s, alpha: a });
            return { ...d, image: image.length, start: s.length, same: s.every((v, i) => v === a[i]), clear: s[17 * d.width + 27] };
        }""",
        made["refineId"],
    )
    assert "width" in ready, ready
    assert (ready["width"], ready["height"], ready["engine"], ready["guarded"]) == (W, H, "fast", False)
    assert (ready["image"], ready["start"], ready["same"], ready["edits"]) == (W * H * 4, W * H, True, [])
    assert ready["clear"] < 128  # the stroke's place is background before it

    kept = page.evaluate(
        "async (edits) => { const s = await setEdits(1, edits); window.firstPatch = s.patchUrl; return s; }", [STROKE]
    )
    assert kept["length"] == 1 and kept["inside"] > 200 and kept["outside"] == 0, kept
    assert page.evaluate("() => alpha[17 * width + 27]") == 255

    undone = page.evaluate("() => setEdits(2, [])")
    assert undone["length"] == 0 and undone["atStart"] and undone["outside"] == 0, undone
    # Each answer's URL is revoked at the next request.
    assert page.evaluate("() => fetch(firstPatch).then(() => 'read', () => 'revoked')") == "revoked"

    bad = page.evaluate("() => setEdits(3, [{ op: 'keep', radius: 5, points: [[5000, 5]] }])")
    assert bad["type"] == "edit-failed" and bad["data"]["seq"] == 3, bad
    assert "outside" in bad["data"]["error"] and bad["data"]["error"].startswith("This edit could not be applied")

    assert page.evaluate("(edits) => setEdits(4, edits)", [STROKE])["length"] == 1
    # A re-detect runs the model once (with progress); undo and redo replay it without the model.
    redetected = page.evaluate(
        "async (edits) => ({ ...(await setEdits(5, edits)), stages: ed.progress(5) })", [STROKE, REDETECT]
    )
    assert redetected["length"] == 2 and "removing-background" in redetected["stages"], redetected
    redone = page.evaluate(
        "async ([one, two]) => { await setEdits(6, one); return { ...(await setEdits(7, two)), stages: ed.progress(7) }; }",
        [[STROKE], [STROKE, REDETECT]],
    )
    assert redone["length"] == 2 and redone["stages"] == [] and redone["outside"] == 0, redone
    done = page.evaluate(
        """async (version) => {
            ed.ask('edit-render', { seq: 8, replace: true });
            const m = await ed.next('edit-rendered', 8);
            if (m.type !== 'edit-rendered') return m;
            const rendered = await bytes(m.data.url);
            const item = await itemWhen((i) => i.version > version);
            const served = await bytes(item.resultUrl);
            const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
            return { ...m.data, sameAsServed: same(rendered, served), sameAsOriginal: same(rendered, original), b64: btoa(String.fromCharCode(...served)) };
        }""",
        made["version"],
    )
    assert done["sameAsServed"] and not done["sameAsOriginal"], {k: v for k, v in done.items() if k != "b64"}
    result = Image.open(io.BytesIO(base64.b64decode(done["b64"])))
    assert result.size == (W, H) and result.getpixel((27, 17))[3] == 255  # the kept corner is in the result

    # Refine again: a new editor opens on the same edits.
    again = page.evaluate(
        """async (id) => { ed.port.disconnect(); window.ed = openEdit(id); return (await ed.next('edit-ready', undefined)).data.edits; }""",
        made["refineId"],
    )
    assert again == [STROKE, REDETECT]


def test_a_gone_cut_out_and_a_content_script_are_refused(browser, engine_page, page):
    made = engine_page.evaluate("(b64) => cutFile(b64)", photo_b64())
    released = engine_page.evaluate(
        """async (id) => {
            await callEngine('release', { resultId: id });
            const ed = openEdit(id);
            const said = (await ed.next('edit-ready', undefined)).data;
            return { ...said, then: (await ed.next('nothing', undefined)).type };
        }""",
        made["resultId"],
    )
    assert released == {  # its sentence, then the port closes
        "error": "This cut-out is no longer kept for refining. Cut the image out again, then choose Refine.",
        "then": "disconnected",
    }

    kept = engine_page.evaluate("(b64) => cutFile(b64)", photo_b64())
    # At most two sessions: a closed editor's is freed at once; a third evicts the oldest, which is told.
    sessions = engine_page.evaluate(
        """async (id) => {
            const open = async () => { const e = openEdit(id); await e.next('edit-ready', undefined); return e; };
            const first = await open();
            (await open()).port.disconnect();
            const third = await open();
            const firstHeard = first.inbox.length;
            await open();
            const evicted = await first.next('nothing', undefined);
            const then = (await first.next('nothing', undefined)).type;
            third.port.disconnect();
            return { firstHeard, evicted: evicted.data.error, then };
        }""",
        kept["resultId"],
    )
    assert sessions == {
        "firstHeard": 0,
        "evicted": "This editor was closed because two others were opened after it. "
        "Close one of them, then choose Refine again.",
        "then": "disconnected",
    }
    # A content script (what a hostile page could make it do) gets no session: the port just closes.
    heard = browser.sw.evaluate(
        """async ([pageUrl, id]) => {
            const [tab] = await chrome.tabs.query({ url: pageUrl });
            const [r] = await chrome.scripting.executeScript({ target: { tabId: tab.id }, args: [id], func: (id) =>
              new Promise((resolve) => {
                const got = [];
                const port = chrome.runtime.connect({ name: 'backgrone-edit:' + id });
                port.onMessage.addListener((m) => got.push(m.type));
                port.onDisconnect.addListener(() => resolve({ got, disconnected: true }));
                port.postMessage({ target: 'edit', type: 'edit-render', data: { seq: 1, replace: true } });
                setTimeout(() => resolve({ got, disconnected: false }), 10000);
              }) });
            return r.result;
        }""",
        [page.url, kept["resultId"]],
    )
    assert heard == {"got": [], "disconnected": True}


def test_an_editor_closed_while_it_opens_leaves_no_blob_url(browser, engine_page):
    made = engine_page.evaluate("(b64) => cutFile(b64)", photo_b64())
    engine_eval(
        engine_page,
        """(() => {
            window.blobs = { made: 0, revoked: 0 };
            const make = URL.createObjectURL, revoke = URL.revokeObjectURL;
            URL.createObjectURL = (b) => (blobs.made++, make(b));
            URL.revokeObjectURL = (u) => (blobs.revoked++, revoke(u));
        })()""",
    )
    # Ports closed at several moments of the session's start (before its EDIT_READY could come).
    engine_page.evaluate(
        """async (id) => {
            for (const ms of [0, 5, 20, 50, 100, 200]) {
                const ed = openEdit(id);
                await new Promise((r) => setTimeout(r, ms));
                ed.port.disconnect();
            }
        }""",
        made["resultId"],
    )
    counts = None
    for _ in range(100):  # until every session's work has ended and what it made is revoked
        counts = engine_eval(engine_page, "blobs")
        if counts["made"] == counts["revoked"]:
            break
        engine_page.wait_for_timeout(100)
    assert counts["made"] == counts["revoked"], counts


def test_an_editor_left_alone_lets_its_session_go(browser, engine_page):
    """A forgotten editor's session closes after IDLE_MS (30 minutes, here made 2 s), so that
    Firefox's event page may rest; its port closes, which the editor reports."""
    made = engine_page.evaluate("(b64) => cutFile(b64)", photo_b64())
    engine_eval(
        engine_page,
        """(() => {
            const later = window.setTimeout;
            window.unhurried = later;
            window.setTimeout = (f, ms, ...rest) => later(f, ms >= 30 * 60_000 ? 2000 : ms, ...rest);
        })()""",
    )
    try:
        heard = engine_page.evaluate(
            """async (id) => {
                const ed = openEdit(id);
                const ready = (await ed.next('edit-ready', undefined)).type;
                return [ready, (await ed.next('nothing', undefined)).type];
            }""",
            made["resultId"],
        )
    finally:
        engine_eval(engine_page, "(() => { window.setTimeout = window.unhurried; })()")
    assert heard == ["edit-ready", "disconnected"]
