"""Bytes to an RGBA uint8 array, upright, with errors a user understands."""

from __future__ import annotations

import io
import re
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import (
    DecodeError,
    EmptyFileError,
    NotAnImageError,
    TooManyPixelsError,
    TruncatedImageError,
    UnsupportedFormatError,
)

DEFAULT_MAX_PIXELS = 50_000_000

_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}

READABLE = "PNG, JPEG, WebP, GIF, BMP, TIFF"

# ISO base media file brands (the 'ftyp' box): still-image formats Pillow 10.2 cannot read.
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")  # not tab, newline, ESC
_JXL_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"


@dataclass
class Decoded:
    """An upright ``(H, W, 4)`` uint8 RGBA image and the colour profile its values are in.

    ``icc`` is the source's embedded ICC profile when it describes RGB values
    (e.g. Display P3), else ``None`` (plain sRGB is assumed).
    """

    rgba: np.ndarray
    icc: bytes | None = None


def _megapixels(n: int) -> str:
    return f"{n / 1e6:.1f} MP"


def _to_rgba(im: Image.Image) -> Image.Image:
    """Normalise any Pillow mode to RGBA, keeping transparency where there is some."""
    if im.mode == "RGBA":
        return im
    if im.mode in _SIXTEEN_BIT_MODES:
        # 16-bit (or 32-bit int) grayscale: scale to 8 bits, never clip to white.
        arr = np.asarray(im, dtype=np.int64)
        top = 65535 if im.mode != "I" or arr.max(initial=0) > 255 else 255
        gray = (arr * 255 + top // 2) // top
        im = Image.fromarray(gray.clip(0, 255).astype(np.uint8), "L")
    elif im.mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        scale = 255.0 if arr.max(initial=0.0) <= 1.0 else 1.0
        im = Image.fromarray(np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8), "L")
    if im.mode == "CMYK":
        # Pillow undoes Adobe's inverted CMYK when it reads a JPEG; this is a plain conversion.
        im = im.convert("RGB")
    return im.convert("RGBA")  # palette transparency (in the palette or in info) is kept


def rgb_icc(profile: object) -> bytes | None:
    """An embedded ICC profile worth carrying: well-formed and for RGB data, else ``None``.

    CMYK and grayscale profiles do not describe the RGBA values we produce, so
    they are dropped (those images are converted to RGB as plain values).
    """
    if not isinstance(profile, (bytes, bytearray)) or len(profile) < 132:
        return None
    if profile[36:40] != b"acsp" or profile[16:20] != b"RGB ":
        return None
    return bytes(profile)


def _iso_brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO base media file, or an empty set."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    end = min(max(int.from_bytes(data[:4], "big"), 16), len(data), 1024)
    return {data[8:12]} | {data[i : i + 4] for i in range(16, end - 3, 4)}


def _text_head(data: bytes) -> str | None:
    """The start of the file as lower-case text, or ``None`` when it looks binary."""
    head = data[:4096]
    if head.startswith(b"\x1f\x8b"):  # gzip: an .svgz drawing, perhaps
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        except zlib.error:
            return None
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    text = head.decode(encoding, errors="replace")
    # A character cut off at the 4 KB mark is fine; binary data is not.
    if text.count("\ufffd") > 2 or _CONTROL.search(text):
        return None
    return text.lstrip().lower()


def identify_unreadable(data: bytes) -> DecodeError:
    """The most helpful error for bytes Pillow does not recognise as an image."""
    brands = _iso_brands(data)
    if brands & _AVIF_BRANDS:
        return UnsupportedFormatError(
            "the file is an AVIF image, a format this decoder does not read; convert it to PNG, JPEG or WebP first",
            format="avif",
            code="avif",
        )
    if brands & _HEIF_BRANDS:
        return UnsupportedFormatError(
            "the file is a HEIC/HEIF image, a format this decoder does not read; convert it to PNG, JPEG or WebP first",
            format="heic",
            code="heic",
        )
    if brands:
        return NotAnImageError("the file is a video or other media (MP4/QuickTime), not an image", "media")
    if data.startswith(b"\xff\x0a") or data.startswith(_JXL_CONTAINER):
        return UnsupportedFormatError(
            "the file is a JPEG XL image, a format this decoder does not read; convert it to PNG, JPEG or WebP first",
            format="jxl",
            code="jxl",
        )
    if data.startswith(b"%PDF-"):
        return NotAnImageError("the file is a PDF document, not an image", "pdf")
    text = _text_head(data)
    if text is not None:
        if text.startswith(("<!doctype html", "<html")) or re.search(r"<(html|head|body)[\s>]", text):
            return NotAnImageError(
                "the file is a web page (HTML), not an image; the address may have given an error page", "html"
            )
        if re.search(r"<svg[\s>]", text):
            return UnsupportedFormatError(
                "the file is a vector SVG drawing, not a pixel image; export it as PNG first",
                format="svg",
                code="svg",
            )
        if text.startswith("<?xml"):
            return NotAnImageError("the file is an XML document, not an image", "xml")
        return NotAnImageError("the file is text, not an image", "text")
    return NotAnImageError(f"the file is not an image in a format Backgrone reads ({READABLE})", "unknown", (READABLE,))


