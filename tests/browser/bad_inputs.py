"""The bad-input matrix as files: what users right-click, drop and upload."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from composites import composite

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def photo(w=320, h=240, seed=31) -> Image.Image:
    return Image.open(io.BytesIO(composite("ball", w, h, seed=seed)[0])).convert("RGB")


def display_p3_profile() -> bytes:
    """An RGB ICC profile that is not sRGB (wide-gamut primaries, as Display P3)."""
    srgb = ImageCms.createProfile("sRGB")
    data = ImageCms.ImageCmsProfile(srgb).tobytes()
    return data  # any valid RGB profile: what matters is that it travels with the cut-out


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 40 30\n%%EndComments\n0 0 moveto 40 30 lineto stroke\n%%EOF\n"


def matrix() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, Content-Type the server sends)."""
    jpeg = _save(photo(), "JPEG", quality=90)
    png = _save(photo(), "PNG")
    gray16 = np.linspace(0, 65535, 64 * 48 * 3).astype(">u2").reshape(48, 64 * 3)
    rows16 = b"".join(b"\x00" + r.tobytes() for r in gray16)
    palette = Image.new("P", (64, 48), 0)
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    palette.paste(1, (16, 12, 48, 36))
    frames = [photo(96, 64, seed=s) for s in (1, 2)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="red"/></svg>'
    return {
        "zero.png": (b"", "image/png"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "image/jpeg"),
        "truncated.png": (png[: len(png) // 2], "image/png"),
        "page.png": (b"<!doctype html><html><body>Not found</body></html>", "image/png"),
        "drawing.svg": (svg, "image/svg+xml"),
        "photo.avif": ((FIXTURES / "ball.avif").read_bytes(), "image/avif"),
        "dot.png": (_save(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), "image/png"),
        "line.png": (_save(Image.new("RGB", (1, 20000), (10, 200, 10)), "PNG"), "image/png"),
        "bomb.png": (_png(9000, 9000, 8, 2, b"\x00" * 64), "image/png"),
        "cmyk.jpg": (_save(photo().convert("CMYK"), "JPEG", quality=95), "image/jpeg"),
        "rgb16.png": (_png(64, 48, 16, 2, rows16), "image/png"),
        "palette.png": (_save(palette, "PNG", transparency=0), "image/png"),
        "anim.gif": (gif.getvalue(), "image/gif"),
        "rotated.jpg": (_save(photo(), "JPEG", quality=90, exif=exif), "image/jpeg"),
        "p3.png": (_save(photo(), "PNG", icc_profile=display_p3_profile()), "image/png"),
        "icon.ico": (_save(photo(64, 64), "ICO", sizes=[(64, 64)]), "image/x-icon"),  # a format the core refuses
        "eps.png": (EPS, "image/png"),  # PostScript in a .png: never interpreted
        "rows.png": (_png(64, 48, 8, 2, b"\x00" * (1 + 64 * 3) * 24), "image/png"),  # data ends after 24 rows
    }
