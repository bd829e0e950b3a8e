#!/usr/bin/env python3
"""Cut-out quality of each engine, and of each finishing step, on a set with known alpha.

The set (``quality_set.py``): 3D emoji with soft alpha (npm @lobehub/fluent-emoji-3d) composited
as I = a*F + (1-a)*B over studio backdrops, plain textures and photos with a competing subject
(scikit-image's bundled pictures), 640x480 to 2400x1600. It has no hair, fur or glass: say so
wherever its numbers are quoted. Metrics (``quality_metrics.py``) on alpha in 0..1: MAE, IoU at
0.5, MAE in a 10 px band around the true edge, boundary F at 3 px (BF3), and the colour error of
the cut-out's premultiplied RGB against a*F in that band.

Each engine runs once per image; each variant (a set of ``Options`` finishing steps) then composes
its cut-out from that one mask.

    .venv/bin/python bench/bench_quality.py [--engines fast,standard,detailed,medium] [--count-per-kind 30]
        [--variants plain,default,despeckle,edges,decontaminate] [--out bench/results]

Writes ``quality-<stamp>.json`` (every image's row and the aggregates), ``quality-<stamp>.md``
(also printed) and ``quality-<stamp>-<engine>-worst.png`` (the worst images by IoU: input, true
alpha, predicted alpha, cut-out on a checkerboard). ``BACKGRONE_CATALOGUE`` points it at another
catalogue (experimental engines). ``run_engine``, ``aggregate``, ``report`` and ``montage`` take
any segmenter with ``spec`` and ``run(tensor)``.
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import quality_metrics  # noqa: E402
import quality_set  # noqa: E402
from mask_cache import model_mask  # noqa: E402
from quality_metrics import edge_band  # noqa: E402, F401  (kept importable from here)

from backgrone import Options, load_catalogue  # noqa: E402
from backgrone.pipeline import compose, load, with_tensor  # noqa: E402

STEPS = ("despeckle", "edges", "decontaminate")
GROUPS = ("studio", "texture", "photo", "studio+texture", "all")
METRICS = ("mae", "iou", "band_mae", "bf3", "colour_err")
SET_NOTE = "no hair, fur or glass in this set"


def all_variants() -> dict[str, dict[str, bool]]:
    """Variant name -> ``Options`` fields: ``plain`` (no finishing step), ``default`` (the
    product's defaults) and one per step alone. Only ``plain`` (= ``{}``) while ``Options`` has
    none of the step fields."""
    have = [f.name for f in dataclasses.fields(Options) if f.name in STEPS]
    if not have:
        return {"plain": {}}
    out: dict[str, dict[str, bool]] = {"plain": dict.fromkeys(have, False), "default": {}}
    for step in have:
        out[step] = {f: f == step for f in have}
    return out


def pick_variants(names: Sequence[str] | None, log: Callable[[str], None] = print) -> dict[str, dict[str, bool]]:
    """The requested variants that this ``Options`` supports (all when ``names`` is None)."""
    available = all_variants()
    if len(available) == 1:
        log(f"note: Options has no {'/'.join(STEPS)} fields yet: only the 'plain' variant can run")
    if names is None:
        return available
    unknown = [n for n in names if n not in ("plain", "default", *STEPS)]
    if unknown:
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}: choose from plain, default, {', '.join(STEPS)}")
    missing = [n for n in names if n not in available]
    if missing:
        log(f"note: variant(s) {', '.join(missing)} unavailable with this Options; skipped")
    chosen = {n: available[n] for n in names if n in available}
    if "plain" not in chosen:  # every delta is taken against it
        chosen = {"plain": available["plain"], **chosen}
    return chosen


# --- the worst images, kept as thumbnails while running ------------------------------------------

THUMB = 220


def _checker(size: tuple[int, int], cell: int = 10) -> Image.Image:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    tiles = ((yy // cell + xx // cell) % 2).astype(np.uint8)
    return Image.fromarray(np.where(tiles[..., None] == 1, 205, 250).astype(np.uint8).repeat(3, axis=2), "RGB")


def _thumb(image: Image.Image) -> Image.Image:
    image = image.copy()
    image.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
    return image


class WorstImages:
    """Keeps the ``k`` lowest-IoU images of one variant (of ``kinds``, default all) as thumbnails
    (for :func:`montage`)."""

    def __init__(self, variant: str, k: int = 6, kinds: Iterable[str] | None = None):
        self.variant, self.k = variant, k
        self.kinds = set(kinds) if kinds is not None else None
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._n = 0

    def offer(self, row: Mapping[str, Any], case: quality_set.Case, cutout: Image.Image) -> None:
        key = -float(row["iou"])
        if self.kinds is not None and case.kind not in self.kinds:
            return
        if len(self._heap) >= self.k and key <= self._heap[0][0]:
            return
        checker = _checker(cutout.size, cell=max(4, min(cutout.size) // 40))
        checker.paste(cutout, (0, 0), cutout)
        entry = {
            "row": dict(row),
            "tiles": [
                _thumb(Image.fromarray(case.image, "RGB")),
                _thumb(Image.fromarray(np.round(case.alpha * 255).astype(np.uint8), "L")),
                _thumb(cutout.getchannel("A")),
                _thumb(checker),
            ],
        }
        self._n += 1
        item = (key, self._n, entry)
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, item)
        else:
            heapq.heapreplace(self._heap, item)

    def worst(self) -> list[dict[str, Any]]:
        """Worst first."""
        return [entry for _, _, entry in sorted(self._heap, key=lambda t: (-t[0], t[1]))]


def montage(worst: WorstImages, title: str = "") -> Image.Image:
    """One row per image: input | true alpha | predicted alpha | cut-out on a checkerboard."""
    entries = worst.worst()
    head, caption, pad = 28, 34, 6
    labels = ("input", "true alpha", "predicted alpha", "cut-out")
    width = 4 * (THUMB + pad) + pad
    height = head + max(1, len(entries)) * (THUMB + caption + pad)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 4), title, fill="black")
    for col, label in enumerate(labels):
        draw.text((pad + col * (THUMB + pad), 16), label, fill=(90, 90, 90))
    for i, entry in enumerate(entries):
        top = head + i * (THUMB + caption + pad)
        for col, tile in enumerate(entry["tiles"]):
            sheet.paste(tile.convert("RGB"), (pad + col * (THUMB + pad), top))
        row = entry["row"]
        draw.text(
            (pad, top + THUMB + 3),
            f"{row['case']} ({row['width']}x{row['height']})\n"
            f"IoU {row['iou']:.3f}  MAE {row['mae']:.4f}  band MAE {row['band_mae']:.3f}  BF3 {row['bf3']:.3f}  "
            f"colour {row['colour_err']:.4f}",
            fill="black",
        )
    if not entries:
        draw.text((pad, head + 10), "no images", fill="black")
    return sheet


# --- running ---------------------------------------------------------------------------------------


def run_engine(
    segmenter: Any,
    cases: Iterable[quality_set.Case],
    variants: Mapping[str, Mapping[str, Any]],
    worst: WorstImages | None = None,
    engine: str | None = None,
    log: Callable[[str], None] = lambda msg: None,
    masks: Path | None = None,
) -> list[dict[str, Any]]:
    """Run ``segmenter`` once per case and score the cut-out of every variant: one row per
    (case, variant). ``segmenter`` needs ``spec`` and ``run(tensor) -> mask``.

    With ``masks`` (a folder), the model's masks are kept there per engine file and case and
    reused on the next run, so post-processing can be re-scored without running the models."""
    engine = engine or segmenter.spec.name
    rows = []
    for n, case in enumerate(cases, 1):
        data = case.encoded()
        t0 = time.perf_counter()
        prepared = with_tensor(load(data), segmenter.spec)
        t1 = time.perf_counter()
        assert prepared.tensor is not None
        mask = model_mask(masks, segmenter.spec, case.name, partial(segmenter.run, prepared.tensor))
        t2 = time.perf_counter()
        line = []
        for name, fields in variants.items():
            t3 = time.perf_counter()
            cutout, _ = compose(prepared, mask, Options(output="cutout", **fields))
            compose_ms = (time.perf_counter() - t3) * 1000
            rgba = np.asarray(cutout.convert("RGBA"))
            alpha = rgba[..., 3].astype(np.float32) / 255
            rgb = rgba[..., :3].astype(np.float32) / 255
            scores = quality_metrics.score(alpha, case.alpha, rgb, case.foreground)
            row = {
                "engine": engine,
                "variant": name,
                "case": case.name,
                "kind": case.kind,
                "source": case.source,
                "emoji": case.emoji,
                "width": case.width,
                "height": case.height,
                "prepare_ms": round((t1 - t0) * 1000, 1),
                "infer_ms": round((t2 - t1) * 1000, 1),
                "compose_ms": round(compose_ms, 1),
                **{k: round(v, 5) for k, v in scores.items()},
            }
            rows.append(row)
            if worst is not None and name == worst.variant:
                worst.offer(row, case, cutout.convert("RGBA"))
            line.append(f"{name} {row['iou']:.3f}")
        case.release()
        log(f"{engine} {n:3d} {case.name}: infer {(t2 - t1) * 1000:.0f} ms, IoU {', '.join(line)}")
    return rows


def add_deltas(rows: list[dict[str, Any]]) -> None:
    """Give every non-plain row ``delta_iou``: its IoU minus the plain variant's on that image."""
    plain = {(r["engine"], r["case"]): r["iou"] for r in rows if r["variant"] == "plain"}
    for r in rows:
        base = plain.get((r["engine"], r["case"]))
        if r["variant"] != "plain" and base is not None:
            r["delta_iou"] = round(r["iou"] - base, 5)


def _in_group(kind: str, group: str) -> bool:
    return group == "all" or kind in group.split("+")


def aggregate(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """engine -> variant -> group (studio, texture, photo, studio+texture, all) -> means and counts."""
    add_deltas(rows)
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for engine in dict.fromkeys(r["engine"] for r in rows):
        out[engine] = {}
        for variant in dict.fromkeys(r["variant"] for r in rows if r["engine"] == engine):
            out[engine][variant] = {}
            for group in GROUPS:
                sel = [
                    r for r in rows if r["engine"] == engine and r["variant"] == variant and _in_group(r["kind"], group)
                ]
                if not sel:
                    continue
                agg: dict[str, Any] = {"count": len(sel)}
                for k in METRICS:
                    values = [r[k] for r in sel if k in r]
                    if values:
                        agg[k] = round(statistics.fmean(values), 5)
                agg["iou_min"] = min(r["iou"] for r in sel)
                agg["iou_min_case"] = min(sel, key=lambda r: r["iou"])["case"]
                agg["iou_ge_095"] = sum(r["iou"] >= 0.95 for r in sel)
                deltas = [r for r in sel if "delta_iou" in r]
                if deltas:
                    worst = min(deltas, key=lambda r: r["delta_iou"])
                    agg["delta_iou_mean"] = round(statistics.fmean(r["delta_iou"] for r in deltas), 5)
                    agg["delta_iou_worst"] = worst["delta_iou"]
                    agg["delta_iou_worst_case"] = worst["case"]
                    agg["delta_iou_best"] = max(r["delta_iou"] for r in deltas)
                agg["infer_ms"] = round(statistics.fmean(r["infer_ms"] for r in sel), 1)
                agg["compose_ms"] = round(statistics.fmean(r["compose_ms"] for r in sel), 1)
                out[engine][variant][group] = agg
    return out


def set_description(cases: Sequence[quality_set.Case]) -> str:
    kinds = {k: sum(c.kind == k for c in cases) for k in quality_set.KINDS}
    sizes = sorted({(max(c.width, c.height), min(c.width, c.height)) for c in cases}, key=lambda s: s[0] * s[1])
    return (
        f"{len(cases)} composites ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
        f"{sizes[0][0]}x{sizes[0][1]} to {sizes[-1][0]}x{sizes[-1][1]} landscape and portrait; "
        f"3D emoji subjects; {SET_NOTE}"
    )


def report(agg: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """The Markdown report: one table per engine, a row per variant and group."""
    lines = [
        f"# Cut-out quality, {meta.get('stamp', '')}",
        "",
        f"Set: {meta.get('set', '')} (seed {meta.get('seed', 0)}). Alpha in 0..1; band = 10 px around the "
        "true edge; BF3 = boundary F at 3 px; colour = |a*RGB - a*F| in the band (0..1); "
        "ΔIoU = variant minus plain, per image (worst, mean).",
        "",
        "Summary on studio+texture (the clean-background cases); photo IoU for comparison:",
        "",
        "| engine | variant | MAE | IoU | IoU min | IoU >= 0.95 | band MAE | BF3 | colour | ΔIoU worst | photo IoU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, variants in agg.items():
        for variant, groups in variants.items():
            a, photo = groups.get("studio+texture"), groups.get("photo")
            if a is None:
                continue
            delta = f"{a['delta_iou_worst']:+.4f}" if "delta_iou_worst" in a else ""
            photo_iou = f"{photo['iou']:.4f}" if photo else ""
            lines.append(
                f"| {engine} | {variant} | {a['mae']:.4f} | {a['iou']:.4f} | {a['iou_min']:.4f} | "
                f"{a['iou_ge_095']}/{a['count']} | {a['band_mae']:.4f} | {a['bf3']:.4f} | "
                f"{a.get('colour_err', float('nan')):.4f} | {delta} | {photo_iou} |"
            )
    lines.append("")
    for engine, variants in agg.items():
        first = next(iter(variants.values()))["all"]
        lines += [
            f"## {engine}" + (f" ({meta['titles'][engine]})" if engine in meta.get("titles", {}) else ""),
            "",
            f"Inference {first['infer_ms']:.0f} ms per image on average.",
            "",
            "| variant | kind | n | MAE | IoU | IoU min | IoU >= 0.95 | band MAE | BF3 | colour | "
            "ΔIoU worst | ΔIoU mean | compose ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for variant, groups in variants.items():
            for group, a in groups.items():
                delta = (
                    (f"{a['delta_iou_worst']:+.4f}", f"{a['delta_iou_mean']:+.4f}")
                    if "delta_iou_worst" in a
                    else ("", "")
                )
                lines.append(
                    f"| {variant} | {group} | {a['count']} | {a['mae']:.4f} | {a['iou']:.4f} | {a['iou_min']:.4f} | "
                    f"{a['iou_ge_095']}/{a['count']} | {a['band_mae']:.4f} | {a['bf3']:.4f} | "
                    f"{a.get('colour_err', float('nan')):.4f} | {delta[0]} | {delta[1]} | {a['compose_ms']:.0f} |"
                )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", help="comma-separated engine names (default: every engine in the catalogue)")
    parser.add_argument("--count-per-kind", type=int, default=30, help="images per background kind (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", help="comma-separated (default: every one this Options supports)")
    parser.add_argument("--worst", type=int, default=6, help="images in each engine's montage")
    parser.add_argument("--worst-kinds", help="kinds the montage picks from, e.g. studio,texture (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--quiet", action="store_true", help="no per-image progress")
    parser.add_argument("--masks", type=Path, help="keep and reuse the models' masks in this folder")
    args = parser.parse_args()

    from backgrone.fetch import fetch_engine
    from backgrone.infer import OnnxSegmenter

    catalogue = load_catalogue()
    engines = args.engines.split(",") if args.engines else list(catalogue.engines)
    specs = [catalogue.get(name) for name in engines]

    def note(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log = (lambda msg: None) if args.quiet else note
    variants = pick_variants(args.variants.split(",") if args.variants else None, log=note)
    montage_variant = "default" if "default" in variants else "plain"

    t0 = time.perf_counter()
    cases = quality_set.cases(args.seed, args.count_per_kind)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows: list[dict[str, Any]] = []
    montages = {}
    for spec in specs:
        segmenter = OnnxSegmenter(fetch_engine(spec), spec)
        worst_kinds = args.worst_kinds.split(",") if args.worst_kinds else None
        worst = WorstImages(montage_variant, args.worst, worst_kinds)
        rows += run_engine(segmenter, cases, variants, worst, log=log, masks=args.masks)
        among = "+".join(worst_kinds) if worst_kinds else "all kinds"
        montages[spec.name] = montage(
            worst, f"{spec.name}: the {args.worst} worst by IoU of {among} ({montage_variant} variant)"
        )
    agg = aggregate(rows)
    meta = {
        "stamp": stamp,
        "seed": args.seed,
        "count_per_kind": args.count_per_kind,
        "set": set_description(cases),
        "engines": engines,
        "titles": {s.name: s.title for s in specs},
        "variants": variants,
        "montage_variant": montage_variant,
        "seconds": round(time.perf_counter() - t0, 1),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"quality-{stamp}"
    base.with_suffix(".json").write_text(json.dumps({"meta": meta, "aggregates": agg, "rows": rows}, indent=1))
    text = report(agg, meta)
    base.with_suffix(".md").write_text(text + "\n")
    for engine, sheet in montages.items():
        sheet.save(args.out / f"quality-{stamp}-{engine}-worst.png", optimize=True)
    print(text)
    print(f"wrote {base}.json, .md and -<engine>-worst.png ({meta['seconds']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
