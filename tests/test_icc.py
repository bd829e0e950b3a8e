"""Colour profiles: a cut-out of a Display P3 (or any RGB-profiled) image keeps its colours."""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from backgrone import Options, cut
from backgrone.decode import decode_image, rgb_icc
from conftest import decode_png, encode, icc_profile

P3 = icc_profile()


def photo(w=64, h=48):
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 80, (h, w, 3), np.uint8)
    arr[:, : w // 2] += 150  # bright left half: the subject for HalfMask
    return arr


def png_chunks(data: bytes) -> list[bytes]:
    names, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        names.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return names


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    names, pos = [], 12
    while pos < len(data):
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        names.append(data[pos : pos + 4])
        pos += 8 + length + (length & 1)
    return names


def test_the_test_profile_is_valid():
    cms = pytest.importorskip("PIL.ImageCms")
    profile = cms.ImageCmsProfile(io.BytesIO(P3))
    assert cms.getProfileDescription(profile).strip() == "Display P3 (test)"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF"])
def test_decode_carries_the_profile(fmt):
    data = encode(Image.fromarray(photo()), fmt, icc_profile=P3)
    decoded = decode_image(data)
    assert decoded.icc == P3 and decoded.rgba.shape == (48, 64, 4)
    assert decode_image(encode(Image.fromarray(photo()), fmt)).icc is None


@pytest.mark.parametrize("src", ["PNG", "JPEG"])
@pytest.mark.parametrize("out_format", ["png", "webp"])
@pytest.mark.parametrize("output,crop", [("cutout", False), ("cutout", True), ("color", False)])
def test_cutout_keeps_the_profile(half_mask, src, out_format, output, crop):
    data = encode(Image.fromarray(photo()), src, icc_profile=P3, **({"quality": 95} if src == "JPEG" else {}))
    result = cut(data, half_mask, Options(output=output, crop=crop, format=out_format))
    out = decode_png(result)
    assert out.info.get("icc_profile") == P3
    # the profile is the only metadata written: no EXIF, XMP, text or timestamps
    if out_format == "png":
        assert png_chunks(result) == [b"IHDR", b"iCCP", b"IDAT", b"IEND"]
    else:
        assert set(webp_chunks(result)) <= {b"VP8X", b"ICCP", b"ALPH", b"VP8 ", b"VP8L"}
        assert b"ICCP" in webp_chunks(result)


def test_values_are_not_converted(half_mask):
    """The pixels stay in the source's colour space; the profile says which."""
    arr = photo()
    out = np.asarray(decode_png(cut(encode(Image.fromarray(arr), icc_profile=P3), half_mask)))
    visible = out[..., 3] == 255
    assert visible.sum() > 1000 and np.array_equal(out[visible, :3], arr[visible])


def test_no_profile_no_chunk_and_none_on_the_mask(half_mask):
    plain = cut(encode(Image.fromarray(photo())), half_mask)
    assert png_chunks(plain) == [b"IHDR", b"IDAT", b"IEND"]
    mask = cut(encode(Image.fromarray(photo()), icc_profile=P3), half_mask, Options(output="mask"))
    assert png_chunks(mask) == [b"IHDR", b"IDAT", b"IEND"]  # an RGB profile does not fit a grayscale mask


def test_profiles_for_other_colour_spaces_are_dropped(half_mask):
    cmyk_profile = icc_profile("CMYK (test)", b"CMYK")
    gray_profile = icc_profile("Gray (test)", b"GRAY")
    assert rgb_icc(P3) == P3
    assert rgb_icc(cmyk_profile) is None and rgb_icc(gray_profile) is None
    assert rgb_icc(b"not a profile" * 20) is None and rgb_icc(None) is None
    # a CMYK JPEG's profile describes CMYK ink, not the RGB we write
    cmyk = encode(Image.new("CMYK", (20, 10), (0, 255, 255, 0)), "JPEG", icc_profile=cmyk_profile)
    assert Image.open(io.BytesIO(cmyk)).info["icc_profile"] == cmyk_profile
    assert decode_png(cut(cmyk, half_mask)).info.get("icc_profile") is None
    gray = encode(Image.new("L", (20, 10), 128), icc_profile=gray_profile)
    assert decode_png(cut(gray, half_mask)).info.get("icc_profile") is None
