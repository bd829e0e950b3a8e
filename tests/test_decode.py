"""decode(): every input the tool meets, good and bad."""

import numpy as np
import pytest
from PIL import Image

from backgrone.decode import decode
from backgrone.errors import (
    DecodeError,
    EmptyFileError,
    NotAnImageError,
    TooManyPixelsError,
    TruncatedImageError,
)
from conftest import encode


def gradient(w=40, h=30):
    x = np.linspace(0, 255, w, dtype=np.float32)
    y = np.linspace(0, 255, h, dtype=np.float32)
    r = np.broadcast_to(x, (h, w))
    g = np.broadcast_to(y[:, None], (h, w))
    b = np.full((h, w), 90, np.float32)
    return np.stack([r, g, b], -1).astype(np.uint8)


def test_rgb_png_roundtrips_exactly():
    arr = gradient()
    out = decode(encode(Image.fromarray(arr)))
    assert out.shape == (30, 40, 4) and out.dtype == np.uint8
    assert np.array_equal(out[..., :3], arr)
    assert (out[..., 3] == 255).all()


def test_rgba_keeps_alpha():
    arr = np.zeros((10, 12, 4), np.uint8)
    arr[..., 0] = 200
    arr[:, 6:, 3] = 255
    out = decode(encode(Image.fromarray(arr, "RGBA")))
    assert np.array_equal(out, arr)


def test_jpeg_decodes():
    out = decode(encode(Image.fromarray(gradient()), "JPEG", quality=95))
    assert out.shape == (30, 40, 4)
    assert np.abs(out[..., :3].astype(int) - gradient()).mean() < 3


def test_palette_with_transparency():
    im = Image.new("P", (8, 8), 0)
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.paste(1, (0, 0, 4, 8))
    im.info["transparency"] = 0
    out = decode(encode(im, transparency=0))
    assert (out[:, :4, 3] == 255).all() and (out[:, :4, 1] == 255).all()
    assert (out[:, 4:, 3] == 0).all()


@pytest.mark.parametrize("mode", ["L", "LA", "1"])
def test_grayscale_modes(mode):
    im = Image.new(mode, (6, 5), 255 if mode == "1" else (200 if mode == "L" else (200, 128)))
    out = decode(encode(im))
    assert out.shape == (5, 6, 4)
    assert out[0, 0, 0] == out[0, 0, 1] == out[0, 0, 2]
    if mode == "LA":
        assert out[0, 0, 3] == 128


def test_cmyk_jpeg_becomes_rgb():
    im = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    out = decode(encode(im, "JPEG", quality=100))
    r, g, b = out[4, 4, :3].astype(int)
    assert r > 200 and g < 50 and b < 50


def test_sixteen_bit_grayscale_scales_not_clips():
    arr = np.full((4, 4), 32768, np.uint16)
    arr[0, 0] = 65535
    arr[0, 1] = 0
    im = Image.fromarray(arr, "I;16")
    out = decode(encode(im))
    assert out[0, 0, 0] == 255 and out[0, 1, 0] == 0
    assert 126 <= out[2, 2, 0] <= 129  # mid-grey, not saturated white


def test_exif_orientation_applied():
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # white left half, landscape
    im = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = decode(encode(im, "JPEG", quality=95, exif=exif.tobytes()))
    assert out.shape[:2] == (40, 20)  # portrait as displayed
    assert out[2, 10, 0] > 200 and out[-3, 10, 0] < 50  # white on top after rotation


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_takes_first_frame(fmt):
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255)]]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                  **({"lossless": True} if fmt == "WEBP" else {}))
    out = decode(data)
    assert out[5, 5, 0] > 200 and out[5, 5, 2] < 50


def test_empty_file():
    with pytest.raises(EmptyFileError, match="empty"):
        decode(b"")


def test_not_an_image():
    with pytest.raises(NotAnImageError, match="not an image"):
        decode(b"<html><body>404 Not Found</body></html>")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(fmt):
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)), fmt)
    with pytest.raises(TruncatedImageError, match="truncated"):
        decode(data[: len(data) // 2])


def test_pixel_limit_names_the_size():
    data = encode(Image.new("RGB", (200, 100)))
    with pytest.raises(TooManyPixelsError, match=r"200x100 \(0.0 MP\), over the 0.0 MP limit"):
        decode(data, max_pixels=19_999)
    assert decode(data, max_pixels=20_000).shape == (100, 200, 4)


def test_errors_share_a_base_with_readable_messages():
    for bad in (b"", b"GIF89a", b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(DecodeError) as err:
            decode(bad)
        assert str(err.value) and "Traceback" not in str(err.value)
