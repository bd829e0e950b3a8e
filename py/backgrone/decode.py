"""Bytes to an RGBA uint8 array, upright, with errors a user understands."""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import PIL
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

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
# The Pillow plugins for exactly those formats: nothing else parses the bytes (no PostScript
# through Ghostscript, no decoders of rarely used formats meeting files from the web).
PILLOW_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
# Formats other plugins recognise, as users know them (default: Pillow's own name).
_FORMAT_NAMES = {
    "PPM": "PPM (Netpbm)",
    "JPEG2000": "JPEG 2000",
    "EPS": "PostScript (EPS)",
    "ICO": "ICO (Windows icon)",
    "CUR": "CUR (Windows cursor)",
    "ICNS": "ICNS (Apple icon)",
    "PSD": "Photoshop (PSD)",
    "TGA": "TGA (Targa)",
    "DDS": "DDS (DirectDraw Surface)",
    "WMF": "WMF/EMF (Windows metafile)",
}
# Signatures that are text, so a text file may carry them (others mean a binary file).
_TEXT_FORMATS = {"EPS", "PPM", "XBM", "XPM", "FITS"}
# Pillow's own tests are loose for these: "Py..." (any text) is PPM, and a Targa file without
# its footer starts as a cursor with no images would.
_STRICTER: dict[str, Callable[[bytes], object]] = {
    "PPM": re.compile(rb"P[1-7]\s").match,
    "CUR": lambda prefix: prefix[:4] == b"\0\0\2\0" and prefix[4:6] != b"\0\0",
}
_TGA_FOOTER = b"TRUEVISION-XFILE.\x00"

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


# Raw encoder layouts: the array's channels and type for each mode (as ``np.asarray`` gives them).
_LAYOUTS = {"L": (1, np.uint8), "RGB": (3, np.uint8), "RGBA": (4, np.uint8), "F": (1, np.float32)}
# The copy-free paths use Pillow internals as they are in 10.x (the version the extension's
# Pyodide ships and the lock pins); any other Pillow takes the public, copying way.
PILLOW_INTERNALS = PIL.__version__.split(".")[0] == "10"