def _bomb_error(exc: Exception, max_pixels: int) -> TooManyPixelsError:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    limit = _megapixels(max_pixels)
    if found:
        has = _megapixels(int(found.group(1)))
        return TooManyPixelsError(f"the image has {has}, over the {limit} limit", "overLimit", (has, limit))
    return TooManyPixelsError(f"the image is far larger than the {limit} limit", "farOverLimit", (limit,))


def _too_many(width: int, height: int, max_pixels: int) -> TooManyPixelsError:
    has, limit = _megapixels(width * height), _megapixels(max_pixels)
    return TooManyPixelsError(
        f"the image is {width}x{height} ({has}), over the {limit} limit", "sizeOverLimit", (width, height, has, limit)
    )


def _damaged(exc: Exception) -> TruncatedImageError:
    detail = str(exc) or type(exc).__name__
    return TruncatedImageError(f"the image data is truncated or damaged ({detail})", "damaged", (detail,))


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # DecompressionBombWarning (our own limit applies), "Corrupt EXIF data", ...
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _bomb_error(exc, max_pixels) from None
    except UnidentifiedImageError:
        raise identify_unreadable(data) from None
    except MemoryError:
        raise TooManyPixelsError("there is not enough memory to open this image", "memory") from None
    except Exception as exc:  # a damaged header can upset a format plugin in any way
        raise _damaged(exc) from None


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a damaged EXIF block leaves the image as stored."""
    try:
        return ImageOps.exif_transpose(im)
    except Exception:
        return im


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Decode image bytes into an upright RGBA array plus the source's RGB ICC profile.

    EXIF orientation is applied, so the array is upright as a viewer shows it.
    Animated GIF/WebP/PNG give their first frame. Raises a :class:`DecodeError`
    subclass for empty, non-image, unsupported, truncated or oversized input,
    and nothing else.
    """
    if not data:
        raise EmptyFileError("the file is empty (0 bytes)", "empty")
    data = bytes(data)
    im = _open(data, max_pixels)
    width, height = im.size
    if width * height > max_pixels:
        raise _too_many(width, height, max_pixels)
    if width <= 0 or height <= 0:
        raise NotAnImageError("the image has no pixels (zero width or height)", "noPixels")
    icc = rgb_icc(im.info.get("icc_profile"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(0)  # animated formats: the first frame
            im.load()
            # asarray already copies Pillow's pixels (read-only); nothing writes to them later
            rgba = np.asarray(_to_rgba(_upright(im)), dtype=np.uint8)
    except Image.DecompressionBombError as exc:
        raise _bomb_error(exc, max_pixels) from None
    except MemoryError:
        raise TooManyPixelsError("there is not enough memory to decode this image", "memoryDecode") from None
    except Exception as exc:  # OSError "truncated", SyntaxError, ValueError, EOFError, struct.error...
        raise _damaged(exc) from None
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.shape[0] == 0 or rgba.shape[1] == 0:
        raise TruncatedImageError("the image data is damaged (it decoded to no pixels)", "noPixelsDecoded")
    return Decoded(rgba=rgba, icc=icc)


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode image bytes into an ``(H, W, 4)`` uint8 RGBA array (see :func:`decode_image`)."""
    return decode_image(data, max_pixels).rgba


def decode_pixels(pixels: bytes, width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Raw RGBA bytes (row-major, not premultiplied) that a host decoded itself, e.g. a
    browser canvas's ``ImageData`` for an AVIF, HEIC or SVG file -> :class:`Decoded` (sRGB)."""
    if not (isinstance(width, int) and isinstance(height, int)) or width <= 0 or height <= 0:
        raise NotAnImageError(f"the image has no pixels ({width}x{height})", "noPixelsSize", (width, height))
    if width * height > max_pixels:
        raise _too_many(width, height, max_pixels)
    if len(pixels) != width * height * 4:
        raise TruncatedImageError(
            f"the pixel data has {len(pixels)} bytes; {width}x{height} RGBA needs {width * height * 4}"
        )
    rgba = np.frombuffer(bytes(pixels), dtype=np.uint8).reshape(height, width, 4)  # bytes() copied them
    return Decoded(rgba=rgba, icc=None)
