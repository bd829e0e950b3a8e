"""Property-based tests (hypothesis): decode never crashes, and any image gives a sound cut-out."""

import io
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from backgrone import Options, finish
from backgrone.decode import decode, decode_image
from backgrone.errors import BackgroneError, DecodeError
from backgrone.pipeline import Prepared
from conftest import decode_png, icc_profile
from test_decode import retyped_tiff_tag

# Deterministic (the same examples on every run, so CI never flakes) and no example
# database written into the repository.
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Random bytes may claim big images; a small limit keeps each example quick.
LIMIT = 2_000_000

MODES = ["RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16"]
FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]
# When a format cannot store a mode, store the nearest one it can (LA -> RGBA -> RGB for JPEG).
FALLBACK = {"LA": "RGBA", "RGBA": "RGB", "P": "RGB", "CMYK": "RGB", "I;16": "L"}


def make_image(mode: str, width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), np.uint16), "I;16")
    if mode == "P":
        im = Image.fromarray(rng.integers(0, 256, (height, width), np.uint8), "L").convert("P")
        im.putpalette(rng.integers(0, 256, 768, np.uint8).tobytes())
        return im
    bands = len(mode)
    arr = rng.integers(0, 256, (height, width, bands), np.uint8)
    return Image.frombytes(mode, (width, height), arr.tobytes())


def save(im: Image.Image, fmt: str) -> tuple[bytes, str]:
    """Encode ``im`` as ``fmt``; returns the bytes and the mode actually stored."""
    while True:
        buf = io.BytesIO()
        try:
            im.save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
            return buf.getvalue(), im.mode
        except (OSError, ValueError, KeyError):
            im = im.convert(FALLBACK[im.mode])


sizes = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 48)),
    st.tuples(st.just(1), st.integers(1, 400)),  # 1xN
    st.tuples(st.integers(1, 400), st.just(1)),  # Nx1
)


@st.composite
def image_files(draw):
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(FORMATS))
    width, height = draw(sizes)
    im = make_image(mode, width, height, draw(st.integers(0, 2**32 - 1)))
    data, stored = save(im, fmt)
    return data, fmt, stored, im, (width, height)


def valid_samples() -> list[bytes]:
    """Small valid files of each format, for mutation."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (9, 13, 3), np.uint8))
    out = []
    for fmt in FORMATS:
        buf = io.BytesIO()
        rgb.save(buf, fmt)
        out.append(buf.getvalue())
    buf = io.BytesIO()
    rgb.save(buf, "PNG", icc_profile=icc_profile())
    out.append(buf.getvalue())
    return out


VALID = valid_samples()
MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"GIF87a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
    b"RIFF\x00\x00\x00\x00WEBPVP8X",
    b"\x00\x00\x00\x1cftypavif",
    b"\x00\x00\x00\x18ftypheic",
    b"<svg",
    b"<?xml",
    b"\x1f\x8b",
    b"\xff\x0a",
    b"8BPS",
    b"\x00\x00\x01\x00",
    b"P6\n",
    b"%PDF-",
]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            del data[pos : pos + draw(st.integers(1, 16))]
    return bytes(data)


junk = st.one_of(
    st.binary(max_size=1024),
    st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGIC), st.binary(max_size=512)),
    mutated(),
)


@SETTINGS
@given(junk)
@example(retyped_tiff_tag(0x0111, 5))  # found by this test: TypeError from Pillow's TIFF plugin
def test_any_bytes_give_an_image_or_a_typed_error(data):
    try:
        decoded = decode_image(data, max_pixels=LIMIT)
    except DecodeError as exc:
        message = str(exc)
        assert message and "Traceback" not in message and "\n" not in message
        return
    except BaseException as exc:  # pragma: no cover - this is the failure being looked for
        pytest.fail(f"decode raised {type(exc).__name__}: {exc!r}")
    h, w, c = decoded.rgba.shape
    assert c == 4 and decoded.rgba.dtype == np.uint8 and 0 < h * w <= LIMIT


@SETTINGS
@given(image_files())
def test_every_valid_image_decodes_to_rgba_of_its_size(case):
    data, fmt, stored, im, (width, height) = case
    out = decode(data)
    assert out.shape == (height, width, 4) and out.dtype == np.uint8
    if fmt in ("PNG", "TIFF", "WEBP") and stored in ("RGB", "RGBA"):  # lossless: exact values
        expected = np.asarray(im.convert(stored).convert("RGBA"))
        if stored == "RGBA" and fmt == "WEBP":  # WebP need not keep colour under alpha 0
            visible = expected[..., 3] > 0
            assert np.array_equal(out[visible], expected[visible])
        else:
            assert np.array_equal(out, expected)


masks = st.builds(
    lambda h, w, seed, levels: np.random.default_rng(seed).choice(levels, size=(h, w)).astype(np.float32),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
    st.sampled_from([[0.0, 1.0], [0.0, 0.001, 0.5, 1.0], [0.0, 0.02, 0.07, 0.3, 0.99], [1.0], [0.0]]),
)
options = st.builds(
    Options,
    output=st.sampled_from(["cutout", "cutout", "color", "mask"]),
    background=st.sampled_from(["white", "#00ff0080", "rgb(1,2,3)"]),
    crop=st.booleans(),
    margin=st.integers(0, 6),
    format=st.sampled_from(["png", "webp"]),
)


@SETTINGS
@given(image_files(), masks, options, st.booleans())
def test_finish_gives_a_sound_image_of_the_right_size(case, mask, opts, with_icc):
    data, _, _, _, (width, height) = case
    decoded = decode_image(data)
    prepared = Prepared(rgba=decoded.rgba, icc=icc_profile() if with_icc else None)
    try:
        result = finish(prepared, mask, opts)
    except BackgroneError as exc:  # only WebP's 16383 px limit may refuse an image
        assert opts.format == "webp" and max(width, height) > 16383, exc
        return
    out = decode_png(result)
    if opts.crop:
        assert 1 <= out.size[0] <= width and 1 <= out.size[1] <= height
    else:
        assert out.size == (width, height)
    assert out.info.get("icc_profile") == (icc_profile() if with_icc and opts.output != "mask" else None)
    expected_mode = {"cutout": "RGBA", "mask": "L"}.get(opts.output, "RGBA" if "80" in opts.background else "RGB")
    if opts.format == "webp":
        as_png = np.asarray(decode_png(finish(prepared, mask, replace(opts, format="png"))))
        if expected_mode == "L":
            expected_mode = "RGB"  # WebP has no grayscale: a mask comes back as equal R, G and B
        elif expected_mode == "RGBA" and as_png[..., 3].min() == 255:
            expected_mode = out.mode  # libwebp may leave out an alpha channel that is opaque everywhere
    assert out.mode == expected_mode
    if opts.output == "cutout":
        px = np.asarray(out.convert("RGBA"))
        if opts.format == "png":
            assert not px[px[..., 3] == 0, :3].any()  # nothing of the background survives
        else:  # lossy colour (see test_privacy), but exactly the same alpha as the PNG
            assert np.array_equal(px[..., 3], as_png[..., 3])
