#!/usr/bin/env python3
"""A robot user corrects cut-outs of the quality set with the edit log (issue 18, section 4).

For each composite of ``bench/quality_set.py`` (known alpha) the engine's cut-out is made as
the pipeline makes it (edges refined); then, up to three times, the robot acts on the largest
wrong region (8-connected pixels on the wrong side of 0.5):

* a **toggle** when that region is (at least 90% of) a whole blob or hole of the cut-out;
* a **lasso** when it is large (its box over 96 px on a side): around its outline, seen from
  its centre (72 directions, 4 px out), or its convex hull;
* else a **stroke** along its middle (the centres of ten slices across its long axis), with a
  radius that makes the core cover about the region's half thickness;

keep or remove as the region needs. The same robot runs with snapping and with a hard brush
(``hard=True``), so snapping's gain is measured, not assumed.

    .venv/bin/python bench/robot_user.py [--engine standard] [--count-per-kind 30] [--masks DIR]

Prints, per kind and brush: mean IoU after 0..3 actions, the share of images at IoU >= 0.95
after each, the largest share of an image an action changed far from where it acted (beyond 3
radii of a stroke, 12 px beyond a lasso or the flipped region), and the mean edge-band MAE
after the last action; writes ``bench/results/robot-<stamp>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "bench"))

import quality_metrics  # noqa: E402
import quality_set  # noqa: E402
from mask_cache import model_mask  # noqa: E402

from backgrone.catalogue import load_catalogue  # noqa: E402
from backgrone.edit_log import Edit, Lasso, Stroke, Toggle  # noqa: E402
from backgrone.edits import Edited, apply_edit, start  # noqa: E402
from backgrone.pipeline import Options, compose, load, with_tensor  # noqa: E402
from backgrone.refine import label  # noqa: E402
from backgrone.strokes import distance, inside  # noqa: E402

ACTIONS = 3
LARGE = 96  # px: a region whose box is larger on a side gets a lasso
WHOLE = 0.9  # a region that is this share of a cut-out's blob or hole gets a toggle
FAR_STROKE = 3.0  # radii
FAR_REGION = 12  # px
SMALLEST = 16  # px: a wrong region smaller than this is left alone


def largest_wrong(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """The largest 8-connected region on the wrong side, and whether it needs keep (missing subject)."""
    wrong = pred != truth
    labels, n = label(wrong, 8)
    if n == 0:
        return None
    sizes = np.bincount(labels.reshape(-1), minlength=n + 1)
    sizes[0] = 0
    region = labels == int(sizes.argmax())
    return region, bool(truth[region].mean() >= 0.5)


def hull(ys: np.ndarray, xs: np.ndarray) -> list[tuple[float, float]]:
    """Convex hull (Andrew's monotone chain) of pixel corners, counter-clockwise."""
    pts = sorted(
        {(float(x + dx), float(y + dy)) for y, x in zip(ys, xs, strict=True) for dx in (0, 1) for dy in (0, 1)}
    )

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def outline(region: np.ndarray, cx: float, cy: float, margin: float = 4.0) -> list[tuple[float, float]]:
    """A lasso a person would draw around the region: seen from its centre, the farthest
    region pixel in each of 72 directions, :data:`margin` px farther out (the region's
    convex hull when its centre lies outside it: no star to trace)."""
    by, bx = boundary_pixels(region)
    if not region[int(cy), int(cx)]:
        return hull(by, bx)
    dx, dy = bx + 0.5 - (cx + 0.5), by + 0.5 - (cy + 0.5)
    angle = np.arctan2(dy, dx)
    reach = np.hypot(dx, dy)
    bins = ((angle + np.pi) / (2 * np.pi) * 72).astype(int) % 72
    far = np.full(72, -1.0)
    np.maximum.at(far, bins, reach)
    poly = []
    for b in np.flatnonzero(far >= 0):
        t = (b + 0.5) / 72 * 2 * np.pi - np.pi
        r = far[b] + margin
        poly.append((cx + 0.5 + r * np.cos(t), cy + 0.5 + r * np.sin(t)))
    return poly


def boundary_pixels(region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edge = region.copy()
    edge[1:-1, 1:-1] &= ~(region[:-2, 1:-1] & region[2:, 1:-1] & region[1:-1, :-2] & region[1:-1, 2:])
    return np.nonzero(edge)


def choose(state: Edited, truth: np.ndarray) -> tuple[Edit, np.ndarray | None] | None:
    """The robot's next edit, and for a toggle the cut-out region it flips."""
    pred = state.alpha >= 128
    found = largest_wrong(pred, truth)
    if found is None:
        return None
    region, keep = found
    ys, xs = np.nonzero(region)
    if ys.size < SMALLEST:
        return None  # nothing a person would still correct
    # Its pixel closest to the centroid: a point inside it.
    cy, cx = ys.mean(), xs.mean()
    k = int(((ys - cy) ** 2 + (xs - cx) ** 2).argmin())
    py, px = int(ys[k]), int(xs[k])
    side = ~pred if keep else pred
    comp, _ = label(side, 4 if keep else 8)
    blob = comp == comp[py, px]
    if region[blob].mean() >= WHOLE:
        return Toggle((px + 0.5, py + 0.5)), blob
    height, width = truth.shape
    if max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 > LARGE:
        poly = outline(region, cx, cy)
        if len(poly) >= 3:
            return Lasso(keep, tuple((min(max(x, 0.0), width), min(max(y, 0.0), height)) for x, y in poly)), None
    # A stroke along the middle: the principal axis, in ten slices.
    coords = np.stack([xs - cx, ys - cy]).astype(np.float64)
    cov = coords @ coords.T / coords.shape[1]
    _, evecs = np.linalg.eigh(cov)
    axis = evecs[:, 1]
    t = axis @ coords
    length = max(float(t.max() - t.min()), 1.0)
    bins = np.minimum(((t - t.min()) / length * 10).astype(int), 9)
    points = []
    for b in range(10):
        sel = bins == b
        if sel.any():
            points.append((float(xs[sel].mean()) + 0.5, float(ys[sel].mean()) + 0.5))
    thickness = ys.size / length
    radius = float(min(max(thickness, 3.0), 200.0))  # the core (radius / 2) covers half the thickness
    return Stroke(keep, radius, tuple(points)), None


def far_share(before: np.ndarray, after: np.ndarray, edit: Edit, blob: np.ndarray | None) -> float:
    changed = before != after
    if not changed.any():
        return 0.0
    h, w = changed.shape
    if isinstance(edit, Stroke):
        near = distance(edit.points, (0, 0, w, h), FAR_STROKE * edit.radius + 1) <= FAR_STROKE * edit.radius
    elif isinstance(edit, Lasso):
        band = distance(edit.polygon, (0, 0, w, h), FAR_REGION + 1, True) <= FAR_REGION + 0.5
        near = inside(edit.polygon, (0, 0, w, h)) | band
    else:
        assert blob is not None
        near = quality_metrics.dilate_square(blob, FAR_REGION)
    return float((changed & ~near).sum() / changed.size)


def robot(rgba: np.ndarray, alpha: np.ndarray, truth_alpha: np.ndarray, hard: bool) -> dict[str, Any]:
    truth = truth_alpha >= 0.5
    state = start(alpha)
    ious = [quality_metrics.iou(state.alpha / 255.0, truth_alpha)]
    far, kinds = [], []
    for _ in range(ACTIONS):
        chosen = choose(state, truth)
        if chosen is None:
            ious.append(ious[-1])
            continue
        edit, blob = chosen
        before = state.alpha.copy()
        apply_edit(rgba, state, edit, hard=hard)
        far.append(far_share(before, state.alpha, edit, blob))
        kinds.append(type(edit).__name__.lower())
        ious.append(quality_metrics.iou(state.alpha / 255.0, truth_alpha))
    band = quality_metrics.edge_band(truth_alpha)
    band_mae = float(np.abs(state.alpha[band] / 255.0 - truth_alpha[band]).mean()) if band.any() else 0.0
    return {"iou": ious, "far": max(far, default=0.0), "actions": kinds, "band_mae": band_mae}


def summary(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| kind | brush | images | IoU after 0 / 1 / 2 / 3 actions | IoU >= 0.95 after 0 / 1 / 2 / 3 "
        "| most changed far away | edge-band MAE after |",
        "|---|---|---|---|---|---|---|",
    ]
    groups = [("studio+texture", ("studio", "texture")), ("photo", ("photo",))]
    for name, kinds in groups:
        for brush in ("snapped", "hard"):
            sel = [r[brush] for r in rows if r["kind"] in kinds]
            if not sel:
                continue
            iou = np.array([r["iou"] for r in sel])
            means = " / ".join(f"{v:.3f}" for v in iou.mean(axis=0))
            shares = " / ".join(f"{v:.0%}" for v in (iou >= 0.95).mean(axis=0))
            far = max(r["far"] for r in sel)
            mae = float(np.mean([r["band_mae"] for r in sel]))
            lines.append(f"| {name} | {brush} | {len(sel)} | {means} | {shares} | {far:.3%} | {mae:.4f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="standard")
    parser.add_argument("--count-per-kind", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--masks", type=Path, help="keep and reuse the model's masks in this folder")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    from backgrone.fetch import fetch_engine
    from backgrone.infer import OnnxSegmenter

    spec = load_catalogue().get(args.engine)
    segmenter = OnnxSegmenter(fetch_engine(spec), spec)
    rows = []
    t0 = time.perf_counter()
    for n, case in enumerate(quality_set.cases(args.seed, args.count_per_kind), 1):
        prepared = with_tensor(load(case.encoded()), spec)
        assert prepared.tensor is not None
        mask = model_mask(args.masks, spec, case.name, partial(segmenter.run, prepared.tensor))
        image, _ = compose(prepared, mask, Options(output="mask", despeckle=True, edges=True))
        alpha = np.asarray(image)
        row: dict[str, Any] = {"case": case.name, "kind": case.kind}
        for brush, hard in (("snapped", False), ("hard", True)):
            row[brush] = robot(prepared.rgba, alpha, case.alpha, hard)
        rows.append(row)
        case.release()
        s, h = row["snapped"], row["hard"]
        print(
            f"{n:3d} {case.name}: IoU {s['iou'][0]:.3f} -> {s['iou'][-1]:.3f} snapped, {h['iou'][-1]:.3f} hard "
            f"({', '.join(s['actions'])})",
            file=sys.stderr,
            flush=True,
        )
    table = summary(rows)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"engine": args.engine, "seed": args.seed, "count_per_kind": args.count_per_kind, "stamp": stamp}
    (args.out / f"robot-{stamp}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (args.out / f"robot-{stamp}.md").write_text(
        f"# Robot user, {args.engine}, seed {args.seed}, {len(rows)} images ({time.perf_counter() - t0:.0f} s)\n\n"
        f"{table}\n"
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
