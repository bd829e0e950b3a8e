"""Edge snapping for keep/remove strokes and lassos: the user's hint, solved against the photo.

A brush or lasso says roughly where the subject is. Its *sure* part (a stroke's core,
a lasso's inside away from its outline) is set and locked; its *unknown* part (the rest
of the brush, a band around the outline) gets its alpha from the photo's colours: a
colour guided filter (He, Sun & Tang, "Guided Image Filtering", ECCV 2010 and TPAMI
35(6), 2013) whose linear model ``q = a . I + b`` is fitted in each window only to the
pixels whose alpha is known (the sure part, locked pixels, and the current alpha
beyond the brush): a weighted guided filter with 0/1 weights (cf. Li et al.,
"Weighted Guided Image Filtering", IEEE TIP 24(1), 2015, where the weights regularise
instead). A window that sees the subject's colour marked 1 and the background's
marked 0 maps each unknown pixel to where its colour lies between them, so a rough
stroke along a boundary follows the photo's real edge and a soft edge (hair, fur)
keeps fractional alpha. Windows are averaged weighted by how many known pixels they
hold, so a window with none has no say.

Only unknown pixels change, so nothing beyond the brush (or the band) moves, and the
fit reads known pixels at most two window radii farther. Window sums are exact
integer sums (summed-area tables of uint8 products in int64); the rest is element-wise
float64, with prefix sums (sequential) for the averaging: the same bits everywhere.
"""

from __future__ import annotations

import numpy as np

from .strokes import Box

# Regularisation of the colour covariance, for colours in 0..1 (He et al.'s epsilon):
# larger than refine.py's, since the fit here spans a whole brush and must not follow
# the photo's grain.
EPS = 1e-3
# Snapped alpha within this of 0 or 1 becomes 0 or 1: no faint haze where the colours
# were clearly one side's.
SNAP = 0.04
# The weight of a window whose known alpha is all one value, against a variance in 0..0.25
# of one that saw an edge.
INFORMED = 1e-3


