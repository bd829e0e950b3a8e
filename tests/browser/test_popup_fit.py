"""The toolbar popup as it really opens: 400 px wide and at most 600 px high. With a batch of
results it fits, with one scrolling area and its actions in view; cards say what they are
(the original dimmed while waiting, a failed one plainly failed, a caption saying what was
made); the viewer keeps the file's name and shows which side is on; Download all says how
many it saved; a disabled button looks disabled in dark mode too."""

import pytest

from composites import composite

from .harness import wait_until

pytestmark = pytest.mark.browser

# A popup opened as a tab here has the tab's viewport: give it the toolbar popup's real size.
POPUP = {"width": 400, "height": 600}

# Every element that scrolls its content (overflow auto/scroll and more content than room).
SCROLLERS = """() => [document.scrollingElement, ...document.querySelectorAll('body *')].filter((e) => {
    const y = e === document.scrollingElement ? 'auto' : getComputedStyle(e).overflowY;
    return (y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight + 1;
}).map((e) => e.id || e.tagName)"""


@pytest.fixture
def batch(tmp_path):
    paths = []
    for i in range(5):
        data, _ = composite("ball" if i % 2 else "box", 400, 300, seed=i)
        (tmp_path / f"photo {i}.png").write_bytes(data)
        paths.append(tmp_path / f"photo {i}.png")
    (tmp_path / "notes.png").write_bytes(b"this is text, not a png")
    paths.append(tmp_path / "notes.png")
    return paths


def in_view(popup, selector):
    box = popup.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= POPUP["height"]


def test_a_batch_fits_the_popup_and_says_what_it_made(browser, batch):
    popup = browser.open_popup(viewport=POPUP)
    browser.keep_download_names(popup)
    # While a file waits, its card shows the original, dimmed (not a blank checkerboard). The
    # popup shares its thread with the engine in Chromium: a watcher in the page sees it.
    popup.evaluate(
        """() => { window.__dimmed = [];
            new MutationObserver(() => {
                for (const img of document.querySelectorAll('.card[data-progress] .preview img[src^=blob]'))
                    window.__dimmed.push([img.closest('.card').querySelector('.name').textContent,
                                          Number(getComputedStyle(img).opacity)]);
            }).observe(document.body, { subtree: true, attributes: true, childList: true }); }"""
    )
    popup.set_input_files("#files", [str(p) for p in batch])
    popup.wait_for_function("() => document.querySelectorAll('.card[data-state]').length === 6")
    dimmed = popup.evaluate("() => window.__dimmed")
    assert dimmed and all(opacity < 0.6 for _, opacity in dimmed), dimmed

    # One scrolling area; the document fits 600 px and both actions are in view.
    assert popup.evaluate("() => document.documentElement.scrollHeight") <= POPUP["height"]
    assert popup.evaluate(SCROLLERS) == ["MAIN"]
    assert in_view(popup, "#download-all") and in_view(popup, "#clear")
    popup.locator(".card").last.scroll_into_view_if_needed()
    assert in_view(popup, "#download-all") and in_view(popup, "#clear")

    # Captions say what was made.
    done = popup.locator(".card[data-state=done] .state").all_inner_texts()
    assert done == ["Cut-out, 400×300, Fast"] * 5

    # The failed card: a warning sign, no checkerboard or image, the reason as a sentence, and
    # no "Open … large" button.
    failed = popup.locator(".card[data-state=failed]")
    assert failed.locator(".failed-icon").is_visible()
    assert failed.locator(".preview img").is_hidden()
    assert failed.locator(".state").inner_text() == "The file is text, not an image."
    assert failed.locator(".preview").get_attribute("aria-label") is None
    assert failed.locator(".preview").get_attribute("aria-hidden") == "true"
    assert popup.get_by_role("button", name="Open notes.png large").count() == 0
    assert popup.get_by_role("button", name="Open photo 0.png large").count() == 1

    # Download all says what it did, politely.
    popup.click("#download-all")
    popup.wait_for_function("() => document.getElementById('status-text').textContent.includes('saved')")
    assert popup.locator("#status-text").inner_text() == "5 saved in one ZIP file, 1 skipped (not cut out)."
    assert popup.locator("#status-text").get_attribute("aria-live") == "polite"
    wait_until(
        popup,
        "async () => (await chrome.downloads.search({ state: 'complete' })).some((d) => d.filename.endsWith('.zip'))",
    )

    # The viewer at the popup's width: the whole name shows, and the toggle says which side is on.
    popup.locator(".card[data-state=done] .preview").first.click()
    popup.locator("#viewer").wait_for(state="visible")
    name = popup.locator("#viewer-name")
    assert name.evaluate("(e) => e.scrollWidth <= e.clientWidth") and name.inner_text() == "photo 0.png"
    toggle = popup.locator("#viewer-toggle")
    plain = toggle.evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert toggle.inner_text() == "Show original"
    toggle.click()
    popup.wait_for_function("() => document.getElementById('viewer-img').dataset.original === 'true'")
    assert toggle.inner_text() == "Show cut-out"
    assert toggle.evaluate("(b) => getComputedStyle(b).backgroundColor") != plain  # looks pressed
    toggle.click()
    popup.wait_for_function("() => document.getElementById('viewer-img').dataset.original === 'false'")
    assert toggle.inner_text() == "Show original"
    popup.keyboard.press("Escape")
    popup.click("#clear")
    popup.wait_for_function("() => !document.querySelector('.card')")
    popup.close()


def test_a_disabled_button_looks_disabled_in_dark_mode(browser):
    popup = browser.open_popup("dark", POPUP)
    style = "(b) => getComputedStyle(b).backgroundColor"
    assert popup.locator("#download-all").is_disabled()
    accent = popup.locator("#choose").evaluate(style)  # an enabled primary button
    assert popup.locator("#download-all").evaluate(style) != accent
    assert popup.locator("#download-all").evaluate(style) == popup.evaluate(
        "() => getComputedStyle(document.body).backgroundColor"
    )
    popup.close()


def test_an_error_alone_reads_as_a_sentence(browser):
    popup = browser.open_popup(viewport=POPUP)
    said = popup.evaluate(
        """async () => {
            const { asSentence } = await import('/extension/popup/sentence.js');
            return [
                asSentence('die Datei enthält Text, kein Bild', 'de'),
                asSentence('écrit à la main (x)', 'fr'),
                asSentence('no se pudo ejecutar el modelo (sin memoria)', 'es'),
                asSentence('This file is not an image.', 'en'),
                asSentence('is it?', 'en'),
                asSentence('istanbul', 'tr'),
            ];
        }"""
    )
    assert said == [
        "Die Datei enthält Text, kein Bild.",
        "Écrit à la main (x).",
        "No se pudo ejecutar el modelo (sin memoria).",
        "This file is not an image.",
        "Is it?",
        "İstanbul.",
    ]
    popup.close()
