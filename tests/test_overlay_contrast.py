"""The in-page overlay writes its words as CSS-generated content, which axe-core can't
measure: its colour pairs are checked here against WCAG AA (4.5:1), with the
translucent box composited over the worst page behind it (white)."""

import re

from conftest import ROOT

CSS = (ROOT / "extension" / "content" / "overlay.js").read_text()


def rgb(text: str) -> tuple[float, ...]:
    text = text.strip()
    if text.startswith("#"):
        h = text[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return (*tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)), 1.0)
    parts = [float(p) for p in re.findall(r"[\d.]+", text)]
    return tuple(parts[:3]) + ((parts[3],) if len(parts) > 3 else (1.0,))


def over(top, bottom):
    a = top[3]
    return (*tuple(top[i] * a + bottom[i] * (1 - a) for i in range(3)), 1.0)


def luminance(c):
    def lin(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def rule(selector: str, prop: str) -> str:
    block = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert block, selector
    value = re.search(rf"(?<![-\w]){prop}\s*:\s*([^;]+);", block.group(1))
    assert value, (selector, prop)
    return value.group(1)


def test_overlay_text_meets_aa_over_any_page():
    box = over(rgb(rule(".box", "background")), (255, 255, 255, 1.0))
    for selector in (".box", ".error", ".notice"):
        assert contrast(rgb(rule(selector, "color")), box) >= 4.5, selector


def test_overlay_buttons_meet_aa():
    text = rgb(rule("button", "color"))
    assert contrast(text, rgb(rule("button", "background"))) >= 4.5
    assert contrast(text, rgb(rule("button.primary", "background"))) >= 4.5
    # The focus ring stands out against the box (WCAG 1.4.11: 3:1).
    box = over(rgb(rule(".box", "background")), (255, 255, 255, 1.0))
    ring = rgb(re.search(r"outline: 2px solid (#[0-9a-f]+)", CSS).group(1))
    assert contrast(ring, box) >= 3
