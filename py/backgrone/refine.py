"""Mask clean-up and edge refinement between the model and the cut-out.

Three deterministic steps, numpy + Pillow only (they run in Pyodide too):

* :func:`despeckle` - drop stray blobs far from the subject and fill pinholes in it,
  on the model's mask;
* :func:`refine_edges` - snap the upscaled alpha to the image's own edges with a fast
  guided filter (He & Sun 2015), only in a band around the edge;
* :func:`estimate_foreground` - the subject's true colour under its soft edge, so no
  background colour bleeds through (blur fusion, Forte & Pitie 2021).

Full-resolution work is limited to gathers of the few pixels near the edge: the
smooth quantities (filter coefficients, blurred colours) are computed on a grid of
at most :data:`GRID_SIDE` px and sampled bilinearly where needed.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# --- despeckle ---------------------------------------------------------------

# A blob under 1% of the largest blob's area is a speckle, unless it lies within
# 3% of the mask's long side of a large blob (a detached fingertip or strand of hair).
SPECKLE_FRACTION = 0.01
NEAR_FRACTION = 0.03
# A background pocket enclosed by the subject and under 0.2% of its area is a pinhole;
# gaps between an arm and the body are larger and stay.
HOLE_FRACTION = 0.002
# Pixels around a dropped blob that are cleared with it: its soft rim.
RIM = 2

# --- refine_edges / estimate_foreground ---------------------------------------

# The working grid: the image reduced by a whole factor to at most this long side.
GRID_SIDE = 1024
# Guided filter window radius, in model-mask cells: the upscaled mask's soft ramp
# is ~2-3 cells wide and may sit a cell off; the window must see both sides of it.
GF_RADIUS = 4.0
# Coefficients are computed on cells of 1/GF_CELLS of the window radius (He & Sun's
# subsampling), on a grid of at most GF_SIDE: the box filters then cost little.
GF_CELLS = 1.0
GF_SIDE = 512
# Regularisation (guide in 0..1). Small: where the window holds no edge the alpha is
# flat there and the coefficient a is 0 anyway.
GF_EPS = 1e-4
# Filtered alpha within this of 0 or 1 is snapped there: a = 1/|F - B| carries the
# image's noise into the alpha, which would leave a faint haze around the subject.
GF_SNAP = 0.08
# Blur fusion radii: the first (wide) pass as a fraction of the image's long side,
# the second (local) pass in px (the paper's 90 px and 6 px boxes at ~1.5 MP).
FG_WIDE = 0.03
FG_LOCAL = 3.0
# The wide pass runs on a coarse grid with at most this long side.
COARSE_SIDE = 256


# --- connected components ----------------------------------------------------


def _runs(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal runs of True as ``(starts, ends)``: flat indices into the raster
    padded with one False column, so no run crosses a row; ``ends`` is exclusive."""
    h, w = binary.shape
    padded = np.zeros((h, w + 1), np.bool_)
    padded[:, :w] = binary
    flat = padded.reshape(-1)
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if flat[0]:
        edges = np.concatenate((np.zeros(1, edges.dtype), edges))
    return edges[0::2], edges[1::2]


