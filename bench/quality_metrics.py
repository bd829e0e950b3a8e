"""Cut-out quality metrics against a known alpha (and foreground), pure numpy.

All alphas are float arrays ``(H, W)`` in 0..1, colours ``(H, W, 3)`` in 0..1.

* ``mae``: mean absolute alpha error over the whole image.
* ``iou``: intersection over union of the masks at alpha >= 0.5.
* ``band_mae``: alpha MAE inside a band of +-10 px (square) around the true 0.5 edge.
* ``bf3``: boundary F-measure with a 3 px tolerance. Boundary pixels are the pixels of a mask
  (alpha >= 0.5) with a 4-neighbour outside it (the frame's border is not a boundary); precision
  is the share of predicted boundary pixels within 3 px (Euclidean) of a true boundary pixel,
  recall the share of true boundary pixels within 3 px of a predicted one, F = 2PR / (P + R).
* ``colour_err``: mean absolute difference, over the edge band and the three channels, of the
  cut-out's premultiplied colour ``alpha_pred * RGB_pred`` against ``alpha_true * F_true``:
  what a cut-out laid over any background gets wrong at the edges (background colour left in).
"""

from __future__ import annotations

import numpy as np

BAND_WIDTH = 10
BF_TOLERANCE = 3


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.abs(pred.astype(np.float32) - truth.astype(np.float32)).mean())


def iou(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> float:
    p, t = pred >= threshold, truth >= threshold
    union = np.logical_or(p, t).sum()
    return float(np.logical_and(p, t).sum() / union) if union else 1.0


def dilate_square(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a ``(2r+1)`` square (separable; outside the frame counts as empty)."""
    out = mask.copy()
    for k in range(1, radius + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    rows = out.copy()
    for k in range(1, radius + 1):
        out[:, k:] |= rows[:, :-k]
        out[:, :-k] |= rows[:, k:]
    return out


def dilate_disk(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a disk of ``radius`` px (offsets with dy^2 + dx^2 <= r^2)."""
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if (dy == 0 and dx == 0) or dy * dy + dx * dx > radius * radius:
                continue
            ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
            xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
            out[yd, xd] |= mask[ys, xs]
    return out


def edge_band(truth: np.ndarray, width: int = BAND_WIDTH) -> np.ndarray:
    """Pixels within ``width`` px (square) of the true 0.5 edge: grown minus shrunk hard mask,
    as ``bench_quality.edge_band`` always measured it."""
    hard = truth >= 0.5
    grown = dilate_square(hard, width)
    shrunk = ~dilate_square(~hard, width)
    return grown & ~shrunk


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of a boolean mask with a 4-neighbour (inside the frame) outside it."""
    b = np.zeros_like(mask)
    b[1:] |= mask[1:] & ~mask[:-1]
    b[:-1] |= mask[:-1] & ~mask[1:]
    b[:, 1:] |= mask[:, 1:] & ~mask[:, :-1]
    b[:, :-1] |= mask[:, :-1] & ~mask[:, 1:]
    return b


def boundary_f(pred: np.ndarray, truth: np.ndarray, tolerance: int = BF_TOLERANCE, threshold: float = 0.5) -> float:
    """Boundary F-measure (BF) with ``tolerance`` px; 1 when neither mask has a boundary."""
    pb, tb = boundary(pred >= threshold), boundary(truth >= threshold)
    n_pred, n_true = int(pb.sum()), int(tb.sum())
    if n_pred == 0 and n_true == 0:
        return 1.0
    if n_pred == 0 or n_true == 0:
        return 0.0
    # Work only where boundaries are (plus the tolerance): same result, far less to dilate.
    ys, xs = np.nonzero(pb | tb)
    h, w = pb.shape
    window = (
        slice(max(0, ys.min() - tolerance), min(h, ys.max() + 1 + tolerance)),
        slice(max(0, xs.min() - tolerance), min(w, xs.max() + 1 + tolerance)),
    )
    pb, tb = pb[window], tb[window]
    precision = (pb & dilate_disk(tb, tolerance)).sum() / n_pred
    recall = (tb & dilate_disk(pb, tolerance)).sum() / n_true
    return float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0


def colour_error(
    pred_alpha: np.ndarray,
    pred_rgb: np.ndarray,
    truth_alpha: np.ndarray,
    truth_fg: np.ndarray,
    band: np.ndarray | None = None,
) -> float:
    """Mean |alpha_pred * RGB_pred - alpha_true * F_true| over ``band`` (default: the edge band)."""
    if band is None:
        band = edge_band(truth_alpha)
    if not band.any():
        return 0.0
    pred = pred_alpha[band][:, None].astype(np.float32) * pred_rgb[band].astype(np.float32)
    true = truth_alpha[band][:, None].astype(np.float32) * truth_fg[band].astype(np.float32)
    return float(np.abs(pred - true).mean())


def score(
    pred_alpha: np.ndarray,
    truth_alpha: np.ndarray,
    pred_rgb: np.ndarray | None = None,
    truth_fg: np.ndarray | None = None,
) -> dict[str, float]:
    """All metrics at once (``colour_err`` only with both colours)."""
    if pred_alpha.shape != truth_alpha.shape:
        raise ValueError(f"predicted alpha is {pred_alpha.shape}, the truth {truth_alpha.shape}")
    band = edge_band(truth_alpha)
    out = {
        "mae": mae(pred_alpha, truth_alpha),
        "iou": iou(pred_alpha, truth_alpha),
        "band_mae": float(np.abs(pred_alpha[band] - truth_alpha[band]).mean()) if band.any() else 0.0,
        "bf3": boundary_f(pred_alpha, truth_alpha),
    }
    if pred_rgb is not None and truth_fg is not None:
        out["colour_err"] = colour_error(pred_alpha, pred_rgb, truth_alpha, truth_fg, band)
    return out
