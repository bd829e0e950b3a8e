"""Bytes to an RGBA uint8 array, upright, with errors a user understands."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import (
    EmptyFileError,
    NotAnImageError,
    TooManyPixelsError,
    TruncatedImageError,
)

DEFAULT_MAX_PIXELS = 50_000_000

_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}


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
    if im.mode == "P":
        # Palette images may carry transparency in the palette or in info.
        im = im.convert("RGBA")
    elif im.mode == "CMYK":
        im = im.convert("RGB")
    elif im.mode in ("1", "L", "LA", "La", "RGBa", "RGBX", "YCbCr", "LAB", "HSV", "PA"):
        im = im.convert("RGBA")
    return im.convert("RGBA")


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode image bytes into an ``(H, W, 4)`` uint8 RGBA array.

    EXIF orientation is applied, so the array is upright as a viewer shows it.
    Animated GIF/WebP/PNG give their first frame. Raises a :class:`DecodeError`
    subclass for empty, non-image, truncated or oversized input.
    """
    if not data:
        raise EmptyFileError("the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise TooManyPixelsError(
            f"the image is far larger than the {_megapixels(max_pixels)} limit"
        ) from None
    except UnidentifiedImageError:
        raise NotAnImageError(
            "the file is not an image in a format Backgrone reads (PNG, JPEG, WebP, GIF, BMP, TIFF)"
        ) from None
    width, height = im.size
    if width * height > max_pixels:
        raise TooManyPixelsError(
            f"the image is {width}x{height} ({_megapixels(width * height)}), "
            f"over the {_megapixels(max_pixels)} limit"
        )
    if width == 0 or height == 0:
        raise NotAnImageError("the image has no pixels (zero width or height)")
    try:
        im.seek(0)  # animated formats: the first frame
        im.load()
        im = ImageOps.exif_transpose(im)
        rgba = _to_rgba(im)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise TruncatedImageError(f"the image data is truncated or damaged ({exc})") from None
    return np.asarray(rgba, dtype=np.uint8).copy()
