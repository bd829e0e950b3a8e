"""The popup's outputs: a canvas chosen in the popup (named presets), cards that say what was
made, cut-outs the model was unsure of marked and listed first, and Download all as one ZIP
holding every finished file byte for byte."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from composites import composite, texture

from .harness import wait_until
from .popup_zip import card_bytes, download_all
from .test_a11y import serious

pytestmark = pytest.mark.browser


def png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def ball(tmp_path):
    (tmp_path / "ball.png").write_bytes(composite("ball", 400, 300, seed=0)[0])
    return tmp_path / "ball.png"


def wait_done(popup, count: int) -> None:
    popup.wait_for_function(f"() => document.querySelectorAll('.card[data-state]').length === {count}")
    assert popup.locator(".card[data-state=done]").count() == count, popup.locator(".card .state").all_inner_texts()


def test_a_named_canvas_chosen_in_the_popup_and_the_cards_captions(browser, ball):
    popup = browser.open_popup()
    popup.wait_for_function("() => document.querySelectorAll('#preset option').length === 7")
    assert popup.locator("#preset option").first.inner_text() == "None (the image’s own size)"
    assert "set your own size in Settings" in popup.locator("#preset-note").inner_text()
    popup.select_option("#preset", "marketplace-white-square")
    stored = "async () => { const s = await chrome.storage.local.get(['preset', 'output']); return [s.preset, s.output].join(); }"
    wait_until(popup, f"async () => (await ({stored})()) === 'marketplace-white-square,color'")
    assert popup.locator("#output").input_value() == "color"  # the preset's background, shown
    assert popup.locator("#preset-about").inner_text() == "2000 × 2000 px, the subject 85% of it, centred."
    popup.set_input_files("#files", [str(ball)])
    wait_done(popup, 1)
    assert popup.locator(".card .state").inner_text() == "Cut-out on colour, canvas 2000×2000, Fast"
    ((name, data),) = card_bytes(popup)
    assert name == "ball-cutout.png" and Image.open(io.BytesIO(data)).size == (2000, 2000)

    popup.select_option("#preset", "none")
    popup.select_option("#output", "blur")
    wait_until(popup, f"async () => (await ({stored})()) === 'none,blur'")
    assert popup.locator("#preset-about").is_hidden()
    popup.set_input_files("#files", [str(ball)])
    wait_done(popup, 2)
    assert popup.locator(".card .state").nth(1).inner_text() == "Cut-out on its blurred original, 400×300, Fast"
    popup.close()
    browser.settings(output="cutout", preset="none")


def test_the_cut_out_to_check_is_marked_and_listed_first(browser, ball, tmp_path):
    # A background with no subject: the model cannot tell (check_score 1.0 with fast; the ball 0.07).
    (tmp_path / "wall.png").write_bytes(png(texture(400, 300, 0).astype(np.uint8)))
    popup = browser.open_popup()
    popup.set_input_files("#files", [str(ball), str(tmp_path / "wall.png")])
    wait_done(popup, 2)
    popup.wait_for_function("() => document.querySelector('.card:first-child[data-flag] .refine:not([hidden])')")
    assert popup.locator(".card .name").all_inner_texts() == ["wall.png", "ball.png"]  # to check first
    first, second = popup.locator(".card").nth(0), popup.locator(".card").nth(1)
    assert first.locator(".check").inner_text() == "Check this one: the model was unsure where the subject ends."
    assert first.locator(".refine").is_visible()
    assert second.get_attribute("data-flag") is None and second.locator(".check").is_hidden()
    assert popup.locator("#check-note").inner_text() == "1 of 2 cut-outs to check first: they are listed first."
    for scheme in ("light", "dark"):  # the mark and its words readable in both
        popup.emulate_media(color_scheme=scheme)
        assert serious(popup) == []
    popup.close()


def test_download_all_is_one_zip_of_every_finished_file(browser, ball, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "ball.png").write_bytes(composite("box", 300, 200, seed=1)[0])  # the same name, another file
    (tmp_path / "notes.png").write_bytes(b"this is text, not a png")
    popup = browser.open_popup()
    popup.set_input_files("#files", [str(ball), str(other / "ball.png"), str(tmp_path / "notes.png")])
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state]').length === 3")
    cards = card_bytes(popup)
    assert [name for name, _ in cards] == ["ball-cutout.png", "ball-cutout.png"]
    archive = download_all(browser, popup)
    assert popup.locator("#status-text").inner_text() == "2 saved in one ZIP file, 1 skipped (not cut out)."
    infos = archive.infolist()
    assert [i.filename for i in infos] == ["ball-cutout.png", "ball-cutout (2).png"]  # unique, in the cards' order
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)  # stored: PNG is compressed already
    assert [archive.read(i) for i in infos] == [data for _, data in cards]  # byte for byte
    assert archive.testzip() is None
    popup.close()
