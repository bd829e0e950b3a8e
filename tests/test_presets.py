"""Product-photo presets: a canvas of the asked size, the subject filling the asked share,
centred or standing, on a background that is exactly white outside the subject and its shadow."""

import numpy as np
import pytest

from backgrone.errors import OptionsError
from backgrone.pipeline import Options, Prepared
from backgrone.presets import box, layout, load_presets, resolve
from conftest import run_cli
from test_backgrounds import run


def product(h=300, w=500):
    """A wide soft-edged box off centre: the subject's box is known."""
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = (180, 170, 160)
    rgba[..., 3] = 255
    mask = np.zeros((h, w), np.float32)
    mask[60:200, 250:470] = 1.0
    mask[59, 250:470] = mask[200, 250:470] = 0.5
    rgba[60:200, 250:470, :3] = (40, 90, 200)
    return Prepared(rgba=rgba), mask


def test_the_marketplace_preset_exactly():
    prepared, mask = product()
    options = {**resolve("marketplace-white-square"), "shadow": "contact"}
    out = run(prepared, mask, **options)
    alpha = run(prepared, mask, **{**options, "output": "cutout"})[..., 3]  # subject and shadow
    assert out.shape == (2000, 2000, 3)
    assert (alpha == 0).sum() > 2000 * 2000 / 4  # most of the canvas is neither...
    assert np.all(out[alpha == 0] == 255)  # ...and it is pure white
    subject = run(prepared, mask, **{**options, "output": "cutout", "shadow": "none"})[..., 3]
    left, top, right, bottom = box(subject)
    share = max((right - left) / 2000, (bottom - top) / 2000)
    assert abs(share - 0.85) <= 0.01 * 0.85
    assert abs((left + right) / 2 - 1000) <= 1 and abs((top + bottom) / 2 - 1000) <= 1


@pytest.mark.parametrize("canvas", [(400, 400), (400, 500), (600, 400), (160, 90)])
@pytest.mark.parametrize("fill", [0.85, 0.5, 1.0])
def test_fill_and_centre_on_any_canvas(canvas, fill):
    prepared, mask = product()
    alpha = run(prepared, mask, canvas=list(canvas), fill=fill)[..., 3]
    assert alpha.shape == (canvas[1], canvas[0])
    left, top, right, bottom = box(alpha)
    share = max((right - left) / canvas[0], (bottom - top) / canvas[1])
    assert abs(share - fill) <= 0.01 * fill + 1 / min(canvas)  # 1%, and at most a pixel's rounding
    assert abs((left + right - canvas[0]) / 2) <= 1 and abs((top + bottom - canvas[1]) / 2) <= 1


def test_standing_on_the_bottom_margin():
    prepared, mask = product()
    alpha = run(prepared, mask, canvas=[400, 400], fill=0.8, position="bottom", margin=20)[..., 3]
    left, _, right, bottom = box(alpha)
    assert abs(bottom - 380) <= 1 and abs((left + right) / 2 - 200) <= 1
    assert layout((220, 140), (400, 400), 0.8, "bottom", 20) == (40, 176, 320, 204)


def test_every_named_preset_is_valid():
    presets = load_presets()
    assert "marketplace-white-square" in presets
    for name, preset in presets.items():
        options = Options.from_dict(resolve(name))
        assert options.canvas is not None and preset["title"], name
    with pytest.raises(OptionsError, match="unknown preset 'nope'"):
        resolve("nope")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"canvas": [0, 0]}, "canvas must be 1 to 16383 px on each side, not 0x0"),
        ({"canvas": [100000, 100000]}, "not 100000x100000"),
        ({"canvas": [10000, 10000]}, "over the limit of 50 MP"),
        ({"canvas": [2000]}, "a width and a height"),
        ({"canvas": [20.5, 30]}, "whole pixels"),
        ({"fill": 0}, "fill must be a share above 0 and at most 1"),
        ({"fill": 1.01}, "fill must be a share above 0 and at most 1"),
        ({"canvas": [800, 800], "position": "top"}, "unknown position 'top'"),
        ({"canvas": [800, 800], "margin": 400}, "leaves no room"),
        ({"canvas": [800, 800], "min_size": 1000}, "smaller than this preset's minimum of 1000 px"),
        ({"canvas": [800, 800], "output": "mask"}, "a mask has no canvas"),
    ],
)
def test_bad_canvas_values_are_refused(options, message):
    with pytest.raises(OptionsError, match=message):
        Options.from_dict(options)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--canvas", "0x0"], "error: the canvas must be 1 to 16383 px on each side, not 0x0"),
        (["--canvas", "100000x100000"], "not 100000x100000"),
        (["--canvas", "big"], "error: 'big' is not a canvas size"),
        (["--fill", "0"], "error: the fill must be a share above 0"),
        (["--fill", "1.2"], "error: the fill must be a share above 0"),
        (["--background-image", "missing.png"], "error: cannot read the background image missing.png"),
        (["--background-image", "README.md"], "error: the background image cannot be used: the file is text"),
    ],
)
def test_the_cli_refuses_bad_values_in_one_line_before_any_work(tmp_path, args, message):
    out = tmp_path / "out"
    proc = run_cli("cut", "samples/chelsea.jpg", "--out", str(out), *args)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr
    assert not out.exists()  # refused before the output folder, and so before any model


@pytest.mark.parametrize("shadow", ["none", "drop"])
def test_a_transparent_canvas_holds_no_colour_where_nothing_shows(shadow):
    prepared, mask = product()
    rgba = prepared.rgba.copy()
    rgba[..., :3] = (250, 10, 250)  # a loud background around the subject
    rgba[60:200, 250:470, :3] = (40, 90, 200)
    out = run(Prepared(rgba=rgba), mask, canvas=[300, 300], shadow=shadow)
    clear = out[..., 3] == 0
    assert clear.sum() > 10000 and not out[clear][:, :3].any()
