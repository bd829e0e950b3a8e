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
# A background pocket enclosed by the subject and under 0.01% of its area is a pinhole;
# gaps between an arm and the body are larger and stay. Measured on the quality set: at 0.2%
# filling cost up to 0.025 IoU (real gaps in photos' subjects); at 0.01% at most 0.003.
HOLE_FRACTION = 0.0001
# Pixels around a dropped blob that are cleared with it (its soft rim), and around a
# filled pinhole, the subject's pixels that are made solid with it.
RIM = 3
FILL_RIM = 2

# --- refine_edges / estimate_foreground ---------------------------------------

# The working grid: the image reduced by a whole factor to at most this long side.
# Pixels near the edge are handled a grid cell at a time.
GRID_SIDE = 1024
# Guided filter window radius, in model-mask cells: the upscaled mask's soft ramp is
# 2-3 cells wide and may sit a cell off, and the window must see both sides of it.
GF_RADIUS = 4.0
# The coefficients are computed on cells about as large as that radius (He & Sun's
# subsampling), and on at most GF_SIDE cells along the long side.
GF_SIDE = 512
# Regularisation, for a guide in 0..1. Small: where the window holds no edge the
# alpha there is flat and the slope ``a`` is 0 anyway.
GF_EPS = 1e-4
# Filtered alpha within GF_SNAP of 0 or 1 is snapped there, and within GF_NOISE
# standard deviations of the image grain that ``a`` carries into it: that grain is
# averaged away on the coefficient grid but not in the full-resolution guide, and
# would leave a sparkling haze around the subject.
GF_SNAP = 0.05
GF_NOISE = 2.5
# Blur fusion: the first (wide) box's radius as a fraction of the long side but at
# least FG_WIDE_MIN px, to reach from the faintest edge pixel into the solid subject;
# the second (local) box's radius in px. (The paper uses 90 and 6 px boxes at 1-2 MP.)
# The wide pass runs on a coarse grid of at most COARSE_SIDE cells on the long side.
FG_WIDE = 0.015
FG_WIDE_MIN = 16.0
FG_LOCAL = 3.0
COARSE_SIDE = 256
# The edge's pixels are worked on in runs of whole cells of about this many pixels: the
# per-pixel temporaries stay small beside the picture (a wasm heap keeps its largest size;
# at 24 MP a blurred edge has millions of pixels, each with a dozen float32 values in flight).
# Every sum is per cell, so the results are the same as in one go, bit for bit.
CHUNK_PIXELS = 1 << 19


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


