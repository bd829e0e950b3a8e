"""Backgrounds, shadows and canvases chosen in Settings reach the popup's files: blurred
original with a contact shadow, chosen in the options page, gives an opaque picture with the
subject's own pixels and the shadow only outside it; a contradicting choice is refused in words."""

import base64
import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from composites import composite

from .harness import wait_until

pytestmark = pytest.mark.browser

RESULT = """async (i) => {
    const img = document.querySelectorAll('.card[data-state=done] img')[i];
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let s = ''; for (const b of bytes) s += String.fromCharCode(b); return btoa(s);
}"""


def cut(popup, path, count: int) -> np.ndarray:
    """Drop `path` on the popup; the `count`-th finished card's picture as RGBA."""
    popup.set_input_files("#files", [str(path)])
    popup.wait_for_function(f"() => document.querySelectorAll('.card[data-state]').length === {count}")
    assert popup.locator(".card[data-state=done]").count() == count, popup.locator(".card .state").all_inner_texts()
    data = base64.b64decode(popup.evaluate(RESULT, count - 1))
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")).astype(int)


def test_blur_and_contact_shadow_from_the_options_page(browser, tmp_path):
    data, alpha = composite("ball", 400, 300, seed=0)
    (tmp_path / "ball.png").write_bytes(data)
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)

    options = browser.ctx.new_page()
    options.goto(browser.ext_url("extension/options/options.html"))
    # The package's presets listed: the settings are bound.
    options.wait_for_function("() => document.querySelectorAll('#preset option').length === 7")
    assert "In place on a page, the image keeps its size and shape" in options.locator("#layers-note").inner_text()
    output = options.locator("select[data-setting=output]")
    output.select_option("blur")
    options.locator("#blur").wait_for(state="visible")  # its strength, once chosen
    assert options.locator("#blur").input_value() == "20"
    options.select_option("#shadow", "contact")
    stored = (
        "async () => { const s = await chrome.storage.local.get(['output', 'shadow']); return [s.output, s.shadow]; }"
    )
    wait_until(options, f"async () => ({stored})().then((s) => s.join() === 'blur,contact')")
    # A mask with a shadow contradicts: refused in words, the choice shown as it was, nothing stored.
    output.select_option("mask")
    problem = options.locator("#layers-problem")
    problem.wait_for(state="visible")
    assert problem.inner_text().startswith("Not saved: a mask has no shadow.")
    assert output.input_value() == "blur" and options.evaluate(stored) == ["blur", "contact"]
    # The named presets are offered by their names; the chosen one says its canvas.
    options.select_option("#preset", "marketplace-white-square")
    wait_until(options, f"async () => ({stored})().then((s) => s.join() === 'color,none')")
    assert options.locator("#preset-about").inner_text() == "2000 × 2000 px, the subject 85% of it, centred."
    assert output.input_value() == "color" and options.locator("#shadow").input_value() == "none"  # the preset's, shown
    options.select_option("#preset", "none")
    output.select_option("blur")
    options.select_option("#shadow", "contact")
    wait_until(options, f"async () => ({stored})().then((s) => s.join() === 'blur,contact')")
    assert options.locator("#preset-about").is_hidden()

    popup = browser.open_popup()
    shadowed = cut(popup, tmp_path / "ball.png", 1)
    options.select_option("#shadow", "none")
    wait_until(options, f"async () => ({stored})().then((s) => s.join() === 'blur,none')")
    plain = cut(popup, tmp_path / "ball.png", 2)
    popup.close()
    options.close()

    for result in (shadowed, plain):
        assert result.shape == (300, 400, 4) and (result[..., 3] == 255).all()  # opaque: a background everywhere
    # The subject keeps its own pixels; the background around it is the photo, blurred.
    inside = ndimage.binary_erosion(alpha >= 0.999, iterations=4)
    outside = ndimage.binary_erosion(alpha <= 0.001, iterations=12)
    assert np.abs(shadowed[..., :3] - original)[inside].max() <= 2
    assert np.abs(plain[..., :3] - original)[outside].mean() > 4
    # The shadow: only outside the subject, darker, under it.
    darker = (plain[..., :3] - shadowed[..., :3]).sum(axis=2)
    assert (darker[inside] == 0).all() and darker.min() >= 0 and darker.max() > 30
    rows = np.flatnonzero(darker.max(axis=1) > 30)
    assert rows.min() > np.flatnonzero((alpha >= 0.5).any(axis=1)).mean()  # in the lower part
    browser.settings(output="cutout", shadow="none")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_layers_field_and_the_refusal_are_accessible(browser, scheme, tmp_path):
    """With each choice shown (blur strength, shadow opacity, your own canvas) and a refusal in
    view, axe finds nothing serious, and every field is reached by Tab."""
    from .test_a11y import serious

    options = browser.ctx.new_page()
    options.emulate_media(color_scheme=scheme)
    options.goto(browser.ext_url("extension/options/options.html"))
    options.wait_for_function("() => document.querySelectorAll('#preset option').length === 7")
    options.locator("select[data-setting=output]").select_option("blur")
    options.select_option("#shadow", "drop")
    options.select_option("#preset", "custom")
    options.locator("#canvas-margin").wait_for(state="visible")
    options.locator("select[data-setting=output]").select_option("mask")
    options.locator("#layers-problem").wait_for(state="visible")
    assert serious(options) == []
    options.screenshot(path=str(tmp_path / f"options-{scheme}.png"), full_page=True)
    # By keyboard: Tab from the shadow through its opacity and every canvas field.
    options.focus("#shadow")
    reached = []
    for _ in range(7):
        options.keyboard.press("Tab")
        reached.append(options.evaluate("() => document.activeElement.id"))
    assert reached == ["shadow-opacity", "preset", "canvas-width", "canvas-height", "fill", "position", "canvas-margin"]
    # The keyboard changes a value, and it is stored.
    options.keyboard.press("Control+a")
    options.keyboard.type("40")
    options.keyboard.press("Tab")
    wait_until(options, "async () => (await chrome.storage.local.get('canvasMargin')).canvasMargin === 40")
    options.close()
    browser.settings(output="cutout", shadow="none", preset="none", canvasMargin=0)


def test_in_place_a_preset_keeps_the_images_geometry(browser, sites):
    """A right-clicked image keeps its size and shape with a canvas preset chosen (the page's <img>
    would stretch a square into a 640x480 box); the preset's white background still applies."""
    a, _ = sites
    browser.settings(preset="marketplace-white-square", output="color", background="#ffffff", shadow="none")
    page = browser.ctx.new_page()
    try:
        page.goto(a.url("index.html"))
        result = browser.menu_click(page, page.eval_on_selector("#same", "img => img.currentSrc"))
        assert result["ok"] and (result["width"], result["height"]) == (640, 480), result
        corner = page.eval_on_selector(
            "#same",
            """async (img) => { await img.decode(); const c = document.createElement('canvas');
                c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d');
                g.drawImage(img, 0, 0); return [c.width, c.height, ...g.getImageData(1, 1, 1, 1).data]; }""",
        )
        assert corner == [640, 480, 255, 255, 255, 255]  # swapped in, same size, on white
    finally:
        page.close()
        browser.settings(preset="none", output="cutout")
