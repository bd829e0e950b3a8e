"""The extension in German: Chromium started with --lang=de shows the popup, the options
page, the in-page overlay and the engine's own messages (the core's errors included)
in German, with no English sentence left over."""

import json

import pytest

from conftest import ROOT

from .harness import Browser, Overlays

pytestmark = pytest.mark.browser

DE = {k: v["message"] for k, v in json.loads((ROOT / "_locales" / "de" / "messages.json").read_text()).items()}
EN = {k: v["message"] for k, v in json.loads((ROOT / "_locales" / "en" / "messages.json").read_text()).items()}
# English sentences (their fixed parts) that must not appear on a German screen.
ENGLISH = sorted(
    {part.strip() for k, text in EN.items() if text != DE[k] for part in text.split("$") if len(part.strip()) > 10}
)


def english_left(text: str) -> list[str]:
    return [e for e in ENGLISH if e in text]


@pytest.fixture(scope="module")
def german(playwright, ext_dir, tmp_path_factory):
    b = Browser(
        playwright,
        ext_dir,
        tmp_path_factory.mktemp("profile-de"),
        tmp_path_factory.mktemp("downloads-de"),
        extra_args=["--lang=de"],
    )
    b.settings(engine="fast")
    yield b
    b.close()


def test_popup_and_engine_speak_german(german, tmp_path):
    from composites import composite

    data, _ = composite("ball", 400, 300, seed=0)
    (tmp_path / "ball.png").write_bytes(data)
    (tmp_path / "notiz.png").write_text("Das ist Text, kein Bild.")
    popup = german.ctx.new_page()
    popup.goto(german.ext_url("extension/popup/popup.html"))
    popup.wait_for_selector("body[data-ready]")
    assert popup.locator("html").get_attribute("lang") == "de"
    assert popup.locator("#choose").inner_text() == DE["popupChoose"]
    popup.wait_for_function(
        "(t) => document.getElementById('engine-about').textContent.includes(t)", arg=DE["modelBuiltIn"]
    )
    popup.set_input_files("#files", [str(tmp_path / "ball.png"), str(tmp_path / "notiz.png")])
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state]').length === 2")
    states = popup.locator(".card .state").all_inner_texts()
    assert states[0] == "Freisteller, 400×300, Schnell"
    # The core's error for a text file, said by the engine in German (alone: as a sentence).
    assert states[1] == DE["core_text"][0].upper() + DE["core_text"][1:] + ".", states
    assert popup.locator("#status-text").inner_text() == "Fertig: 1 von 2 freigestellt."
    assert english_left(popup.locator("body").inner_text()) == []
    popup.close()


def test_options_page_speaks_german(german):
    options = german.ctx.new_page()
    options.goto(german.ext_url("extension/options/options.html"))
    options.wait_for_function("() => document.querySelector('#engines').children.length > 0")
    options.wait_for_function("() => document.getElementById('shortcut').textContent !== ''")
    assert options.title() == DE["optionsTitle"]
    text = options.locator("body").inner_text()
    assert DE["engineSummary_standard"] in text and DE["optionsShortcutNote"] in text
    assert "Alt+Shift+E" in options.locator("#shortcut").inner_text()
    assert english_left(text) == []
    options.close()


def test_overlay_and_menu_speak_german(german, sites):
    a, _ = sites
    page = german.ctx.new_page()
    page.goto(a.url("index.html"))
    src = page.eval_on_selector("#same", "img => img.currentSrc")
    result = german.menu_click(page, src)
    assert result["ok"], result
    overlays = Overlays(page)
    assert overlays.text() == DE["done"]
    assert [name for name, _ in overlays.last()["buttons"]] == [
        DE["buttonSave"],
        DE["buttonCopy"],
        DE["refineButton"],
        DE["buttonRestore"],
        DE["buttonClose"],
    ]
    overlays.click(DE["buttonRestore"])
    # An image that isn't one: the core's message, in German, in the page.
    bad = page.eval_on_selector("#text", "img => img.currentSrc")
    result = german.menu_click(page, bad)
    assert not result["ok"]
    said = Overlays(page).wait_text("Der Hintergrund konnte nicht entfernt werden")
    assert DE["core_html"] in said, said
    assert english_left(said) == []
    page.close()
