import io

import numpy as np
import pytest
from PIL import Image

from backgrone import compose
from backgrone.compose import alpha_at_size, combine_alpha, encode, parse_color, render, subject_box
from backgrone.errors import OptionsError
from conftest import decode_png


def test_parse_color_forms():
    assert parse_color("white") == (255, 255, 255, 255)
    assert parse_color("#0f0") == (0, 255, 0, 255)
    assert parse_color("#ff000080") == (255, 0, 0, 128)
    assert parse_color(" rgb(1, 2, 3) ") == (1, 2, 3, 255)
    with pytest.raises(OptionsError, match="'blurple' is not a colour"):
        parse_color("blurple")


def test_alpha_at_size_scales_to_original():
    mask = np.zeros((4, 4), np.float32)
    mask[:, :2] = 1.0
    alpha = alpha_at_size(mask, (400, 300))
    assert alpha.shape == (300, 400) and alpha.dtype == np.uint8
    assert alpha[:, :150].min() == 255 and alpha[:, 250:].max() == 0


def test_combine_alpha_keeps_source_transparency():
    rgba = np.full((2, 2, 4), 255, np.uint8)
    alpha = np.full((2, 2), 255, np.uint8)
    assert combine_alpha(alpha, rgba) is alpha
    rgba[0, 0, 3] = 0
    rgba[0, 1, 3] = 128
    out = combine_alpha(alpha, rgba)
    assert out[0, 0] == 0 and out[0, 1] == 128 and out[1, 1] == 255


def test_subject_box_with_margin_and_clipping():
    alpha = np.zeros((100, 200), np.uint8)
    alpha[20:40, 50:90] = 255
    alpha[0, 0] = 10  # faint haze below the threshold is ignored
    assert subject_box(alpha, 0) == (50, 20, 90, 40)
    assert subject_box(alpha, 5) == (45, 15, 95, 45)
    assert subject_box(alpha, 500) == (0, 0, 200, 100)
    assert subject_box(np.zeros((5, 5), np.uint8), 3) is None


def test_render_outputs():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)
    alpha = np.array([[0, 128, 255]] * 2, np.uint8)
    cut = render(rgba, alpha, "cutout")
    assert cut.mode == "RGBA"
    # a fully transparent pixel keeps no colour (privacy); a partly visible one keeps its own
    assert cut.getpixel((0, 0)) == (0, 0, 0, 0)
    assert cut.getpixel((1, 0)) == (10, 20, 30, 128)
    assert rgba[0, 0, 0] == 10  # the source array is not modified
    on_red = render(rgba, alpha, "color", (255, 0, 0, 255))
    assert on_red.mode == "RGB"
    assert on_red.getpixel((0, 0)) == (255, 0, 0) and on_red.getpixel((2, 0)) == (10, 20, 30)
    r, g, b = on_red.getpixel((1, 0))
    assert 125 <= r <= 140 and 8 <= g <= 12 and 13 <= b <= 17
    mask = render(rgba, alpha, "mask")
    assert mask.mode == "L" and list(mask.getdata())[:3] == [0, 128, 255]
    with pytest.raises(OptionsError):
        render(rgba, alpha, "sepia")


def test_encode_formats_and_determinism():
    rgba = np.random.default_rng(1).integers(0, 255, (32, 32, 4), np.uint8)
    image = render(rgba, rgba[..., 3], "cutout")
    png = encode(image, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == encode(image, "png")
    assert np.array_equal(np.asarray(decode_png(png)), np.asarray(image))
    webp = encode(image, "webp")
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP" and webp == encode(image, "webp")
    assert decode_png(webp).mode == "RGBA"
    with pytest.raises(OptionsError, match="unknown format"):
        encode(image, "gif")


def test_render_writes_the_estimated_colours_and_still_clears_the_transparent():
    rgba = np.full((4, 5, 4), 200, np.uint8)
    alpha = np.array([[0, 128, 255, 255, 0]] * 4, np.uint8)
    index = np.array([1, 2, 5, 6 + 5 * 2, 0])  # includes pixel 0, whose alpha is 0
    rgb = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15]], np.uint8)
    out = np.asarray(render(rgba, alpha, "cutout", None, (index, rgb))).reshape(-1, 4)
    assert out[1].tolist() == [1, 2, 3, 128] and out[2].tolist() == [4, 5, 6, 255]
    assert out[5].tolist() == [0, 0, 0, 0]  # alpha 0 wins over any colour: privacy
    assert out[0].tolist() == [0, 0, 0, 0]
    assert out[3].tolist() == [200, 200, 200, 255]  # untouched elsewhere


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (5, 3), (1500, 1400)])  # the last: over one strip
def test_png_writer_keeps_every_pixel_and_the_profile(mode, size):
    rng = np.random.default_rng(7)
    width, height = size
    pixels = rng.integers(0, 256, (height, width, len(mode)), dtype=np.uint8)
    pixels[: height // 3] = 0  # a cleared part, as a cut-out has
    image = Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode)
    icc = bytes(range(256)) * 2
    for profile in (None, icc):
        png = encode(image, "png", icc=profile)
        with Image.open(io.BytesIO(png)) as back:
            back.load()
            assert back.mode == mode and back.size == size
            assert np.array_equal(np.asarray(back), np.asarray(image))
            assert back.info.get("icc_profile") == profile
        assert png == encode(image, "png", icc=profile)


def test_png_writer_reads_the_picture_the_public_way_too(monkeypatch):
    """Pillow other than 10.x: rows read by crop + tobytes, the same file."""
    pixels = np.random.default_rng(3).integers(0, 256, (1300, 900, 4), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGBA")
    fast = encode(image, "png")
    monkeypatch.setattr(compose, "PILLOW_INTERNALS", False)
    assert encode(image, "png") == fast
