"""Mask + original image -> the picture the user asked for, encoded to bytes.

Full-resolution work is kept to one resize of the mask and one composite:
at 12-24 MP anything more costs more than the model itself.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from PIL import Image, ImageColor

from .decode import PILLOW_INTERNALS, to_array
from .errors import EncodeError, OptionsError

OUTPUTS = ("cutout", "color", "mask", "blur", "image")
FORMATS = ("png", "webp")

# The largest width or height a WebP file can hold.
WEBP_MAX_SIDE = 16383

# Alpha below this counts as background when finding the subject's box;
# it ignores the faint haze a soft mask leaves around a subject.
CROP_THRESHOLD = 16

# Full-size steps run in strips of rows of about this many pixels: their temporaries stay
# small beside the picture (a wasm heap keeps its largest size for good).
STRIP_PIXELS = 1 << 20


def strip_rows(width: int) -> int:
    """Rows in a strip of about :data:`STRIP_PIXELS` pixels (at least one)."""
    return max(1, STRIP_PIXELS // max(width, 1))


def strips(height: int, width: int):
    """``(top, bottom)`` row ranges of about :data:`STRIP_PIXELS` pixels covering ``height`` rows."""
    step = strip_rows(width)
    for top in range(0, height, step):
        yield top, min(top + step, height)


def parse_color(text: str) -> tuple[int, int, int, int]:
    """``'#fff'``, ``'#ff000080'``, ``'white'``, ``'rgb(0,0,0)'`` -> RGBA tuple."""
    try:
        rgb = ImageColor.getrgb(text.strip())
    except (ValueError, AttributeError):
        raise OptionsError(f"'{text}' is not a colour: use a name like 'white' or a hex value like '#00ff00'") from None
    return rgb if len(rgb) == 4 else (*rgb, 255)


def alpha_at_size(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(h, w)`` float mask in 0..1 -> ``(H, W)`` uint8 alpha at ``size=(W, H)``."""
    levels = np.round(np.clip(mask, 0.0, 1.0) * 255.0).astype(np.uint8)
    small = Image.fromarray(levels, "L")
    if small.size == size:
        return levels
    return to_array(small.resize(size, Image.Resampling.BILINEAR))


