"""A transparent cut-out must not carry the removed background (alpha 0 => RGB 0)."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from backgrone import Options, finish, prepare
from conftest import decode_png, encode

W, H = 160, 120


def striped_scene():
    """Loud green/magenta stripes behind a soft red disc; returns PNG bytes and the disc's mask."""
    yy, xx = np.mgrid[0:H, 0:W]
    stripes = ((xx // 3 + yy // 2) % 2).astype(bool)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[stripes] = (0, 255, 0)
    rgb[~stripes] = (255, 0, 255)
    disc = Image.new("L", (W, H))
    ImageDraw.Draw(disc).ellipse([40, 25, 110, 95], fill=255)
    mask = np.asarray(disc.filter(ImageFilter.GaussianBlur(2)), np.float32) / 255
    a = mask[..., None]
    rgb = np.clip(a * np.array([200, 30, 30]) + (1 - a) * rgb + 0.5, 0, 255).astype(np.uint8)
    return encode(Image.fromarray(rgb)), stripes, mask


def _near(alpha, radius):
    """Pixels within ``radius`` of any visible pixel."""
    visible = Image.fromarray(np.where(alpha > 0, 255, 0).astype(np.uint8))
    return np.asarray(visible.filter(ImageFilter.MaxFilter(2 * radius + 1))) > 0


@pytest.mark.parametrize("crop", [False, True])
def test_png_cutout_keeps_no_background(tiny_spec, crop):
    data, _, mask = striped_scene()
    out = decode_png(finish(prepare(data, tiny_spec), mask, Options(crop=crop, margin=30)))
    px = np.asarray(out)
    assert out.mode == "RGBA" and (px.shape[:2] == (H, W) or crop)
    hidden = px[..., 3] == 0
    assert hidden.sum() > 0.3 * hidden.size  # plenty of background was removed...
    assert not px[hidden, :3].any()  # ...and none of its colour is left to reveal
    # semi-transparent edge pixels still carry the photo's colour (no premultiplication)
    edge = (px[..., 3] > 0) & (px[..., 3] < 255)
    assert px[edge, :3].any()


def test_lossy_webp_cutout_keeps_no_background(tiny_spec):
    data, stripes, mask = striped_scene()
    out = decode_png(finish(prepare(data, tiny_spec), mask, Options(format="webp")))
    px = np.asarray(out.convert("RGBA")).astype(int)
    alpha = px[..., 3]
    hidden = alpha == 0
    assert hidden.sum() > 0.3 * hidden.size
    # Lossy coding leaves faint ringing right at the visible edge (from the
    # subject and the semi-transparent edge, which are visible anyway) and
    # nothing further out: never the stripes.
    far = hidden & ~_near(alpha, 8)
    assert far.sum() > 0.2 * hidden.size and px[far, :3].max() <= 4
    beyond_edge = hidden & ~_near(alpha, 2)
    assert px[beyond_edge, :3].max() <= 48
    near = hidden & ~far
    assert px[near, :3].mean() <= 12
    green, magenta = near & stripes, near & ~stripes
    assert abs(px[green, 1].mean() - px[magenta, 1].mean()) < 8


def test_post_processing_never_reveals_colours_the_source_hid_under_transparency():
    """A source pixel with alpha 0 may still hold RGB (here: red). Edge refinement and colour
    estimation read neighbourhoods: they must not carry that hidden red into visible pixels.
    The model here takes the hidden part for the subject, its soft edge reaching into the
    visible blue (without the guard, visible edge pixels came out red up to 181)."""
    from backgrone.pipeline import compose, load_pixels

    h, w = 300, 400
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = (255, 0, 0)  # hidden red on the left...
    rgba[:, 150:, :3] = (20, 40, 230)  # ...a visible blue area on the right
    rgba[:, 150:, 3] = 255
    prepared = load_pixels(rgba.tobytes(), w, h)
    xx = np.mgrid[0:150, 0:200][1]
    mask = np.clip((77 - xx) / 3 + 0.5, 0, 1).astype(np.float32)  # subject on the left, edge at x=154
    for options in (Options(), Options(edges=False), Options(despeckle=False, decontaminate=False)):
        out = np.asarray(compose(prepared, mask, options)[0])
        visible = out[..., 3] > 0
        assert visible.any()
        assert out[..., 0][visible].max() <= 30, options  # never red: about the visible blue's own 20