def _window_sums(plane: np.ndarray, r: int) -> np.ndarray:
    """Sums over ``(2r+1)^2`` windows clipped at the plane's borders, by a summed-area
    table in the plane's own dtype (int64: exact; float64: prefix sums in order)."""
    h, w = plane.shape
    table = np.zeros((h + 1, w + 1), plane.dtype)
    np.cumsum(plane, axis=0, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    i, j = np.arange(h), np.arange(w)
    top, bottom = np.maximum(i - r, 0), np.minimum(i + r + 1, h)
    left, right = np.maximum(j - r, 0), np.minimum(j + r + 1, w)
    rows_b, rows_t = table[bottom], table[top]
    return rows_b[:, right] - rows_t[:, right] - rows_b[:, left] + rows_t[:, left]


def _cell_blocks(plane: np.ndarray, s: int, ci: np.ndarray, cj: np.ndarray) -> np.ndarray:
    """The ``s x s`` blocks of the cells ``(ci, cj)`` of a plane ``(h, w[, c])`` (zero beyond its
    border): ``(n, s, s[, c])``, gathered from the plane's own dtype without copying the
    plane (a view splits it into whole cells; the few cells cut by its border are copied
    one by one)."""
    h, w = plane.shape[:2]
    rest = plane.shape[2:]
    fh, fw = h // s, w // s  # whole cells
    inner = (ci < fh) & (cj < fw)
    if inner.all():
        return plane[: fh * s, : fw * s].reshape(fh, s, fw, s, *rest)[ci, :, cj]
    out = np.zeros((ci.size, s, s, *rest), plane.dtype)
    if inner.any():
        out[inner] = plane[: fh * s, : fw * s].reshape(fh, s, fw, s, *rest)[ci[inner], :, cj[inner]]
    for k in np.flatnonzero(~inner):
        block = plane[ci[k] * s : (ci[k] + 1) * s, cj[k] * s : (cj[k] + 1) * s]
        out[k, : block.shape[0], : block.shape[1]] = block
    return out


def _grow(cells: np.ndarray, by: int) -> np.ndarray:
    """The cells within ``by`` cells (a square) of the true ones."""
    return _window_sums(cells.astype(np.int64), by) > 0


def _bilinear(grid: np.ndarray, s: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Samples of a ``(k, gh, gw)`` grid of cell values at pixels ``(ys, xs)``; cell ``(i, j)``
    is centred on pixel ``((j + 0.5) s - 0.5, (i + 0.5) s - 0.5)``, edge cells held beyond."""
    _, gh, gw = grid.shape
    if s == 1:
        return grid[:, ys, xs]

    def axis(v: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = (v + 0.5) / s - 0.5
        lo = np.floor(f)
        i = lo.astype(np.int64)
        return np.clip(i, 0, size - 1), np.clip(i + 1, 0, size - 1), f - lo

    ya, yb, wy = axis(ys.astype(np.float64), gh)
    xa, xb, wx = axis(xs.astype(np.float64), gw)
    top = grid[:, ya, xa] * (1 - wx) + grid[:, ya, xb] * wx
    bottom = grid[:, yb, xa] * (1 - wx) + grid[:, yb, xb] * wx
    return top * (1 - wy) + bottom * wy


def guided(rgb: np.ndarray, p: np.ndarray, known: np.ndarray, r: int, want: np.ndarray, eps: float = EPS) -> np.ndarray:
    """The weighted colour guided filter: ``rgb`` ``(h, w, 3)`` uint8 guide, ``p`` ``(h, w)``
    uint8 alpha, read only where ``known``; window radius ``r`` px. Returns ``q`` at the
    pixels ``want`` (in row-major order), float64 in 0..1, snapped to 0 or 1 within
    :data:`SNAP`.

    As the fast guided filter (He & Sun 2015, arXiv:1505.00996), the window statistics and
    coefficients live on cells of about ``r / 4`` px (exact integer cell sums), and the
    averaged coefficients are sampled bilinearly at the wanted pixels, where ``q = a . I + b``
    uses their own full-resolution colour: the cost follows the wanted pixels and the cells
    around them, not the window's size nor the box's."""
    s = max(1, round(r / 4))
    rc = max(1, round(r / s))
    h, w = p.shape
    gh, gw = -(-h // s), -(-w // s)
    ys, xs = np.nonzero(want)
    # Only the cells a wanted pixel depends on are summed: its coefficients are sampled from
    # the cells next to its own, each averages the windows of the cells within rc, and each
    # window sums the cells within rc: a long stroke across the image costs its band of cells,
    # not its box. The sums elsewhere are 0 and their windows get no weight.
    wanted = np.zeros((gh, gw), np.bool_)
    wanted[ys // s, xs // s] = True
    stats = _grow(wanted, rc + 1)
    ci, cj = np.nonzero(_grow(stats, rc))
    # Products of uint8 values fit int32 (and halve the memory traffic); cell sums are int64.
    k = _cell_blocks(known, s, ci, cj).astype(np.int32)
    pb = _cell_blocks(p, s, ci, cj).astype(np.int32)
    block = _cell_blocks(rgb, s, ci, cj)
    colours = [block[..., c].astype(np.int32) for c in range(3)]
    pk = pb * k
    # A cell of uint8 products fits int32 up to 181 x 181 px; summed in it, then widened.
    small = np.int32 if s * s * 65025 < 2**31 else np.int64

    def cells(blocks: np.ndarray) -> np.ndarray:
        grid = np.zeros((gh, gw), np.int64)
        grid[ci, cj] = blocks.sum(axis=2, dtype=small).sum(axis=1, dtype=small)
        return grid

    n = _window_sums(cells(k), rc)
    some = (n > 0) & stats
    nn = np.where(some, n, 1).astype(np.float64)

    def mean(blocks: np.ndarray, scale: float) -> np.ndarray:
        return _window_sums(cells(blocks), rc) / (nn * scale)

    mean_i = [mean(c * k, 255.0) for c in colours]
    mean_p = mean(pk, 255.0)
    cov = [mean(c * pk, 65025.0) - m * mean_p for c, m in zip(colours, mean_i, strict=True)]
    pairs = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    rr, rg, rb, gg, gb, bb = (
        mean(colours[a] * colours[b] * k, 65025.0) - mean_i[a] * mean_i[b] + (eps if a == b else 0.0) for a, b in pairs
    )
    # The symmetric 3x3 covariance inverted by cofactors, per window.
    i_rr, i_rg, i_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i_gg, i_gb, i_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = np.where(stats, rr * i_rr + rg * i_rg + rb * i_rb, 1.0)  # partial sums beyond: no say
    a_r = (i_rr * cov[0] + i_rg * cov[1] + i_rb * cov[2]) / det
    a_g = (i_rg * cov[0] + i_gg * cov[1] + i_gb * cov[2]) / det
    a_b = (i_rb * cov[0] + i_gb * cov[1] + i_bb * cov[2]) / det
    b = mean_p - a_r * mean_i[0] - a_g * mean_i[1] - a_b * mean_i[2]

    # Average the windows' models over the windows covering each cell, each weighted by
    # its known pixels times the variance of their alpha (plus INFORMED): a window that saw
    # both sides knows where the edge is, one that saw one side only predicts a constant,
    # and must not smear that side's alpha across the edge.
    var_p = mean(pk * pb, 65025.0) - mean_p * mean_p
    total = np.where(some, n * (np.maximum(var_p, 0.0) + INFORMED), 0.0)
    norm = _window_sums(total, rc)
    norm[norm == 0] = 1.0
    coef = np.stack([_window_sums(total * c, rc) / norm for c in (a_r, a_g, a_b, b)])
    at = _bilinear(coef, s, ys, xs)
    q = at[3] + at[0] * (rgb[ys, xs, 0] / 255.0) + at[1] * (rgb[ys, xs, 1] / 255.0) + at[2] * (rgb[ys, xs, 2] / 255.0)
    np.clip(q, 0.0, 1.0, out=q)
    q[q < SNAP] = 0.0
    q[q > 1.0 - SNAP] = 1.0
    return q


def paint(
    rgba: np.ndarray,
    alpha: np.ndarray,
    locked: np.ndarray,
    box: Box,
    sure: np.ndarray,
    unknown: np.ndarray,
    cover: np.ndarray,
    keep: bool,
    radius: int,
    hard: bool = False,
) -> None:
    """Apply one hint, in place, inside ``box`` of the full-size ``alpha`` and ``locked``.

    ``sure``, ``unknown`` and ``cover`` are ``box``-sized: ``sure`` pixels become 255
    (``keep``) or 0 and are locked (a later edit wins over an earlier lock);
    ``unknown`` pixels that are not locked are snapped (window radius ``radius``) and
    blended in by ``cover`` (1 inside, a 1 px anti-aliased rim at the brush's outer
    edge). ``box`` must reach ``2 * radius`` px beyond ``unknown`` (or the image's
    border), so that the fit sees the known pixels around it. ``hard``: no snapping,
    the unknown part is painted like the sure part (for comparison only)."""
    x0, y0, x1, y1 = box
    a = alpha[y0:y1, x0:x1]
    lk = locked[y0:y1, x0:x1]
    target = 255 if keep else 0
    a[sure] = target
    lk[sure] = True
    free = unknown & ~lk
    if not free.any():
        return
    if hard:
        new = np.full(int(free.sum()), float(target))
    else:
        new = guided(rgba[y0:y1, x0:x1, :3], a, ~unknown | lk, radius, free) * 255.0
    cur = a[free].astype(np.float64)
    a[free] = np.floor(cur + (new - cur) * cover[free] + 0.5).astype(np.uint8)