def combine_alpha(alpha: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Keep what was already transparent in the source transparent."""
    source = rgba[..., 3]
    if source.min() == 255:
        return alpha
    out = alpha.astype(np.uint16)  # one uint16 plane, worked in place
    out *= source
    out += 127
    out //= 255
    return out.astype(np.uint8)


def subject_box(alpha: np.ndarray, margin: int) -> tuple[int, int, int, int] | None:
    """The subject's bounding box ``(left, top, right, bottom)`` grown by ``margin`` px.

    ``None`` when nothing in the mask reaches :data:`CROP_THRESHOLD`.
    """
    rows = np.flatnonzero((alpha >= CROP_THRESHOLD).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((alpha[rows[0] : rows[-1] + 1] >= CROP_THRESHOLD).any(axis=0))
    height, width = alpha.shape
    return (
        max(int(cols[0]) - margin, 0),
        max(int(rows[0]) - margin, 0),
        min(int(cols[-1]) + 1 + margin, width),
        min(int(rows[-1]) + 1 + margin, height),
    )


def render(
    rgba: np.ndarray,
    alpha: np.ndarray,
    output: str = "cutout",
    background: tuple[int, int, int, int] | None = None,
    colours: tuple[np.ndarray, np.ndarray] | None = None,
    in_place: bool = False,
) -> Image.Image:
    """Build the output image: transparent cut-out, subject on a colour, or the mask.

    ``colours`` = (flat pixel indices, RGB rows) replaces the colour of those pixels: the
    foreground colours estimated in the soft edge (refine.estimate_foreground).
    ``in_place``: the caller is done with ``rgba`` (a host's image, spent by its one cut-out), so
    a cut-out is made in ``rgba`` itself where it can be (C-contiguous, its memory writable):
    at 24 MP a full-size copy (96 MB) less in a heap that keeps its largest size.
    """
    if output == "mask":
        return Image.fromarray(alpha, "L")
    height, width = alpha.shape
    if output == "cutout":
        cutout = _cutout_rows(rgba, alpha, colours, 0, height, in_place=in_place)
        image = Image.frombuffer("RGBA", (width, height), cutout, "raw", "RGBA", 0, 1)
        # The array is this picture's alone: writable, so Pillow's save does not copy it first.
        image.readonly = 0
        return image
    if output == "color":
        return _on_colour(rgba, alpha, colours, background if background is not None else (255, 255, 255, 255))
    raise OptionsError(f"unknown output '{output}': choose one of {', '.join(OUTPUTS)}")


def writable(rgba: np.ndarray) -> np.ndarray | None:
    """``rgba`` itself, made writable, when it is C-contiguous uint8 and its memory may be written
    (an array over ``bytes`` may not be); else ``None``."""
    if rgba.dtype != np.uint8 or not rgba.flags.c_contiguous:
        return None
    try:
        rgba.flags.writeable = True
    except ValueError:
        return None
    return rgba


def _cutout_rows(
    rgba: np.ndarray,
    alpha: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray] | None,
    top: int,
    bottom: int,
    in_place: bool = False,
) -> np.ndarray:
    """Rows ``top:bottom`` of the cut-out as a new ``(rows, W, 4)`` uint8 array (with ``in_place``,
    ``rgba`` itself where :func:`writable`): the source's colours (those in ``colours`` replaced,
    their flat indices sorted when ``top`` > 0 or ``bottom`` < H), ``alpha`` as alpha, and no colour
    where alpha is 0."""
    height, width = alpha.shape
    cutout = writable(rgba) if in_place and (top, bottom) == (0, rgba.shape[0]) else None
    if cutout is None:
        cutout = np.array(rgba[top:bottom], dtype=np.uint8, order="C")  # one copy, then in place
    cutout[..., 3] = alpha[top:bottom]
    if colours is not None:
        index, rgb = colours
        if top > 0 or bottom < height:
            lo, hi = np.searchsorted(index, (top * width, bottom * width))
            index, rgb = index[lo:hi], rgb[lo:hi]
        cutout.reshape(-1, 4)[index - top * width, :3] = rgb
    # Privacy: a fully transparent pixel keeps no colour (RGB 0), so the removed
    # background cannot be brought back by making the cut-out opaque again. Whole
    # pixels are zeroed as 32-bit words: ~20x faster than a per-channel multiply in wasm.
    words = cutout.view("<u4").reshape(bottom - top, width)
    for y0, y1 in strips(bottom - top, width):
        words[y0:y1][alpha[top + y0 : top + y1] == 0] = 0
    return cutout


def cutout_strips(
    rgba: np.ndarray, alpha: np.ndarray, colours: tuple[np.ndarray, np.ndarray] | None = None
) -> Iterator[tuple[int, Image.Image]]:
    """The cut-out :func:`render` makes, as ``(top, RGBA picture of some rows)`` strips, made one
    at a time: for a step that reads each row once, no full-size cut-out is ever held."""
    height, width = alpha.shape
    if colours is not None:
        order = np.argsort(colours[0], kind="stable")
        colours = (colours[0][order], colours[1][order])
    for top, bottom in strips(height, width):
        part = _cutout_rows(rgba, alpha, colours, top, bottom)
        yield top, Image.frombuffer("RGBA", (width, bottom - top), part, "raw", "RGBA", 0, 1)


def _on_colour(
    rgba: np.ndarray,
    alpha: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray] | None,
    colour: tuple[int, int, int, int],
) -> Image.Image:
    """The cut-out over ``colour``, strip by strip: only the result is full-size (RGB where the
    colour is opaque), never the cut-out or a composite beside it."""
    height, width = alpha.shape
    opaque = colour[3] == 255
    out = Image.new("RGB" if opaque else "RGBA", (width, height))
    for top, layer in cutout_strips(rgba, alpha, colours):
        base = Image.new("RGBA", layer.size, colour)
        base.alpha_composite(layer)
        out.paste(base.convert("RGB") if opaque else base, (0, top))
    return out


def layers(
    cutout: Image.Image,
    shadow: np.ndarray | None = None,
    background: Image.Image | tuple[int, int, int, int] | None = None,
    shadow_colour: tuple[int, int, int] = (0, 0, 0),
) -> Image.Image:
    """The cut-out (``RGBA``, as :func:`render` makes it) over a shadow (an ``(H, W)`` uint8
    alpha of ``shadow_colour``) over a background: a colour, a picture of the same size (an RGB
    picture is drawn on in place), or none.

    With no background the result stays transparent and the shadow is a semi-transparent layer
    of its own colour: nothing of the removed background is in it, and a fully transparent pixel
    holds no colour. Where the cut-out is opaque, its pixels come through unchanged."""
    if shadow is None and background is None:
        return cutout
    return layered(cutout.size, [(0, cutout)], shadow, background, shadow_colour)


def layered(
    size: tuple[int, int],
    pieces: Iterable[tuple[int, Image.Image]],
    shadow: np.ndarray | None = None,
    background: Image.Image | tuple[int, int, int, int] | None = None,
    shadow_colour: tuple[int, int, int] = (0, 0, 0),
) -> Image.Image:
    """:func:`layers` with the cut-out of ``size`` given as ``(top, RGBA picture of some rows)``
    pieces (:func:`cutout_strips`), laid on one after another: the same picture."""
    if isinstance(background, Image.Image) or (background is not None and background[3] == 255):
        # Opaque: the shadow's colour and the subject blended into the background in place,
        # each by its alpha as a mask (two passes; no RGBA copy of a full-size picture).
        if isinstance(background, Image.Image):
            base = background if background.mode == "RGB" else background.convert("RGB")
        else:
            base = Image.new("RGB", size, background[:3])
        if shadow is not None:
            height, width = shadow.shape
            base.paste(
                shadow_colour, (0, 0, width, height), Image.frombuffer("L", (width, height), shadow, "raw", "L", 0, 1)
            )
        for top, piece in pieces:
            base.paste(piece, (0, top), piece)
        return base
    # A see-through colour, or none: the shadow as an RGBA layer of its own colour (its alpha
    # put in as a band), over the colour if any, and the subject over it.
    base = Image.new("RGBA", size, (0, 0, 0, 0) if background is None else background)
    if shadow is not None:
        height, width = shadow.shape
        shade = Image.new("RGBA", size, (*shadow_colour, 0))
        shade.putalpha(Image.frombuffer("L", (width, height), shadow, "raw", "L", 0, 1))
        if background is None:
            base = shade
        else:
            base.alpha_composite(shade)
            del shade
    for top, piece in pieces:
        base.alpha_composite(piece, (0, top))
    if background is None and any(shadow_colour):
        # Where nothing shows, no colour (a black shadow leaves none there anyway).
        pixels = np.array(base, dtype=np.uint8, order="C")
        pixels.view("<u4").reshape(pixels.shape[:2])[pixels[..., 3] == 0] = 0
        return Image.frombuffer("RGBA", size, pixels, "raw", "RGBA", 0, 1)
    return base


def _webp_bytes(image: Image.Image, quality: int, icc: bytes | None) -> bytes:
    """What ``image.save(..., "WEBP", quality=quality, method=4, exact=True, icc_profile=icc)``
    writes (Pillow's WebP ``_save`` with the same arguments), with the pixels handed over as one
    array: Pillow's ``tobytes`` would hold them twice more beside the picture."""
    from PIL import _webp  # type: ignore[attr-defined]  # Pillow's own WebP module (10.2, as in Pyodide)

    width, height = image.size
    data = _webp.WebPEncode(to_array(image), width, height, False, float(quality), image.mode, icc or "", 4, 1, b"", "")
    if data is None:
        raise OSError("cannot write file as WebP (encoder returned None)")
    return data


# PNG colour types of the 8-bit modes written by :func:`_png_bytes`; others go through Pillow.
PNG_COLOUR_TYPES = {"L": 0, "RGB": 2, "RGBA": 6}
# Compressed bytes per IDAT chunk (as Pillow writes them).
PNG_CHUNK = 1 << 16
# zlib's strategy by mode (default: for filtered data). A mask's long flat runs pack
# tighter with the run-length one (a third smaller); pictures, a tenth larger with it.
PNG_STRATEGY: dict[str, int] = {"L": zlib.Z_RLE}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(out: bytearray, kind: bytes, data: bytes | memoryview) -> None:
    out += struct.pack(">I", len(data))
    out += kind
    out += data
    out += struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _row_strips(image: Image.Image) -> Iterator[np.ndarray]:
    """The picture's raw rows (``(rows, width * channels)`` uint8), a strip of about
    :data:`STRIP_PIXELS` pixels at a time: never a second full-size copy."""
    width, height = image.size
    stride = width * len(image.mode)
    step = strip_rows(width)
    if not PILLOW_INTERNALS:
        for top, bottom in strips(height, width):
            yield np.frombuffer(image.crop((0, top, width, bottom)).tobytes(), np.uint8).reshape(-1, stride)
        return
    image.load()
    encoder = Image._getencoder(image.mode, "raw", (image.mode,))  # type: ignore[attr-defined]
    encoder.setimage(image.im)
    code, done = 0, 0
    while not code:
        _, code, data = encoder.encode(step * stride)  # whole rows only
        if data:
            done += len(data) // stride
            yield np.frombuffer(data, np.uint8).reshape(-1, stride)
    if code < 0 or done != height:
        raise OSError(f"encoder error {code} in _row_strips")


def _png_bytes(image: Image.Image, level: int, icc: bytes | None) -> bytes:
    """An 8-bit ``L``, ``RGB`` or ``RGBA`` picture as PNG: every row with the Up filter (its
    difference from the row above: one vectorised subtraction a strip), deflated at ``level``
    (strategy: :data:`PNG_STRATEGY`). Pillow's writer tries four filters on every byte
    of every row and keeps the best, which in wasm costs more than the deflate; with its
    run-length strategy the file came out the same size at 12 MP, in 2.3x the time (in
    Pyodide: 0.48 s against 0.21 s). Chunks as Pillow writes them: IHDR, iCCP (``icc``), IDAT
    (64 KB each), IEND."""
    width, height = image.size
    stride = width * len(image.mode)
    out = bytearray(PNG_SIGNATURE)
    _png_chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, PNG_COLOUR_TYPES[image.mode], 0, 0, 0))
    if icc:
        _png_chunk(out, b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc))
    deflate = zlib.compressobj(level, zlib.DEFLATED, 15, 9, PNG_STRATEGY.get(image.mode, zlib.Z_FILTERED))
    data = bytearray()  # deflated bytes not yet in an IDAT: less than PNG_CHUNK between strips

    def flush_chunks(final: bool) -> None:
        view = memoryview(data)
        start = 0
        while len(data) - start >= PNG_CHUNK or (final and start < len(data)):
            _png_chunk(out, b"IDAT", view[start : start + PNG_CHUNK])
            start += PNG_CHUNK
        view.release()
        del data[:start]

    above = np.zeros(stride, np.uint8)  # the row above the first: zeros
    for rows in _row_strips(image):
        filtered = np.empty((rows.shape[0], stride + 1), np.uint8)
        filtered[:, 0] = 2  # Up
        np.subtract(rows[0], above, out=filtered[0, 1:])
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
        data += deflate.compress(filtered.data)
        flush_chunks(final=False)
        above = rows[-1].copy()
        del rows, filtered
    data += deflate.flush()
    flush_chunks(final=True)
    _png_chunk(out, b"IEND", b"")
    return bytes(out)