def to_array(image: Image.Image, rawmode: str | None = None) -> np.ndarray:
    """``np.asarray(image)`` without its full-size copies: Pillow's ``tobytes`` (which
    ``np.asarray`` calls) gathers the pixels in chunks and then joins them, so a picture is held
    three times at once; here the raw encoder's chunks go straight into one new array.
    ``rawmode`` ``'RGBX'`` reads an RGB picture as four channels (the fourth is not set).
    Modes ``L``, ``RGB``, ``RGBA`` and ``F``; the same values and shape as ``np.asarray``."""
    channels, dtype = _LAYOUTS[image.mode]
    if rawmode == "RGBX" and image.mode == "RGB":
        channels = 4
    elif rawmode is not None and rawmode != image.mode:
        raise ValueError(f"cannot read a {image.mode} picture as {rawmode}")
    if not PILLOW_INTERNALS:
        return np.array(image.convert("RGBA") if channels == 4 and image.mode == "RGB" else image, dtype)
    width, height = image.size
    out = np.empty((height, width, channels) if channels > 1 else (height, width), dtype)
    flat = out.reshape(-1).view(np.uint8)
    if flat.size == 0:
        return out
    image.load()
    encoder = Image._getencoder(image.mode, "raw", (rawmode or image.mode,))  # type: ignore[attr-defined]
    encoder.setimage(image.im)
    row = flat.size // height
    chunk = max(65536, row * max(1, (1 << 20) // row))  # whole rows (the encoder needs one), ~1 MB
    pos, code = 0, 0
    while not code:
        _, code, data = encoder.encode(chunk)
        flat[pos : pos + len(data)] = np.frombuffer(data, np.uint8)
        pos += len(data)
    if code < 0 or pos != flat.size:
        raise OSError(f"encoder error {code} in to_array")
    return out


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


def _rgba_array(im: Image.Image) -> np.ndarray:
    """The picture as a read-only ``(H, W, 4)`` uint8 RGBA array (nothing writes to it later).
    An RGB picture (with no transparent colour) is read as RGBX and made opaque: the values
    ``convert('RGBA')`` gives, without a full-size RGBA picture beside the array."""
    if im.mode == "RGB" and "transparency" not in im.info:
        rgba = to_array(im, "RGBX")
        rgba[..., 3] = 255
    else:
        im = _to_rgba(im)
        rgba = to_array(im)
    del im
    rgba.flags.writeable = False
    return rgba


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


def _signature(data: bytes, formats: Iterable[str]) -> str | None:
    """The first of Pillow's ``formats`` whose signature test (never its parser) takes ``data``."""
    Image.init()  # every plugin registered: their signature tests only are used here
    prefix = data[:16]  # what Image.open shows the tests
    for fmt in formats:
        opener = Image.OPEN.get(fmt)
        accept: Callable[[bytes], object] | None = _STRICTER.get(fmt, opener[1] if opener else None)
        try:
            if accept and accept(prefix):
                return fmt
        except Exception:  # a test reading past a short prefix
            continue
    return None


def _other_format(data: bytes, text: bool) -> str | None:
    """The format of an image Pillow could read with a plugin we do not use, if one names it."""
    others = [f for f in Image.ID if f not in PILLOW_FORMATS and f != "DIB"]  # DIB: any 4 bytes
    fmt = "TGA" if data.endswith(_TGA_FOOTER) else _signature(data, others)
    if text and fmt not in _TEXT_FORMATS:
        return None  # a text file that happens to start like a binary format
    return fmt


def identify_unreadable(data: bytes) -> DecodeError:
    """The most helpful error for bytes the decoder does not open as an image."""
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
    ours = _signature(data, PILLOW_FORMATS)
    if ours:  # it starts as one we read, but its header could not be read
        return _damaged(f"cannot read the {'WebP' if ours == 'WEBP' else ours} header")
    text = _text_head(data)
    other = _other_format(data, text is not None)
    if other:
        name = _FORMAT_NAMES.get(other, other)
        return UnsupportedFormatError(
            f"the file is in the {name} format, which Backgrone does not read (it reads {READABLE})",
            format=other.lower(),
            code="otherFormat",
            params=(name, READABLE),
        )
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


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_data_size(width: int, height: int, bit_depth: int, colour_type: int, interlaced: bool) -> int:
    """Bytes of filtered rows (a filter byte each) a PNG's compressed data must inflate to."""
    bits = bit_depth * _PNG_CHANNELS[colour_type]

    def rows(w: int, h: int) -> int:
        return h * (1 + (w * bits + 7) // 8) if w > 0 and h > 0 else 0

    if not interlaced:
        return rows(width, height)
    return sum(rows((width - x + dx - 1) // dx, (height - y + dy - 1) // dy) for x, y, dx, dy in _ADAM7)


def _png_idat(data: bytes) -> Iterator[bytes]:
    """The first image's compressed data, chunk by chunk (the IDAT chunks follow each other)."""
    pos, seen = 8, False
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            seen = True
            yield data[pos + 8 : pos + 8 + length]
        elif seen:
            return
        pos += 12 + length


def png_rows_complete(data: bytes) -> bool:
    """Whether a PNG's data holds every row. Pillow stops without a word where the compressed
    stream ends early and leaves the missing rows black; a missing IEND or checksum loses nothing."""
    width, height, bit_depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if colour_type not in _PNG_CHANNELS:
        return True  # Pillow has judged this header already
    need = png_data_size(width, height, bit_depth, colour_type, interlace == 1)
    inflater, got = zlib.decompressobj(), 0
    for part in _png_idat(data):
        while part and got < need:  # counted in bounded pieces: no second copy of the pixels
            got += len(inflater.decompress(part, min(need - got, 1 << 20)))
            part = inflater.unconsumed_tail
        if got >= need or inflater.eof:
            break
    return got >= need


def _bomb_error(exc: Exception, max_pixels: int) -> TooManyPixelsError:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    limit = _megapixels(max_pixels)
    if found:
        has = _megapixels(int(found.group(1)))
        return TooManyPixelsError(f"the image has {has}, over the {limit} limit", "overLimit", (has, limit))
    return TooManyPixelsError(f"the image is far larger than the {limit} limit", "farOverLimit", (limit,))


def too_many_pixels(width: int, height: int, max_pixels: int) -> TooManyPixelsError:
    """The error for an image of width x height over the limit (also for sizes a host read from a header)."""
    has, limit = _megapixels(width * height), _megapixels(max_pixels)
    return TooManyPixelsError(
        f"the image is {width}x{height} ({has}), over the {limit} limit", "sizeOverLimit", (width, height, has, limit)
    )


def _damaged(exc: Exception | str) -> TruncatedImageError:
    detail = str(exc) or type(exc).__name__
    return TruncatedImageError(f"the image data is truncated or damaged ({detail})", "damaged", (detail,))


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # DecompressionBombWarning (our own limit applies), "Corrupt EXIF data", ...
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data), formats=PILLOW_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _bomb_error(exc, max_pixels) from None
    except UnidentifiedImageError:
        raise identify_unreadable(data) from None
    except MemoryError:
        raise TooManyPixelsError("there is not enough memory to open this image", "memory") from None
    except Exception as exc:  # a damaged header can upset a format plugin in any way
        raise _damaged(exc) from None


# EXIF orientations that turn or flip the picture (1: as stored).
_TURNED = (2, 3, 4, 5, 6, 7, 8)


def _turned(im: Image.Image) -> bool:
    """Whether the EXIF orientation turns or flips the picture (a damaged block: as stored)."""
    try:
        return im.getexif().get(ExifTags.Base.Orientation) in _TURNED
    except Exception:
        return False


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a damaged EXIF block leaves the image as stored."""
    # exif_transpose copies an image it leaves as it is: a full-size copy for nothing.
    if not _turned(im):
        return im
    try:
        return ImageOps.exif_transpose(im)
    except Exception:
        return im


# Formats whose Pillow plugin decodes tile by tile into ``im.im`` (ImageFile.load), so a picture
# made beforehand over an array is filled in place.
_IN_PLACE_FORMATS = ("JPEG", "PNG")


def _load_in_place(im: Image.Image) -> np.ndarray | None:
    """Decode an upright RGB or RGBA JPEG or PNG straight into a new ``(H, W, 4)`` uint8 array,
    read-only, as :func:`_rgba_array` gives it: Pillow keeps RGB as four bytes a pixel, so the
    decoder writes into the array itself, and no full-size picture is held beside it (at 24 MP,
    96 MB less of a wasm heap that never shrinks). ``None`` (nothing loaded) for any other picture."""
    if not PILLOW_INTERNALS or im.format not in _IN_PLACE_FORMATS or im.mode not in ("RGB", "RGBA"):
        return None
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # rows a decoder skips would be np.empty's, not zeros
        return None
    if im.mode == "RGB" and "transparency" in im.info:
        return None
    width, height = im.size
    rgba = np.empty((height, width, 4), np.uint8)
    # ImageFile.load decodes into im.im when its mode and size are the picture's (load_prepare).
    # Nothing may load the picture before (a PNG's getexif does: the orientation is asked after).
    im.im = Image.core.map_buffer(rgba, im.size, "raw", 0, (im.mode, 0, 1))  # type: ignore[attr-defined]
    im.load()
    if _turned(im):  # rare: turned as before, from the array
        return _rgba_array(_upright(im))
    if im.mode == "RGB":
        rgba[..., 3] = 255
    rgba.flags.writeable = False
    return rgba


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
        raise too_many_pixels(width, height, max_pixels)
    if width <= 0 or height <= 0:
        raise NotAnImageError("the image has no pixels (zero width or height)", "noPixels")
    icc = rgb_icc(im.info.get("icc_profile"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(0)  # animated formats: the first frame
            rgba = _load_in_place(im)
            if rgba is None:
                im.load()
                rgba = _rgba_array(_upright(im))
    except Image.DecompressionBombError as exc:
        raise _bomb_error(exc, max_pixels) from None
    except MemoryError:
        raise TooManyPixelsError("there is not enough memory to decode this image", "memoryDecode") from None
    except Exception as exc:  # OSError "truncated", SyntaxError, ValueError, EOFError, struct.error...
        raise _damaged(exc) from None
    if im.format == "PNG":
        try:
            complete = png_rows_complete(data)
        except (zlib.error, struct.error) as exc:
            raise _damaged(exc) from None
        if not complete:
            raise _damaged("the compressed image data ends before the last row")
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.shape[0] == 0 or rgba.shape[1] == 0:
        raise TruncatedImageError("the image data is damaged (it decoded to no pixels)", "noPixelsDecoded")
    return Decoded(rgba=rgba, icc=icc)


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode image bytes into an ``(H, W, 4)`` uint8 RGBA array (see :func:`decode_image`)."""
    return decode_image(data, max_pixels).rgba


def decode_pixels(
    pixels: bytes | bytearray | memoryview, width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Decoded:
    """Raw RGBA bytes (row-major, not premultiplied) that a host decoded itself, e.g. a
    browser canvas's ``ImageData`` for an AVIF, HEIC or SVG file -> :class:`Decoded` (sRGB).
    A ``bytearray`` becomes the image's memory (taken, not copied: the caller gives it up; a
    consuming cut-out is written in it); anything else is copied."""
    if not (isinstance(width, int) and isinstance(height, int)) or width <= 0 or height <= 0:
        raise NotAnImageError(f"the image has no pixels ({width}x{height})", "noPixelsSize", (width, height))
    if width * height > max_pixels:
        raise too_many_pixels(width, height, max_pixels)
    if len(pixels) != width * height * 4:
        raise TruncatedImageError(
            f"the pixel data has {len(pixels)} bytes; {width}x{height} RGBA needs {width * height * 4}"
        )
    # Memory of our own (a consuming cut-out may be made in it): the caller's bytearray, or a copy.
    own = pixels if type(pixels) is bytearray else bytearray(pixels)
    rgba = np.frombuffer(own, dtype=np.uint8).reshape(height, width, 4)
    rgba.flags.writeable = False  # as decode_image's: nothing writes to it but a cut-out that consumes it
    return Decoded(rgba=rgba, icc=None)
