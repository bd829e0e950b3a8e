#!/usr/bin/env python3
"""A robot user corrects cut-outs of the quality set with the edit log (issue 18, section 4).

For each composite of ``bench/quality_set.py`` (known alpha) the engine's cut-out is made as
the pipeline makes it (edges refined); then, up to three times, the robot acts on the largest
wrong region (8-connected pixels on the wrong side of 0.5):

* a **toggle** when that region is (at least 90% of) a whole blob or hole of the cut-out;
* a **lasso** when it is large (its box over 96 px on a side): traced around its outline,
  4 px out, concave parts followed (unless its inside holds more pixels of the other side
  that are already right than half the region: the outline of a ring around the subject);
* else a **stroke** along its middle (its skeleton's longest run, a point every half
  radius), with a radius whose core covers the region's thickness;

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
HARM = 0.5  # no lasso whose inside holds more right pixels of the other side than this share of the region


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


def outline(region: np.ndarray, margin: float = 4.0) -> list[tuple[float, float]]:
    """A lasso a person would draw around the region: its outer outline traced
    :data:`margin` px outside it (the boundary of the region grown by a disc), as a
    polygon with vertices within 1.5 px of that trace. Concave parts are followed, as a
    careful hand follows them, not bridged."""
    from scipy.ndimage import distance_transform_edt
    from skimage.measure import approximate_polygon, find_contours

    ys, xs = np.nonzero(region)
    pad = int(margin) + 2
    y0, x0 = ys.min() - pad, xs.min() - pad
    crop = np.zeros((ys.max() - y0 + pad + 1, xs.max() - x0 + pad + 1), np.bool_)
    crop[ys - y0, xs - x0] = True
    grown = distance_transform_edt(~crop) <= margin
    contour = max(find_contours(grown.astype(np.float64), 0.5), key=len)
    poly = approximate_polygon(contour, tolerance=1.5)
    # find_contours works on pixel indices (centres at integers): to pixel-centre coordinates.
    return [(float(x) + x0 + 0.5, float(y) + y0 + 0.5) for y, x in poly[:-1]]


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
        poly = outline(region)
        # Not when the lasso would flip more that is already right than it fixes (the outline
        # of a ring around the subject encloses the subject): a person sees that and strokes.
        right = (truth == pred) & (truth != keep)
        if len(poly) >= 3 and (inside(poly, (0, 0, width, height)) & right).sum() <= HARM * ys.size:
            return Lasso(keep, tuple((min(max(x, 0.0), width), min(max(y, 0.0), height)) for x, y in poly)), None
    points, radius = middle(region, ys, xs)
    return Stroke(keep, radius, tuple(points)), None


def middle(region: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> tuple[list[tuple[float, float]], float]:
    """A stroke along the region's middle, as a hand follows it: its skeleton's longest run,
    one point per half radius, and a radius whose core (half of it) covers the region's
    thickness (its area over its skeleton's length)."""
    from skimage.morphology import skeletonize

    y0, x0 = ys.min(), xs.min()
    crop = region[y0 : ys.max() + 1, x0 : xs.max() + 1]
    sy, sx = np.nonzero(skeletonize(crop))
    if sy.size == 0:
        sy, sx = ys - y0, xs - x0
    radius = float(min(max(ys.size / max(sy.size, 1), 3.0), 200.0))
    # One skeleton point per cell of half a radius, then a greedy walk from an end.
    cell = max(2.0, radius / 2)
    _, first = np.unique((sy // cell).astype(np.int64) * 1_000_003 + (sx // cell).astype(np.int64), return_index=True)
    pts = np.stack([sx[first] + x0 + 0.5, sy[first] + y0 + 0.5], axis=1).astype(np.float64)
    centre = pts.mean(axis=0)
    order = [int(np.hypot(*(pts - centre).T).argmax())]
    left = np.ones(len(pts), np.bool_)
    left[order[0]] = False
    runs, run = [], [order[0]]
    while left.any():
        d = np.hypot(*(pts - pts[run[-1]]).T)
        d[~left] = np.inf
        nxt = int(d.argmin())
        left[nxt] = False
        if d[nxt] > 3 * cell:  # a gap: a new run
            runs.append(run)
            run = []
        run.append(nxt)
    runs.append(run)
    best = max(runs, key=len)
    return [(float(pts[i, 0]), float(pts[i, 1])) for i in best], radius


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
    groups = [("studio", ("studio",)), ("texture", ("texture",)), ("studio+texture", ("studio", "texture"))]
    groups.append(("photo", ("photo",)))
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
