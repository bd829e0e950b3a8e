"""The toolbar popup: several files at once, previews, download all."""

import io

import pytest
from PIL import Image

from composites import composite

from .harness import wait_until
from .popup_zip import download_all

pytestmark = pytest.mark.browser


@pytest.fixture
def files(tmp_path):
    paths = []
    for name, kind, seed in [("red ball.png", "ball", 0), ("green box.png", "box", 1)]:
        data, _ = composite(kind, 400, 300, seed=seed)
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    (tmp_path / "notes.png").write_bytes(b"this is text, not a png")
    paths.append(tmp_path / "notes.png")
    return paths


def test_popup_batch_preview_and_download_all(browser, files):
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    assert popup.locator("#engine").input_value() == "fast"
    browser.keep_download_names(popup)
    popup.set_input_files("#files", [str(p) for p in files])
    # Every file is handed to the engine at once (it keeps the batch): three cards, in order.
    popup.wait_for_function("() => document.querySelectorAll('.card').length === 3")
    assert popup.locator(".card .name").all_inner_texts() == ["red ball.png", "green box.png", "notes.png"]
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state]').length === 3")
    assert popup.locator("#status-text").inner_text() == "Done: 2 of 3 cut out."
    done = popup.locator(".card[data-state=done]")
    assert done.count() == 2
    # previews sit on a checkerboard and show transparent corners
    for i in range(2):
        card = done.nth(i)
        assert "checker" in card.locator(".preview").get_attribute("class")
        alpha = card.locator("img").evaluate(
            """async (img) => { await img.decode(); const c = document.createElement('canvas');
                c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d');
                g.drawImage(img, 0, 0); return [g.getImageData(1, 1, 1, 1).data[3],
                g.getImageData(c.width / 2, c.height * 0.52, 1, 1).data[3]]; }"""
        )
        assert alpha == [0, 255]
        assert card.locator(".state").inner_text() == "Cut-out, 400×300, Fast"
    failed = popup.locator(".card[data-state=failed]")
    assert failed.count() == 1 and failed.locator(".state").inner_text() == "The file is text, not an image."

    # One ZIP of the finished files, under the names they are saved with one by one.
    archive = download_all(browser, popup)
    assert archive.namelist() == ["red ball-cutout.png", "green box-cutout.png"]
    for name in archive.namelist():
        im = Image.open(io.BytesIO(archive.read(name)))
        assert im.mode == "RGBA" and im.size == (400, 300)
    popup.close()


def test_popup_output_choice_is_kept(browser, files):
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    popup.select_option("#output", "mask")
    popup.set_input_files("#files", [str(files[0])])
    popup.wait_for_function("() => document.querySelector('.card[data-state=done]')")
    mode = popup.locator(".card img").evaluate(
        """async (img) => { await img.decode(); const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d');
            g.drawImage(img, 0, 0); const d = g.getImageData(1, 1, 1, 1).data; return Array.from(d); }"""
    )
    assert mode == [0, 0, 0, 255]  # a grayscale mask: black, opaque background
    assert popup.locator(".card .state").inner_text() == "Mask, 400×300, Fast"
    popup.select_option("#output", "cutout")
    popup.close()
    assert browser.sw.evaluate("async () => (await chrome.storage.local.get('output')).output") == "cutout"


def test_popup_drop_and_paste(browser, files):
    popup = browser.ctx.new_page()
    popup.goto(browser.ext_url("extension/popup/popup.html"))
    data = [list(p.read_bytes()) for p in files[:2]]
    popup.evaluate(
        """([a, b]) => {
            const file = (bytes, name) => new File([new Uint8Array(bytes)], name, { type: 'image/png' });
            const drop = new DataTransfer();
            drop.items.add(file(a, 'dropped.png'));
            document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
            const paste = new DataTransfer();
            paste.items.add(file(b, 'pasted.png'));
            document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: paste, bubbles: true }));
        }""",
        data,
    )
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state=done]').length === 2")
    assert popup.locator(".card .name").all_inner_texts() == ["dropped.png", "pasted.png"]
    popup.close()


def test_refine_setting_reaches_the_pipeline(browser):
    """Settings → Clean-up: on by default; off sends the three post-processing steps switched off."""
    options = browser.ctx.new_page()
    options.goto(browser.ext_url("extension/options/options.html"))
    box = options.locator("#refine")
    box.wait_for()
    options.wait_for_function("() => document.querySelector('#engines').children.length > 0")
    assert box.is_checked()
    piped = """async () => {
        const { loadSettings, pipelineOptions } = await import('/extension/lib/settings.js');
        return pipelineOptions(await loadSettings());
    }"""
    plain = {"output": "cutout", "format": "png", "crop": False, "margin": 0}
    assert options.evaluate(piped) == plain  # the core's defaults: all three on
    box.uncheck()
    wait_until(options, "async () => (await chrome.storage.local.get('refine')).refine === false")
    assert options.evaluate(piped) == {**plain, "despeckle": False, "edges": False, "decontaminate": False}
    options.reload()
    options.wait_for_function("() => document.querySelector('#engines').children.length > 0")
    assert not options.locator("#refine").is_checked()
    options.locator("#refine").check()
    wait_until(options, "async () => (await chrome.storage.local.get('refine')).refine === true")
    options.close()
