"""Backgrounds beyond a colour: the original blurred without its subject, and an image."""

import numpy as np
import pytest
from PIL import Image

from backgrone.errors import OptionsError
from backgrone.pipeline import Options, Prepared, compose
from conftest import encode


def scene(h=240, w=320):
    """A red disc with a soft rim on a green/blue split background, and its mask."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(yy - h / 2, xx - w / 2)
    a = np.clip((60 - r) / 4 + 0.5, 0, 1)  # opaque inside 58 px, soft over 4 px
    bg = np.zeros((h, w, 3), np.float32)
    bg[:, : w // 2] = (20, 160, 40)
    bg[:, w // 2 :] = (30, 60, 200)
    fg = np.array([230, 20, 20], np.float32)
    rgb = a[..., None] * fg + (1 - a[..., None]) * bg
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = np.round(rgb)
    rgba[..., 3] = 255
    return Prepared(rgba=rgba), a.astype(np.float32)


def run(prepared, mask, **options):
    image, _ = compose(prepared, mask, Options.from_dict({"edges": False, "despeckle": False, **options}))
    return np.asarray(image)


def test_blur_keeps_the_subjects_opaque_pixels():
    prepared, mask = scene()
    cut = run(prepared, mask)
    blurred = run(prepared, mask, output="blur", blur=30)
    assert blurred.shape == (*cut.shape[:2], 3)
    opaque = cut[..., 3] == 255
    assert opaque.sum() > 5000
    assert np.array_equal(blurred[opaque], cut[opaque][:, :3])
    # and the background really is blurred: the hard green/blue split is gone
    row = blurred[10, 150:170].astype(int)
    assert np.abs(np.diff(row, axis=0)).max() < 20


@pytest.mark.parametrize("strength", [60, 5])  # weighted per block of the reduced image; per pixel
def test_blur_takes_no_colour_from_the_subject(strength):
    """No red halo: the blurred background next to the red subject stays green/blue, where a
    plain blur of the photo would spread the disc's red around it."""
    prepared, mask = scene()
    blurred = run(prepared, mask, output="blur", blur=strength).astype(int)
    cut = run(prepared, mask)
    ring = (cut[..., 3] == 0) & (np.hypot(*np.mgrid[-120:120, -160:160]) < 80)
    assert ring.sum() > 1000
    assert blurred[ring][:, 0].max() <= 40  # the background's red is 20-30; the disc's 230
    # the soft edge blends the subject over that clean background: red falls off, never above
    # what the subject's own share gives
    soft = (cut[..., 3] > 0) & (cut[..., 3] < 255)
    share = cut[..., 3][soft] / 255
    assert np.all(blurred[soft][:, 0] <= np.round(share * 230 + (1 - share) * 40) + 2)


def test_blur_never_shows_what_the_source_hid():
    """Colours under the source's own transparent pixels were never seen: they stay out."""
    prepared, mask = scene()
    rgba = prepared.rgba.copy()
    rgba[:, :40, :3] = (255, 0, 255)
    rgba[:, :40, 3] = 0
    blurred = run(Prepared(rgba=rgba), mask, output="blur", blur=60).astype(int)
    left = blurred[:, :80]  # the hidden band and the green background beside it
    assert left[..., 0].max() <= 40 and left[..., 2].max() <= 60  # green: no magenta came in


def test_image_background_is_cover_fitted_behind_the_subject():
    prepared, mask = scene()  # 320x240 (4:3)
    picture = np.zeros((100, 400, 3), np.uint8)  # 4:1: cover crops its sides, keeps its middle
    picture[:, :120] = (255, 0, 0)
    picture[:, 120:280] = (0, 0, 255)  # cover scales by 2.4 and keeps x 133-267 of it
    picture[:, 280:] = (255, 255, 0)
    data = encode(Image.fromarray(picture))
    out = run(prepared, mask, output="image", background_image=data)
    cut = run(prepared, mask)
    assert out.shape == (240, 320, 3)
    clear = cut[..., 3] == 0
    assert np.array_equal(out[clear], np.tile([0, 0, 255], (int(clear.sum()), 1)))  # only the middle shows
    opaque = cut[..., 3] == 255
    assert np.array_equal(out[opaque], cut[opaque][:, :3])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"output": "image", "background_image": b"not an image at all"}, "background image cannot be used"),
        ({"output": "image", "background_image": b""}, "background image cannot be used"),
        ({"output": "image"}, "needs a background image"),
        ({"background_image": b"x"}, "only with the 'image' output"),
        ({"output": "blur", "blur": 0}, "blur strength must be above 0"),
        ({"output": "blur", "blur": "strong"}, "blur strength must be a number"),
        ({"output": "sepia"}, "unknown output 'sepia'"),
    ],
)
def test_bad_background_values_are_refused(options, message):
    with pytest.raises(OptionsError, match=message):
        Options.from_dict(options)


def test_the_extensions_options_stay_as_they_were():
    """Every option dict the extension builds today (settings.js pipelineOptions) takes none of
    the new layers, so its output is made exactly as before."""
    for output in ("cutout", "color", "mask"):
        for crop, margin in ((False, 0), (True, 12)):
            raw = {"output": output, "format": "png", "crop": crop, "margin": margin}
            if output == "color":
                raw["background"] = "#123456"
            assert not Options.from_dict(raw).layered
            assert not Options.from_dict({**raw, "despeckle": False, "edges": False, "decontaminate": False}).layered
