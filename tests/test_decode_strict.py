"""decode() reads only the formats it names, and never passes off a damaged file as an image."""

import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, ImageFile, ImageOps

from backgrone.decode import READABLE, _load_in_place, decode, decode_pixels
from backgrone.errors import NotAnImageError, TruncatedImageError, UnsupportedFormatError
from conftest import encode
from test_decode import png_chunk

TRUNCATED = r"^the image data is truncated or damaged \("
UNKNOWN = rf"^the file is not an image in a format Backgrone reads \({READABLE}\)$"
OTHER = f"format, which Backgrone does not read (it reads {READABLE})"

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 10 10
%%EndComments
newpath 0 0 moveto 10 10 lineto stroke
showpage
%%EOF
"""


def photo(w=96, h=64, seed=0) -> np.ndarray:
    """Smooth colours with some noise: compresses like a photo, every row different."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 215, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 215, h)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, np.full((h, w), 90.0)], -1) + rng.integers(0, 40, (h, w, 3))
    return rgb.astype(np.uint8)


def saved(fmt: str, **kw) -> bytes:
    return encode(Image.fromarray(photo()), fmt, **kw)


@pytest.mark.parametrize(
    "data,name",
    [
        (saved("PPM"), "PPM (Netpbm)"),
        (encode(Image.fromarray(photo()).convert("L"), "PPM"), "PPM (Netpbm)"),  # PGM
        (saved("PCX"), "PCX"),
        (saved("SGI"), "SGI"),
        (saved("ICO"), "ICO (Windows icon)"),
        (saved("JPEG2000"), "JPEG 2000"),
        (saved("TGA"), "TGA (Targa)"),  # Pillow writes the TGA 2.0 footer that names it
        (EPS, "PostScript (EPS)"),  # a file called photo.png holding PostScript
    ],
)
def test_other_formats_are_refused_by_name(data, name, monkeypatch):
    ghostscript = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: ghostscript.append(a))
    with pytest.raises(UnsupportedFormatError, match=f"^{re.escape(f'the file is in the {name} {OTHER}')}$") as err:
        decode(data)
    assert err.value.code == "otherFormat" and err.value.params == (name, READABLE)
    assert err.value.format not in {"avif", "heic", "jxl"}  # the extension never hands these to the browser
    assert not ghostscript  # PostScript is never interpreted


def test_a_file_with_no_signature_lists_what_is_read():
    tga = saved("TGA")[:-26]  # an old TGA without the footer: nothing says what it is
    with pytest.raises(NotAnImageError, match=UNKNOWN):
        decode(tga)


def test_icon_holding_a_png_is_still_refused():
    ico = encode(Image.fromarray(photo(32, 32)), "ICO", sizes=[(32, 32)], bitmap_format="png")
    with pytest.raises(UnsupportedFormatError, match="ICO"):
        decode(ico)


LOSSLESS = [("PNG", {}), ("WEBP", {"lossless": True}), ("GIF", {}), ("BMP", {}), ("TIFF", {})]
LOSSY = [("JPEG", {"quality": 90}), ("JPEG", {"quality": 90, "progressive": True}), ("WEBP", {"quality": 90})]
TIFFS = [("TIFF", {"compression": c}) for c in ("tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg")]


@pytest.mark.parametrize("fmt,kw", LOSSLESS + LOSSY + TIFFS)
def test_readable_formats_decode_as_pillow_reads_them(fmt, kw):
    image = Image.fromarray(photo())
    if fmt == "GIF":
        image = image.quantize(256)
    data = encode(image, fmt, **kw)
    want = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    assert np.array_equal(decode(data), want)
    if (fmt, kw) in LOSSLESS and fmt != "GIF":
        assert np.array_equal(decode(data)[..., :3], photo())


