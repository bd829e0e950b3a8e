"""decode(): every input the tool meets, good and bad."""

import gzip
import re
import struct
import time
import zlib

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
    UnsupportedFormatError,
)
from conftest import encode


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def raw_png(width, height, bit_depth, colour_type, rows: bytes) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit RGB): ``rows`` already filtered."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


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


@pytest.mark.parametrize(
    "cmyk,rgb",
    [
        ((0, 255, 255, 0), (255, 0, 0)),  # red
        ((255, 0, 255, 0), (0, 255, 0)),  # green
        ((255, 255, 0, 0), (0, 0, 255)),  # blue
        ((0, 0, 0, 0), (255, 255, 255)),  # paper white
        ((0, 0, 0, 255), (0, 0, 0)),  # full black
        ((0, 0, 0, 128), (127, 127, 127)),  # half black
    ],
)
def test_cmyk_jpeg_with_adobe_inverted_marker(cmyk, rgb):
    data = encode(Image.new("CMYK", (16, 16), cmyk), "JPEG", quality=100)
    # libjpeg writes CMYK with an Adobe APP14 marker and inverted values, as Photoshop does
    assert re.search(rb"\xff\xee..Adobe", data[:200], re.DOTALL)
    out = decode(data)
    assert np.abs(out[8, 8, :3].astype(int) - rgb).max() <= 8
    assert (out[..., 3] == 255).all()


@pytest.mark.parametrize("colour_type,channels", [(2, 3), (6, 4)])
def test_sixteen_bit_rgb_png(colour_type, channels):
    width, height = 5, 3
    values = np.zeros((height, width, channels), np.uint16)
    values[..., 0] = 0xFFFF
    values[..., 1] = 0x8000
    values[..., 2] = 0x00FF  # dark: must not wrap to a bright byte
    if channels == 4:
        values[..., 3] = 0x8000
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in values)
    out = decode(raw_png(width, height, 16, colour_type, rows))
    assert out.shape == (height, width, 4)
    assert tuple(out[1, 2, :3]) == (255, 128, 0)
    assert out[1, 2, 3] == (128 if channels == 4 else 255)


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
    data = encode(
        frames[0],
        fmt,
        save_all=True,
        append_images=frames[1:],
        duration=100,
        loop=0,
        **({"lossless": True} if fmt == "WEBP" else {}),
    )
    out = decode(data)
    assert out[5, 5, 0] > 200 and out[5, 5, 2] < 50


def test_empty_file():
    with pytest.raises(EmptyFileError, match="empty"):
        decode(b"")


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body>404 Not Found</body></html>",
        b"\n  <!DOCTYPE html>\n<html lang=en><head><title>Oops</title></head></html>",
        b"\xef\xbb\xbf<!doctype html><meta charset=utf-8><body>",
    ],
)
def test_html_page_is_named(data):
    with pytest.raises(NotAnImageError, match=r"web page \(HTML\), not an image"):
        decode(data)


