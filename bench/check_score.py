#!/usr/bin/env python3
"""The "check these first" score: how well the per-cut-out score finds the cut-outs that need a fix.

On the quality set (``quality_set.py``, 90 composites with known alpha), an engine's cut-out
(default post-processing) "needs a fix" when its IoU against the true alpha is under 0.95. The
score (``backgrone.check_score.score``, from the model's own mask) is measured by ROC AUC,
beside the trivial baseline the issue names (``check_score.soft_share``: the share of the
subject's area whose alpha is neither near 0 nor near 1), and the threshold is picked that
flags at most one good cut-out in five (false-positive rate <= 0.2), as many bad ones as that
allows.

    .venv/bin/python bench/check_score.py [--engine standard] [--masks DIR] [--out bench/results]

``--masks DIR`` keeps the model's masks (the same files as ``bench_quality.py --masks``), so a
second run needs no model. ``--rescore JSON`` (with ``--masks``) takes IoU and baseline from an
earlier run's JSON and scores its masks again: seconds, for a change of the score alone.
Writes ``check_score-<engine>-<stamp>.{json,md}`` and the ROC curves as
``docs/images/check-score-roc-<engine>.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_metrics  # noqa: E402
import quality_set  # noqa: E402
from mask_cache import mask_file, model_mask  # noqa: E402

from backgrone import Options, check_score, load_catalogue  # noqa: E402
from backgrone.pipeline import compose, load, with_tensor  # noqa: E402

GOOD_IOU = 0.95
MAX_FALSE_FLAGS = 0.2  # at most one good cut-out in five flagged


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC: the chance that a random positive scores above a random negative (ties half)."""
    p, n = scores[positive], scores[~positive]
    if p.size == 0 or n.size == 0:
        return float("nan")
    above = (p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()
    return float(above / (p.size * n.size))


def roc(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False- and true-positive rates when flagging ``score >= t``, for every distinct ``t``."""
    thresholds = np.unique(scores)[::-1]
    fpr = np.array([(scores[~positive] >= t).mean() for t in thresholds])
    tpr = np.array([(scores[positive] >= t).mean() for t in thresholds])
    return thresholds, fpr, tpr


def pick_threshold(scores: np.ndarray, positive: np.ndarray) -> dict[str, float]:
    """The lowest threshold whose false-positive rate is at most :data:`MAX_FALSE_FLAGS`."""
    thresholds, fpr, tpr = roc(scores, positive)
    ok = np.flatnonzero(fpr <= MAX_FALSE_FLAGS)
    i = ok[-1]  # thresholds fall, rates rise: the last one allowed
    return {"threshold": float(thresholds[i]), "fpr": float(fpr[i]), "tpr": float(tpr[i])}


def collect(engine: str, masks: Path | None, log=print) -> list[dict]:
    from backgrone.fetch import model_path
    from backgrone.infer import OnnxSegmenter

    spec = load_catalogue().get(engine)
    segmenter = None
    rows = []

    def run(tensor: np.ndarray | None) -> np.ndarray:
        nonlocal segmenter
        segmenter = segmenter or OnnxSegmenter(model_path(spec), spec)  # only when a mask is not kept
        assert tensor is not None
        return segmenter.run(tensor)

    for case in quality_set.cases():
        prepared = with_tensor(load(case.encoded()), spec)
        mask = model_mask(masks, spec, case.name, partial(run, prepared.tensor))
        report: dict = {}
        image, _ = compose(prepared, mask, Options(), report=report)
        alpha = np.asarray(image)[..., 3]
        rows.append(
            {
                "case": case.name,
                "kind": case.kind,
                "iou": round(quality_metrics.iou(alpha / 255, case.alpha), 5),
                "score": report["check"],
                "baseline": round(check_score.soft_share(alpha), 5),
                "uncertainty": round(check_score.uncertainty(mask), 5),
                "touching": round(check_score.touching(mask), 5),
            }
        )
        case.release()
        r = rows[-1]
        log(f"{engine} {case.name}: IoU {r['iou']:.3f} score {r['score']:.3f} baseline {r['baseline']:.3f}")
    return rows


def rescore(engine: str, previous: Path, masks: Path) -> list[dict]:
    """An earlier run's rows (IoU, baseline: they do not depend on the score) scored again."""
    spec = load_catalogue().get(engine)
    rows = json.loads(previous.read_text())["rows"]
    for r in rows:
        mask = np.load(mask_file(masks, spec, r["case"])).astype(np.float32)
        r.update(
            score=check_score.score(mask),
            uncertainty=round(check_score.uncertainty(mask), 5),
            touching=round(check_score.touching(mask), 5),
        )
    return rows


def summarise(rows: list[dict]) -> dict:
    positive = np.array([r["iou"] < GOOD_IOU for r in rows])
    out: dict = {"images": len(rows), "need_a_fix": int(positive.sum())}
    for key in ("score", "baseline"):
        s = np.array([r[key] for r in rows], float)
        out[key] = {"auc": round(auc(s, positive), 4), **pick_threshold(s, positive)}
    kinds = sorted({r["kind"] for r in rows})
    out["by_kind"] = {}
    for kind in kinds:
        idx = np.array([r["kind"] == kind for r in rows])
        out["by_kind"][kind] = {
            "images": int(idx.sum()),
            "need_a_fix": int(positive[idx].sum()),
            **{
                f"{key}_auc": round(auc(np.array([r[key] for r in rows], float)[idx], positive[idx]), 4)
                for key in ("score", "baseline")
            },
        }
    return out


def plot(rows: list[dict], summary: dict, path: Path, engine: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positive = np.array([r["iou"] < GOOD_IOU for r in rows])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.4))
    for key, label in (("score", "check score"), ("baseline", "baseline: soft share")):
        s = np.array([r[key] for r in rows], float)
        _, fpr, tpr = roc(s, positive)
        ax.step([0, *fpr, 1], [0, *tpr, 1], where="post", label=f"{label} (AUC {summary[key]['auc']:.3f})")
    chosen = summary["score"]
    ax.axvline(MAX_FALSE_FLAGS, color="grey", lw=0.8, ls="--")
    ax.plot([chosen["fpr"]], [chosen["tpr"]], "o", color="black", label=f"flag at >= {chosen['threshold']:.2f}")
    ax.set(xlabel="good cut-outs flagged (FPR)", ylabel="cut-outs needing a fix flagged (TPR)", title="ROC")
    ax.legend(loc="lower right", fontsize=8)
    colours = {"studio": "tab:blue", "texture": "tab:orange", "photo": "tab:green"}
    for kind, colour in colours.items():
        pick = [r for r in rows if r["kind"] == kind]
        bx.scatter([r["iou"] for r in pick], [r["score"] for r in pick], s=14, c=colour, label=kind)
    bx.axvline(GOOD_IOU, color="grey", lw=0.8, ls="--")
    bx.axhline(chosen["threshold"], color="black", lw=0.8)
    bx.set(xlabel="IoU against the true alpha", ylabel="check score", title="score per cut-out")
    bx.legend(fontsize=8)
    fig.suptitle(f"'Check these first' on the quality set, engine {engine} (IoU < {GOOD_IOU} needs a fix)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def markdown(summary: dict, engine: str) -> str:
    s, b = summary["score"], summary["baseline"]
    lines = [
        f"# 'Check these first', engine {engine}: {summary['images']} images, "
        f"{summary['need_a_fix']} with IoU < {GOOD_IOU}",
        "",
        "| measure | ROC AUC | threshold (FPR <= 0.2) | good flagged | needing a fix flagged |",
        "|---|---|---|---|---|",
        f"| check score | **{s['auc']:.3f}** | {s['threshold']:.3f} | {s['fpr']:.0%} | {s['tpr']:.0%} |",
        f"| baseline: soft share | {b['auc']:.3f} | {b['threshold']:.3f} | {b['fpr']:.0%} | {b['tpr']:.0%} |",
        "",
        "| kind | images | need a fix | score AUC | baseline AUC |",
        "|---|---|---|---|---|",
    ]
    for kind, k in summary["by_kind"].items():
        lines.append(f"| {kind} | {k['images']} | {k['need_a_fix']} | {k['score_auc']} | {k['baseline_auc']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="standard")
    parser.add_argument("--masks", type=Path, help="keep and reuse the model's masks in this folder")
    parser.add_argument("--rescore", type=Path, help="an earlier run's JSON: score its masks again")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.rescore and not args.masks:
        parser.error("--rescore needs --masks")
    rows = rescore(args.engine, args.rescore, args.masks) if args.rescore else collect(args.engine, args.masks)
    summary = summarise(rows)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"check_score-{args.engine}-{stamp}"
    base.with_suffix(".json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    text = markdown(summary, args.engine)
    base.with_suffix(".md").write_text(text)
    plot(rows, summary, ROOT / "docs" / "images" / f"check-score-roc-{args.engine}.png", args.engine)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