@pytest.mark.parametrize("fmt,kw", LOSSLESS + LOSSY + TIFFS)
@pytest.mark.parametrize("cut", [0.02, 0.25, 0.5, 0.75, 0.95])
def test_a_file_cut_short_is_refused_as_truncated(fmt, kw, cut):
    data = encode(Image.fromarray(photo()), fmt, **kw)
    with pytest.raises(TruncatedImageError, match=TRUNCATED):
        decode(data[: max(int(len(data) * cut), 9)])


def png(width, height, rows: bytes, *, bit_depth=8, colour_type=2, interlace=0, idat=None, end=True) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, interlace)
    chunks = png_chunk(b"IHDR", ihdr)
    for part in idat or [zlib.compress(rows)]:
        chunks += png_chunk(b"IDAT", part)
    return b"\x89PNG\r\n\x1a\n" + chunks + (png_chunk(b"IEND", b"") if end else b"")


def filtered_rows(rgb: np.ndarray) -> bytes:
    return b"".join(b"\x00" + row.tobytes() for row in rgb)


@pytest.mark.parametrize("kept", [0, 1, 32, 63])
def test_png_whose_image_data_stops_early_is_refused(kept):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # Pillow refuses what ends early: we never ask it not to
    # The file is whole (every chunk, every CRC, IEND) but its compressed data ends after some
    # whole rows: Pillow would fill the rest with black.
    rows = filtered_rows(photo())
    data = png(96, 64, b"", idat=[zlib.compress(rows[: kept * (1 + 96 * 3)])])
    with pytest.raises(TruncatedImageError, match=TRUNCATED):
        decode(data)


@pytest.mark.parametrize("bit_depth,colour_type,row_bytes", [(1, 0, 1 + 12), (4, 3, 1 + 48), (16, 6, 1 + 96 * 8)])
def test_short_png_in_other_layouts_is_refused(bit_depth, colour_type, row_bytes):
    im = Image.fromarray(photo())
    if colour_type == 0:
        im = im.convert("1")
    elif colour_type == 3:
        im = im.quantize(16)
    data = encode(im, "PNG", bits=4) if colour_type == 3 else encode(im, "PNG")
    if colour_type == 6:
        values = np.dstack([photo(), np.full((64, 96), 200, np.uint8)]).astype(">u2") * 257
        data = png(96, 64, b"".join(b"\x00" + r.tobytes() for r in values), bit_depth=16, colour_type=6)
    assert data[24:26] == bytes([bit_depth, colour_type])
    full = decode(data)  # the whole file decodes...
    assert full.shape == (64, 96, 4)
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    stream = zlib.decompress(data[start : start + length])
    short = png(96, 64, b"", bit_depth=bit_depth, colour_type=colour_type, idat=[zlib.compress(stream[:-row_bytes])])
    if colour_type == 3:
        short = short[:33] + data[33 : data.index(b"IDAT") - 4] + short[short.index(b"IDAT") - 4 :]  # keep PLTE
    with pytest.raises(TruncatedImageError):  # ...one missing its last row does not
        decode(short)


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def test_interlaced_png_missing_its_last_pass_is_refused():
    rgb = photo()  # Pillow does not write interlaced PNGs: the seven passes by hand
    passes = [filtered_rows(rgb[y::dy, x::dx]) for x, y, dx, dy in ADAM7]
    assert np.array_equal(decode(png(96, 64, b"".join(passes), interlace=1))[..., :3], rgb)
    assert len(passes[-1]) == 32 * (1 + 96 * 3)  # pass 7: every odd row, full width
    with pytest.raises(TruncatedImageError):
        decode(png(96, 64, b"".join(passes[:-1]), interlace=1))


def test_complete_png_data_is_accepted_whatever_follows():
    rows = filtered_rows(photo())
    stream = zlib.compress(rows)
    want = decode(png(96, 64, rows))
    assert np.array_equal(want[..., :3], photo())
    split = [stream[i : i + 700] for i in range(0, len(stream), 700)]
    for data in [
        png(96, 64, rows, end=False),  # no IEND: every pixel is there
        png(96, 64, b"", idat=split),  # the data in many IDAT chunks
        png(96, 64, b"", idat=[stream[:-4]]),  # no Adler-32 checksum at the end (as browsers accept)
        png(96, 64, b"", idat=[stream + b"\x00" * 7]),  # padding after the stream
    ]:
        assert np.array_equal(decode(data), want)