def _links(starts: np.ndarray, ends: np.ndarray, width: int, diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of runs in consecutive rows that touch (8-connected if ``diagonal``).

    Runs are sorted, so the runs of the next row touching run i form one slice,
    found by binary search on the run shifted down one row."""
    stride = width + 1
    first = np.searchsorted(ends, starts + stride, side="left" if diagonal else "right")
    stop = np.searchsorted(starts, ends + stride, side="right" if diagonal else "left")
    count = np.maximum(stop - first, 0)
    src = np.repeat(np.arange(starts.size), count)
    dst = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(src.size)
    return src, dst


def _roots(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Smallest node of each node's component in the graph ``src -- dst``.

    Hooking and pointer jumping (Shiloach & Vishkin 1982): every round each
    linked root hooks onto a smaller linked root, then every pointer jumps to its
    root. Each round at least halves the roots of a component, so rounds are
    logarithmic even on a spiral, where plain label propagation needs as many
    rounds as the spiral is long."""
    root = np.arange(n)
    while src.size:
        a, b = root[src], root[dst]
        open_ = a != b
        src, dst, a, b = src[open_], dst[open_], a[open_], b[open_]
        if not src.size:
            break
        root[np.maximum(a, b)] = np.minimum(a, b)
        while True:
            jumped = root[root]
            if np.array_equal(jumped, root):
                break
            root = jumped
    return root


def _components(binary: np.ndarray, diagonal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Runs of ``binary`` and their component ids ``0..n-1`` in raster order of first pixel."""
    starts, ends = _runs(binary)
    src, dst = _links(starts, ends, binary.shape[1], diagonal)
    ids, comp = np.unique(_roots(starts.size, src, dst), return_inverse=True)
    return starts, ends, comp.reshape(-1), ids.size


def _run_pixels(starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Flat ``(h, w)`` indices of every pixel of the given runs."""
    length = ends - starts
    padded = np.repeat(starts - (np.cumsum(length) - length), length) + np.arange(int(length.sum()))
    return padded - padded // (width + 1)


def label(binary: np.ndarray, connectivity: int = 8) -> tuple[np.ndarray, int]:
    """Connected components of a 2-D boolean array: ``(labels, n)``.

    ``labels`` is int32, 0 for False and ``1..n`` numbered in raster order of each
    component's first pixel; ``connectivity`` is 8 (diagonal neighbours touch) or 4.
    Vectorised over horizontal runs, so the cost follows the number of runs, not pixels."""
    if connectivity not in (4, 8):
        raise ValueError("connectivity must be 4 or 8")
    binary = np.asarray(binary, np.bool_)
    out = np.zeros(binary.shape, np.int32)
    if binary.ndim != 2 or not binary.any():
        return out, 0
    starts, ends, comp, n = _components(binary, connectivity == 8)
    out.reshape(-1)[_run_pixels(starts, ends, binary.shape[1])] = np.repeat(comp + 1, ends - starts)
    return out, n


# --- despeckle ----------------------------------------------------------------


def _grow(binary: np.ndarray, steps: int) -> np.ndarray:
    """Dilate by ``steps`` px with a square (8-neighbour) element."""
    out = binary.copy()
    for _ in range(steps):
        src = out.copy()
        out[1:] |= src[:-1]
        out[:-1] |= src[1:]
        src = out.copy()
        out[:, 1:] |= src[:, :-1]
        out[:, :-1] |= src[:, 1:]
    return out


def _near(
    starts: np.ndarray, ends: np.ndarray, comp: np.ndarray, big: np.ndarray, shape: tuple[int, int], reach: int
) -> np.ndarray:
    """Per component: does its bounding box, grown by ``reach`` px, meet a big component?

    Tested on a coarse occupancy grid of the big components (cells of ~reach/2 px)
    with a summed-area table, so the cost does not depend on how many blobs there are."""
    h, w = shape
    stride = w + 1
    row = starts // stride
    col0, col1 = starts - row * stride, ends - row * stride - 1
    n = big.size
    top, bottom = np.full(n, h), np.zeros(n, np.int64)
    left, right = np.full(n, w), np.zeros(n, np.int64)
    np.minimum.at(top, comp, row)
    np.maximum.at(bottom, comp, row)
    np.minimum.at(left, comp, col0)
    np.maximum.at(right, comp, col1)

    cell = max(1, reach // 2)
    ch, cw = -(-h // cell), -(-w // cell)
    paint = np.zeros((ch, cw + 1), np.int32)
    on = big[comp]
    np.add.at(paint, (row[on] // cell, col0[on] // cell), 1)
    np.add.at(paint, (row[on] // cell, col1[on] // cell + 1), -1)
    occupied = (np.cumsum(paint, axis=1)[:, :cw] > 0).astype(np.int32)
    table = np.zeros((ch + 1, cw + 1), np.int32)
    table[1:, 1:] = occupied.cumsum(0).cumsum(1)

    y0 = np.maximum(top - reach, 0) // cell
    y1 = np.minimum(bottom + reach, h - 1) // cell + 1
    x0 = np.maximum(left - reach, 0) // cell
    x1 = np.minimum(right + reach, w - 1) // cell + 1
    return (table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]) > 0


def despeckle(mask: np.ndarray) -> np.ndarray:
    """Remove stray blobs and fill pinholes in a model mask (2-D float in 0..1).

    A blob (8-connected, mask >= 0.5) is dropped when it is under
    :data:`SPECKLE_FRACTION` of the largest blob's area and farther than
    :data:`NEAR_FRACTION` of the long side from every larger blob; it is cleared
    with its soft rim (:data:`RIM` px), but never into a kept blob. A background
    pocket (4-connected, not touching the border) under :data:`HOLE_FRACTION` of
    the largest blob is filled, with the one-pixel soft ring around it. Several
    similar objects, and large holes (a ring's middle), stay. Everything else is
    unchanged bit for bit; when nothing changes ``mask`` itself is returned.
    """
    if mask.ndim != 2 or mask.size == 0:
        return mask
    h, w = mask.shape
    fg = mask >= 0.5
    if not fg.any():
        return mask
    starts, ends, comp, n = _components(fg, diagonal=True)
    area = np.bincount(comp, weights=ends - starts, minlength=n)
    largest = area.max()
    big = area >= SPECKLE_FRACTION * largest
    drop = ~big
    if drop.any():
        drop &= ~_near(starts, ends, comp, big, (h, w), max(2, round(NEAR_FRACTION * max(h, w))))

    hole_starts, hole_ends, hole_comp, holes = _components(~fg, diagonal=False)
    stride = w + 1
    row = hole_starts // stride
    border = (row == 0) | (row == h - 1) | (hole_starts - row * stride == 0) | (hole_ends - row * stride == w)
    outer = np.zeros(holes, np.bool_)
    outer[hole_comp[border]] = True
    hole_area = np.bincount(hole_comp, weights=hole_ends - hole_starts, minlength=holes)
    fill = ~outer & (hole_area < HOLE_FRACTION * largest)

    if not drop.any() and not fill.any():
        return mask
    out = mask.copy()
    if drop.any():
        gone = np.zeros((h, w), np.bool_)
        on = drop[comp]
        gone.reshape(-1)[_run_pixels(starts[on], ends[on], w)] = True
        # The rim goes too, but not the edge of a kept blob next to it.
        out[_grow(gone, RIM) & (gone | ~fg)] = 0
    if fill.any():
        pocket = np.zeros((h, w), np.bool_)
        on = fill[hole_comp]
        pocket.reshape(-1)[_run_pixels(hole_starts[on], hole_ends[on], w)] = True
        out[_grow(pocket, 1) & (pocket | fg)] = 1
    return out


# --- the working grids ----------------------------------------------------------
#
# Smooth quantities live on grids of square cells: cell (i, j) of the grid of
# factor S holds the mean of the S x S pixels from (i S, j S); its centre is at
# pixel (i + 0.5) S - 0.5, where bilinear sampling puts it. Pixels near the edge
# are taken a "pixel cell" (factor f, the working grid) at a time, as (cells, f, f)
# arrays, so per-cell values broadcast over their pixels without gathers.


def _factor(h: int, w: int, side: int = GRID_SIDE) -> int:
    """The whole reduction factor that brings the long side to at most ``side``."""
    return max(1, -(-max(h, w) // side))


def _image(rgba: np.ndarray) -> Image.Image:
    """The RGBA buffer as a Pillow RGBX image: read in place when contiguous, and
    RGBX so that Pillow does not premultiply by alpha when reducing."""
    h, w = rgba.shape[:2]
    buf = rgba if rgba.flags.c_contiguous else np.ascontiguousarray(rgba)
    return Image.frombuffer("RGBX", (w, h), buf, "raw", "RGBX", 0, 1)


def _planes(image: Image.Image, factor: int = 1) -> np.ndarray:
    """Block means of an RGBX image's colour channels: ``(3, gh, gw)`` float32 in 0..1."""
    arr = np.asarray(image.reduce(factor) if factor > 1 else image)
    planes = np.empty((3, *arr.shape[:2]), np.float32)
    for k in range(3):
        np.multiply(arr[..., k], np.float32(1 / 255), out=planes[k])
    return planes


def _reduce(alpha: np.ndarray, f: int) -> np.ndarray:
    """Block means of a 2-D uint8 array, rounded."""
    if f == 1:
        return alpha
    return np.asarray(Image.fromarray(np.ascontiguousarray(alpha), "L").reduce(f))


def _shrink(plane: np.ndarray, c: int) -> np.ndarray:
    """Block means of a float32 plane."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(plane), "F").reduce(c)) if c > 1 else plane


def _gather(rgba: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Colours at flat pixel indices, ``(3, n)`` float32 in 0..1: one 32-bit word per
    pixel when the buffer is contiguous."""
    h, w = rgba.shape[:2]
    if rgba.flags.c_contiguous:
        rgb = rgba.view(np.uint32).reshape(h * w)[index].view(np.uint8).reshape(-1, 4)[:, :3]
    else:
        rgb = rgba[index // w, index % w, :3]
    out = np.empty((3, index.size), np.float32)
    for k in range(3):
        np.multiply(rgb[:, k], np.float32(1 / 255), out=out[k])
    return out


def _box(plane: np.ndarray, r: int) -> np.ndarray:
    """Mean over a ``(2r+1)^2`` window (clipped at the borders) of a 2-D float32 plane."""
    h, w = plane.shape
    i, j = np.arange(h), np.arange(w)
    c = np.zeros((h + 1, w), np.float32)
    np.cumsum(plane, axis=0, out=c[1:])
    out = c[np.minimum(i + r + 1, h)] - c[np.maximum(i - r, 0)]
    c = np.zeros((h, w + 1), np.float32)
    np.cumsum(out, axis=1, out=c[:, 1:])
    out = c[:, np.minimum(j + r + 1, w)] - c[:, np.maximum(j - r, 0)]
    ny = np.minimum(i + r, h - 1) - np.maximum(i - r, 0) + 1
    nx = np.minimum(j + r, w - 1) - np.maximum(j - r, 0) + 1
    return out * (1 / ny.astype(np.float32))[:, None] * (1 / nx.astype(np.float32))


def _window_means(planes: np.ndarray, cy: np.ndarray, cx: np.ndarray, r: int) -> np.ndarray:
    """Means over ``(2r+1)^2`` windows of ``(k, gh, gw)`` planes at the cells ``(cy, cx)``
    only, the grid's edge repeated past its border: ``(k, n)``. The cost follows the
    number of cells asked for, not the size of the grid."""
    k, gh, gw = planes.shape
    flat = planes.reshape(k, gh * gw)
    span = range(-r, r + 1)
    if r > 1:
        # Separable: column sums at the cells within r along x, then row sums of those.
        near = np.zeros((gh, gw), np.bool_)
        near[cy, cx] = True
        wide = near.copy()
        for d in range(1, r + 1):
            wide[:, d:] |= near[:, :-d]
            wide[:, :-d] |= near[:, d:]
        uy, ux = np.nonzero(wide)
        column = np.zeros((k, gh * gw), np.float32)
        at = uy * gw + ux
        for d in span:
            column[:, at] += flat[:, np.clip(uy + d, 0, gh - 1) * gw + ux]
        flat, rows, cols = column, [cy * gw], [np.clip(cx + d, 0, gw - 1) for d in span]
    else:
        rows = [np.clip(cy + d, 0, gh - 1) * gw for d in span]
        cols = [np.clip(cx + d, 0, gw - 1) for d in span]
    sums = np.zeros((k, cy.size), np.float32)
    for row in rows:
        for col in cols:
            sums += flat[:, row + col]
    sums *= np.float32(1 / (2 * r + 1) ** 2)
    return sums


def _bilinear(planes: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``(k, gh, gw)`` planes at fractional cell coordinates: ``(k, n)``."""
    k, gh, gw = planes.shape
    y0, x0 = np.floor(y), np.floor(x)
    wy, wx = (y - y0).astype(np.float32), (x - x0).astype(np.float32)
    ya, yb = np.clip(y0.astype(np.intp), 0, gh - 1) * gw, np.clip(y0.astype(np.intp) + 1, 0, gh - 1) * gw
    xa, xb = np.clip(x0.astype(np.intp), 0, gw - 1), np.clip(x0.astype(np.intp) + 1, 0, gw - 1)
    flat = planes.reshape(k, gh * gw)
    top = flat[:, ya + xa] * (1 - wx) + flat[:, ya + xb] * wx
    bottom = flat[:, yb + xa] * (1 - wx) + flat[:, yb + xb] * wx
    return top * (1 - wy) + bottom * wy


class _Edge:
    """The cells of the working grid (factor ``f``) where alpha is not all 0 or all
    255, and their pixels as ``(cells, f, f)`` arrays flattened: ``index`` (flat
    pixel indices) and ``inside`` (``None`` when no cell sticks out of the image;
    else False past the border, where ``index`` repeats the last row or column)."""

    def __init__(self, alpha: np.ndarray) -> None:
        h, w = alpha.shape
        self.f = f = _factor(h, w)
        self.small = _reduce(alpha, f)
        mixed = (self.small > 0) & (self.small < 255)
        # A cell whose few soft pixels round to a mean of 0 or 255 is caught by
        # growing the set a cell; what escapes is within 1/(2 f^2) of 0 or 255.
        self.cells = _grow(mixed, 1) if f > 1 else mixed
        self.cy, self.cx = np.nonzero(self.cells)
        off = np.arange(f)
        rows = (self.cy * f)[:, None, None] + off[None, :, None]
        cols = (self.cx * f)[:, None, None] + off[None, None, :]
        self.inside: np.ndarray | None = None
        if h % f or w % f:
            self.inside = ((rows < h) & (cols < w)).reshape(-1)
            rows, cols = np.minimum(rows, h - 1), np.minimum(cols, w - 1)
        self.index = (rows * w + cols).reshape(-1)

    @property
    def count(self) -> int:
        return self.cy.size

    def soft(self, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Alpha at every pixel, and which pixels are soft (``0 < alpha < 255``)."""
        a = alpha.reshape(-1)[self.index]
        soft = (a > 0) & (a < 255)
        if self.inside is not None:
            soft &= self.inside
        return a, soft

    def corners(self, factor: int, gh: int, gw: int) -> tuple[np.ndarray, ...]:
        """For a grid of ``factor``, an even multiple of ``f``: the four grid cells
        around each pixel cell's pixels (the same for all of them, as no grid cell
        centre falls inside a pixel cell) and the bilinear weights along y and x,
        ``(cells, f)`` each."""
        f = self.f

        def axis(c: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            g0 = np.floor((c * f + 0.5) / factor - 0.5).astype(np.intp)
            wgt = ((c * f - g0 * factor)[:, None] + np.arange(f) + 0.5) / factor - 0.5
            return np.clip(g0, 0, size - 1), np.clip(g0 + 1, 0, size - 1), wgt.astype(np.float32)

        ya, yb, wy = axis(self.cy, gh)
        xa, xb, wx = axis(self.cx, gw)
        return ya * gw + xa, ya * gw + xb, yb * gw + xa, yb * gw + xb, wy, wx

    def centres(self, planes: np.ndarray, factor: int) -> np.ndarray:
        """Bilinear samples of a grid of ``factor`` at the pixel cells' centres: ``(k, cells)``."""
        centre = (self.f - 1) / 2 + 0.5
        return _bilinear(planes, (self.cy * self.f + centre) / factor - 0.5, (self.cx * self.f + centre) / factor - 0.5)


def _sampled(edge: _Edge, m: int, gh: int, gw: int) -> np.ndarray:
    """The cells of a grid ``m`` times coarser than the edge's that sampling there reads."""
    cells = np.zeros((gh, gw), np.bool_)
    cells[np.minimum(edge.cy // m, gh - 1), np.minimum(edge.cx // m, gw - 1)] = True
    return _grow(cells, 1)


def _level(rgba: np.ndarray, f: int) -> Image.Image:
    """The image reduced by ``f`` (RGBX)."""
    image = _image(rgba)
    return image.reduce(f) if f > 1 else image


def _scale(alpha: np.ndarray, mask: np.ndarray | None) -> float:
    """Image pixels per model-mask cell (at least 1)."""
    if mask is None or mask.ndim != 2 or mask.size == 0:
        return 1.0
    return max(alpha.shape[0] / mask.shape[0], alpha.shape[1] / mask.shape[1], 1.0)


# --- refine_edges ------------------------------------------------------------------


def _guided(guide: np.ndarray, p: np.ndarray, cells: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Colour guided filter coefficients (He, Sun & Tang 2013, TPAMI 35(6)), averaged
    over the window as the filter's output is: ``(4, gh, gw)`` planes
    ``a_r, a_g, a_b, b`` with ``q = a . I + b``, computed only at ``cells``."""
    gh, gw = p.shape
    pairs = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    # The averaged coefficients at ``cells`` need the coefficients a window around them.
    cy, cx = np.nonzero(_grow(cells, r))
    stats = np.concatenate((guide, p[None], guide * p, np.stack([guide[i] * guide[j] for i, j in pairs])))
    m = _window_means(stats, cy, cx, r)
    mean, mean_p = m[:3], m[3]
    cov = m[4:7] - mean * mean_p
    e = np.float32(eps)
    rr, rg, rb, gg, gb, bb = (m[7 + k] - mean[i] * mean[j] + (e if i == j else 0) for k, (i, j) in enumerate(pairs))
    # The symmetric 3x3 covariance inverted by cofactors, per cell.
    inv_rr, inv_rg, inv_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    inv_gg, inv_gb, inv_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * inv_rr + rg * inv_rg + rb * inv_rb
    coef = np.zeros((4, gh, gw), np.float32)
    flat = coef.reshape(4, -1)
    at = cy * gw + cx
    flat[0, at] = (inv_rr * cov[0] + inv_rg * cov[1] + inv_rb * cov[2]) / det
    flat[1, at] = (inv_rg * cov[0] + inv_gg * cov[1] + inv_gb * cov[2]) / det
    flat[2, at] = (inv_rb * cov[0] + inv_gb * cov[1] + inv_bb * cov[2]) / det
    flat[3, at] = mean_p - (flat[:3, at] * mean).sum(axis=0)
    out = np.zeros_like(coef)
    cy, cx = np.nonzero(cells)
    out.reshape(4, -1)[:, cy * gw + cx] = _window_means(coef, cy, cx, r)
    return out


SMOOTH = 1
NOISE_K = 2.0


def _smooth_gather(rgba: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Colours at flat pixel indices averaged with their four neighbours (the image's
    border repeated), ``(3, n)`` float32 in 0..1."""
    h, w = rgba.shape[:2]
    col = index % w
    words = rgba.view(np.uint32).reshape(h * w) if rgba.flags.c_contiguous else None
    total = np.zeros((index.size, 4), np.uint16)
    for at in (index, index - np.where(col > 0, 1, 0), index + np.where(col < w - 1, 1, 0),
               np.where(index >= w, index - w, index), np.where(index < (h - 1) * w, index + w, index)):
        if words is not None:
            total += words[at].view(np.uint8).reshape(-1, 4)
        else:
            total[:, :3] += rgba[at // w, at % w, :3]
    out = np.empty((3, index.size), np.float32)
    for k in range(3):
        np.multiply(total[:, k], np.float32(1 / (5 * 255)), out=out[k])
    return out


def _grain(rgba: np.ndarray, alpha: np.ndarray, index: np.ndarray, a8: np.ndarray) -> float:
    """Variance of the full-resolution colour's fine grain (noise, fine texture), which
    the coefficient grid averages away but ``q = a . I + b`` multiplies by ``a``: from
    the differences between horizontal neighbours both fully in or both fully out."""
    w = rgba.shape[1]
    pick = np.flatnonzero(((a8 == 0) | (a8 == 255)) & (index % w < w - 1))
    if pick.size > 16384:
        pick = pick[:: pick.size // 16384]
    at = index[pick]
    at = at[alpha.reshape(-1)[at + 1] == a8[pick]]
    if not at.size:
        return 0.0
    d = np.abs(_gather(rgba, at) - _gather(rgba, at + 1))
    # Median of |difference| of two N(0, s^2): 0.6745 * sqrt(2) * s.
    return float((np.median(d) / 0.6745) ** 2 / 2)


def _refine(edge: _Edge, level: Image.Image, rgba: np.ndarray, alpha: np.ndarray, scale: float, radius: float, eps: float) -> np.ndarray:
    h, w = alpha.shape
    a8, soft = edge.soft(alpha)
    if not soft.any():
        return alpha
    f = edge.f
    reach = radius * scale
    # Coefficient cells of about 1/GF_CELLS of the window radius, at most GF_SIDE on
    # the long side, an even multiple m of the pixel cell (see _Edge.corners).
    m = 2 * max(1, round(max(reach / GF_CELLS, max(h, w) / GF_SIDE) / (2 * f)))
    r = max(1, round(reach / (m * f)))
    guide = _planes(level, m)
    p = _reduce(edge.small, m).astype(np.float32) * np.float32(1 / 255)
    gh, gw = p.shape
    coef = _guided(guide, p, _sampled(edge, m, gh, gw), r, eps).reshape(4, -1)
    img = _smooth_gather(rgba, edge.index) if SMOOTH else _gather(rgba, edge.index)

    # q = a . I + b with a, b bilinear: per pixel cell, the coefficients interpolated
    # along x at the two grid rows around it, then each pixel mixes the two by its y.
    c00, c01, c10, c11, wy, wx = edge.corners(m * f, gh, gw)
    wx = wx[None, :, None, :]
    top = coef[:, c00, None, None] + (coef[:, c01, None, None] - coef[:, c00, None, None]) * wx
    step = coef[:, c10, None, None] + (coef[:, c11, None, None] - coef[:, c10, None, None]) * wx - top
    img = img.reshape(3, edge.count, f, f)
    q = (top[0] * img[0] + top[1] * img[1] + top[2] * img[2] + top[3]) + wy[:, :, None] * (
        step[0] * img[0] + step[1] * img[1] + step[2] * img[2] + step[3]
    )
    thr = np.full(edge.count, GF_SNAP, np.float32)
    if NOISE_K > 0:
        sigma = np.sqrt(_grain(rgba, alpha, edge.index, a8)) / (np.sqrt(5) if SMOOTH else 1)
        norm = np.abs(coef[:3, c00]).sum(axis=0)
        thr = np.maximum(thr, NOISE_K * sigma * norm)
    thr = np.broadcast_to(thr[:, None, None], q.shape).reshape(-1)[soft]
    q = q.reshape(-1)[soft]
    q[q < thr] = 0
    q[q > 1 - thr] = 1
    q8 = np.clip(q * 255 + 0.5, 0, 255).astype(np.uint8)
    out = alpha.copy()
    out.reshape(-1)[edge.index[soft]] = q8
    return out


def refine_edges(
    rgba: np.ndarray,
    alpha: np.ndarray,
    mask: np.ndarray | None = None,
    radius: float = GF_RADIUS,
    eps: float = GF_EPS,
) -> np.ndarray:
    """Snap the upscaled alpha to the image's own edges with a fast guided filter
    (He & Sun 2015, "Fast Guided Filter", arXiv:1505.00996; colour guide as in
    He, Sun & Tang 2013), the image guiding and the alpha filtered.

    ``rgba`` is the full-resolution ``(H, W, 4)`` uint8 image (any strides),
    ``alpha`` its ``(H, W)`` uint8 alpha, the model mask upscaled. ``mask`` is that
    model mask; only its resolution is used: the window reaches ``radius`` mask
    cells, past the blur the upscaling leaves. The coefficients ``a, b`` are found
    on a grid of cells of about half the window, then ``q = a . I + b`` is evaluated
    with the full-resolution colour ``I``, only where ``0 < alpha < 255``; ``q`` within
    :data:`GF_SNAP` of 0 or 1 is snapped there (image noise would otherwise leave a
    faint haze). Returns a new array, or ``alpha`` itself when it has no soft pixel;
    pixels with alpha 0 or 255 keep it.
    """
    if alpha.ndim != 2 or alpha.size == 0:
        return alpha
    edge = _Edge(alpha)
    if not edge.count:
        return alpha
    return _refine(edge, _level(rgba, edge.f), rgba, alpha, _scale(alpha, mask), radius, eps)


# --- estimate_foreground --------------------------------------------------------------


def _foreground(edge: _Edge, level: Image.Image, rgba: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a8, soft = edge.soft(alpha)
    if not soft.any():
        return np.zeros(0, np.intp), np.zeros((0, 3), np.uint8)
    h, w = alpha.shape
    f, cells = edge.f, edge.count
    a = (a8.astype(np.float32) * np.float32(1 / 255)).reshape(cells, f * f)
    if edge.inside is not None:
        a *= edge.inside.reshape(cells, f * f)
        count = edge.inside.reshape(cells, f * f).sum(axis=1).astype(np.float32)
    else:
        count = np.full(cells, f * f, np.float32)
    img = _gather(rgba, edge.index).reshape(3, cells, f * f)

    # Cell means of I a and a on the working grid, exact in the edge cells (from
    # their pixels, not as a product of means, which would mix in the background).
    gh, gw = edge.small.shape
    where = edge.cy * gw + edge.cx
    grid_a = edge.small.astype(np.float32) * np.float32(1 / 255)
    grid_ia = _planes(level)
    grid_ia *= grid_a
    grid_ia.reshape(3, -1)[:, where] = (img * a).sum(axis=2) / count
    grid_a.reshape(-1)[where] = a.sum(axis=1) / count

    # Pass 1: F = B = I, wide blur, on a coarse grid. Smooth, so one value per cell.
    c = _factor(gh, gw, COARSE_SIDE)
    wide = max(1, round(FG_WIDE * max(h, w) / (f * c)))
    c_a = _box(_shrink(grid_a, c), wide)
    c_ia = [_box(_shrink(p, c), wide) for p in grid_ia]
    c_i = [_box(p, wide) for p in _planes(level, c)]
    f_hat = [p / np.maximum(c_a, 1e-6) for p in c_ia]
    b_hat = [(i - p) / np.maximum(1 - c_a, 1e-6) for i, p in zip(c_i, c_ia, strict=True)]
    fb = edge.centres(np.stack(f_hat + b_hat), f * c)
    f1, b1 = fb[:3, :, None], fb[3:, :, None]

    # Pass 2: F = the first pass's F, local blur, on the working grid. Per pixel,
    # (F1 - I) a = F^ a (1 - a^2) - I a (1 - a) - B^ a^2 (1 - a), before clipping:
    # summed per cell without forming F1.
    u = 1 - a * a
    v = a * (1 - a)
    delta = f1[..., 0] * (a * u).sum(axis=1) - (img * v).sum(axis=2) - b1[..., 0] * (a * v).sum(axis=1)
    grid = np.concatenate((grid_ia, grid_a[None]))
    grid.reshape(4, -1)[:3, where] += delta / count
    sums = _window_means(grid, edge.cy, edge.cx, max(1, int(FG_LOCAL / f)))
    f2 = (sums[:3] / np.maximum(sums[3], 1e-6))[..., None]

    # F = F^ (1 - a^2) + a I - a (1 - a) B^, for the soft pixels.
    fg = f2 * u + a * img - b1 * v
    fg = fg.reshape(3, -1)[:, soft]
    np.clip(fg * 255 + 0.5, 0, 255, out=fg)
    rgb = np.empty((fg.shape[1], 3), np.uint8)
    rgb[:] = fg.T
    return edge.index[soft], rgb


def estimate_foreground(rgba: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The subject's own colour under its soft edge, free of the background's.

    Blur fusion (Forte & Pitie 2021, "Approximate Fast Foreground Colour Estimation",
    ICIP): ``F^ = blur(F a) / blur(a)``, ``B^ = blur(B (1-a)) / blur(1-a)``,
    ``F = F^ + a (I - a F^ - (1-a) B^)``, first with ``F = B = I`` and a wide blur
    (:data:`FG_WIDE`), then with the first pass's ``F`` and a local blur
    (:data:`FG_LOCAL`); the second pass keeps the first's ``B^``, already smooth.
    The blurs run on reduced grids, exactly: each cell with mixed alpha is summed
    from its full-resolution pixels.

    ``rgba`` is the ``(H, W, 4)`` uint8 image (any strides), ``alpha`` the ``(H, W)``
    uint8 alpha of the cut-out. Returns ``(index, rgb)``: flat row-major indices of
    the pixels with ``0 < alpha < 255`` (in no particular order) and their estimated
    colours, ``(n, 3)`` uint8; both empty when alpha has no soft pixel.
    """
    if alpha.ndim != 2 or alpha.size == 0:
        return np.zeros(0, np.intp), np.zeros((0, 3), np.uint8)
    edge = _Edge(alpha)
    if not edge.count:
        return np.zeros(0, np.intp), np.zeros((0, 3), np.uint8)
    return _foreground(edge, _level(rgba, edge.f), rgba, alpha)


def refine(rgba: np.ndarray, alpha: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`refine_edges` then :func:`estimate_foreground` on its result, sharing
    the reduced image and the edge cells: ``(alpha, index, rgb)``."""
    if alpha.ndim != 2 or alpha.size == 0:
        return alpha, np.zeros(0, np.intp), np.zeros((0, 3), np.uint8)
    edge = _Edge(alpha)
    if not edge.count:
        return alpha, np.zeros(0, np.intp), np.zeros((0, 3), np.uint8)
    level = _level(rgba, edge.f)
    # Refining changes only soft pixels, all inside the edge cells: they still hold.
    refined = _refine(edge, level, rgba, alpha, _scale(alpha, mask), GF_RADIUS, GF_EPS)
    return (refined, *_foreground(edge, level, rgba, refined))
