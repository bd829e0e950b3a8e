"""The popup's outputs in real headless Firefox (ESR, WebDriver BiDi; the engine in the event page):
files dropped on the popup, the cut-out the model was unsure of outlined, listed first, with
Refine… beside it; Download all saves one ZIP holding every finished file byte for byte."""

import base64
import io
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from composites import composite, texture

from .test_firefox import POPUP_DROP, wait_for_file

pytestmark = pytest.mark.browser

# The popup's cards as the user sees them: name, flagged, its outline, Refine… shown, the words.
CARDS = """[...document.querySelectorAll('.card')].map((c) => ({
    name: c.querySelector('.name').textContent,
    state: c.dataset.state || '',
    flag: c.hasAttribute('data-flag'),
    outline: getComputedStyle(c).outlineStyle + ' ' + getComputedStyle(c).outlineWidth,
    refine: !!c.querySelector('.refine') && !c.querySelector('.refine').hidden && c.querySelector('.refine').getClientRects().length > 0,
    check: c.querySelector('.check')?.hidden ? '' : (c.querySelector('.check')?.textContent || ''),
}))"""


def png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def test_the_flagged_card_is_outlined_listed_first_with_refine_and_download_all_is_one_zip(firefox):
    # A background with no subject: the model cannot tell (check_score 1.0 with fast; the ball 0.07).
    files = [
        ["ball.png", composite("ball", 400, 300, seed=0)[0]],
        ["wall.png", png(texture(400, 300, 0).astype(np.uint8))],
    ]
    ctx = firefox.open_ext_page("extension/popup/popup.html")
    firefox.call(ctx, POPUP_DROP, [[name, base64.b64encode(data).decode(), "image/png"] for name, data in files])
    end = time.monotonic() + 120
    while firefox.evaluate(ctx, "document.querySelectorAll('.card[data-state=done]').length") < 2:
        assert time.monotonic() < end, firefox.evaluate(ctx, CARDS)
        time.sleep(0.3)
    end = time.monotonic() + 30
    while not (cards := firefox.evaluate(ctx, CARDS))[0]["refine"]:
        assert time.monotonic() < end, cards
        time.sleep(0.2)
    first, second = cards
    assert [first["name"], second["name"]] == ["wall.png", "ball.png"]  # the one to check, first
    assert first["flag"] and first["outline"] == "solid 2px"
    assert first["refine"]
    assert first["check"] == "Check this one: the model was unsure where the subject ends."
    assert not second["flag"] and second["outline"].startswith("none") and second["check"] == ""
    words = firefox.evaluate(ctx, "document.getElementById('check-note').textContent")
    assert words == "1 of 2 cut-outs to check first: they are listed first."

    # Download all: one ZIP, stored, every finished file byte for byte, in the cards' order.
    firefox.evaluate(ctx, "document.getElementById('download-all').click()")
    archive = zipfile.ZipFile(wait_for_file(firefox.downloads / "cut-outs.zip"))
    infos = archive.infolist()
    assert [i.filename for i in infos] == ["wall-cutout.png", "ball-cutout.png"]  # the cards' order
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    assert archive.testzip() is None
    batch = firefox.evaluate(
        ctx,
        """(async () => {
            const { callEngine } = await import('/extension/lib/offscreen_client.js');
            const { batch } = await callEngine(globalThis.BackgroneMessages.Type.BATCH_STATE, {});
            const out = {};
            for (const item of batch.items.filter((i) => i.state === 'done')) {
                const bytes = new Uint8Array(await (await fetch(item.resultUrl)).arrayBuffer());
                let s = ''; for (const b of bytes) s += String.fromCharCode(b);
                out[item.filename] = btoa(s);
            }
            return out;
        })()""",
    )
    assert {i.filename: archive.read(i) for i in infos} == {k: base64.b64decode(v) for k, v in batch.items()}
    assert firefox.evaluate(ctx, "document.getElementById('status-text').textContent") == "2 saved in one ZIP file."
    firefox.close_tab(ctx)


# A file chosen in the options page's picker (as the picker hands it over: input.files, then change).
PICK = """async (name, b64) => {
    const input = document.getElementById('picture-file');
    const files = new DataTransfer();
    files.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'image/png' }));
    input.files = files.files;
    input.dispatchEvent(new Event('change'));
}"""


def test_a_picture_chosen_in_options_is_the_background_in_firefox(firefox):
    """The picture kept in the extension's IndexedDB reaches the engine in the event page."""
    yy, xx = np.mgrid[0:200, 0:320]
    picture = np.stack([xx * 255 // 320, yy * 255 // 200, np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    options = firefox.open_ext_page("extension/options/options.html")
    end = time.monotonic() + 30
    while firefox.evaluate(options, "document.getElementById('picture-name').textContent") == "":
        assert time.monotonic() < end, "the picture row never showed"
        time.sleep(0.2)
    firefox.call(options, PICK, "beach.png", base64.b64encode(png(picture)).decode())
    end = time.monotonic() + 30
    while not (said := firefox.evaluate(options, "document.getElementById('picture-state').textContent")):
        assert time.monotonic() < end, "the picture was never kept"
        time.sleep(0.2)
    assert said == "Saved: cut-outs now go on beach.png."
    firefox.close_tab(options)

    ctx = firefox.open_ext_page("extension/popup/popup.html")
    firefox.evaluate(  # the engine keeps the last batch: start afresh
        ctx,
        """(async () => {
            const { callEngine } = await import('/extension/lib/offscreen_client.js');
            await callEngine(globalThis.BackgroneMessages.Type.BATCH_CLEAR, {});
        })()""",
    )
    end = time.monotonic() + 30
    while firefox.evaluate(ctx, "document.querySelectorAll('.card').length") > 0:
        assert time.monotonic() < end, "the old batch stayed"
        time.sleep(0.2)
    ball = composite("ball", 400, 300, seed=0)[0]
    firefox.call(ctx, POPUP_DROP, [["ball.png", base64.b64encode(ball).decode(), "image/png"]])
    end = time.monotonic() + 120
    while firefox.evaluate(ctx, "document.querySelectorAll('.card[data-state]').length") < 1:
        assert time.monotonic() < end, "the cut never finished"
        time.sleep(0.3)
    assert firefox.evaluate(ctx, "document.querySelector('.card .state').textContent") == (
        "Cut-out on your picture, 400×300, Fast"
    )
    data = firefox.evaluate(
        ctx,
        """(async () => {
            const { callEngine } = await import('/extension/lib/offscreen_client.js');
            const { batch } = await callEngine(globalThis.BackgroneMessages.Type.BATCH_STATE, {});
            const bytes = new Uint8Array(await (await fetch(batch.items[0].resultUrl)).arrayBuffer());
            let s = ''; for (const b of bytes) s += String.fromCharCode(b); return btoa(s);
        })()""",
    )
    result = Image.open(io.BytesIO(base64.b64decode(data)))
    assert result.mode == "RGB" and result.size == (400, 300)  # opaque: on the picture
    firefox.close_tab(ctx)
    firefox.settings(output="cutout", backgroundPicture=None)