def test_png_idat_stream_cut_inside_a_whole_file_is_refused():
    rows = filtered_rows(photo())
    stream = zlib.compress(rows)
    for data in [
        png(96, 64, b"", idat=[stream[: len(stream) // 2]]),  # the stream stops, the file goes on
        png(96, 64, b"", idat=[stream[:700]], end=False),
    ]:
        with pytest.raises(TruncatedImageError):
            decode(data)


@pytest.mark.parametrize(
    "fmt,kw",
    [
        ("MPO", {}),  # a camera's multi-picture JPEG: read by the JPEG plugin
        ("PNG", {"duration": 100}),  # APNG, its first frame in IDAT
        ("PNG", {"duration": 100, "default_image": True}),  # APNG with a still image before the animation
    ],
)
def test_multi_frame_variants_of_readable_formats_still_decode(fmt, kw):
    first, second = Image.new("RGB", (40, 30), (200, 10, 10)), Image.new("RGB", (40, 30), (10, 10, 200))
    out = decode(encode(first, fmt, save_all=True, append_images=[second], **kw))
    assert out.shape == (30, 40, 4) and out[5, 5, 0] > 190 and out[5, 5, 2] < 20


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("turned", [False, True])
def test_decoded_straight_into_the_array_as_pillow_reads_it(mode, fmt, turned):
    # JPEG and PNG are decoded into the result's own memory (no full-size picture beside it):
    # the same pixels as Pillow's own conversion, EXIF orientation applied, read-only.
    if fmt == "JPEG" and mode == "RGBA":
        pytest.skip("JPEG has no alpha")
    pixels = photo()
    if mode == "RGBA":
        pixels = np.dstack(
            [pixels, (np.arange(pixels.shape[1]) % 256).astype(np.uint8)[None, :].repeat(pixels.shape[0], 0)]
        )
    exif = Image.Exif()
    if turned:
        exif[0x0112] = 6
    data = encode(Image.fromarray(pixels, mode), fmt, exif=exif.tobytes())
    want = Image.open(io.BytesIO(data))
    want = np.asarray((ImageOps.exif_transpose(want) if turned else want).convert("RGBA"))
    got = decode(data)
    assert got.shape == want.shape and np.array_equal(got, want)
    assert not got.flags.writeable


@pytest.mark.parametrize(
    ("fmt", "mode", "taken"),
    [("PNG", "RGB", True), ("PNG", "RGBA", True), ("JPEG", "RGB", True), ("PNG", "L", False), ("PNG", "P", False)],
)
def test_only_rgb_and_rgba_jpeg_and_png_are_decoded_in_place(fmt, mode, taken, monkeypatch):
    image = Image.fromarray(photo()).convert(mode)
    data = encode(image, fmt)
    got = _load_in_place(Image.open(io.BytesIO(data)))
    assert (got is not None) == taken
    if taken:
        assert np.array_equal(got, np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")))
    # Rows a decoder skips when truncated files are allowed would hold np.empty's bytes: not then.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert _load_in_place(Image.open(io.BytesIO(data))) is None


def test_pixels_a_host_decoded_are_taken_from_its_bytearray_and_copied_from_anything_else():
    rgba = np.dstack([photo(8, 6), np.full((6, 8), 200, np.uint8)])
    given = bytearray(rgba.tobytes())
    taken = decode_pixels(given, 8, 6).rgba
    assert np.shares_memory(taken, np.frombuffer(given, np.uint8)) and not taken.flags.writeable
    copied = decode_pixels(rgba.tobytes(), 8, 6).rgba
    assert np.array_equal(copied, rgba)
    copied.flags.writeable = True  # its own memory: a consuming cut-out may be made in it