def _grow(binary: np.ndarray, steps: int, axes: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """Dilate by ``steps`` px along ``axes`` (both: a square element)."""
    out = binary.copy()
    for axis in axes:
        src = out.copy()
        for d in range(1, steps + 1):
            if axis == 0:
                out[d:] |= src[:-d]
                out[:-d] |= src[d:]
            else:
                out[:, d:] |= src[:, :-d]
                out[:, :-d] |= src[:, d:]
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
    the largest blob is filled, with the subject's soft ring around it
    (:data:`FILL_RIM` px). Several similar objects, and large holes (a ring's
    middle), stay. Everything else is unchanged bit for bit; when nothing changes
    ``mask`` itself is returned. Connected components: see :func:`label`.
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
        out[_grow(pocket, FILL_RIM) & (pocket | fg)] = 1
    return out


# --- the working grids ----------------------------------------------------------
#
# Smooth quantities live on grids of square cells: cell (i, j) of the grid of
# factor S holds the mean of the S x S pixels from (i S, j S), and its centre is at
# pixel (i + 0.5) S - 0.5, where bilinear sampling puts it. The pixels near the edge
# are taken whole cells of the working grid (factor f) at a time, as (f, f, cells)
# arrays (a place in the cell, then the cell), so that per-cell values broadcast over
# their pixels without gathers, along rows as long as the run of cells.


def _factor(h: int, w: int, side: int = GRID_SIDE) -> int:
    """The whole reduction factor that brings the long side to at most ``side``."""
    return max(1, -(-max(h, w) // side))


def _level(rgba: np.ndarray, f: int) -> Image.Image:
    """The image reduced by ``f``, as RGBX: read in place, and not premultiplied by
    its alpha (Pillow premultiplies RGBA when reducing)."""
    h, w = rgba.shape[:2]
    image = Image.frombuffer("RGBX", (w, h), rgba, "raw", "RGBX", 0, 1)
    return image.reduce(f) if f > 1 else image


def _planes(image: Image.Image, factor: int = 1) -> np.ndarray:
    """Block means of an RGBX image's colour channels: ``(3, gh, gw)`` float32 in 0..1."""
    arr = np.asarray(image.reduce(factor) if factor > 1 else image)
    planes = np.empty((3, *arr.shape[:2]), np.float32)
    for k in range(3):
        np.multiply(arr[..., k], np.float32(1 / 255), out=planes[k])
    return planes


def _reduce(alpha: np.ndarray, f: int) -> np.ndarray:
    """Block means of a 2-D uint8 array, rounded."""
    return np.asarray(Image.fromarray(alpha, "L").reduce(f)) if f > 1 else alpha


def _shrink(plane: np.ndarray, c: int) -> np.ndarray:
    """Block means of a float32 plane."""
    return np.asarray(Image.fromarray(plane, "F").reduce(c)) if c > 1 else plane


def _gather(rgba: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Colours at flat pixel indices: ``(3, n)`` float32 in 0..1, one 32-bit word read per pixel."""
    h, w = rgba.shape[:2]
    rgb = rgba.view(np.uint32).reshape(h * w)[index].view(np.uint8).reshape(-1, 4)
    out = np.empty((3, index.size), np.float32)
    for k in range(3):
        np.multiply(rgb[:, k], np.float32(1 / 255), out=out[k])
    return out


def _box(plane: np.ndarray, r: int) -> np.ndarray:
    """Mean over a ``(2r+1)^2`` window, clipped at the borders, of a 2-D float32 plane."""
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
    """Means over ``(2r+1)^2`` windows of ``(k, gh, gw)`` planes, the border cells
    repeated past the border, at the cells ``(cy, cx)`` only: ``(k, n)``. By gathers,
    so the cost follows the cells asked for, not the grid."""
    k, gh, gw = planes.shape
    flat = planes.reshape(k, gh * gw)
    span = range(-r, r + 1)
    rows = [np.clip(cy + d, 0, gh - 1) * gw for d in span]
    cols = [np.clip(cx + d, 0, gw - 1) for d in span]
    if r > 1:
        # Separable: column sums at the cells within r of them along x, then row sums.
        near = np.zeros((gh, gw), np.bool_)
        near[cy, cx] = True
        wide = _grow(near, r, axes=(1,))
        uy, ux = np.nonzero(wide)
        column = np.zeros((k, gh * gw), np.float32)
        at = uy * gw + ux
        for d in span:
            column[:, at] += flat[:, np.clip(uy + d, 0, gh - 1) * gw + ux]
        flat, rows = column, [cy * gw]
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
    iy, ix = y0.astype(np.intp), x0.astype(np.intp)
    ya, yb = np.clip(iy, 0, gh - 1) * gw, np.clip(iy + 1, 0, gh - 1) * gw
    xa, xb = np.clip(ix, 0, gw - 1), np.clip(ix + 1, 0, gw - 1)
    flat = planes.reshape(k, gh * gw)
    top = flat[:, ya + xa] * (1 - wx) + flat[:, ya + xb] * wx
    bottom = flat[:, yb + xa] * (1 - wx) + flat[:, yb + xb] * wx
    return top * (1 - wy) + bottom * wy


class _Edge:
    """The cells of the working grid (factor ``f``) where alpha is not all 0 or all
    255, and their pixels: ``size`` = ``cells * f * f`` of them, whose flat indices are made
    a run of cells at a time (:meth:`pixels`), never all at once (where the
    mask is soft almost everywhere they would be 4-8 bytes for nearly every pixel). Cells
    sticking out of the image repeat its last row or column; ``inside`` marks the real pixels."""

    def __init__(self, alpha: np.ndarray) -> None:
        h, w = alpha.shape
        self.f = f = _factor(h, w)
        self.small = _reduce(alpha, f)
        mixed = (self.small > 0) & (self.small < 255)
        # A cell whose few soft pixels round to a mean of 0 or 255 is caught by
        # growing the set by a cell; what escapes is within 1/(2 f^2) of 0 or 255.
        self.cy, self.cx = np.nonzero(_grow(mixed, 1) if f > 1 else mixed)
        self.cells = self.cy.size
        self.size = self.cells * f * f
        self.h, self.w = h, w
        self.clipped = bool(h % f or w % f)
        # A cell's pixels from its first one, row by row: one add per pixel makes a run's indices.
        off = np.arange(f)
        self.offsets = (off[:, None] * w + off[None, :]).reshape(-1)

    def _flat(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if not self.clipped:
            return rows * self.w + cols, None
        inside = (rows < self.h) & (cols < self.w)
        rows, cols = np.minimum(rows, self.h - 1), np.minimum(cols, self.w - 1)
        return rows * self.w + cols, inside

    def pixels(self, run: slice) -> tuple[np.ndarray, np.ndarray | None]:
        """A run of cells' pixels, a place in the cell (row by row) after another, each over all the
        run's cells: their flat indices, ``(f * f, cells)`` flattened, and which are inside the image
        (``None``: all are, as in every run of whole cells). Per-cell values broadcast over the
        places along rows as long as the run, not as short as a cell."""
        f = self.f
        cy, cx = self.cy[run], self.cx[run]
        index = self.offsets[:, None] + (cy * (f * self.w) + cx * f)
        if not self.clipped:
            return index.reshape(-1), None
        # Only the cells sticking out of the image (its last row and column of cells) are clipped.
        out = np.flatnonzero((cy * f + f > self.h) | (cx * f + f > self.w))
        if not out.size:
            return index.reshape(-1), None
        off = np.arange(f)
        rows = (cy[out] * f)[:, None, None] + off[None, :, None]
        cols = (cx[out] * f)[:, None, None] + off[None, None, :]
        clipped, part = self._flat(rows, cols)
        assert part is not None  # self.clipped
        index[:, out] = clipped.reshape(out.size, f * f).T
        inside = np.ones(index.shape, np.bool_)
        inside[:, out] = part.reshape(out.size, f * f).T
        return index.reshape(-1), inside.reshape(-1)

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Flat indices of the pixels at these positions in the edge's order."""
        f = self.f
        cell, k = np.divmod(positions, f * f)
        return self._flat(self.cy[cell] * f + k // f, self.cx[cell] * f + k % f)[0]

    def counts(self) -> np.ndarray:
        """Each cell's pixels inside the image, float32."""
        f = self.f
        if not self.clipped:
            return np.full(self.cells, f * f, np.float32)
        rows = np.minimum(f, self.h - self.cy * f)
        return (rows * np.minimum(f, self.w - self.cx * f)).astype(np.float32)

    def chunks(self) -> list[slice]:
        """Runs of whole cells of about :data:`CHUNK_PIXELS` pixels, as slices of the cells."""
        per = max(1, CHUNK_PIXELS // (self.f * self.f))
        return [slice(c, min(c + per, self.cells)) for c in range(0, self.cells, per)]

    def any_soft(self, alpha: np.ndarray) -> bool:
        """Whether any of the edge's pixels is soft (``0 < alpha < 255``): read a run of cells at a
        time, up to the first that has one."""
        flat = alpha.reshape(-1)
        for run in self.chunks():
            index, inside = self.pixels(run)
            if _soft(flat[index], inside).any():
                return True
        return False

    def corners(self, factor: int, gh: int, gw: int) -> _Corners:
        """For a grid of ``factor``, an even multiple of ``f``: the four grid cells that
        bilinear sampling reads for each cell's pixels (the same for all of them, as
        no grid cell centre falls inside a working cell), and the sampling weights (see
        :class:`_Corners`)."""
        return _Corners(self, factor, gh, gw)

    def centres(self, planes: np.ndarray, factor: int, run: slice = slice(None)) -> np.ndarray:
        """Bilinear samples of a grid of ``factor`` at the centres of a run of cells: ``(k, cells)``."""
        centre = self.f / 2
        y = (self.cy[run] * self.f + centre) / factor - 0.5
        return _bilinear(planes, y, (self.cx[run] * self.f + centre) / factor - 0.5)

    def sampled(self, m: int, gh: int, gw: int) -> np.ndarray:
        """The cells of the grid ``m`` times coarser that sampling at these pixels reads."""
        cells = np.zeros((gh, gw), np.bool_)
        cells[np.minimum(self.cy // m, gh - 1), np.minimum(self.cx // m, gw - 1)] = True
        return _grow(cells, 1)


def _soft(a8: np.ndarray, inside: np.ndarray | None) -> np.ndarray:
    """Which of a run's pixels (their alpha, and :meth:`_Edge.pixels`' ``inside``) are soft."""
    here = (a8 > 0) & (a8 < 255)
    if inside is not None:
        here &= inside
    return here


def _weights(a8: np.ndarray, inside: np.ndarray | None, ff: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A run's alpha ``a`` (0..1, 0 outside the image), ``(ff, cells)`` as :meth:`_Edge.pixels`
    orders them, ``1 - a^2`` and ``a (1 - a)``."""
    a = (a8.astype(np.float32) * np.float32(1 / 255)).reshape(ff, -1)
    if inside is not None:
        a *= inside.reshape(ff, -1)
    return a, 1 - a * a, a * (1 - a)


# numpy sums a contiguous row pairwise: under 8 values one after another from 0; up to 128, in 8
# running sums of every 8th value, added in pairs, then the rest one after another; beyond, the two
# halves (the first a multiple of 8) apart. The cells' sums over their pixels were once taken so, a
# cell's pixels a row of their own; kept bit for bit with the pixels laid place by place.
PAIRWISE_BLOCK = 128


def _cell_sums(x: np.ndarray) -> np.ndarray:
    """Per cell, the sum of ``(..., ff, cells)`` values over its ``ff`` pixels, exactly as numpy's
    ``sum(axis=-1)`` of the same values laid ``(..., cells, ff)`` gives it."""
    return _pairwise(x, 0, x.shape[-2])


def _pairwise(x: np.ndarray, lo: int, n: int) -> np.ndarray:
    """The sum of ``x[..., lo:lo + n, :]`` over its second-last axis in numpy's own order: its
    ``pairwise_sum`` (numpy/_core/src/umath/loops_utils.h.src): under 8 terms one by one, up to
    ``PW_BLOCKSIZE`` (128) in 8 interleaved partial sums, above that the two halves (the first
    a multiple of 8) recursively. ``test_cell_sums_are_numpys_row_sums_bit_for_bit`` pins it."""
    if n < 8:
        res = np.zeros(x.shape[:-2] + x.shape[-1:], x.dtype)
        for i in range(lo, lo + n):
            res += x[..., i, :]
        return res
    if n <= PAIRWISE_BLOCK:
        r = [x[..., lo + k, :].copy() for k in range(8)]
        i = 8
        while i < n - n % 8:
            for k in range(8):
                r[k] += x[..., lo + i + k, :]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for j in range(i, n):
            res += x[..., lo + j, :]
        return res
    half = n // 2
    half -= half % 8
    return _pairwise(x, lo, half) + _pairwise(x, lo + half, n - half)


class _Sums:
    """Blur fusion's per-cell sums over the edge's pixels (:func:`_foreground`), a run of cells at a
    time (:meth:`add`): the means of I a and a, and what pass 2 needs, the sums of I v, a u and a v
    (u = 1 - a^2, v = a (1 - a)); and the number of soft pixels. :func:`_refine` fills them from each
    run it refines, while its pixels' colours are at hand."""

    def __init__(self, edge: _Edge) -> None:
        cells = edge.cells
        self.ff = edge.f * edge.f
        self.count = edge.counts()
        self.soft = 0
        f32 = np.float32
        # mean_ia, mean_a, sum_iv, sum_au, sum_av
        self.parts = [np.empty((3, cells), f32), np.empty(cells, f32), np.empty((3, cells), f32)]
        self.parts += [np.empty(cells, f32), np.empty(cells, f32)]

    def add(self, run: slice, a8: np.ndarray, inside: np.ndarray | None, rgb: np.ndarray) -> None:
        """A run of cells' pixels: their alpha (uint8), ``inside`` (:meth:`_Edge.pixels`) and colours
        (:func:`_gather`)."""
        mean_ia, mean_a, sum_iv, sum_au, sum_av = self.parts
        count = self.count[run]
        a, u, v = _weights(a8, inside, self.ff)
        img = rgb.reshape(3, self.ff, -1)
        for k in range(3):  # a channel at a time: one plane of the run's size in flight, not three
            mean_ia[k, run] = _cell_sums(img[k] * a) / count
            sum_iv[k, run] = _cell_sums(img[k] * v)
        mean_a[run] = _cell_sums(a) / count
        sum_au[run] = _cell_sums(a * u)
        sum_av[run] = _cell_sums(a * v)
        self.soft += int(np.count_nonzero(_soft(a8, inside)))

    def take(self) -> list[np.ndarray]:
        """The sums (:meth:`__init__`'s order), handed over: this object holds them no more."""
        parts, self.parts = self.parts, []
        return parts


class _Corners:
    """What bilinear sampling of a grid of ``factor`` (an even multiple of the edge's ``f``) reads for
    a run of the edge's cells (:meth:`at`). Both depend on a cell's row and column alone: they are
    worked out once per row and per column of the working grid and looked up, so nothing is held
    per cell."""

    def __init__(self, edge: _Edge, factor: int, gh: int, gw: int) -> None:
        f = edge.f
        self.gw = gw

        def axis(c: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            g0 = np.floor((c * f + 0.5) / factor - 0.5).astype(np.intp)
            weight = ((c * f - g0 * factor)[:, None] + np.arange(f) + 0.5) / factor - 0.5
            return np.clip(g0, 0, size - 1), np.clip(g0 + 1, 0, size - 1), weight.astype(np.float32)

        self.cy, self.cx = edge.cy, edge.cx
        self.y = axis(np.arange(edge.small.shape[0]), gh)
        self.x = axis(np.arange(edge.small.shape[1]), gw)

    def at(self, run: slice) -> tuple[np.ndarray, ...]:
        """For a run of cells: the four grid cells, flat, and the weights along y and along x,
        ``(cells, f)`` each."""
        cy, cx = self.cy[run], self.cx[run]
        ya, yb, wy = (t[cy] for t in self.y)
        xa, xb, wx = (t[cx] for t in self.x)
        ya, yb = ya * self.gw, yb * self.gw
        return ya + xa, ya + xb, yb + xa, yb + xb, wy, wx


def _scale(alpha: np.ndarray, mask: np.ndarray | None) -> float:
    """Image pixels per model-mask cell (at least 1)."""
    if mask is None or mask.ndim != 2 or mask.size == 0:
        return 1.0
    return max(alpha.shape[0] / mask.shape[0], alpha.shape[1] / mask.shape[1], 1.0)


def _inputs(rgba: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays C-contiguous (copied only when they are not), and checked."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"rgba must be (H, W, 4) uint8, not {rgba.shape} {rgba.dtype}")
    if alpha.shape != rgba.shape[:2] or alpha.dtype != np.uint8:
        raise ValueError(f"alpha must be {rgba.shape[:2]} uint8, not {alpha.shape} {alpha.dtype}")
    return np.ascontiguousarray(rgba), np.ascontiguousarray(alpha)


# --- refine_edges ------------------------------------------------------------------


def _guided(guide: np.ndarray, p: np.ndarray, cells: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Colour guided filter coefficients (He, Sun & Tang 2013, TPAMI 35(6)), averaged
    over the window as the filter's output is: ``(4, gh * gw)``, rows ``a_r, a_g,
    a_b, b`` with ``q = a . I + b``, computed at ``cells`` only (zero elsewhere)."""
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
    coef = np.zeros((4, gh * gw), np.float32)
    at = cy * gw + cx
    coef[0, at] = (inv_rr * cov[0] + inv_rg * cov[1] + inv_rb * cov[2]) / det
    coef[1, at] = (inv_rg * cov[0] + inv_gg * cov[1] + inv_gb * cov[2]) / det
    coef[2, at] = (inv_rb * cov[0] + inv_gb * cov[1] + inv_bb * cov[2]) / det
    coef[3, at] = mean_p - (coef[:3, at] * mean).sum(axis=0)
    out = np.zeros((4, gh * gw), np.float32)
    cy, cx = np.nonzero(cells)
    out[:, cy * gw + cx] = _window_means(coef.reshape(4, gh, gw), cy, cx, r)
    return out


def _grain(rgba: np.ndarray, alpha: np.ndarray, edge: _Edge) -> tuple[float, float]:
    """Standard deviation of the colour's fine grain (noise, fine texture) just
    outside and just inside the edge, from differences between horizontal neighbours
    both fully out (or in), a few pixels to either side of the edge's pixels."""
    w = alpha.shape[1]
    flat = alpha.reshape(-1)
    base = edge.at(np.arange(0, edge.size, max(1, edge.size // 4096)))
    shifts = (-8, -4, 4, 8)
    at = np.concatenate([base + d for d in shifts])
    col = np.concatenate([base % w + d for d in shifts])
    at = at[(col >= 0) & (col < w - 1)]
    a = flat[at]
    same = flat[at + 1] == a
    at, a = at[same], a[same]
    sigma = []
    for side in (0, 255):
        pick = at[a == side]
        d = np.abs(_gather(rgba, pick) - _gather(rgba, pick + 1)) if pick.size else np.zeros(1, np.float32)
        # The median |difference| of two N(0, s^2) samples is 0.6745 * sqrt(2) * s.
        sigma.append(float(np.median(d)) / (0.6745 * np.sqrt(2)))
    return sigma[0], sigma[1]


def _refine(
    edge: _Edge,
    level: Image.Image,
    rgba: np.ndarray,
    alpha: np.ndarray,
    scale: float,
    radius: float,
    eps: float,
    in_place: bool = False,
    sums: _Sums | None = None,
) -> np.ndarray:
    """:func:`refine_edges`' work; ``sums``, when given, get each run of cells as refined (nothing
    when no pixel is soft)."""
    h, w = alpha.shape
    if not edge.any_soft(alpha):
        return alpha
    f = edge.f
    reach = radius * scale
    # Coefficient cells of about the window radius (at most GF_SIDE on the long
    # side), an even multiple m of the working cells (see _Edge.corners).
    m = 2 * max(1, round(max(reach, max(h, w) / GF_SIDE) / (2 * f)))
    r = max(1, round(reach / (m * f)))
    p = _reduce(edge.small, m).astype(np.float32) * np.float32(1 / 255)
    gh, gw = p.shape
    coef = _guided(_planes(level, m), p, edge.sampled(m, gh, gw), r, eps)

    # q = a . I + b with a, b bilinear: for each working cell the coefficients are
    # interpolated along x on the two grid rows around it, then mixed by each row's y.
    corners = edge.corners(m * f, gh, gw)

    # Snap what the image's grain, times the slope, could have made of 0 or 1 (the grain is
    # read from the upscaled alpha: before any of it is written).
    outside, inside = _grain(rgba, alpha, edge)
    out = alpha if in_place else alpha.copy()
    source, flat = alpha.reshape(-1), out.reshape(-1)
    # Nothing below reads the alpha a run writes: each pixel lies in one cell (a clipped cell's
    # pixels outside the image repeat its own).
    for cells in edge.chunks():
        n = cells.stop - cells.start
        c00, c01, c10, c11, wy, wx = corners.at(cells)
        gain = GF_NOISE * np.abs(coef[:3, c00]).sum(axis=0)
        lo = np.maximum(gain * outside, GF_SNAP)
        hi = np.maximum(gain * inside, GF_SNAP)
        del gain
        # Laid as the pixels are (pixels(): a place in the cell, row i and column j, over the cells).
        x = wx.T
        k00, k01, k10, k11 = (coef[:, None, k] for k in (c00, c01, c10, c11))
        top = k00 + (k01 - k00) * x  # (4, j, cells)
        step = k10 + (k11 - k10) * x - top
        del k00, k01, k10, k11
        index, real = edge.pixels(cells)
        rgb = _gather(rgba, index)
        img = rgb.reshape(3, f, f, n)
        q = top[0] * img[0] + top[1] * img[1] + top[2] * img[2] + top[3]
        q += wy.T[:, None, :] * (step[0] * img[0] + step[1] * img[1] + step[2] * img[2] + step[3])
        del top, step, img
        a8 = source[index]
        here = _soft(a8, real)
        q = np.where(q < lo, 0, np.where(q > 1 - hi, 1, q)).reshape(-1)[here]
        new = np.clip(q * 255 + 0.5, 0, 255).astype(np.uint8)
        del q
        flat[index[here]] = new
        if sums is not None:  # the run's refined alpha (outside the image its cell's weigh 0)
            a8[here] = new
            sums.add(cells, a8, real, rgb)
    return out


def refine_edges(
    rgba: np.ndarray,
    alpha: np.ndarray,
    mask: np.ndarray | None = None,
    radius: float = GF_RADIUS,
    eps: float = GF_EPS,
    in_place: bool = False,
) -> np.ndarray:
    """Snap the upscaled alpha to the image's own edges: a fast guided filter
    (He & Sun 2015, "Fast Guided Filter", arXiv:1505.00996) with the colour image as
    guide (He, Sun & Tang 2013, "Guided Image Filtering", TPAMI 35(6)).

    ``rgba`` is the full-resolution ``(H, W, 4)`` uint8 image, ``alpha`` its
    ``(H, W)`` uint8 alpha: the model mask upscaled. Of ``mask``, the model's mask,
    only the resolution is used: the window reaches ``radius`` mask cells, past the
    blur that upscaling leaves. The coefficients ``a, b`` are found on a grid of
    cells about as large as that reach; then ``q = a . I + b`` is evaluated with the
    full-resolution colour ``I``, only where ``0 < alpha < 255``, and snapped to 0 or
    1 within :data:`GF_SNAP`, or within what the image's grain times ``a`` could
    produce (:data:`GF_NOISE`). Pixels with alpha 0 or 255 keep it.

    Returns a new array, or ``alpha`` itself when it has no soft pixel; with ``in_place`` (a
    caller that no longer needs the upscaled alpha: no second full-size plane) ``alpha`` itself,
    refined, when it is C-contiguous.
    """
    rgba, alpha = _inputs(rgba, alpha)
    edge = _Edge(alpha)
    if not edge.cells:
        return alpha
    return _refine(edge, _level(rgba, edge.f), rgba, alpha, _scale(alpha, mask), radius, eps, in_place)


# --- estimate_foreground --------------------------------------------------------------


def _none() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, np.intp), np.zeros((0, 3), np.uint8)


def _target(out: np.ndarray | None, alpha: np.ndarray) -> np.ndarray | None:
    """``out``'s pixels as ``(H * W, 4)`` rows written in place, checked."""
    if out is None:
        return None
    if out.shape != (*alpha.shape, 4) or out.dtype != np.uint8 or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writable C-contiguous {(*alpha.shape, 4)} uint8 array")
    return out.reshape(-1, 4)


def _foreground(
    edge: _Edge,
    level: Image.Image,
    rgba: np.ndarray,
    alpha: np.ndarray,
    out: np.ndarray | None = None,
    pass1: _Sums | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`estimate_foreground`'s work; ``pass1``: pass 1's per-cell sums for ``alpha``, if made
    already (:func:`refine`)."""
    target = _target(out, alpha)
    flat = alpha.reshape(-1)
    if pass1 is None:
        pass1 = _Sums(edge)
        for run in edge.chunks():
            index, inside = edge.pixels(run)
            pass1.add(run, flat[index], inside, _gather(rgba, index))
    if not pass1.soft:
        return _none()
    h, w = alpha.shape
    f, cells = edge.f, edge.cells
    count, soft = pass1.count, pass1.soft
    # Per cell, from its pixels: the sums of I a and a, and what pass 2 needs of them, I v, a u and
    # a v (u = 1 - a^2, v = a (1 - a)).
    mean_ia, mean_a, sum_iv, sum_au, sum_av = pass1.take()
    del pass1

    # Cell means of I a and a on the working grid; in the edge's cells, from their
    # pixels (a product of means there would mix the background into I a).
    gh, gw = edge.small.shape
    where = edge.cy * gw + edge.cx
    grid_a = edge.small.astype(np.float32) * np.float32(1 / 255)
    grid_ia = _planes(level)
    grid_ia *= grid_a
    grid_ia.reshape(3, -1)[:, where] = mean_ia
    grid_a.reshape(-1)[where] = mean_a

    # Pass 1 (F = B = I), wide: box sums on a coarse grid, sampled at each cell's
    # centre, numerators and denominators apart (the ratio is undefined far out).
    c = _factor(gh, gw, COARSE_SIDE)
    wide = max(1, round(max(FG_WIDE * max(h, w), FG_WIDE_MIN) / (f * c)))
    sum_a = _box(_shrink(grid_a, c), wide)
    sum_ia = [_box(_shrink(p, c), wide) for p in grid_ia]
    sum_i = [_box(p, wide) for p in _planes(level, c)]
    sum_b = [i - p for i, p in zip(sum_i, sum_ia, strict=True)]
    planes = np.stack([*sum_ia, sum_a, *sum_b, 1 - sum_a])
    del sum_a, sum_ia, sum_i, sum_b
    # Sampled a run of cells at a time (each cell on its own: the same values): the bilinear
    # sampling's corner values and weights, 8 planes each, for every cell at once were the peak
    # where the mask is soft almost everywhere.
    f_hat, b_hat = np.empty((3, 1, cells), np.float32), np.empty((3, 1, cells), np.float32)
    for run in edge.chunks():
        sums = edge.centres(planes, f * c, run)
        f_hat[:, 0, run] = sums[:3] / np.maximum(sums[3], 1e-6)
        b_hat[:, 0, run] = sums[4:7] / np.maximum(sums[7], 1e-6)
    del planes, sums

    # Pass 2 (F = pass 1's F, B = its B^), local, on the working grid. Its F a per
    # pixel is I a + (F1 - I) a = I a + F^ a (1 - a^2) - I a (1 - a) - B^ a^2 (1 - a)
    # (unclipped): summed per cell without forming F1.
    grid = np.concatenate((grid_ia, grid_a[None]))
    del grid_ia, grid_a
    delta = f_hat[:, 0] * sum_au - sum_iv - b_hat[:, 0] * sum_av
    del mean_ia, mean_a, sum_iv, sum_au, sum_av
    grid.reshape(4, -1)[:3, where] += delta / count
    del delta, where
    r = max(1, int(FG_LOCAL / f))
    for run in edge.chunks():  # a run of cells at a time, as above: each cell's window on its own
        sums = _window_means(grid, edge.cy[run], edge.cx[run], r)
        f_hat[:, 0, run] = sums[:3] / np.maximum(sums[3], 1e-6)
    del grid, sums

    # F = F^ + a (I - a F^ - (1-a) B^) = F^ (1 - a^2) + a I - a (1 - a) B^, a run of cells at a
    # time, in place: the same operations in the same order as the expression. Into ``out``: each
    # run's colours are written before the next run's are read, which is safe, as each pixel lies in
    # one cell (a cell's clipped pixels repeat its own) and nothing below rereads the image.
    found = 0 if target is not None else soft
    index, rgb = np.empty(found, np.intp), np.empty((found, 3), np.uint8)
    done = 0
    for run in edge.chunks():
        where_run, inside = edge.pixels(run)
        a8 = flat[where_run]
        a, u, v = _weights(a8, inside, f * f)
        img = _gather(rgba, where_run).reshape(3, f * f, -1)
        fg = f_hat[:, :, run] * u
        np.multiply(a, img, out=img)
        fg += img
        np.multiply(b_hat[:, :, run], v, out=img)
        fg -= img
        del a, img, u, v
        here = _soft(a8, inside)
        if target is None:  # returned cell after cell, row by row in each, as always
            n = run.stop - run.start
            fg = fg.transpose(0, 2, 1)
            where_run, here = (x.reshape(f * f, n).T.reshape(-1) for x in (where_run, here))
        fg = fg.reshape(3, -1)
        if not here.all():  # the soft pixels' colours (a take: quicker than a mask over 2-D)
            pick = np.flatnonzero(here)
            fg, where_run = np.take(fg, pick, axis=1), where_run[pick]
            del pick
        fg *= 255  # np.clip(fg * 255 + 0.5, 0, 255) without its two temporaries
        fg += 0.5
        np.clip(fg, 0, 255, out=fg)
        if target is not None:
            for k, channel in enumerate(fg.astype(np.uint8)):  # a channel at a time: quicker than [i, :3]
                target[:, k][where_run] = channel
            continue
        index[done : done + fg.shape[1]] = where_run
        rgb[done : done + fg.shape[1]] = fg.T
        done += fg.shape[1]
    return index, rgb


def estimate_foreground(
    rgba: np.ndarray, alpha: np.ndarray, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The subject's own colour under its soft edge, free of the background's.

    Blur fusion (Forte & Pitie 2021, "Approximate Fast Foreground Colour Estimation",
    ICIP): ``F^ = blur(F a) / blur(a)``, ``B^ = blur(B (1-a)) / blur(1-a)``,
    ``F = F^ + a (I - a F^ - (1-a) B^)``, first with ``F = B = I`` and a wide box
    (:data:`FG_WIDE`), then with the first pass's ``F`` and ``B^`` and a local box
    (:data:`FG_LOCAL`). The boxes run on reduced grids, exactly: every cell with mixed
    alpha is summed from its pixels.

    ``rgba`` is the ``(H, W, 4)`` uint8 image, ``alpha`` the ``(H, W)`` uint8 alpha of
    the cut-out. Returns ``(index, rgb)``: flat row-major indices of the pixels with
    ``0 < alpha < 255`` (in no particular order) and their colours, ``(n, 3)`` uint8;
    both empty when there is no such pixel.

    ``out``, a writable C-contiguous ``(H, W, 4)`` uint8 array (``rgba`` itself may be it): the
    colours are written into its RGB instead, a run of cells at a time, and both returned arrays are
    empty. For memory: where the alpha is soft almost everywhere ``(index, rgb)`` are 11 bytes a
    pixel beside the picture, and a caller making its cut-out in the picture needs neither.
    """
    rgba, alpha = _inputs(rgba, alpha)
    _target(out, alpha)  # checked even when there is nothing to write
    edge = _Edge(alpha)
    if not edge.cells:
        return _none()
    return _foreground(edge, _level(rgba, edge.f), rgba, alpha, out)


def refine(
    rgba: np.ndarray,
    alpha: np.ndarray,
    mask: np.ndarray | None = None,
    in_place: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`refine_edges` (``in_place`` as there), then :func:`estimate_foreground` on its
    result (``out`` as there), sharing the reduced image and the edge's cells: ``(alpha, index, rgb)``."""
    rgba, alpha = _inputs(rgba, alpha)
    _target(out, alpha)
    edge = _Edge(alpha)
    if not edge.cells:
        return alpha, *_none()
    level = _level(rgba, edge.f)
    # Refining changes only soft pixels, all inside the edge's cells: they still hold. Blur fusion's
    # first sums are taken from each run of cells as it is refined (its colours read once).
    sums = _Sums(edge)
    refined = _refine(edge, level, rgba, alpha, _scale(alpha, mask), GF_RADIUS, GF_EPS, in_place, sums)
    return (refined, *_foreground(edge, level, rgba, refined, out, sums))