def encode(
    image: Image.Image,
    fmt: str = "png",
    png_level: int = 3,
    quality: int = 90,
    icc: bytes | None = None,
) -> bytes:
    """Encode deterministically. The only metadata written is ``icc`` (the source's
    colour profile), when given: no EXIF, timestamps or text."""
    buf = io.BytesIO()
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    try:
        if fmt == "png":
            if image.mode in PNG_COLOUR_TYPES and min(image.size) > 0:
                return _png_bytes(image, png_level, icc)
            # Other modes: Pillow's writer, with zlib's run-length strategy (Z_RLE = 3).
            image.save(buf, "PNG", compress_level=png_level, compress_type=3, **extra)
        elif fmt == "webp":
            if max(image.size) > WEBP_MAX_SIDE:
                width, height = image.size
                raise EncodeError(
                    f"the result is {width}x{height} px, but WebP holds at most "
                    f"{WEBP_MAX_SIDE} px on a side: choose PNG",
                    "webpTooLarge",
                    (width, height, WEBP_MAX_SIDE),
                )
            # render() has already zeroed the colour under transparent pixels; exact=True
            # keeps those zeros (without it libwebp fills transparent pixels with nearby
            # colours), so lossy WebP leaves at most faint ringing from the visible edge.
            if image.mode in ("RGB", "RGBA") and PILLOW_INTERNALS:
                return _webp_bytes(image, quality, icc)
            image.save(buf, "WEBP", quality=quality, method=4, exact=True, **extra)
        else:
            raise OptionsError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
    except (OSError, ValueError) as exc:
        raise EncodeError(f"the result could not be written as {fmt.upper()} ({exc})") from None
    return buf.getvalue()