@pytest.mark.parametrize(
    "data,what",
    [
        (b"not really a jpeg", "text"),
        ("Grüße, keine Bilddatei hier\n".encode(), "text"),
        (b'<?xml version="1.0"?><catalog><book/></catalog>', "an XML document"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41", "a video"),
    ],
)
def test_other_files_are_named(data, what):
    with pytest.raises(NotAnImageError, match=f"the file is {what}.*not an image"):
        decode(data)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>'


@pytest.mark.parametrize(
    "data",
    [
        SVG,
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- made by hand -->\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n' + SVG,
        gzip.compress(b"<?xml version='1.0'?>\n" + SVG, mtime=0),  # .svgz
    ],
)
def test_svg_is_a_drawing_not_pixels(data):
    with pytest.raises(UnsupportedFormatError, match="vector SVG drawing, not a pixel image") as err:
        decode(data)
    assert err.value.format == "svg"


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    box = struct.pack(">I", 8 + len(body)) + b"ftyp" + body
    return box + b"\x00\x00\x00\x2ameta\x00\x00\x00\x00" + bytes(range(40))  # then other boxes


@pytest.mark.parametrize(
    "data,fmt,name",
    [
        (ftyp(b"avif", b"mif1", b"avif", b"miaf", b"MA1B"), "avif", "AVIF"),
        (ftyp(b"avis", b"msf1", b"avis"), "avif", "AVIF"),
        (ftyp(b"mif1", b"mif1", b"avif"), "avif", "AVIF"),  # generic HEIF box holding AV1
        (ftyp(b"heic", b"mif1", b"heic"), "heic", "HEIC/HEIF"),
        (ftyp(b"heix", b"mif1", b"heix"), "heic", "HEIC/HEIF"),
        (ftyp(b"mif1", b"mif1", b"heic"), "heic", "HEIC/HEIF"),
        (b"\xff\x0a\xfa\x7f" + bytes(60), "jxl", "JPEG XL"),
        (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + bytes(60), "jxl", "JPEG XL"),
    ],
)
def test_modern_formats_are_typed_for_the_host(data, fmt, name):
    with pytest.raises(
        UnsupportedFormatError, match=f"is an? {name} image, a format this decoder does not read"
    ) as err:
        decode(data)
    assert err.value.format == fmt
    assert isinstance(err.value, DecodeError)


def test_unknown_binary_names_the_readable_formats():
    with pytest.raises(NotAnImageError, match=r"not an image in a format Backgrone reads \(PNG, JPEG, WebP"):
        decode(b"PK\x03\x04" + bytes(range(7, 256)))  # a zip archive, say


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(fmt):
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)), fmt)
    with pytest.raises(TruncatedImageError, match="truncated"):
        decode(data[: len(data) // 2])


@pytest.mark.parametrize("fmt,cut", [("JPEG", 0.5), ("JPEG", 0.1), ("PNG", 0.5), ("PNG", 0.9)])
def test_truncated_anywhere(fmt, cut):
    rng = np.random.default_rng(1)
    data = encode(Image.fromarray(rng.integers(0, 255, (64, 96, 3), np.uint8)), fmt)
    with pytest.raises(TruncatedImageError, match="truncated or damaged"):
        decode(data[: int(len(data) * cut)])


@pytest.mark.parametrize(
    "width,height,mp",
    [
        (100_000, 100_000, "10000.0 MP"),  # over Pillow's own decompression-bomb guard
        (9_000, 9_000, "81.0 MP"),  # under Pillow's guard, over ours
    ],
)
def test_decompression_bomb_refused_fast(width, height, mp):
    # A 100-byte PNG whose header claims a huge image: refused from the header alone.
    rows = zlib.compress(b"\x00" * 64)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )
    assert len(data) < 120
    start = time.perf_counter()
    with pytest.raises(TooManyPixelsError, match=f"{mp}.*over the 50.0 MP limit"):
        decode(data)
    assert time.perf_counter() - start < 0.5


def test_damaged_exif_keeps_the_image():
    im = Image.fromarray(gradient())
    out = decode(encode(im, "JPEG", quality=95, exif=b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff garbage"))
    assert out.shape == (30, 40, 4)


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


def retyped_tiff_tag(tag: int, new_type: int) -> bytes:
    """A valid little TIFF with one IFD entry's type changed (a classic fuzzing find)."""
    data = bytearray(encode(Image.fromarray(gradient(13, 9)), "TIFF"))
    (ifd,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[ifd : ifd + 2])
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        if struct.unpack("<H", data[entry : entry + 2])[0] == tag:
            data[entry + 2 : entry + 4] = struct.pack("<H", new_type)
            return bytes(data)
    raise AssertionError(f"tag {tag:#x} not found")


@pytest.mark.parametrize("new_type", [2, 5, 11])  # ASCII, RATIONAL, FLOAT
def test_malformed_tiff_tag_is_a_decode_error_not_a_crash(new_type):
    # Pillow raises TypeError deep in the TIFF plugin for a non-integer StripOffsets
    with pytest.raises(TruncatedImageError, match="truncated or damaged"):
        decode(retyped_tiff_tag(0x0111, new_type))
